"""Named queries of the pricing pages (Reconciliation, the what-if on Instance types)."""

from __future__ import annotations

import pandas as pd

from core.vocabulary import BILL_SOURCES
from queries.engine import run
from queries.filters import Filters
from queries.registry import named_query


@named_query(scope="filters")
def reconciliation(con, filters: Filters, bill_sources: tuple[str, ...] = BILL_SOURCES) -> pd.DataFrame:
    """Computed vs billed cost per consumer x month, with variance, other services and discounts.

    ``bill_sources``: the bill's sources in order of preference, as chargeback reads them (the rules' ``[bill] sources``).
    """
    return run(con, "reconciliation", {**filters.params(), "bill_sources": list(bill_sources)})


@named_query(scope="filters")
def whatif_resources(con, filters: Filters, limit: int = 2000) -> pd.DataFrame:
    """The resources of the ``limit`` latest ended AWS launches in scope that used instances."""
    return run(con, "whatif_resources", {**filters.params(), "limit": limit})


@named_query(scope="none")
def price_points(con) -> pd.DataFrame:
    """Every price the warehouse holds."""
    return run(con, "price_points")


@named_query(scope="filters")
def run_reconciliation(con, filters: Filters) -> pd.DataFrame:
    """Per launch with bill rows or tasks: recorded, engine, task and billed (split, split + unused) cost, the gap and why."""
    return run(con, "run_reconciliation", filters.params())
