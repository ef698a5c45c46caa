"""The Budgets page: the figures of the budgets a person may see, and the form finance uses to set one."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from streamlit.testing.v1 import AppTest

from estimates.budgets import parse_budgets
from tests.dashboard.conftest import ACCESS_FILE, APP, FAKE_SECRETS, USERS
from warehouse import audit

BUDGETS = """
[[budget]]
name = "Onc monthly"
consumer = "oncology-research"
period = "month"
start = "2025-01"
amount = "50.00"
currency = "USD"

[[budget]]
name = "Neuro quarterly"
consumer = "neuro-genomics"
period = "quarter"
start = "2025-01"
amount = "100000.00"
currency = "USD"

[[budget]]
name = "Grant"
tag = { key = "grant", value = "R01-123" }
period = "year"
start = "2024-07"
amount = "1000.00"
currency = "USD"
"""


def open_budgets(monkeypatch, tmp_path, data_dir, who: str) -> AppTest:
    (tmp_path / "access.toml").write_text(ACCESS_FILE)
    (tmp_path / "budgets.toml").write_text(BUDGETS)
    (tmp_path / "launch-ledger.toml").write_text('[access]\nfile = "access.toml"\n\n[budgets]\nfile = "budgets.toml"\n')
    monkeypatch.setenv("LAUNCH_LEDGER_CONFIG", str(tmp_path / "launch-ledger.toml"))
    monkeypatch.setenv("LAUNCH_LEDGER_DATA_DIR", str(data_dir))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.secrets["auth"] = dict(FAKE_SECRETS)
    at.user = dict(USERS[who])
    at.run()
    at.switch_page("app_pages/budgets.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _events(data_dir) -> list[dict]:
    """Every audit event: pending, and merged into audit_events already (a job's commit merges them)."""
    from warehouse.store import connect

    con = connect(data_dir)
    try:
        merged = con.sql("SELECT * FROM audit_events").df().to_dict("records")
    finally:
        con.close()
    return audit.pending_events(data_dir) + merged


def event_ids(data_dir) -> set[str]:
    return {e["event_id"] for e in _events(data_dir)}


def budget_changes(data_dir, before: set[str]) -> list[dict]:
    """The budget-change events recorded since ``before`` (the event ids then)."""
    found = {e["event_id"]: e for e in _events(data_dir) if e["action"] == "budget-change" and e["event_id"] not in before}
    return list(found.values())  # an event both pending and merged (a merge under way) is one event


def spent(launches, consumer: str, first: date, through: date) -> Decimal:
    day = launches["launched_at"].dt.date
    mine = launches[(launches["consumer"] == consumer) & (day >= first) & (day <= through)]
    return sum((c for c in mine["total_cost"] if c is not None), Decimal(0)).quantize(Decimal("0.01"))


def test_finance_sees_every_budget_with_its_spend_to_date(monkeypatch, tmp_path, signed_in_data_dir, launches_csv, read_table):
    at = open_budgets(monkeypatch, tmp_path, signed_in_data_dir, "finance")
    table = read_table(at, "budgets_table").set_index("budget")
    assert list(table.index) == ["Onc monthly", "Neuro quarterly", "Grant"]
    as_of = date(2025, 4, 28)  # the last day the fixture holds launches: the sidebar period's end
    april = spent(launches_csv, "oncology-research", date(2025, 4, 1), as_of)
    assert table.loc["Onc monthly", "spent"] == april and table.loc["Onc monthly", "period"] == "2025-04"
    assert table.loc["Neuro quarterly", "spent"] == spent(launches_csv, "neuro-genomics", date(2025, 4, 1), as_of)
    assert table.loc["Onc monthly", "status"] == ("over" if april > 50 else "no forecast")
    assert any("budgets as of 2025-04-28" in c.value for c in at.caption)
    assert at.get_by_key("budget_edit") is not None, "finance sets budgets"


def test_a_viewer_sees_only_their_consumers_budgets_and_no_form(monkeypatch, tmp_path, signed_in_data_dir, read_table):
    at = open_budgets(monkeypatch, tmp_path, signed_in_data_dir, "viewer")
    assert list(read_table(at, "budgets_table")["budget"]) == ["Onc monthly"]
    assert not at.error
    assert "budget_edit" not in {getattr(w, "key", None) for w in at.selectbox}
    assert not [b for b in at.button if "Save budget" in b.label]
    assert any("for finance only" in c.value for c in at.caption)


def test_the_form_writes_the_budgets_file_and_the_audit_trail(monkeypatch, tmp_path, signed_in_data_dir, read_table):
    at = open_budgets(monkeypatch, tmp_path, signed_in_data_dir, "finance")
    before = event_ids(signed_in_data_dir)
    at.selectbox(key="budget_edit").set_value("Onc monthly").run()
    at.text_input(key="budget_amount_1").set_value("7500.25")
    at.text_input(key="budget_start_1").set_value("2025-02")
    next(b for b in at.button if b.label == "Save budget").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    written = parse_budgets((tmp_path / "budgets.toml").read_text())
    onc = next(b for b in written if b.name == "Onc monthly")
    assert onc.amount == Decimal("7500.25") and onc.start == date(2025, 2, 1) and onc.consumer == "oncology-research"
    assert [b.name for b in written] == ["Onc monthly", "Neuro quarterly", "Grant"]  # the others kept, in order
    assert any('Budget "Onc monthly" edited' in s.value for s in at.success)
    assert read_table(at, "budgets_table").set_index("budget").loc["Onc monthly", "amount"] == Decimal("7500.25")
    (event,) = budget_changes(signed_in_data_dir, before)
    assert event["actor"] == "fin@example.org" and event["role"] == "finance" and event["subject"] == "Onc monthly"
    assert "USD 7500.25" in event["detail"] and "was consumer oncology-research" in event["detail"]


def test_a_bad_amount_in_the_form_is_refused_and_nothing_is_written(monkeypatch, tmp_path, signed_in_data_dir):
    at = open_budgets(monkeypatch, tmp_path, signed_in_data_dir, "finance")
    at.text_input(key="budget_name_0").set_value("New one")
    at.text_input(key="budget_amount_0").set_value("-3")
    next(b for b in at.button if b.label == "Save budget").click().run()
    assert [e.value for e in at.error] == [
        f"budget \"New one\" in {tmp_path / 'budgets.toml'}: amount must be more than zero; found '-3'"
    ]
    assert (tmp_path / "budgets.toml").read_text() == BUDGETS


def test_finance_removes_a_budget_and_the_trail_says_what_it_was(monkeypatch, tmp_path, signed_in_data_dir):
    at = open_budgets(monkeypatch, tmp_path, signed_in_data_dir, "finance")
    before = event_ids(signed_in_data_dir)
    at.selectbox(key="budget_edit").set_value("Neuro quarterly").run()
    next(b for b in at.button if b.label == 'Remove "Neuro quarterly"').click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    written = parse_budgets((tmp_path / "budgets.toml").read_text())
    assert [b.name for b in written] == ["Onc monthly", "Grant"]
    assert any('Budget "Neuro quarterly" removed' in s.value for s in at.success)
    (event,) = budget_changes(signed_in_data_dir, before)
    assert event["subject"] == "Neuro quarterly" and "removed (was consumer neuro-genomics" in event["detail"]
    assert "USD 100000.00" in event["detail"] and event["actor"] == "fin@example.org"


def test_a_viewer_gets_no_remove_button(monkeypatch, tmp_path, signed_in_data_dir):
    at = open_budgets(monkeypatch, tmp_path, signed_in_data_dir, "viewer")
    assert not [b for b in at.button if b.label.startswith("Remove")]
