"""The real thing: `streamlit run` on a demo warehouse, every page opened in headless Debian Chromium.

Screenshots are kept in artifacts/screenshots/ for a person to look at.
"""

import subprocess
import sys
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import duckdb
import pytest

from bench.readers import CHROMIUM, CHROMIUM_ARGS, serve
from dashboard import router
from warehouse.store import connect

ROOT = Path(__file__).parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
ARGS = CHROMIUM_ARGS  # Debian's Chromium, launched as the bench launches it
# url path (the default page has none): title; every page but Data health draws charts
PAGES = {("" if i == 0 else p.name): p.title for i, p in enumerate(router.PAGES)}
WITHOUT_CHARTS = {"data_health"}

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", autouse=True)
def chromium_installed():
    # a missing browser is a failure, never a skip: `make test` installs it (make chromium)
    assert Path(CHROMIUM).exists(), f"Debian chromium is not at {CHROMIUM}: run `make chromium` (make test does)"


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    data = tmp_path_factory.mktemp("demo")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "ingest",
            "demo",
            "--launches",
            "3000",
            "--seed",
            "11",
            "--end-date",
            "2026-10-31",
            "--data-dir",
            str(data),
        ],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    return data


@pytest.fixture(scope="module")
def server(demo_dir, tmp_path_factory):
    with serve(demo_dir, log=tmp_path_factory.mktemp("streamlit") / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        tab = browser.new_page(viewport={"width": 1500, "height": 1100})
        yield tab
        browser.close()


def _open(page, server, path, wait_for='[data-testid="stMainBlockContainer"] h1'):
    page.goto(f"{server}/{path}", wait_until="domcontentloaded")
    page.wait_for_selector(wait_for, timeout=30_000)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=30_000
    )  # the run has finished


def _settled(page, quiet_ms: int = 1500):
    """Wait until the script has not been running for ``quiet_ms`` (a page may rerun once after load)."""
    page.wait_for_function(
        """(quiet) => {
            const running = !!document.querySelector('[data-testid="stStatusWidget"]');
            const now = Date.now();
            if (running || window.__llBusySince === undefined) { window.__llBusySince = now; }
            return !running && now - window.__llBusySince >= quiet;
        }""",
        arg=quiet_ms,
        timeout=60_000,
        polling=250,
    )


METRIC = '[data-testid="stMetricValue"]'


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_renders_its_charts(page, server, path):
    title, has_charts = PAGES[path], path not in WITHOUT_CHARTS
    _open(page, server, path)
    assert page.locator("h1").first.inner_text().strip() == title
    if has_charts:
        page.wait_for_selector('[data-testid="stPlotlyChart"] .js-plotly-plot .main-svg', timeout=30_000)
    _settled(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{path or 'overview'}.png"))


def _default_period(con) -> tuple[date, date]:
    """The dashboard's default period, worked out here: the last full month and the month to date."""
    last = con.execute("SELECT max(CAST(launched_at AS DATE)) FROM launches").fetchone()[0]
    first = (last.replace(day=1) - timedelta(days=1)).replace(day=1)
    return first, last


def _abbreviated_dollars(amount: Decimal) -> str:
    """$84.9K for 84,937.13: the Overview's figure for a spend of tens of thousands (exact on hover)."""
    assert Decimal(10_000) <= amount < Decimal(1_000_000)
    return f"${(amount / 1000).quantize(Decimal('0.1'), rounding=ROUND_HALF_EVEN):,}K"


def test_overview_shows_the_launch_count_and_spend_of_the_default_period_and_the_whole_warehouse(page, server, demo_dir):
    con: duckdb.DuckDBPyConnection = connect(demo_dir)
    first, last = _default_period(con)
    between = "CAST(launched_at AS DATE) BETWEEN ? AND ?"
    launches, spend = con.execute(f"SELECT count(*), sum(total_cost) FROM launches WHERE {between}", [first, last]).fetchone()
    _open(page, server, "", wait_for=METRIC)
    metrics = page.locator(METRIC).all_inner_texts()
    assert f"{launches:,}" in metrics
    assert _abbreviated_dollars(spend) in metrics
    # the whole warehouse, by the period in the URL
    start, launches, spend = con.execute(
        "SELECT min(CAST(launched_at AS DATE)), count(*), sum(total_cost) FROM launches"
    ).fetchone()
    _open(page, server, f"?period={start}&period={last}", wait_for=METRIC)
    page.wait_for_function(
        f"() => [...document.querySelectorAll('{METRIC}')].some(e => e.innerText === '{launches:,}')", timeout=30_000
    )
    assert _abbreviated_dollars(spend) in page.locator(METRIC).all_inner_texts()


def test_filters_in_the_url_reproduce_a_view(page, server, demo_dir):
    con = connect(demo_dir)
    first, last = _default_period(con)
    consumer, launches = con.execute(
        "SELECT consumer, count(*) FROM launches WHERE CAST(launched_at AS DATE) BETWEEN ? AND ? "
        "GROUP BY consumer ORDER BY count(*) DESC, consumer LIMIT 1",
        [first, last],
    ).fetchone()
    _open(page, server, f"?consumer={consumer}", wait_for=METRIC)
    page.wait_for_function(
        f"() => [...document.querySelectorAll('{METRIC}')].some(e => e.innerText === '{launches:,}')", timeout=30_000
    )
    metrics = page.locator(METRIC).all_inner_texts()
    assert f"{launches:,}" in metrics
    page.screenshot(path=str(SHOTS / "overview-one-consumer.png"))


def test_data_health_lists_the_quarantined_reasons(page, server):
    _open(page, server, "data_health")
    page.wait_for_selector("text=Quarantine", timeout=10_000)
    body = page.locator('[data-testid="stMainBlockContainer"]').inner_text()
    assert "Ingest runs" in body or "ingest runs" in body.lower()


def test_every_router_page_is_opened_here():
    pages = {p.stem for p in (ROOT / "dashboard" / "app_pages").glob("*.py")}
    assert pages == {p.name for p in router.PAGES} == {path or router.PAGES[0].name for path in PAGES}
