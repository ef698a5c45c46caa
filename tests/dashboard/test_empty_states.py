"""Empty warehouse, empty selection: every page explains itself instead of failing."""

from pathlib import Path

import pytest

from dashboard import router
from dashboard.frame import EMPTY_WAREHOUSE, NO_LAUNCHES

ROOT = Path(__file__).resolve().parents[2]
PAGES = [p.name for p in router.PAGES]


@pytest.mark.parametrize("page", PAGES)
def test_an_empty_warehouse_says_how_to_fill_it(open_page, empty_data_dir, page):
    at = open_page(page, data_dir=empty_data_dir)
    assert [i.value for i in at.info] == [EMPTY_WAREHOUSE]
    assert "python -m ingest demo" in EMPTY_WAREHOUSE
    assert not at.error and not at.dataframe


@pytest.mark.parametrize("page", [p for p in PAGES if p != "data_health"])
def test_a_selection_without_launches_says_so(open_page, page):
    at = open_page(page, query_params={"period": ["2024-06-01", "2024-06-30"]})
    assert [i.value for i in at.info] == [NO_LAUNCHES]
    assert not at.error and not at.dataframe


def test_data_health_still_shows_runs_for_an_empty_selection(open_page, read_table):
    at = open_page("data_health", query_params={"period": ["2024-06-01", "2024-06-30"]})
    assert len(read_table(at, "health_runs")) == 2
    assert "Every launch in this selection has a price." in [s.value for s in at.success]


def test_an_unknown_value_in_a_link_is_ignored(open_page, read_metrics, launches_csv):
    at = open_page("overview", query_params={"consumer": ["nobody", "rare-disease"]})
    assert at.sidebar.get_by_key("consumer").value == ["rare-disease"]
    assert read_metrics(at)["Launches"][0] == str((launches_csv["consumer"] == "rare-disease").sum())


def test_a_broken_setting_is_shown_as_a_message_not_a_traceback(fixture_data_dir, monkeypatch, tmp_path):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("LAUNCH_LEDGER_DATA_DIR", str(fixture_data_dir))
    monkeypatch.setenv("LAUNCH_LEDGER_CONFIG", str(tmp_path / "missing.toml"))
    at = AppTest.from_file(str(ROOT / "dashboard" / "streamlit_app.py"), default_timeout=30).run()
    assert not at.exception
    assert [e.value for e in at.error] == [f"config file {tmp_path / 'missing.toml'} does not exist"]
