"""The reads budgets need (``estimates.budgets.forecast``): one function per named query, scoped to the reader.

Both take the shared ``Filters`` for the period ($start, $end: from the history the forecast learns from up to
the as-of day) and the reader inside them; money arrives as ``Decimal``.
"""

from __future__ import annotations

import pandas as pd

from queries.engine import run
from queries.filters import Filters
from queries.named import Connection
from queries.registry import named_query


@named_query(scope="filters")
def budget_launch_spend(con: Connection, filters: Filters) -> pd.DataFrame:
    """Priced launch spend per launch month x consumer x currency in the period (what consumer budgets count)."""
    return run(con, "budget_launch_spend", filters.params())


@named_query(scope="filters")
def budget_bill_spend(con: Connection, filters: Filters) -> pd.DataFrame:
    """The bill per month x consumer tag x tags x currency in the period, at effective cost (what tag budgets count)."""
    return run(con, "budget_bill_spend", {"start": filters.start, "end": filters.end, **filters.reader.params()})
