"""The Budgets page's sections: the budgets file, the figures (cached through ``dashboard.data``), the form.

The figures are ``estimates.budgets.jobs.budget_report`` for the signed-in reader (a viewer gets their
consumers' budgets only). The form is for finance and admins: it adds a budget or edits one, writes the
budgets file atomically and records the change in the audit trail (action ``budget-change``).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import streamlit as st

from core.access import Access
from core.errors import LedgerError
from core.months import month_label
from core.settings import load_settings
from dashboard import data, trail
from estimates.budgets import PERIOD_MONTHS, Budget, budget_from, with_budget
from estimates.budgets.jobs import Report, read_budgets, save_budgets

SAVED_KEY = "budget_saved"
NEW = "a new budget"
LABELS = {
    "budget": "Budget",
    "covers": "Covers",
    "period": "Period",
    "spent": "Spent to date",
    "forecast": "Forecast to period end",
    "low": "Low (80%)",
    "high": "High (80%)",
    "amount": "Budget amount",
    "currency": "Currency",
    "chance_of_overrun": "Chance of overrunning",
    "status": "Status",
    "note": "Note",
}
SHOWN = tuple(LABELS)
MONEY = ("spent", "forecast", "low", "high", "amount")


def budgets_file() -> tuple[Path, str, tuple[Budget, ...]]:
    """(the budgets file, its text, its budgets); a bad file stops the page with its one-line error."""
    path = load_settings().budgets.budgets_file
    try:
        text, budgets = read_budgets(path)
    except LedgerError as exc:
        st.error(str(exc))
        st.stop()
    return path, text, budgets


def report(path: Path, text: str, as_of: date) -> Report:
    """The budgets this run's reader may see, evaluated at ``as_of`` (cached per warehouse version and file text)."""
    chances = load_settings().budgets
    return data.fetch(
        "budget_report",
        budgets_text=text,
        budgets_path=str(path),
        as_of=as_of,
        at_risk_chance=chances.at_risk_chance,
        alert_chance=chances.alert_chance,
    )


def may_edit(access: Access) -> bool:
    return access.role in ("finance", "admin")


def _defaults(budget: Budget | None, currency: str) -> dict:
    if budget is None:
        return {
            "name": "",
            "covers": "consumer",
            "consumer": None,
            "key": "",
            "value": "",
            "period": "month",
            "start": month_label(date.today()),
            "end": "",
            "amount": "",
            "currency": currency,
        }
    return {
        "name": budget.name,
        "covers": "consumer" if budget.consumer is not None else "tag",
        "consumer": budget.consumer,
        "key": budget.tag_key or "",
        "value": budget.tag_value or "",
        "period": budget.period,
        "start": month_label(budget.start),
        "end": month_label(budget.end) if budget.end else "",
        "amount": str(budget.amount),
        "currency": budget.currency,
    }


def _fields(was: dict, consumers: tuple[str, ...], slot: str) -> dict:
    """The form's widgets, filled from ``was``; returns the raw budget table they make."""
    name = st.text_input("Name", value=was["name"], key=f"budget_name_{slot}")
    covers = st.radio(
        "Covers",
        ("consumer", "tag"),
        index=("consumer", "tag").index(was["covers"]),
        key=f"budget_covers_{slot}",
        horizontal=True,
        help="A consumer's launch spend, or the bill lines carrying a tag (a grant, a project).",
    )
    left, right = st.columns(2)
    options = sorted({*consumers, *([was["consumer"]] if was["consumer"] else [])})
    consumer = left.selectbox(
        "Consumer",
        options,
        index=options.index(was["consumer"]) if was["consumer"] in options else 0,
        key=f"budget_consumer_{slot}",
    )
    key = left.text_input("Tag key", value=was["key"], key=f"budget_tag_key_{slot}", placeholder="grant")
    value = right.text_input("Tag value", value=was["value"], key=f"budget_tag_value_{slot}", placeholder="R01-123")
    period = right.selectbox(
        "Period", tuple(PERIOD_MONTHS), index=tuple(PERIOD_MONTHS).index(was["period"]), key=f"budget_period_{slot}"
    )
    start = left.text_input("First period starts (YYYY-MM)", value=was["start"], key=f"budget_start_{slot}")
    end = right.text_input("Last period starts (YYYY-MM, optional)", value=was["end"], key=f"budget_end_{slot}")
    amount = left.text_input("Amount per period", value=was["amount"], key=f"budget_amount_{slot}", placeholder="12000.00")
    currency = right.text_input("Currency", value=was["currency"], key=f"budget_currency_{slot}")
    raw = {"name": name, "period": period, "start": start, "amount": amount, "currency": currency}
    raw |= {"consumer": consumer or ""} if covers == "consumer" else {"tag": {"key": key, "value": value}}
    return raw | ({"end": end} if end.strip() else {})


def _change(old: Budget | None, new: Budget) -> str:
    now = f"{new.covers} · per {new.period} from {month_label(new.start)} · {new.currency} {new.amount}"
    if old is None:
        return f"added: {now}"
    return f"edited: {now} (was {old.covers} · per {old.period} from {month_label(old.start)} · {old.currency} {old.amount})"


def save(access: Access, path: Path, budgets: tuple[Budget, ...], raw: dict, replacing: str | None) -> str:
    """Write the budget into the file (atomically) and record it in the audit trail; returns what was done."""
    budget = budget_from(raw, str(path))
    old = next((b for b in budgets if b.name == replacing), None)
    save_budgets(path, with_budget(budgets, budget, replacing))
    detail = _change(old, budget)
    trail.note(
        access,
        "budget-change",
        subject=budget.name,
        detail=detail,
        consumers=budget.consumer if budget.consumer is not None else budget.covers,
    )
    return f'Budget "{budget.name}" {detail}'


def remove(access: Access, path: Path, budgets: tuple[Budget, ...], name: str) -> str:
    """Take the budget out of the file (atomically) and record it in the audit trail; returns what was done."""
    old = next(b for b in budgets if b.name == name)
    save_budgets(path, tuple(b for b in budgets if b.name != name))
    detail = f"removed (was {old.covers} · per {old.period} from {month_label(old.start)} · {old.currency} {old.amount})"
    trail.note(
        access, "budget-change", subject=name, detail=detail, consumers=old.consumer if old.consumer is not None else old.covers
    )
    return f'Budget "{name}" {detail}'


def form(access: Access, path: Path, budgets: tuple[Budget, ...], consumers: tuple[str, ...], currency: str) -> None:
    """Add, edit or remove a budget (finance and admins only): the file is rewritten and the change audited."""
    if saved := st.session_state.pop(SAVED_KEY, None):
        st.success(saved)
    if not may_edit(access):
        return
    st.subheader("Set a budget")
    st.caption(f"Writes {path} (the whole file is rewritten; comments other than its header are not kept).")
    names = [NEW, *(b.name for b in budgets)]
    picked = st.selectbox("Add or edit", names, key="budget_edit")
    old = next((b for b in budgets if b.name == picked), None)
    slot = str(names.index(picked))
    with st.form(key=f"budget_form_{slot}"):
        raw = _fields(_defaults(old, currency), consumers, slot)
        submitted = st.form_submit_button("Save budget", type="primary")
    if submitted:
        try:
            st.session_state[SAVED_KEY] = save(access, path, budgets, raw, old.name if old else None)
        except LedgerError as exc:
            st.error(str(exc))
        else:
            st.rerun()
    if old is not None and st.button(f'Remove "{old.name}"', key=f"budget_remove_{slot}", help="Takes it out of the file."):
        st.session_state[SAVED_KEY] = remove(access, path, budgets, old.name)
        st.rerun()
