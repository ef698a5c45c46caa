"""The router: the one list of pages, in order, and the frame every page runs in.

Tests, the bench and the browser test read ``PAGES``; ``streamlit_app.py`` runs ``run()``. To add a
page: write ``dashboard/app_pages/<name>.py`` and add one ``Page`` here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    name: str  # the file app_pages/<name>.py, and the page's URL path (the default page has none)
    title: str
    icon: str

    @property
    def path(self) -> str:
        return f"app_pages/{self.name}.py"


PAGES: tuple[Page, ...] = (
    Page("overview", "Overview", ":material/dashboard:"),  # the default page
    Page("chargeback", "Chargeback", ":material/receipt_long:"),
    Page("budgets", "Budgets", ":material/savings:"),
    Page("timing", "Timing", ":material/timer:"),
    Page("instance_types", "Instance types", ":material/memory:"),
    Page("right_sizing", "Right-sizing", ":material/tune:"),
    Page("platforms", "Platforms", ":material/dns:"),
    Page("trends", "Trends", ":material/trending_up:"),
    Page("estimates", "Estimates", ":material/query_stats:"),
    Page("reconciliation", "Reconciliation", ":material/balance:"),
    Page("data_health", "Data health", ":material/health_and_safety:"),
)


def run() -> None:
    """Set the page config, check who is signed in, draw the shared sidebar filters (bound to the URL), run the page.

    ``auth.gate`` stops the run before any page or filter reads the warehouse when sign-in is on and the
    person is not signed in, or signed in but unknown to the access file.
    """
    import streamlit as st

    from dashboard import auth, frame

    st.set_page_config(page_title="Launch Ledger", page_icon=":material/receipt_long:", layout="wide")
    page = st.navigation([st.Page(p.path, title=p.title, icon=p.icon, default=(i == 0)) for i, p in enumerate(PAGES)])
    access = auth.gate()
    frame.sidebar()
    auth.account(access)
    page.run()
