"""Empty warehouse, empty selection: every page explains itself instead of failing."""

from datetime import date
from pathlib import Path

import pytest

from dashboard import router
from dashboard.empty_states import NO_BILL, NO_BILL_TO_RECONCILE
from dashboard.frame import EMPTY_WAREHOUSE, NO_LAUNCHES

ROOT = Path(__file__).resolve().parents[2]
PAGES = [p.name for p in router.PAGES]


@pytest.mark.parametrize("page", PAGES)
def test_an_empty_warehouse_says_how_to_fill_it(open_page, empty_data_dir, page):
    at = open_page(page, data_dir=empty_data_dir)
    assert [i.value for i in at.info] == [EMPTY_WAREHOUSE]
    assert "python -m ingest demo" in EMPTY_WAREHOUSE
    assert not at.error and not at.dataframe


@pytest.mark.parametrize("page", [p for p in PAGES if p not in ("data_health", "chargeback")])
def test_a_selection_without_launches_says_so_and_what_the_warehouse_holds(open_page, launches_csv, page):
    at = open_page(page, query_params={"period": ["2024-06-01", "2024-06-30"], "consumer": ["rare-disease"]})
    first, last = min(launches_csv["launched_at"]).date(), max(launches_csv["launched_at"]).date()
    held = f"The warehouse holds {len(launches_csv)} launches started {first} – {last} (UTC)"
    assert [i.value for i in at.info] == [f"{NO_LAUNCHES} {held}; picked: 2024-06-01 – 2024-06-30, consumer rare-disease."]
    assert not at.error and not at.dataframe


def test_chargeback_without_a_bill_month_in_the_period_names_the_months_billed(open_page, fixture_tables):
    at = open_page("chargeback", query_params={"period": ["2024-06-01", "2024-06-30"]})
    billed = ", ".join(sorted({m.strftime("%Y-%m") for m in fixture_tables["costs_daily"]["usage_month"]}))
    assert [i.value for i in at.info] == [
        f"No bill month overlaps the period 2024-06-01 – 2024-06-30: the bill is loaded for {billed}. "
        "Widen the period to a billed month (a statement is of a calendar month of the bill)."
    ]
    assert not at.error and not at.dataframe


@pytest.fixture
def launches_without_a_bill(tmp_path):
    """The fixture warehouse without any bill: launches loaded, no Cost Explorer, FOCUS or CUR rows."""
    from tests.conftest import FIXTURE_CSV_DIR, LOADED_TABLES
    from warehouse.store import WarehouseWriter

    with WarehouseWriter(tmp_path / "data", run_id="fixture") as w:
        for table in LOADED_TABLES:
            if table not in ("costs_daily", "launch_billed_costs"):
                w.write_partitions(
                    table, f"SELECT * FROM read_csv('{FIXTURE_CSV_DIR / f'{table}.csv'}', header=true, auto_detect=true)"
                )
        w.commit()
    return tmp_path / "data"


def test_chargeback_with_launches_and_no_bill_says_which_command_loads_one(open_page, launches_without_a_bill):
    at = open_page("chargeback", query_params={"period": ["2025-01-01", "2025-04-30"]}, data_dir=launches_without_a_bill)
    assert [i.value for i in at.info] == [NO_BILL]
    for command in ("python -m ingest cost-explorer", "python -m ingest focus", "python -m ingest cur"):
        assert command in NO_BILL
    assert "No bill is loaded for any month" in NO_BILL and not at.dataframe


def test_reconciliation_with_launches_and_no_bill_says_billed_is_zero_for_lack_of_one(open_page, launches_without_a_bill):
    at = open_page("reconciliation", query_params={"period": ["2025-01-01", "2025-04-30"]}, data_dir=launches_without_a_bill)
    assert [i.value for i in at.info] == [NO_BILL_TO_RECONCILE]
    assert "python -m ingest cost-explorer" in NO_BILL_TO_RECONCILE and not at.error


@pytest.mark.parametrize(
    ("page", "says"),
    [
        ("instance_types", "has recorded instances yet"),
        ("estimates", "has ended yet: estimates learn from COMPLETE and FAILED launches"),
    ],
)
def test_a_selection_with_launches_but_nothing_for_the_page_says_what_is_missing(open_page, launches_csv, page, says):
    day = launches_csv["launched_at"].dt.date
    started = launches_csv[(day >= date(2025, 4, 22)) & (day <= date(2025, 4, 24))]
    assert set(started["status"]) == {"RUNNING"}  # no end, no resources yet
    running = len(started)
    at = open_page(page, query_params={"period": ["2025-04-22", "2025-04-24"]})
    (info,) = [i.value for i in at.info]
    assert info.startswith(f"None of the {running} launches in this selection {says}")
    assert not at.error and not at.dataframe


def test_data_health_still_shows_runs_for_an_empty_selection(open_page, read_table):
    at = open_page("data_health", query_params={"period": ["2024-06-01", "2024-06-30"]})
    assert len(read_table(at, "health_runs")) == 2
    assert "Every launch in this selection has a price." in [s.value for s in at.success]


def test_an_unknown_value_in_a_link_is_ignored(open_page, read_metrics, launches_csv):
    at = open_page("overview", query_params={"consumer": ["nobody", "rare-disease"], "period": ["2025-01-01", "2025-04-30"]})
    assert at.sidebar.get_by_key("consumer").value == ["rare-disease"]
    assert read_metrics(at)["Launches"][0] == str((launches_csv["consumer"] == "rare-disease").sum())


def test_a_broken_setting_is_shown_as_a_message_not_a_traceback(fixture_data_dir, monkeypatch, tmp_path):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("LAUNCH_LEDGER_DATA_DIR", str(fixture_data_dir))
    monkeypatch.setenv("LAUNCH_LEDGER_CONFIG", str(tmp_path / "missing.toml"))
    at = AppTest.from_file(str(ROOT / "dashboard" / "streamlit_app.py"), default_timeout=30).run()
    assert not at.exception
    assert [e.value for e in at.error] == [f"config file {tmp_path / 'missing.toml'} does not exist"]
