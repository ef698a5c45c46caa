"""Sign-in and roles through the router: a mocked signed-in user (AppTest.user) for each role, on every page.

What is asserted is what reaches the person: every element's text, table cell and chart point of a run
(``rendered``), the figures against the fixture CSVs, and the bytes of every download. Never widgets alone.
"""

from __future__ import annotations

import io
from decimal import Decimal

import pandas as pd
import pytest

from core.access import Access, AccessDenied
from dashboard import auth, router, statement
from tests.dashboard.conftest import EVERY_LAUNCH, FAKE_SECRETS, TOKENS, rendered
from warehouse import audit
from warehouse.store import connect

PAGES = [p.name for p in router.PAGES]
ONCOLOGY = "oncology-research"
OTHERS = ("neuro-genomics", "population-health", "rare-disease")
SECRETS = (FAKE_SECRETS["cookie_secret"], FAKE_SECRETS["client_secret"], TOKENS["id"], TOKENS["access"])
HOSTILE_URL = {
    "consumer": ["neuro-genomics", "x' OR 1=1 --", "../../etc/passwd"],
    "workflow_type": "'; DROP TABLE launches; --",
    "platform": "..%2F..%2Fwarehouse%2Fmanifest.json",
    "status": "$all_consumers",
    "period": ["2025-01-01' OR '1'='1", "../../../etc/passwd"],
    "workflow": "x' OR 1=1 --",
    "statement_month": "../2025-01",
}


def assert_no_secrets(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


def metric(at, label: str) -> str:
    return {m.label: m.value for m in at.metric}[label]


def events(data_dir, action: str | None = None) -> list[dict]:
    found = audit.pending_events(data_dir)
    con = connect(data_dir)
    merged = con.sql("SELECT * FROM audit_events").df().to_dict("records")
    con.close()
    return [e for e in [*merged, *found] if action is None or e["action"] == action]


# --- a viewer: their consumer, on every page, whatever the URL says ------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_a_viewer_sees_only_their_consumer_on_every_page(open_as, page, capfd):
    at = open_as("viewer", page)
    assert not at.exception, [e.value for e in at.exception]
    text = rendered(at)
    for other in OTHERS:
        assert other not in text, f"{other} on the {page} page of a viewer of {ONCOLOGY}"
    assert "Signed in as ana@example.org · viewer of oncology-research" in text
    assert_no_secrets(text, *capfd.readouterr())


@pytest.mark.parametrize("page", PAGES)
def test_hostile_url_parameters_never_widen_a_viewers_page(open_as, page, capfd):
    at = open_as("viewer", page, query_params=HOSTILE_URL)
    assert not at.exception, [e.value for e in at.exception]
    text = rendered(at)
    for other in OTHERS:
        assert other not in text, f"{other} on the {page} page of a viewer, from the URL"
    assert_no_secrets(text, *capfd.readouterr())


def test_a_viewers_figures_are_their_consumers_alone(open_as, launches_csv):
    mine = launches_csv[launches_csv["consumer"] == ONCOLOGY]
    spend = sum((v for v in mine["total_cost"] if v is not None), Decimal(0))
    at = open_as("viewer", query_params=EVERY_LAUNCH)
    assert metric(at, "Launches") == f"{len(mine):,}"
    assert metric(at, "Spend") == f"${spend.quantize(Decimal('0.01')):,}"
    assert at.sidebar.multiselect(key="consumer").options == [ONCOLOGY]
    at = open_as("viewer", "trends", query_params={**EVERY_LAUNCH, "consumer": "neuro-genomics"})  # not theirs: ignored
    assert metric(at, "Launches") == f"{len(mine):,}"


def test_the_caches_never_hand_one_users_figures_to_another(open_as, launches_csv):
    assert metric(open_as("finance", query_params=EVERY_LAUNCH), "Launches") == f"{len(launches_csv):,}"  # fills the caches first
    mine = launches_csv[launches_csv["consumer"] == ONCOLOGY]
    assert metric(open_as("viewer", query_params=EVERY_LAUNCH), "Launches") == f"{len(mine):,}"
    assert metric(open_as("admin", query_params=EVERY_LAUNCH), "Launches") == f"{len(launches_csv):,}"


def test_a_viewers_statement_and_every_download_hold_their_lines_only(open_as, monkeypatch, signed_in_data_dir):
    offered = []
    real = statement.downloads
    monkeypatch.setattr(statement, "downloads", lambda *a, **k: offered.extend(real(*a, **k)) or offered[-4:])
    at = open_as("viewer", "chargeback")
    summary = at.get_by_key("statement_summary").dataframe[0].value
    assert set(summary["Consumer"]) == {ONCOLOGY, "Total"}
    assert [m.label for m in at.metric] == ["Direct", "Shared", "Credits", "Adjustments", "Statement total"]
    assert not any(b.key == "close_month" for b in at.button), "a viewer cannot close a month"
    for item in offered:
        assert "/" not in item.file_name and ".." not in item.file_name
        blob = item.data.decode("latin-1")
        for other in OTHERS:
            assert other not in blob, f"{other} in the viewer's {item.label} download"
        assert "Unallocated" not in blob or item.label == "XLSX"  # XLSX is zipped: read it back below
    xlsx = next(i for i in offered if i.label == "XLSX").data
    sheets = pd.read_excel(io.BytesIO(xlsx), sheet_name=None)
    assert set(sheets) == {"Summary", ONCOLOGY, "Rules", "About"}
    assert set(sheets["Summary"]["Consumer"]) == {ONCOLOGY, "Total"}
    before = len(events(signed_in_data_dir, "download"))
    at.download_button(key="chargeback_pdf").click().run()
    (took,) = events(signed_in_data_dir, "download")[before:]
    assert took["actor"] == "ana@example.org" and took["consumers"] == ONCOLOGY
    assert took["subject"].startswith("chargeback_2025-04") and took["role"] == "viewer"


def test_a_viewer_is_refused_closing_a_month_in_code_too():
    viewer = Access("ana@example.org", "viewer", (ONCOLOGY,))
    with pytest.raises(AccessDenied, match="only finance and admin close months"):
        statement.close(pd.Timestamp("2025-01-01").date(), statement.rules(), viewer)


# --- finance and admin -----------------------------------------------------------------------------------


def test_finance_sees_every_consumer_and_may_close(open_as):
    at = open_as("finance", "chargeback")
    summary = at.get_by_key("statement_summary").dataframe[0].value
    assert {ONCOLOGY, *OTHERS, "Total"} <= set(summary["Consumer"])
    assert metric(at, "Bill 2025-04")
    assert any(b.key == "close_month" for b in at.button)


def test_finance_closing_a_month_is_in_the_audit_trail_with_its_name(open_as, fresh_data_dir):
    at = open_as("finance", "chargeback", data_dir=fresh_data_dir, query_params=EVERY_LAUNCH)
    at.selectbox(key="statement_month").set_value(pd.Timestamp("2025-01-01").date()).run()
    at.checkbox(key="close_confirm").check().run()
    at.button(key="close_month").click().run()
    assert not at.exception and any("2025-01 closed by run" in s.value for s in at.success)
    (closed,) = events(fresh_data_dir, "close-month")
    assert (closed["actor"], closed["role"], closed["subject"]) == ("fin@example.org", "finance", "2025-01")
    assert all(e["action"] != "close-month" for e in audit.pending_events(fresh_data_dir)), "merged at once"
    con = connect(fresh_data_dir)
    sources = [s for (s,) in con.sql("SELECT source FROM job_runs WHERE command = 'close-month'").fetchall()]
    con.close()
    assert sources == ["statement 2025-01 by fin@example.org"]
    trail = (
        open_as("finance", "data_health", data_dir=fresh_data_dir, query_params=EVERY_LAUNCH)
        .get_by_key("health_audit")
        .dataframe[0]
        .value
    )
    assert "close-month" in set(trail["action"]) and "sign-in" in set(trail["action"])


@pytest.mark.parametrize(
    ("who", "tables", "hidden"),
    [
        ("viewer", {"health_pending"}, {"health_runs", "health_reasons", "health_records", "health_audit"}),
        ("finance", {"health_pending", "health_reasons", "health_audit"}, {"health_runs", "health_records"}),
        ("admin", {"health_pending", "health_reasons", "health_records", "health_runs", "health_audit"}, set()),
    ],
)
def test_data_health_shows_raw_records_and_runs_to_admins_and_the_trail_to_finance(open_as, who, tables, hidden):
    at = open_as(who, "data_health")
    shown = {k for k in (*tables, *hidden) if _has_table(at, k)}
    assert shown == tables
    text = rendered(at)
    if who != "admin":
        assert "wl-2025-9001" not in text and "raw_record" not in text  # the quarantined records' keys and bodies
    if who == "viewer":
        pending = at.get_by_key("health_pending").dataframe[0].value
        assert set(pending["consumer"]) <= {ONCOLOGY}


def _has_table(at, key: str) -> bool:
    try:
        return bool(at.get_by_key(key).dataframe)
    except (KeyError, IndexError):
        return False


# --- nobody, somebody unknown, and wrong configurations -------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_a_signed_out_person_sees_only_the_sign_in_screen(open_as, page):
    at = open_as("signed out", page)
    assert not at.exception
    assert [t.value for t in at.title] == ["Launch Ledger"] and not at.metric and not at.dataframe
    assert [b.label for b in at.button] == ["Sign in"]
    assert at.sidebar.get("multiselect") == []  # no filter, so no consumer name either


@pytest.mark.parametrize("page", PAGES)
def test_a_user_the_access_file_does_not_know_sees_nothing_but_a_message(open_as, page, signed_in_data_dir):
    at = open_as("stranger", page)
    assert not at.metric and not at.dataframe and not at.get("plotly_chart")
    assert at.warning[0].value == auth.UNKNOWN.format(who="eve@example.org")
    assert [b.key for b in at.button] == ["sign_out"]
    assert any(e["actor"] == "eve@example.org" for e in events(signed_in_data_dir, "access-denied"))


def test_sign_in_without_an_access_file_lets_nobody_in(open_as):
    at = open_as("finance", access=None)
    assert not at.metric and at.warning[0].value.startswith("You are signed in as fin@example.org, but")


def test_an_access_file_without_sign_in_shows_nothing(open_as):
    at = open_as("finance", auth=False)
    assert not at.metric and not at.dataframe and at.error[0].value == auth.NO_SIGN_IN


def test_a_broken_access_file_is_one_line_that_gives_nothing_away(open_as, capfd):
    at = open_as("finance", access='[users."fin@example.org"]\nrole = "owner"\n')
    assert not at.metric and "role must be one of viewer, finance, admin" in at.error[0].value
    assert_no_secrets(rendered(at), *capfd.readouterr())


def test_sign_in_and_out_are_recorded_once_per_session(open_as, signed_in_data_dir):
    before = len(events(signed_in_data_dir, "sign-in"))
    at = open_as("admin")
    at.run()  # a rerun of the same session is not a new sign-in
    signed_in = events(signed_in_data_dir, "sign-in")[before:]
    assert [(e["actor"], e["role"]) for e in signed_in] == [("ops@example.org", "admin")]
    at.sidebar.button(key="sign_out").click().run()
    assert at.user == {"is_logged_in": False} and not at.metric  # the run stops at once
    assert events(signed_in_data_dir, "sign-out")[-1]["actor"] == "ops@example.org"
    at.run()
    assert [b.label for b in at.button] == ["Sign in"] and not at.metric


def test_no_token_or_secret_in_any_page_of_any_role(open_as, capfd):
    for who in ("viewer", "finance", "admin", "stranger", "signed out"):
        for page in ("overview", "chargeback", "data_health"):
            assert_no_secrets(rendered(open_as(who, page)))
    assert_no_secrets(*capfd.readouterr())


def test_the_data_layer_binds_the_reader_into_every_named_query_whatever_the_page_passes():
    import queries
    from core.access import EVERYONE, Reader
    from dashboard import data
    from queries import Filters

    viewer = Reader(consumers=(ONCOLOGY,), admin=False)
    for name, query in queries.REGISTRY.items():
        asked = Filters(pd.Timestamp("2025-01-01").date(), pd.Timestamp("2025-04-30").date(), reader=EVERYONE)
        filters, kwargs = data.for_reader(name, asked if query.scope == "filters" else None, {"reader": EVERYONE}, viewer)
        bound = filters.reader if filters is not None else kwargs.get("reader")
        assert bound == viewer or name == "price_points", name
    _, kwargs = data.for_reader("chargeback_statement", None, {"month": None}, viewer)
    assert kwargs["reader"] == viewer
