"""A real OpenID Connect round trip: `streamlit run` with [auth], a local identity provider, headless Chromium.

The identity provider is oidc-provider-mock (a Flask app built on Authlib) on 127.0.0.1, started by the
test in a thread; Streamlit's own ``st.login`` talks to it (discovery, authorization code, token, ID
token), sets its identity cookie, and the dashboard maps the user through an access file. A viewer sees
their consumer only, finance sees everyone; sign-out goes through the provider's end-session page; an
unknown user is refused. The server's whole log, every page's HTML and the browser's cookies are then
searched for the cookie and client secrets, the cookies' values and the ID token: none may appear.
"""

from __future__ import annotations

import os
import threading
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest
import werkzeug.serving
from oidc_provider_mock import User, app

from bench.readers import free_port, serve
from tests.browser.test_dashboard_in_chromium import ARGS, CHROMIUM, METRIC, SHOTS, _settled
from tests.conftest import load_fixture_warehouse

# oidc-provider-mock 0.3.4 calls Authlib APIs Authlib now deprecates: the provider's business, not ours.
pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

ONCOLOGY = "oncology-research"
OTHERS = ("neuro-genomics", "population-health", "rare-disease")
COOKIE_SECRET = "browser-cookie-secret-never-shown-7f3a9c1e5b"
CLIENT_SECRET = "browser-client-secret-never-shown-2d8e4a6f0c"
ACCESS = f"""
[users."ana@example.org"]
role = "viewer"
consumers = ["{ONCOLOGY}"]

[groups."finance-team"]
role = "finance"
"""
USERS = [
    User(sub="sub-ana", claims={"email": "ana@example.org", "email_verified": True, "name": "Ana Viewer"}),
    User(sub="sub-fin", claims={"email": "fin@example.org", "email_verified": True, "groups": ["finance-team"]}),
    User(sub="sub-eve", claims={"email": "eve@example.org", "email_verified": True}),
]


@pytest.fixture(scope="module", autouse=True)
def chromium_installed():
    assert Path(CHROMIUM).exists(), f"Debian chromium is not at {CHROMIUM}: run `make chromium` (make test does)"


@pytest.fixture(scope="module")
def insecure_transport():
    """Authlib refuses plain http unless told: both ends run on 127.0.0.1 here, never beyond this machine."""
    before = os.environ.get("AUTHLIB_INSECURE_TRANSPORT")
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"
    yield
    if before is None:
        os.environ.pop("AUTHLIB_INSECURE_TRANSPORT", None)
    else:
        os.environ["AUTHLIB_INSECURE_TRANSPORT"] = before


@pytest.fixture(scope="module")
def identity_provider(insecure_transport):
    """oidc-provider-mock on 127.0.0.1 (a free port), in a thread of this process; its base URL."""
    server = werkzeug.serving.make_server("127.0.0.1", 0, app(user_claims=USERS, require_nonce=True), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def site(tmp_path_factory, identity_provider):
    """`streamlit run` over the fixture warehouse with [auth] pointing at the local provider; (url, log path)."""
    root = tmp_path_factory.mktemp("sign-in")
    data = load_fixture_warehouse(root / "data")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    (root / "secrets.toml").write_text(
        "[auth]\n"
        f'redirect_uri = "{url}/oauth2callback"\n'
        f'cookie_secret = "{COOKIE_SECRET}"\n'
        'client_id = "launch-ledger-browser-test"\n'
        f'client_secret = "{CLIENT_SECRET}"\n'
        f'server_metadata_url = "{identity_provider}/.well-known/openid-configuration"\n'
    )
    (root / "access.toml").write_text(ACCESS)
    (root / "launch-ledger.toml").write_text('[access]\nfile = "access.toml"\n')
    log = root / "streamlit.log"
    env = dict(LAUNCH_LEDGER_CONFIG=str(root / "launch-ledger.toml"), AUTHLIB_INSECURE_TRANSPORT="1")
    args = ("--secrets.files", str(root / "secrets.toml"), "--logger.level", "info")
    with serve(data, env=env, args=args, log=log, port=port):
        yield url, log, data


@pytest.fixture
def browser_context():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1500, "height": 1100})
        yield context
        browser.close()


def _sign_in(tab, site_url: str, sub: str) -> None:
    tab.goto(site_url, wait_until="domcontentloaded")
    tab.get_by_role("button", name="Sign in").click(timeout=30_000)
    tab.wait_for_url("**/oauth2/authorize**", timeout=30_000)  # the provider's page
    tab.get_by_role("button", name=sub, exact=True).click()
    tab.wait_for_url(f"{site_url}/**", timeout=30_000)  # back from /oauth2callback
    tab.wait_for_selector('[data-testid="stMainBlockContainer"] h1', timeout=30_000)
    _settled(tab)


def _page_text(tab) -> str:
    return tab.locator('[data-testid="stApp"]').inner_text()


def _metric_values(tab) -> list[str]:
    return tab.locator(METRIC).all_inner_texts()


def _default_period(launches: pd.DataFrame) -> pd.DataFrame:
    """The launches of the dashboard's default period, worked out here: the last full month and the month to date."""
    days = pd.to_datetime(launches["launched_at"]).dt.date
    last = days.max()
    first = (last.replace(day=1) - timedelta(days=1)).replace(day=1)
    return launches[(days >= first) & (days <= last)]


def test_a_viewer_signs_in_sees_their_consumer_only_and_signs_out(site, browser_context, launches_csv):
    site_url, log, _ = site
    mine = _default_period(launches_csv[launches_csv["consumer"] == ONCOLOGY])
    assert len(mine)
    tab = browser_context.new_page()
    _sign_in(tab, site_url, "sub-ana")
    tab.wait_for_function(
        f"() => [...document.querySelectorAll('{METRIC}')].some(e => e.innerText === '{len(mine):,}')", timeout=30_000
    )
    seen = {"overview": tab.content()}
    assert "Signed in as ana@example.org · viewer of oncology-research" in _page_text(tab)
    for path in ("chargeback", "trends", "reconciliation", "data_health"):
        tab.goto(f"{site_url}/{path}", wait_until="domcontentloaded")  # a new session: the cookie signs it in
        tab.wait_for_selector('[data-testid="stMainBlockContainer"] h1', timeout=30_000)
        _settled(tab)
        assert tab.locator('[data-testid="stException"]').count() == 0
        seen[path] = tab.content()
    tab.goto(f"{site_url}/?consumer=neuro-genomics&consumer=x%27%20OR%201%3D1%20--", wait_until="domcontentloaded")
    tab.wait_for_selector(METRIC, timeout=30_000)
    _settled(tab)
    assert f"{len(mine):,}" in _metric_values(tab)  # the URL cannot widen the view
    seen["hostile url"] = tab.content()
    for where, html in seen.items():
        for other in OTHERS:
            assert other not in html, f"{other} shown to a viewer on {where}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SHOTS / "signed-in-viewer.png"))
    cookies = {c["name"]: c["value"] for c in browser_context.cookies()}
    assert "_streamlit_user" in cookies, "Streamlit's identity cookie was not set"

    tab.get_by_role("button", name="Sign out").click()
    tab.wait_for_url("**/oauth2/end_session**", timeout=30_000)  # the provider ends its session too
    id_token = parse_qs(urlparse(tab.url).query).get("id_token_hint", [""])[0]
    tab.get_by_role("button", name="End session").click()
    tab.get_by_role("button", name="Sign in").wait_for(timeout=30_000)
    assert tab.locator(METRIC).count() == 0
    assert "_streamlit_user" not in {c["name"] for c in browser_context.cookies()}
    _assert_nothing_leaked(log, seen.values(), [*cookies.values(), id_token] if id_token else list(cookies.values()))


def test_finance_signs_in_and_sees_every_consumer(site, browser_context, launches_csv):
    site_url, log, _ = site
    tab = browser_context.new_page()
    _sign_in(tab, site_url, "sub-fin")
    tab.wait_for_function(
        f"() => [...document.querySelectorAll('{METRIC}')].some(e => e.innerText === '{len(_default_period(launches_csv)):,}')",
        timeout=30_000,
    )
    tab.goto(f"{site_url}/chargeback", wait_until="domcontentloaded")
    tab.wait_for_selector("text=Statement lines", timeout=30_000)
    _settled(tab)
    text = _page_text(tab)
    assert all(name in tab.content() for name in (ONCOLOGY, *OTHERS))
    assert "Signed in as fin@example.org · finance" in text and "Close 2025-04" in text
    _assert_nothing_leaked(log, [tab.content()], [c["value"] for c in browser_context.cookies()])


def test_a_user_the_access_file_does_not_know_is_refused(site, browser_context):
    site_url, log, data = site
    tab = browser_context.new_page()
    _sign_in(tab, site_url, "sub-eve")
    tab.wait_for_selector("text=does not give you access to any consumer", timeout=30_000)
    assert tab.locator(METRIC).count() == 0
    html = tab.content()
    assert all(name not in html for name in (ONCOLOGY, *OTHERS))
    from warehouse import audit

    refused = [e for e in audit.pending_events(data) if e["action"] == "access-denied"]
    assert [e["actor"] for e in refused] == ["eve@example.org"]
    signed_in = {e["actor"] for e in audit.pending_events(data) if e["action"] == "sign-in"}
    assert {"ana@example.org", "fin@example.org"} <= signed_in
    _assert_nothing_leaked(log, [html], [c["value"] for c in browser_context.cookies()])


def _assert_nothing_leaked(log: Path, pages, values) -> None:
    server_log = log.read_text(errors="replace")
    for secret in [COOKIE_SECRET, CLIENT_SECRET, *[v for v in values if len(v) > 12]]:
        assert secret not in server_log, "a secret, token or cookie value is in the server's log"
        for html in pages:
            assert secret not in html, "a secret, token or cookie value is on a page"
