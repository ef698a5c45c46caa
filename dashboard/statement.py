"""What the Chargeback page needs beside its widgets: months, rules, downloads, the close action, a chart.

No Streamlit here: the allocation itself (and its rounding rule) lives in ``chargeback/``; these are
the small pure steps between it and the page, so the page stays a page and the steps can be tested.
The statement they get is already cut to the reader's consumers (``Statement.visible_to``, applied in
``chargeback.chargeback_statement``); closing a month checks the role, and both it and every download
are recorded in the audit trail (``dashboard.trail``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pandas as pd

from chargeback import exports
from chargeback.closing import check_closable, close_month
from chargeback.rules import Rules, rules_for
from chargeback.statement import Statement
from core.access import Access, AccessDenied
from core.errors import ChargebackError
from core.months import month_label, next_month
from core.settings import load_settings
from dashboard import trail
from dashboard.formatting import money
from queries import Filters

MONEY = ("Direct", "Shared", "Credits", "Adjustments", "Total", "Billed total", "Cost per launch", "Amount", "Billed")
PARTS = (
    ("direct", "Direct"),
    ("shared", "Shared"),
    ("credit", "Credits"),
    ("unallocated", "Unallocated"),
    ("rounding", "Rounding"),
)


def rules() -> Rules:
    """The allocation rules the settings name (a LedgerError with one line when they are wrong)."""
    return rules_for(load_settings())


def offered_months(months: pd.DataFrame, filters: Filters, has_launches: bool) -> list[date]:
    """Months with a bill or a closed statement; within the sidebar period when there are launches to filter."""
    every = sorted({m for m in months["statement_month"]})
    if not has_launches:
        return every
    return [m for m in every if m <= filters.end and next_month(m) > filters.start]


@dataclass(frozen=True)
class Figure:
    label: str
    value: object
    help: str | None = None


def headline(s: Statement) -> list[Figure]:
    """The five figures over the statement: of the whole bill, or of the reader's own lines only."""
    if s.scope is None:
        return [
            Figure(f"Bill {s.label}", s.bill_total, f"Billed (invoice) {money(s.billed_total, s.currency)}."),
            Figure("Allocated to consumers", s.amounts(("direct", "shared", "credit"))),
            Figure("Unallocated", s.amounts(("unallocated", "rounding")), "Untagged spend no rule shares, and rounding."),
            Figure("Adjustments", s.adjustments_total, "Restatements of closed months, charged in the first open month."),
            Figure("Statement total", s.total),
        ]
    return [
        Figure("Direct", s.amounts(("direct",)), "Charges tagged with your consumers."),
        Figure("Shared", s.amounts(("shared",)), "Your consumers' shares of shared costs, by the rules below."),
        Figure("Credits", s.amounts(("credit",))),
        Figure("Adjustments", s.adjustments_total, "Restatements of closed months, charged in the first open month."),
        Figure("Statement total", s.total, f"Charged to {', '.join(s.scope)}; the whole bill is not shown."),
    ]


def reconciliation(s: Statement) -> str:
    """The sentence finance checks: the parts add up to the bill (and the adjustments to the total)."""
    if s.scope is not None:
        parts = " + ".join(f"{label.lower()} {s.amounts((kind,)):,}" for kind, label in PARTS[:3])
        return (
            f"{parts} + adjustments {s.adjustments_total:,} = {s.total:,} {s.currency} charged to {', '.join(s.scope)} "
            "(only your consumers' lines: the month's bill and other consumers' lines are not shown)"
        )
    parts = " + ".join(f"{label.lower()} {s.amounts((kind,)):,}" for kind, label in PARTS)
    text = f"{parts} = the {s.label} bill {s.bill_total:,} {s.currency}"
    if s.adjustments_total:
        text += f"; + adjustments {s.adjustments_total:,} = statement total {s.total:,} {s.currency}"
    return text


def status(s: Statement) -> str:
    if s.closed:
        return f"Closed {s.closed_at:%Y-%m-%d %H:%M} UTC (run {s.closed_by_run_id}): this statement is frozen and never changes."
    return f"Open: {s.label} is computed from the warehouse as it is now and may still change until it is closed."


def closable(months: pd.DataFrame, month: date, today: date | None = None, access: Access | None = None) -> str | None:
    """Why ``month`` cannot be closed now (or by this person), or None when it can."""
    if access is not None and not access.may_close_months:
        return f"only finance and admin close months: {access.label}"
    if load_settings().athena.engine == "athena":
        return "this dashboard reads Athena: close months with `python -m ingest close-month` where the ingest runs"
    try:
        check_closable(months[months["closed_at"].notna()], month, today or datetime.now(UTC).date())
    except ChargebackError as exc:
        return str(exc)
    return None


def close(month: date, rules: Rules, access: Access) -> str:
    """Close ``month`` (a close-month run, and an audit event); what happened, in one line. A refusal raises LedgerError."""
    if not access.may_close_months:
        raise AccessDenied(f"only finance and admin close months: {access.label}")
    frozen, run = close_month(load_settings(), month, rules, closed_by=access.who)
    done = f"{frozen.total:,} {frozen.currency} in {len(frozen.lines)} lines"
    trail.note(
        access,
        "close-month",
        merge=True,
        subject=month_label(month),
        consumers="every consumer",
        detail=f"run {run.writer.run_id}: {done}, rules {rules.fingerprint[:12]}",
    )
    return f"{month_label(month)} closed by run {run.writer.run_id}: {done}."


def chosen_lines(lines: pd.DataFrame, consumer: str | None) -> pd.DataFrame:
    """All lines, or one consumer's (None: every consumer)."""
    return lines if consumer is None else lines[[c == consumer for c in lines["consumer"]]]


@dataclass(frozen=True)
class Download:
    label: str
    data: bytes
    file_name: str
    mime: str
    key: str


_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def file_part(text: str) -> str:
    """``text`` fit for a file name: no path separators, no "..", nothing a shell or browser would read."""
    return _UNSAFE.sub("_", text).replace("..", "_").strip("._") or "consumer"


def downloads(s: Statement, lines: pd.DataFrame, rules: Rules, filters_text: str, consumer: str | None) -> list[Download]:
    """CSV, XLSX and PDF of what is on screen (filters applied), and the month's FOCUS export (the reader's lines)."""
    header = exports.Header(s, rules, filters_text)
    stem = f"chargeback_{s.label}" + (f"_{file_part(consumer)}" if consumer else "")
    shown = chosen_lines(lines, consumer)
    return [
        Download("CSV", exports.to_csv(shown, s), f"{stem}.csv", "text/csv", "chargeback_csv"),
        Download(
            "XLSX",
            exports.to_xlsx(lines, header),
            f"{stem}.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "chargeback_xlsx",
        ),
        Download(
            "PDF",
            exports.to_pdf(lines, header, [consumer] if consumer else None),
            f"{stem}.pdf",
            "application/pdf",
            "chargeback_pdf",
        ),
        Download("FOCUS", exports.to_focus_csv(s, rules), f"chargeback_{s.label}_focus.csv", "text/csv", "chargeback_focus"),
    ]


def downloaded(access: Access, item: Download, s: Statement, consumer: str | None) -> None:
    """The download button's callback: who took which file of which statement, in the audit trail."""
    covered = consumer if consumer and item.label in ("CSV", "PDF") else (", ".join(s.scope) if s.scope else None)
    trail.note(
        access,
        "download",
        subject=item.file_name,
        consumers=covered or "every consumer",
        detail=f"{item.label} of the {s.label} statement ({s.status}, total {s.total:,} {s.currency})",
    )


def filters_text(filters: Filters) -> str:
    picked = [
        f"{name}: {', '.join(values)}"
        for name, values in (
            ("consumers", filters.consumers),
            ("workflow types", filters.workflow_types),
            ("platforms", filters.platforms),
        )
        if values
    ]
    return "; ".join(picked) + "; everything else in one 'Outside the filters' line" if picked else "none: the whole month"
