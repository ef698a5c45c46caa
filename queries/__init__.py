"""Launch Ledger named queries: one ``.sql`` file per question in ``queries/sql``, one function each.

Nothing here imports Streamlit. Values are bound as DuckDB named parameters, never formatted in.
"""

from queries.engine import load, query_names, referenced_params, run
from queries.errors import QueryError
from queries.filters import FilterOptions, Filters
from queries.named import (
    PHASES,
    STATUS_ORDER,
    backtest_results,
    chargeback,
    cost_forecasts,
    estimate_history,
    filter_options,
    ingest_runs,
    instance_types,
    monthly_billed_spend,
    monthly_cost_per_launch,
    monthly_spend_by_consumer,
    overview,
    pending_prices,
    platforms,
    quarantine_reasons,
    quarantined_records,
    spot_vs_on_demand,
    timing,
    timing_by_platform,
)

__all__ = [
    "PHASES",
    "STATUS_ORDER",
    "FilterOptions",
    "Filters",
    "QueryError",
    "backtest_results",
    "chargeback",
    "cost_forecasts",
    "estimate_history",
    "filter_options",
    "ingest_runs",
    "instance_types",
    "load",
    "monthly_billed_spend",
    "monthly_cost_per_launch",
    "monthly_spend_by_consumer",
    "overview",
    "pending_prices",
    "platforms",
    "quarantine_reasons",
    "quarantined_records",
    "query_names",
    "referenced_params",
    "run",
    "spot_vs_on_demand",
    "timing",
    "timing_by_platform",
]
