"""The estimator is pure: DataFrames in, numbers out; it never imports Streamlit, the dashboard or a database.

Its job module (``estimates/jobs.py``, the backtest command) is the one part that reads the warehouse,
through the named queries, and records its run; it too stays free of Streamlit, the dashboard and the sources.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_estimates_never_imports_streamlit_the_dashboard_or_a_database():
    for path in (ROOT / "estimates").rglob("*.py"):
        text = path.read_text()
        if path.name == "jobs.py":
            assert not re.search(r"^\s*(import|from)\s+(streamlit|dashboard|duckdb|boto3|ingest)\b", text, re.MULTILINE), path
            continue
        assert not re.search(r"^\s*(import|from)\s+(streamlit|dashboard|duckdb|boto3|queries|ingest)\b", text, re.MULTILINE), path
