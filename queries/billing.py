"""The bill side of chargeback: one function per named query the statements (``allocation/``) read.

Each takes a connection (DuckDB or a ``QueryEngine``) and a month (its first day) and binds only the
shared parameters ``$start``/``$end``: the month's first and last day. Money arrives as ``Decimal``.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from queries.engine import run
from queries.filters import Filters
from queries.named import Connection

EARLIEST = date(2000, 1, 1)


def month_end(month: date) -> date:
    """The last day of ``month``'s calendar month."""
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def bill_lines(con: Connection, month: date) -> pd.DataFrame:
    """The month's bill summed per source, tag key and value, tags, service, account, resource, charge category."""
    return run(con, "bill_lines", {"start": month.replace(day=1), "end": month_end(month)})


def statement_launches(con: Connection, month: date) -> pd.DataFrame:
    """The month's launches (by launch_month) per consumer, workflow type, platform and region, with their cost."""
    return run(con, "statement_launches", Filters(month.replace(day=1), month_end(month)).params())


def statement_months(con: Connection) -> pd.DataFrame:
    """Months with a bill or a closed statement, with estimated charges and when each was closed."""
    return run(con, "statement_months")


def closed_statements(con: Connection, through: date) -> pd.DataFrame:
    """Every frozen statement line of the months closed up to ``through``'s month."""
    return run(con, "closed_statements", {"start": EARLIEST, "end": month_end(through)})
