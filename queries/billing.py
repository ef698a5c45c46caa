"""The bill side of chargeback: one function per named query the statements (``chargeback/``) read.

Each takes a connection (DuckDB or a ``QueryEngine``) and a month (its first day) and binds only the
shared parameters ``$start``/``$end``: the month's first and last day. Money arrives as ``Decimal``.
Each returns only the rows of the consumers ``reader`` may see (default: every consumer). A statement
is allocated over the whole month (a shared cost's split depends on every consumer), so ``chargeback``
reads with the default reader and cuts the finished statement to the reader's lines
(``Statement.visible_to``).
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from core.access import EVERYONE, Reader
from core.months import month_end
from queries.engine import run
from queries.filters import Filters
from queries.named import Connection
from queries.registry import named_query

EARLIEST = date(2000, 1, 1)


@named_query(scope="month")
def bill_lines(con: Connection, month: date, reader: Reader = EVERYONE) -> pd.DataFrame:
    """The month's bill summed per source, tag key and value, tags, service, account, resource, charge category."""
    return run(con, "bill_lines", {"start": month.replace(day=1), "end": month_end(month), **reader.params()})


@named_query(scope="month")
def statement_launches(con: Connection, month: date, reader: Reader = EVERYONE) -> pd.DataFrame:
    """The month's launches (by launch_month) per consumer, workflow type, platform and region, with their cost."""
    return run(con, "statement_launches", Filters(month.replace(day=1), month_end(month), reader=reader).params())


@named_query(scope="month")
def statement_runs(con: Connection, month: date, reader: Reader = EVERYONE) -> pd.DataFrame:
    """The month's runs matched on the bill by their run tag, with their launch's consumer and billed split cost."""
    return run(con, "statement_runs", {"start": month.replace(day=1), "end": month_end(month), **reader.params()})


@named_query(scope="none")
def statement_months(con: Connection, reader: Reader = EVERYONE) -> pd.DataFrame:
    """Months with a bill or a closed statement, with the reader's (estimated) charges and when each was closed."""
    return run(con, "statement_months", reader.params())


@named_query(scope="month")
def closed_statements(con: Connection, through: date, reader: Reader = EVERYONE) -> pd.DataFrame:
    """Every frozen statement line (of the reader's consumers) of the months closed up to ``through``'s month."""
    return run(con, "closed_statements", {"start": EARLIEST, "end": month_end(through), **reader.params()})
