"""Launch Ledger dashboard: the router and frame.

    streamlit run dashboard/streamlit_app.py

Sets the page config, draws the shared sidebar filters (bound to the URL) and runs the chosen page.
Pages live in ``dashboard/app_pages/``, not ``pages/``: a ``pages/`` folder beside the entrypoint
switches Streamlit into its legacy multipage mode for the first run of a process (and every
AppTest run), which would run a deep-linked page without this frame.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run` puts only dashboard/ on the path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard import frame  # noqa: E402

st.set_page_config(page_title="Launch Ledger", page_icon=":material/receipt_long:", layout="wide")

PAGES = [
    st.Page("app_pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("app_pages/chargeback.py", title="Chargeback", icon=":material/receipt_long:"),
    st.Page("app_pages/timing.py", title="Timing", icon=":material/timer:"),
    st.Page("app_pages/instance_types.py", title="Instance types", icon=":material/memory:"),
    st.Page("app_pages/platforms.py", title="Platforms", icon=":material/dns:"),
    st.Page("app_pages/trends.py", title="Trends", icon=":material/trending_up:"),
    st.Page("app_pages/estimates.py", title="Estimates", icon=":material/query_stats:"),
    st.Page("app_pages/reconciliation.py", title="Reconciliation", icon=":material/balance:"),
    st.Page("app_pages/data_health.py", title="Data health", icon=":material/health_and_safety:"),
]

page = st.navigation(PAGES)
frame.sidebar()
page.run()
