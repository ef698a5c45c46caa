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


# --- signed-in users: Streamlit's testing API sets st.user (AppTest.user) and the [auth] secrets ---------------

FAKE_SECRETS = {  # never a real secret: asserted absent from every page and log
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "cookie-secret-must-never-show-0123456789",
    "client_id": "launch-ledger-tests",
    "client_secret": "client-secret-must-never-show-0123456789",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}
ACCESS_FILE = """
groups_claim = "groups"

[users."ana@example.org"]
role = "viewer"
consumers = ["oncology-research"]

[users."fin@example.org"]
role = "finance"

[groups."platform-admins"]
role = "admin"
"""
TOKENS = {"id": "eyJ-id-token-must-never-show", "access": "access-token-must-never-show"}
USERS = {
    "viewer": {"is_logged_in": True, "email": "ana@example.org", "sub": "sub-ana", "name": "Ana", "tokens": TOKENS},
    "finance": {"is_logged_in": True, "email": "fin@example.org", "sub": "sub-fin", "name": "Fin", "tokens": TOKENS},
    "admin": {"is_logged_in": True, "email": "ops@example.org", "sub": "sub-ops", "groups": ["platform-admins"]},
    "stranger": {"is_logged_in": True, "email": "eve@example.org", "sub": "sub-eve", "groups": ["visitors"]},
    "signed out": {"is_logged_in": False},
}


@pytest.fixture(scope="session")
def signed_in_data_dir(tmp_path_factory) -> Path:
    """A private copy of the fixture warehouse for signed-in sessions: they write audit events into it."""
    from tests.conftest import load_fixture_warehouse

    return load_fixture_warehouse(tmp_path_factory.mktemp("signed-in") / "data")


def open_signed_in(
    monkeypatch,
    config_dir: Path,
    data_dir: Path,
    user: dict,
    page: str | None = None,
    query_params: dict | None = None,
    access: str | None = ACCESS_FILE,
    auth: bool = True,
) -> AppTest:
    config = config_dir / "launch-ledger.toml"
    if access is not None:
        (config_dir / "access.toml").write_text(access)
        config.write_text('[access]\nfile = "access.toml"\n')
    else:
        config.write_text("")
    monkeypatch.setenv("LAUNCH_LEDGER_CONFIG", str(config))
    monkeypatch.setenv("LAUNCH_LEDGER_DATA_DIR", str(data_dir))
    at = AppTest.from_file(str(APP), default_timeout=60)
    if auth:
        at.secrets["auth"] = dict(FAKE_SECRETS)
    at.user = dict(user)
    at.query_params.update(query_params or {})
    at.run()
    if page:
        at.switch_page(f"app_pages/{page}.py").run()
    return at


@pytest.fixture
def open_as(signed_in_data_dir, monkeypatch, tmp_path):
    """open_as("viewer", "chargeback", query_params={...}) -> AppTest as that user (see USERS), over a private warehouse."""

    def opener(who: str | dict, page: str | None = None, query_params: dict | None = None, data_dir: Path | None = None, **kw):
        user = USERS[who] if isinstance(who, str) else who
        return open_signed_in(monkeypatch, tmp_path, data_dir or signed_in_data_dir, user, page, query_params, **kw)

    return opener


def rendered(at: AppTest) -> str:
    """Everything the run drew, as text: every element's message, every table's cells, every chart's data."""
    out: list[str] = []

    def walk(node) -> None:
        if getattr(node, "type", None) == "dataframe":
            out.append(node.value.to_csv())
        elif getattr(node, "proto", None) is not None:
            out.append(str(node.proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(out)


# The fixture's launches, first day to last (2025-01-06 .. 2025-04-28): the view of every launch. Pages default
# to the last full month and the month to date (frame._default_period); tests of the whole fixture say so.
EVERY_LAUNCH = {"period": ["2025-01-06", "2025-04-28"]}
# The demo history of tests.estimates.histories.build_demo_warehouse: two years to DEMO_END (2026-06-30), whole.
DEMO_HISTORY = {"period": ["2024-06-01", "2026-06-30"]}
