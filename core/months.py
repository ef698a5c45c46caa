"""Month arithmetic: a month is the ``date`` of its first day."""

from __future__ import annotations

from datetime import date, timedelta


def month_start(day: date) -> date:
    """The first day of ``day``'s month."""
    return day.replace(day=1)


def next_month(month: date) -> date:
    """The first day of the month after ``month``'s."""
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def month_end(month: date) -> date:
    """The last day of ``month``'s calendar month."""
    return next_month(month) - timedelta(days=1)


def add_months(month: date, count: int) -> date:
    """The first day of the month ``count`` months after ``month``'s (negative: before)."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def month_label(month: date) -> str:
    """``2026-10`` for any day of October 2026."""
    return f"{month:%Y-%m}"


def parse_month(text: str) -> date:
    """``YYYY-MM`` (or a full ISO date) as the month's first day; ValueError with the expected form."""
    try:
        return date.fromisoformat(f"{text}-01" if len(text) == 7 else text).replace(day=1)
    except ValueError:
        raise ValueError(f"{text!r} is not a month: write YYYY-MM, e.g. 2026-10") from None
