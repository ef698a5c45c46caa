"""What the Chargeback page needs beside its widgets: months, rules, downloads, the close action, a chart.

No Streamlit here: the allocation itself (and its rounding rule) lives in ``allocation/``; these are
the small pure steps between it and the page, so the page stays a page and the steps can be tested.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pandas as pd
import plotly.graph_objects as go

from allocation import exports
from allocation.closing import check_closable, close_month
from allocation.errors import AllocationError
from allocation.rules import Rules, rules_for
from allocation.statement import Statement, month_label, next_month
from dashboard.charts import LAYOUT, as_float
from ingest.config import load_settings
from ingest.errors import LedgerError
from queries import Filters

MONEY = ("Direct", "Shared", "Credits", "Adjustments", "Total", "Billed total", "Cost per launch", "Amount", "Billed")
PARTS = (("direct", "Direct"), ("shared", "Shared"), ("credit", "Credits"), ("unallocated", "Unallocated"), ("rounding", "Rounding"))


def rules() -> Rules:
    """The allocation rules the settings name (a LedgerError with one line when they are wrong)."""
    return rules_for(load_settings())


def offered_months(months: pd.DataFrame, filters: Filters, has_launches: bool) -> list[date]:
    """Months with a bill or a closed statement; within the sidebar period when there are launches to filter."""
    every = sorted({m for m in months["statement_month"]})
    if not has_launches:
        return every
    return [m for m in every if m <= filters.end and next_month(m) > filters.start]


def reconciliation(s: Statement) -> str:
    """The sentence finance checks: the parts add up to the bill (and the adjustments to the total)."""
    parts = " + ".join(f"{label.lower()} {s.amounts((kind,)):,}" for kind, label in PARTS)
    text = f"{parts} = the {s.label} bill {s.bill_total:,} {s.currency}"
    if s.adjustments_total:
        text += f"; + adjustments {s.adjustments_total:,} = statement total {s.total:,} {s.currency}"
    return text


def status(s: Statement) -> str:
    if s.closed:
        return f"Closed {s.closed_at:%Y-%m-%d %H:%M} UTC (run {s.closed_by_run_id}): this statement is frozen and never changes."
    return f"Open: {s.label} is computed from the warehouse as it is now and may still change until it is closed."


def closable(months: pd.DataFrame, month: date, today: date | None = None) -> str | None:
    """Why ``month`` cannot be closed now, or None when it can."""
    if load_settings().athena.engine == "athena":
        return "this dashboard reads Athena: close months with `python -m ingest close-month` where the ingest runs"
    try:
        check_closable(months[months["closed_at"].notna()], month, today or datetime.now(UTC).date())
    except AllocationError as exc:
        return str(exc)
    return None


def close(month: date, rules: Rules) -> str:
    """Close ``month`` (recorded as a close-month run); returns what happened, in one line."""
    try:
        frozen, run = close_month(load_settings(), month, rules, closed_by="dashboard")
    except LedgerError as exc:
        return f"error: {exc}"
    return f"{month_label(month)} closed by run {run.writer.run_id}: {frozen.total:,} {frozen.currency} in {len(frozen.lines)} lines."


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


def downloads(s: Statement, lines: pd.DataFrame, rules: Rules, filters_text: str, consumer: str | None) -> list[Download]:
    """CSV, XLSX and PDF of what is on screen (filters applied), and the month's FOCUS export."""
    header = exports.Header(s, rules, filters_text)
    stem = f"chargeback_{s.label}" + (f"_{consumer}" if consumer else "")
    shown = chosen_lines(lines, consumer)
    return [
        Download("CSV", exports.to_csv(shown, s), f"{stem}.csv", "text/csv", "chargeback_csv"),
        Download("XLSX", exports.to_xlsx(lines, header), f"{stem}.xlsx",
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "chargeback_xlsx"),
        Download("PDF", exports.to_pdf(lines, header, [consumer] if consumer else None), f"{stem}.pdf", "application/pdf", "chargeback_pdf"),
        Download("FOCUS", exports.to_focus_csv(s, rules), f"chargeback_{s.label}_focus.csv", "text/csv", "chargeback_focus"),
    ]  # fmt: skip


def filters_text(filters: Filters) -> str:
    picked = [f"{name}: {', '.join(values)}" for name, values in
              (("consumers", filters.consumers), ("workflow types", filters.workflow_types), ("platforms", filters.platforms)) if values]  # fmt: skip
    return "; ".join(picked) + "; everything else in one 'Outside the filters' line" if picked else "none: the whole month"


def summary_figure(summary: pd.DataFrame, s: Statement) -> go.Figure:
    """Stacked bars per consumer: direct, shared, credits (credits below zero); then the unallocated lines."""
    named = summary[summary["Direct"].notna() & (summary["Consumer"] != exports.TOTAL)]
    fig = go.Figure()
    for column, color in (("Direct", "#2680c2"), ("Shared", "#f0b429"), ("Credits", "#3ebd93"), ("Adjustments", "#9446ed")):
        fig.add_bar(name=column, y=named["Consumer"].tolist(), x=as_float(named[column]), orientation="h", marker_color=color)
    others = summary[summary["Direct"].isna() & (summary["Consumer"] != exports.TOTAL)]
    fig.add_bar(name="Unallocated / rounding", y=others["Consumer"].tolist(), x=as_float(others["Total"]), orientation="h", marker_color="#9aa5b1")
    fig.update_layout(
        barmode="relative", title=f"Statement {s.label} by consumer ({s.currency})", xaxis_title=s.currency,
        yaxis=dict(autorange="reversed"), height=max(320, 28 * len(summary) + 140), **LAYOUT,
    )  # fmt: skip
    return fig
