"""The Chargeback page's pure steps: which months it offers, the reconciliation sentence, the close guard."""

from datetime import date, datetime

import pandas as pd

from chargeback.rules import parse_rules
from chargeback.statement import allocate
from dashboard import charts, statement
from queries import Filters
from tests.chargeback.test_allocate import MONTH, RULES, worked_month


def months_frame(*closed: date) -> pd.DataFrame:
    months = [date(2026, m, 1) for m in (7, 8, 9, 10)]
    return pd.DataFrame(
        {
            "statement_month": months,
            "charges": [10] * 4,
            "estimated_charges": [0] * 4,
            "closed_at": [datetime(2026, 11, 2) if m in closed else None for m in months],
            "closed_by_run_id": ["run-1" if m in closed else None for m in months],
        }
    )


def test_offered_months_are_the_bill_months_touching_the_sidebar_period():
    frame = months_frame()
    assert statement.offered_months(frame, Filters(date(2026, 8, 15), date(2026, 9, 2)), True) == [
        date(2026, 8, 1),
        date(2026, 9, 1),
    ]
    # without launches the sidebar period means nothing: every bill month is offered
    assert len(statement.offered_months(frame, Filters(date(2020, 1, 1), date(2020, 1, 2)), False)) == 4


def test_the_reconciliation_sentence_adds_the_parts_to_the_bill():
    rows, runs = worked_month()
    s = allocate(MONTH, rows, runs, parse_rules(RULES))
    assert statement.reconciliation(s) == (
        "direct 180.00 + shared 41.00 + credits -10.00 + unallocated 15.00 + rounding 0.01 = the 2026-10 bill 226.01 USD"
    )
    assert statement.status(s).startswith("Open: 2026-10 is computed from the warehouse as it is now")


def test_the_close_guard_explains_why_not():
    assert statement.closable(months_frame(), date(2026, 9, 1), today=date(2026, 11, 20)) is None
    assert "has not ended yet" in statement.closable(months_frame(), date(2026, 11, 1), today=date(2026, 11, 20))
    closed = months_frame(date(2026, 7, 1))
    assert statement.closable(closed, date(2026, 8, 1), today=date(2026, 11, 20)) is None
    assert "close 2026-08 first" in statement.closable(closed, date(2026, 9, 1), today=date(2026, 11, 20))
    assert "already closed" in statement.closable(closed, date(2026, 7, 1), today=date(2026, 11, 20))


def test_filters_are_written_into_the_exports():
    assert statement.filters_text(Filters(date(2026, 1, 1), date(2026, 1, 31))) == "none: the whole month"
    text = statement.filters_text(Filters(date(2026, 1, 1), date(2026, 1, 31), consumers=("a",), platforms=("EKS",)))
    assert text.startswith("consumers: a; platforms: EKS") and "Outside the filters" in text


def test_the_chart_has_a_bar_per_part_and_the_unallocated_lines():
    rows, runs = worked_month()
    s = allocate(MONTH, rows, runs, parse_rules(RULES))
    from chargeback import exports

    fig = charts.statement_bars(exports.summary(s.lines), s)
    assert [t.name for t in fig.data] == ["Direct", "Shared", "Credits", "Adjustments", "Unallocated / rounding"]
    assert list(fig.data[-1].y) == ["Unallocated", "Rounding"] and fig.layout.barmode == "relative"
