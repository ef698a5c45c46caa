"""Shared fixtures: the committed fixture warehouse, loaded through the real writer.

``tests/fixtures/warehouse/*.csv`` hold one hand-written CSV per warehouse table (every column of
``ingest/schema.sql``). Tests compute what they expect from those CSVs with plain pandas/Decimal
(``fixture_tables``), never through the query layer they check.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the repo is not installed as a package; make `import ingest` work
    sys.path.insert(0, str(ROOT))

from warehouse.store import ROLLUPS, TABLES, WarehouseWriter, connect, schema_columns  # noqa: E402

FIXTURE_CSV_DIR = ROOT / "tests" / "fixtures" / "warehouse"
# Real public data committed under tests/data/, each folder with its origin and licence (README.md).
FOCUS_SAMPLE = ROOT / "tests" / "data" / "focus" / "focus_sample.csv"
LOADED_TABLES = tuple(t for t in TABLES if t not in ROLLUPS)  # derived tables are computed by the writer at commit


def load_fixture_warehouse(data_dir: Path) -> Path:
    """Write every fixture CSV into a warehouse under ``data_dir`` and commit it."""
    with WarehouseWriter(Path(data_dir), run_id="fixture") as w:
        for table in LOADED_TABLES:
            csv = FIXTURE_CSV_DIR / f"{table}.csv"
            w.write_partitions(table, f"SELECT * FROM read_csv('{csv}', header=true, auto_detect=true)")
        w.commit()
    return Path(data_dir)


def _read_table(table: str) -> pd.DataFrame:
    """A fixture CSV read by pandas alone: money as Decimal, numbers as float, times as Timestamp."""
    raw = pd.read_csv(FIXTURE_CSV_DIR / f"{table}.csv", dtype=str, keep_default_na=False)
    out = pd.DataFrame(index=raw.index)
    for column, dtype in schema_columns()[table]:
        values = raw[column]
        if dtype.startswith("DECIMAL"):
            out[column] = [Decimal(v) if v else None for v in values]
        elif dtype in ("DOUBLE", "INTEGER", "BIGINT"):
            out[column] = pd.to_numeric(values.replace("", None))
        elif dtype == "TIMESTAMP":
            out[column] = pd.to_datetime(values.replace("", None))
        elif dtype == "DATE":
            out[column] = [pd.Timestamp(v).date() if v else None for v in values]
        elif dtype == "BOOLEAN":
            out[column] = values.str.lower().eq("true")
        else:
            out[column] = [v if v else None for v in values]
    return out


@pytest.fixture(scope="session")
def fixture_tables() -> dict[str, pd.DataFrame]:
    """{table: DataFrame} straight from the fixture CSVs: the independent source of expected numbers."""
    return {table: _read_table(table) for table in LOADED_TABLES}


@pytest.fixture(scope="session")
def launches_csv(fixture_tables) -> pd.DataFrame:
    return fixture_tables["launches"]


@pytest.fixture(scope="session")
def fixture_data_dir(tmp_path_factory) -> Path:
    """A data dir holding the fixture warehouse (session-scoped: tests only read it)."""
    return load_fixture_warehouse(tmp_path_factory.mktemp("fixture-data"))


@pytest.fixture(scope="session")
def fixture_con(fixture_data_dir):
    con = connect(fixture_data_dir)
    yield con
    con.close()


@pytest.fixture()
def empty_data_dir(tmp_path) -> Path:
    """A data dir with no warehouse yet: what a fresh checkout sees before the first ingest."""
    return tmp_path


@pytest.fixture(scope="session")
def select_launches(launches_csv):
    """The fixture launches a Filters selects, by plain pandas (the spec the SQL must meet)."""

    def select(filters) -> pd.DataFrame:
        day = launches_csv["launched_at"].dt.date
        mask = (day >= filters.start) & (day <= filters.end)
        for values, column in (
            (filters.consumers, "consumer"),
            (filters.workflow_types, "workflow_type"),
            (filters.platforms, "compute_platform"),
            (filters.statuses, "status"),
        ):
            if values:
                mask &= launches_csv[column].isin(values)
        return launches_csv[mask]

    return select


@pytest.fixture
def fresh_data_dir(tmp_path) -> Path:
    """A private copy of the fixture warehouse, for tests that write to it (e.g. a second ingest)."""
    return load_fixture_warehouse(tmp_path / "data")


@pytest.fixture
def aws_env(monkeypatch):
    """Fake credentials and region so nothing can reach a real account."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("LAUNCH_LEDGER_CONFIG", raising=False)
