"""Layering: queries never import Streamlit, pages stay thin, the app config is sober."""

import re
import tomllib
from pathlib import Path

from dashboard import router

ROOT = Path(__file__).resolve().parents[2]


def test_queries_never_import_streamlit_or_the_dashboard():
    for path in (ROOT / "queries").rglob("*.py"):
        text = path.read_text()
        assert not re.search(r"^\s*(import|from)\s+(streamlit|dashboard)\b", text, re.MULTILINE), path


def test_chart_and_statement_modules_do_not_need_streamlit():
    for name in ("charts.py", "statement.py", "formatting.py"):
        assert "streamlit" not in (ROOT / "dashboard" / name).read_text(), name


def test_pages_are_thin_and_hold_no_sql():
    pages = sorted((ROOT / "dashboard" / "app_pages").glob("*.py"))
    assert sorted(p.stem for p in pages) == sorted(p.name for p in router.PAGES), (
        "every page file is in the router, and only those"
    )
    for page in pages:
        text = page.read_text()
        assert "duckdb" not in text and not re.search(r"\bSELECT\b", text), page.name
        assert len(text.splitlines()) < 110, f"{page.name} is no longer thin"


def test_no_pages_folder_beside_the_router():
    # A `pages/` folder next to streamlit_app.py makes Streamlit run its legacy multipage mode on a
    # process's first run (and on every AppTest run): a deep link would then run a page without
    # the router's frame and filters. Pages live in app_pages/ instead.
    assert not (ROOT / "dashboard" / "pages").exists()


def test_streamlit_config_is_headless_without_usage_stats():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["headless"] is True
    assert config["browser"]["gatherUsageStats"] is False
    assert config["theme"]["base"] == "light"


def test_charts_are_drawn_only_in_the_chart_module():
    for path in (ROOT / "dashboard").rglob("*.py"):
        if path.name == "charts.py":
            continue
        assert not re.search(r"^\s*(import|from)\s+plotly\b", path.read_text(), re.MULTILINE), path
