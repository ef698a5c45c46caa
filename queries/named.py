"""One function per named question: a connection and the filters in, a DataFrame out.

Money columns hold ``decimal.Decimal`` (exact); hours and rates are floats. Each function runs the
``.sql`` file of the same name in ``queries/sql`` and binds only the parameters it references.

Whose eyes the rows are for travels as a ``core.access.Reader``: inside ``Filters`` for the filtered
questions, as the ``reader`` option for the others. It is bound like every other value; the default
(every consumer, raw records) is the command line's, and the dashboard always passes the signed-in user's.
"""

from __future__ import annotations

from dataclasses import replace

import duckdb
import pandas as pd

from core.access import EVERYONE, Reader
from core.vocabulary import status_rank
from queries.engine import QueryEngine, run
from queries.filters import FilterOptions, Filters
from queries.registry import named_query

# A DuckDB connection (embedded warehouse) or a QueryEngine (queries.athena.AthenaEngine).
Connection = duckdb.DuckDBPyConnection | QueryEngine


@named_query("filter_options", "launch_period", scope="none")
def filter_options(con: Connection, reader: Reader = EVERYONE) -> FilterOptions:
    """The values each sidebar filter offers and the days launches span, over the launches ``reader`` may see."""
    values = run(con, "filter_options", reader.params())
    period = run(con, "launch_period", reader.params()).iloc[0]

    def of(dimension: str) -> tuple[str, ...]:
        return tuple(values.loc[values["dimension"] == dimension, "value"])

    statuses = sorted(of("status"), key=status_rank)
    launches = int(period["launches"])
    return FilterOptions(
        consumers=of("consumer"),
        workflow_types=of("workflow_type"),
        platforms=of("compute_platform"),
        statuses=tuple(statuses),
        currencies=of("currency"),
        first_day=period["first_day"] if launches else None,
        last_day=period["last_day"] if launches else None,
        launches=launches,
    )


@named_query(scope="filters")
def overview(con: Connection, filters: Filters) -> pd.DataFrame:
    """Headline figures for the period and the previous period of equal length.

    Two rows indexed by ``period`` ("current", "previous"), each with its ``start`` and ``end``.
    """
    rows = []
    for label, scope in (("current", filters), ("previous", filters.previous_period())):
        frame = run(con, "overview", scope.params())
        frame.insert(0, "end", scope.end)
        frame.insert(0, "start", scope.start)
        frame.insert(0, "period", label)
        rows.append(frame)
    return pd.concat(rows, ignore_index=True).set_index("period")


@named_query(scope="filters")
def launch_cost_by_consumer_month(con: Connection, filters: Filters) -> pd.DataFrame:
    """What the launches cost per consumer x launch month: launch counts and exact cost by part (not the bill)."""
    return run(con, "launch_cost_by_consumer_month", filters.params())


@named_query(scope="filters")
def timing(con: Connection, filters: Filters) -> pd.DataFrame:
    """Hours per compute platform x workflow type x phase: count, sum, mean and p10..p90."""
    return run(con, "timing", {**filters.params(), "pool_workflow_types": False})


@named_query("timing", scope="filters")
def timing_by_platform(con: Connection, filters: Filters) -> pd.DataFrame:
    """Hours per compute platform x phase, quantiles pooled over the workflow types in scope (the same query)."""
    pooled = run(con, "timing", {**filters.params(), "pool_workflow_types": True})
    return pooled.drop(columns="workflow_type")


@named_query(scope="filters")
def instance_types(con: Connection, filters: Filters) -> pd.DataFrame:
    """Cost and duration per launch by primary instance type x purchase option."""
    return run(con, "instance_types", filters.params())


@named_query(scope="filters")
def spot_vs_on_demand(con: Connection, filters: Filters) -> pd.DataFrame:
    """Instance types launched both as Spot and as On-Demand, the two side by side."""
    return run(con, "spot_vs_on_demand", filters.params())


@named_query(scope="filters")
def platforms(con: Connection, filters: Filters) -> pd.DataFrame:
    """Per workflow type x compute platform: cost and hours per launch (quartiles), failure rate."""
    return run(con, "platforms", filters.params())


@named_query(scope="filters")
def monthly_spend_by_consumer(con: Connection, filters: Filters) -> pd.DataFrame:
    """Spend and launches per launch month x consumer."""
    return run(con, "monthly_spend_by_consumer", filters.params())


@named_query(scope="filters")
def monthly_cost_per_launch(con: Connection, filters: Filters) -> pd.DataFrame:
    """Per launch month: launches, spend, median and mean cost per launch, failed spend."""
    return run(con, "monthly_cost_per_launch", filters.params())


@named_query(scope="none")
def job_runs(con: Connection, limit: int = 50, reader: Reader = EVERYONE) -> pd.DataFrame:
    """The latest ``limit`` ingest runs, newest first (none unless ``reader`` is an admin)."""
    return run(con, "job_runs", {"limit": limit, **reader.params()})


@named_query(scope="none")
def quarantine_reasons(con: Connection, limit: int = 100, reader: Reader = EVERYONE) -> pd.DataFrame:
    """Why records were rejected, with counts, the most frequent ``limit`` reasons (for readers of every consumer)."""
    return run(con, "quarantine_reasons", {"limit": limit, **reader.params()})


@named_query(scope="none")
def quarantined_records(con: Connection, limit: int = 20, reader: Reader = EVERYONE) -> pd.DataFrame:
    """The ``limit`` most recently quarantined records, with reason and raw record (none unless ``reader`` is an admin)."""
    return run(con, "quarantined_records", {"limit": limit, **reader.params()})


@named_query(scope="filters")
def pending_prices(con: Connection, filters: Filters, limit: int = 20) -> pd.DataFrame:
    """The ``limit`` oldest launches in scope without a price; ``pending_launches`` counts them all."""
    return run(con, "pending_prices", {**filters.params(), "limit": limit})


ALL_LAUNCHES = 2**62


@named_query(scope="filters")
def estimate_history(con: Connection, filters: Filters, recent_per_group: int = ALL_LAUNCHES) -> pd.DataFrame:
    """Ended launches in scope (COMPLETE and FAILED), with what the estimator learns from: sizes, family, cost, hours.

    ``recent_per_group`` keeps only the most recent of each workflow type x platform.
    """
    return run(con, "estimate_history", {**filters.params(), "recent_per_group": recent_per_group})


@named_query(scope="filters")
def monthly_billed_spend(con: Connection, filters: Filters) -> pd.DataFrame:
    """Cost Explorer spend per month and consumer tag value in the period (the first and last day billed on each row)."""
    params = {"start": filters.start, "end": filters.end, "consumers": list(filters.consumers), **filters.reader.params()}
    return run(con, "monthly_billed_spend", params)


@named_query(scope="none")
def backtest_results(con: Connection, reader: Reader = EVERYONE) -> pd.DataFrame:
    """The latest backtest: per month (NULL: all months pooled), method and target, MdAPE and interval coverage.

    Scored over every consumer's launches, so empty for a reader of some consumers only.
    """
    return run(con, "backtest_results", reader.params())


@named_query(scope="filters")
def cost_forecasts(con: Connection, filters: Filters) -> pd.DataFrame:
    """Cost Explorer's latest spend forecast per consumer (the sidebar's consumers) and period."""
    return run(con, "cost_forecasts", {"consumers": list(filters.consumers), **filters.reader.params()})


@named_query(scope="filters")
def anomalies(con: Connection, filters: Filters, limit: int = 10) -> pd.DataFrame:
    """The latest anomalies run's findings in the selection, the furthest off first (``limit`` of them; all counted).

    Launches outside the estimator's 95% interval for their size, consumer-months outside the spend forecast's.
    """
    return run(con, "anomalies", {**filters.params(), "limit": limit})


@named_query(scope="none")
def audit_events(con: Connection, limit: int = 200, reader: Reader = EVERYONE) -> pd.DataFrame:
    """The latest ``limit`` audit events (sign-ins, refusals, closed months, downloads), for readers of every consumer."""
    return run(con, "audit_events", {"limit": limit, **reader.params()})


@named_query(scope="filters")
def task_machine_types(con: Connection, filters: Filters) -> pd.DataFrame:
    """The tasks of the launches in scope per machine type x price model: tasks, task-hours, Seqera's and the engine's cost."""
    return run(con, "task_machine_types", filters.params())


@named_query(scope="filters")
def process_tasks(con: Connection, filters: Filters, launch_id: str = "", workflow_type: str = "") -> pd.DataFrame:
    """Tasks per process of one run (``launch_id``) or one workflow type ("" = any): tasks, hours, cost, failed, retried."""
    params = {**filters.params(), "launch_id": launch_id, "task_workflow_type": workflow_type}
    return run(con, "process_tasks", params)


@named_query(scope="filters")
def right_sizing_tasks(con: Connection, filters: Filters, launch_id: str = "", workflow_type: str = "") -> pd.DataFrame:
    """Every task of one run (``launch_id``) or one workflow type ("" = any): requested, used, how it ended, where it ran."""
    params = {**filters.params(), "launch_id": launch_id, "task_workflow_type": workflow_type}
    return run(con, "right_sizing_tasks", params)


def _one_workflow_type(filters: Filters, workflow_type: str) -> tuple[Filters, bool]:
    """``filters`` narrowed to ``workflow_type`` ("" = as they are), and whether the sidebar's choice allows it."""
    if not workflow_type:
        return filters, True
    allowed = not filters.workflow_types or workflow_type in filters.workflow_types
    return replace(filters, workflow_types=(workflow_type,)), allowed


@named_query(scope="filters")
def comparison_launches(con: Connection, filters: Filters, workflow_type: str = "") -> pd.DataFrame:
    """Completed, priced launches with an input size, one row each (of one workflow type; "" = every one in scope).

    What the like-for-like comparisons (``estimates.comparisons``) resample: side columns, size, cost, hours.
    """
    narrowed, allowed = _one_workflow_type(filters, workflow_type)
    rows = run(con, "comparison_launches", narrowed.params())
    return rows if allowed else rows.iloc[:0]


@named_query(scope="filters")
def instance_types_by_workflow(con: Connection, filters: Filters) -> pd.DataFrame:
    """Cost and duration per launch by workflow type x primary instance type x purchase option, with spend."""
    return run(con, "instance_types_by_workflow", filters.params())
