"""The estimates package is pure: DataFrames in, numbers out; it never imports Streamlit or the dashboard."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_estimates_never_imports_streamlit_the_dashboard_or_a_database():
    for path in (ROOT / "estimates").rglob("*.py"):
        text = path.read_text()
        assert not re.search(r"^\s*(import|from)\s+(streamlit|dashboard|duckdb|boto3|queries|ingest)\b", text, re.MULTILINE), path
