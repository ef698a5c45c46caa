"""Launch Ledger named queries: one ``.sql`` file per question in ``queries/sql``, one function each.

Every function is registered in ``queries.registry.REGISTRY`` where it is written (``@named_query``);
the dashboard, the bench and the tests read that registry. Nothing here imports Streamlit or the
write side. Values are bound as DuckDB named parameters, never formatted in.
"""

from core.access import EVERYONE, Reader
from core.errors import QueryError
from queries import billing, budgets, pricing
from queries.engine import load, query_names, referenced_params, run
from queries.filters import FilterOptions, Filters
from queries.named import (
    audit_events,
    backtest_results,
    cost_forecasts,
    estimate_history,
    filter_options,
    instance_types,
    job_runs,
    launch_cost_by_consumer_month,
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
from queries.registry import REGISTRY, NamedQuery

__all__ = [
    "EVERYONE",
    "REGISTRY",
    "FilterOptions",
    "Filters",
    "NamedQuery",
    "QueryError",
    "Reader",
    "audit_events",
    "backtest_results",
    "billing",
    "budgets",
    "cost_forecasts",
    "estimate_history",
    "filter_options",
    "instance_types",
    "job_runs",
    "launch_cost_by_consumer_month",
    "load",
    "monthly_billed_spend",
    "monthly_cost_per_launch",
    "monthly_spend_by_consumer",
    "overview",
    "pending_prices",
    "platforms",
    "pricing",
    "quarantine_reasons",
    "quarantined_records",
    "query_names",
    "referenced_params",
    "run",
    "spot_vs_on_demand",
    "timing",
    "timing_by_platform",
]
