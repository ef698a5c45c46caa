"""Re-ingesting Seqera files: a file unchanged since it was loaded is not read again; a changed one is.

Counts, not times: the reads are counted at ``read_input``, the one place a run file is opened and parsed.
"""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

import ingest.seqera
from ingest.__main__ import main
from warehouse.store import connect

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "seqera"
API = "15dvxY1LnZYrYe.tar.gz"  # one member: 15dvxY1LnZYrYe.json (the Platform API's records of the run)


@pytest.fixture
def reads(monkeypatch) -> list[Path]:
    """The paths ``read_input`` is asked to read, in order."""
    seen: list[Path] = []
    real = ingest.seqera.read_input

    def counting(item):
        seen.append(item.path)
        return real(item)

    monkeypatch.setattr(ingest.seqera, "read_input", counting)
    return seen


def ingest_folder(folder: Path, data_dir: Path, *extra: str) -> int:
    return main(["seqera", str(folder), "--data-dir", str(data_dir), *extra])


def last_job(data_dir: Path) -> tuple:
    return (
        connect(data_dir)
        .execute(
            """SELECT records_read, records_loaded, records_unchanged FROM job_runs
               WHERE command = 'seqera' ORDER BY started_at DESC LIMIT 1"""
        )
        .fetchone()
    )


def rewrite_api_run(path: Path, bump: Decimal) -> Decimal:
    """Add ``bump`` to the first COMPLETED task's cost in the API archive; returns Seqera's new run cost, by hand."""
    with tarfile.open(path) as tar:
        (member,) = [m for m in tar if m.isfile()]
        doc = json.loads(tar.extractfile(member).read(), parse_float=Decimal)
    task = next(t["task"] for t in doc["tasks"] if t["task"]["status"] == "COMPLETED")
    task["cost"] = task["cost"] + bump
    raw = json.dumps(doc, default=float).encode()  # Decimal back to a JSON number (shortest repr: the same digits)
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo(member.name)
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(raw))
    ran = [Decimal(str(t["task"]["cost"])) for t in doc["tasks"] if t["task"]["status"] != "CACHED"]
    return sum(ran, Decimal(0)).quantize(Decimal("0.000001"), ROUND_HALF_UP)


def test_the_second_load_of_the_same_files_reads_none_and_a_changed_file_is_read(tmp_path, reads, capsys):
    folder = tmp_path / "runs"
    shutil.copytree(DATA, folder, ignore=shutil.ignore_patterns("*.md"))
    data_dir = tmp_path / "wh"
    assert ingest_folder(folder, data_dir) == 0
    assert len(reads) == 3
    before = connect(data_dir).execute("SELECT * EXCLUDE (ingest_run_id) FROM launches ORDER BY launch_id").fetchall()

    reads.clear()
    capsys.readouterr()
    assert ingest_folder(folder, data_dir) == 0
    assert reads == []  # nothing opened, nothing parsed
    assert last_job(data_dir) == (3, 0, 3)
    assert "3 file(s) unchanged since they were loaded, skipped (3 run(s))" in capsys.readouterr().out
    assert connect(data_dir).execute("SELECT * EXCLUDE (ingest_run_id) FROM launches ORDER BY launch_id").fetchall() == before

    seqera_cost = rewrite_api_run(folder / API, Decimal("0.5"))
    reads.clear()
    assert ingest_folder(folder, data_dir) == 0
    assert reads == [folder / API]  # only the changed file
    assert last_job(data_dir) == (3, 1, 2)
    got = connect(data_dir).execute("SELECT total_cost FROM launches WHERE launch_id = '15dvxY1LnZYrYe'").fetchone()
    assert got == (seqera_cost,)

    reads.clear()
    assert ingest_folder(folder, data_dir, "--full") == 0
    assert len(reads) == 3  # --full reads every file again
    assert last_job(data_dir) == (3, 0, 3)  # and finds every run unchanged


def test_changed_seqera_settings_read_the_files_again(tmp_path, reads):
    data_dir = tmp_path / "wh"
    assert main(["seqera", str(DATA / API), "--data-dir", str(data_dir)]) == 0
    config = tmp_path / "launch-ledger.toml"
    config.write_text('[seqera]\nconsumer_field = "workspace"\n')
    reads.clear()
    assert main(["seqera", str(DATA / API), "--data-dir", str(data_dir), "--config", str(config)]) == 0
    assert reads == [DATA / API]  # the same bytes map to another consumer under the new settings
