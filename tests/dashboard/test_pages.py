"""Every page opens through the router over the fixture warehouse: title, figures, no error."""

from pathlib import Path

import pytest

from dashboard import router
from tests.dashboard.conftest import EVERY_LAUNCH

ROOT = Path(__file__).resolve().parents[2]

PAGES = {p.name: p.title for p in router.PAGES}


@pytest.mark.parametrize("page", PAGES)
def test_page_opens_through_the_router(open_page, page):
    at = open_page(page)
    assert [t.value for t in at.title] == [PAGES[page]]
    assert not at.error, [e.value for e in at.error]
    assert at.metric, "every page leads with its key figures"
    assert at.dataframe, "every page ends with a table"
    # the shared filters are drawn by the router, on every page, with their keys
    for key in ("period", "consumer", "workflow_type", "platform", "status"):
        assert at.sidebar.get_by_key(key) is not None


def test_the_router_lists_every_page_in_order(open_page):
    at = open_page()
    assert [t.value for t in at.title] == ["Overview"]  # the default page
    on_disk = sorted(p.stem for p in (ROOT / "dashboard" / "app_pages").glob("*.py"))
    assert sorted(PAGES) == on_disk, "every page file is in the router, and only those"
    at.switch_page(router.PAGES[-1].path).run()
    assert [t.value for t in at.title] == [router.PAGES[-1].title]


@pytest.mark.parametrize("page", [p for p in PAGES if p not in ("timing", "data_health")])
def test_money_figures_state_currency_and_period(open_page, page):
    at = open_page(page, query_params=EVERY_LAUNCH)
    captions = " ".join(c.value for c in at.caption)
    assert "USD · launches started 2025-01-06 – 2025-04-28 (UTC)" in captions
