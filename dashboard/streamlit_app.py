"""Launch Ledger dashboard: the entry point.

    streamlit run dashboard/streamlit_app.py

Runs the router (``dashboard/router.py``: the list of pages and the shared frame). Pages live in
``dashboard/app_pages/``, not ``pages/``: a ``pages/`` folder beside the entrypoint switches Streamlit
into its legacy multipage mode for the first run of a process (and every AppTest run), which would
run a deep-linked page without this frame.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run` puts only dashboard/ on the path
    sys.path.insert(0, str(ROOT))

from dashboard import router  # noqa: E402

router.run()
