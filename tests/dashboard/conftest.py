"""AppTest through the router: every page is opened the way a browser opens it."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dashboard" / "streamlit_app.py"


def open_app(data_dir: Path, monkeypatch, page: str | None = None, query_params: dict | None = None) -> AppTest:
    monkeypatch.setenv("LAUNCH_LEDGER_DATA_DIR", str(data_dir))
    monkeypatch.delenv("LAUNCH_LEDGER_CONFIG", raising=False)
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.query_params.update(query_params or {})
    at.run()
    if page:
        at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture
def open_page(fixture_data_dir, monkeypatch):
    """open_page("chargeback", query_params={...}) -> AppTest on that page, over the fixture warehouse."""

    def opener(page: str | None = None, query_params: dict | None = None, data_dir: Path | None = None) -> AppTest:
        return open_app(data_dir or fixture_data_dir, monkeypatch, page, query_params)

    return opener


def metrics(at: AppTest) -> dict[str, tuple[str, str]]:
    """{label: (value, delta)} of the metrics on the page."""
    return {m.label: (m.value, m.delta) for m in at.metric}


def table(at: AppTest, key: str):
    """The DataFrame shown in the table with this key."""
    return at.get_by_key(key).dataframe[0].value


@pytest.fixture
def read_metrics():
    return metrics


@pytest.fixture
def read_table():
    return table
