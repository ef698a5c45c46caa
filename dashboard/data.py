"""Data access for pages: one warehouse connection per warehouse version, query results cached.

Both caches are keyed on ``warehouse_version(data_dir)``, a cheap stat of the manifest that changes
on every ingest commit: the first page run after an ingest opens a fresh connection and misses the
result cache, so new data shows up without a restart. Old entries age out (max_entries / ttl).

With ``engine = "athena"`` under ``[athena]`` the "connection" is a ``queries.athena.AthenaEngine``
(no DuckDB, no local warehouse): the same query functions run on Athena. The ingest may run on
another machine, so the version is a time window: results are at most ATHENA_REFRESH_SECONDS old.

**Scoping.** Every call here is for the person of this run (``dashboard.auth.current()``): ``for_reader``
puts their ``Reader`` into the filters and into the ``reader`` option of every named query (and computed
result) that takes one, whatever the page passed, before anything is looked up in a cache. So the
reader is part of every cache key, and a page can neither forget nor widen it.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

import chargeback
import queries
from core.access import Reader
from core.errors import LedgerError
from core.settings import AthenaSettings, PricingSettings, RightSizingSettings, load_settings
from dashboard import auth
from estimates.budgets import jobs as budget_jobs
from pricing import reconcile, whatif
from pricing.engine import Rules
from pricing.rightsizing import Policy, RightSizing, right_size
from pricing.whatif import WhatIf
from queries import FilterOptions, Filters
from queries.engine import QueryEngine
from warehouse import audit
from warehouse.store import connect, warehouse_version

# Results computed from named queries that pages also fetch by name (cached the same way).
COMPUTED = {
    "chargeback_statement": chargeback.chargeback_statement,  # (month, rules_text, rules_path)
    "budget_report": budget_jobs.budget_report,  # (budgets_text, budgets_path, as_of, at_risk_chance, alert_chance)
}


def _call(handle, name: str, filters: Filters | None, kwargs: dict):
    """A named query of ``queries.REGISTRY`` (or a computed result of ``COMPUTED``) on ``handle``."""
    if name in COMPUTED:
        return COMPUTED[name](handle, **kwargs)
    if name not in queries.REGISTRY:
        raise LedgerError(f"there is no named query {name!r}; the named queries are: {', '.join(queries.REGISTRY)}")
    return queries.REGISTRY[name].call(handle, filters, **kwargs)


def takes_reader(name: str) -> bool:
    """Whether the named query (or computed result) takes the ``reader`` option (the filtered ones carry it in Filters)."""
    return name in COMPUTED or (name in queries.REGISTRY and "reader" in queries.REGISTRY[name].options)


def for_reader(name: str, filters: Filters | None, kwargs: dict, reader: Reader) -> tuple[Filters | None, dict]:
    """``filters`` and ``kwargs`` bound to ``reader``: what every call of this module runs and caches with."""
    if filters is not None:
        filters = replace(filters, reader=reader)
    if takes_reader(name):
        kwargs = {**kwargs, "reader": reader}
    return filters, kwargs


def reader() -> Reader:
    """The reader of this run: the signed-in user's (every consumer, with sign-in off)."""
    return auth.current().reader


def scoped(filters: Filters) -> Filters:
    """The filters bound to this run's reader (for the caches below, keyed on the filters)."""
    return replace(filters, reader=reader())


ATHENA_REFRESH_SECONDS = 600


def data_dir() -> Path:
    """The data dir of the settings ($LAUNCH_LEDGER_DATA_DIR beats the config file)."""
    return load_settings().data_dir.resolve()


@st.cache_resource(max_entries=2, show_spinner=False)
def _connection(data_dir: str, version: str, athena: AthenaSettings | None = None) -> duckdb.DuckDBPyConnection | QueryEngine:
    """An in-memory DuckDB with one view per table over the files of that warehouse version (or Athena)."""
    if athena is not None:
        from queries.athena import AthenaEngine  # awswrangler is imported only by deployments that use it

        return AthenaEngine.from_settings(athena)
    return connect(data_dir)


@st.cache_data(ttl="1h", max_entries=512, show_spinner=False)
def _fetch(
    name: str, data_dir: str, version: str, filters: Filters | None, kwargs: tuple, athena: AthenaSettings | None = None
) -> pd.DataFrame | FilterOptions:
    con = _connection(data_dir, version, athena)
    # A cursor per call: DuckDB connections are not safe to share between threads (sessions).
    handle = con if isinstance(con, QueryEngine) else con.cursor()
    try:
        return _call(handle, name, filters, dict(kwargs))
    finally:
        if handle is not con:
            handle.close()


def current_version() -> str:
    """The token that changes when the data does: the warehouse version, or a 10-minute window on Athena."""
    settings = load_settings()
    if settings.athena.engine == "athena":
        return f"athena-{int(time.time()) // ATHENA_REFRESH_SECONDS}"
    return warehouse_version(str(settings.data_dir.resolve()))


def _fetch_for_reader(name: str, filters: Filters | None, kwargs: dict) -> pd.DataFrame:
    """The cached result of a named query for this run's reader; a LedgerError when it cannot be had."""
    filters, kwargs = for_reader(name, filters, kwargs, reader())
    settings = load_settings()
    directory = str(settings.data_dir.resolve())
    athena = settings.athena if settings.athena.engine == "athena" else None
    return _fetch(name, directory, current_version(), filters, tuple(sorted(kwargs.items())), athena)


def fetch(name: str, filters: Filters | None = None, **kwargs) -> pd.DataFrame:
    """The result of a named query for the current warehouse version; errors stop the page with a message."""
    try:
        return _fetch_for_reader(name, filters, kwargs)
    except LedgerError as exc:
        st.error(str(exc))
        st.stop()


def filter_options() -> FilterOptions:
    return fetch("filter_options")


def fetch_uncached(name: str, filters: Filters | None = None, **kwargs) -> pd.DataFrame:
    """A named query's result for the current warehouse version, not kept in the result cache.

    For a caller that caches what it builds from the rows (``_estimator``): the result cache would
    pickle a copy of every row (the estimator's history: 279k rows with Decimal money at 1M launches).
    """
    try:
        filters, kwargs = for_reader(name, filters, kwargs, reader())
        settings = load_settings()
        athena = settings.athena if settings.athena.engine == "athena" else None
        con = _connection(str(settings.data_dir.resolve()), current_version(), athena)
        handle = con if isinstance(con, QueryEngine) else con.cursor()
        try:
            return _call(handle, name, filters, kwargs)
        finally:
            if handle is not con:
                handle.close()
    except LedgerError as exc:
        st.error(str(exc))
        st.stop()


@st.cache_resource(max_entries=4, show_spinner=False)
def _estimator(version: str, filters: Filters):
    from estimates.estimator import Estimator, EstimatorSettings

    history = fetch_uncached("estimate_history", filters, recent_per_group=EstimatorSettings().history_per_group)
    return history, Estimator(history)


def estimator(filters: Filters):
    """(history, Estimator) for the selection (the reader's launches only), fitted once per warehouse version."""
    return _estimator(current_version(), scoped(filters))


@st.cache_data(ttl="1h", max_entries=64, show_spinner=False)
def _whatif(version: str, filters: Filters, limit: int, change: tuple, pricing: PricingSettings) -> WhatIf:
    consumed = fetch("whatif_resources", filters, limit=limit)
    return whatif.reprice(consumed, fetch("price_points"), Rules.from_settings(pricing), **dict(change))


def what_if(filters: Filters, limit: int, **change) -> WhatIf:
    """The latest ``limit`` ended launches in scope repriced under ``change`` (``pricing.whatif.reprice``), cached."""
    return _whatif(current_version(), scoped(filters), limit, tuple(sorted(change.items())), load_settings().pricing)


@st.cache_data(ttl="1h", max_entries=32, show_spinner=False)
def _right_sizing(
    version: str, filters: Filters, workflow_type: str, launch_id: str, pricing: PricingSettings, policy: RightSizingSettings
) -> RightSizing:
    history = fetch("right_sizing_tasks", filters, workflow_type=workflow_type)
    tasks = history[history["launch_id"] == launch_id] if launch_id else history
    return right_size(tasks, fetch("price_points"), Rules.from_settings(pricing), Policy.of(policy), history=history)


def right_sizing(filters: Filters, workflow_type: str, launch_id: str = "") -> RightSizing:
    """The processes of ``workflow_type`` (or of its run ``launch_id``) right-sized (``pricing.rightsizing``), cached.

    Per-month savings are at the volume of the workflow type's runs in the selection, also for one run.
    """
    settings = load_settings()
    return _right_sizing(current_version(), scoped(filters), workflow_type, launch_id, settings.pricing, settings.right_sizing)


@st.cache_data(ttl="1h", max_entries=64, show_spinner=False)
def _reconciliation(
    version: str, filters: Filters, threshold: float, sources: tuple[str, ...]
) -> tuple[pd.DataFrame, reconcile.Totals]:
    lines = reconcile.flag(fetch("reconciliation", filters, bill_sources=sources), threshold)
    return lines, reconcile.totals(lines)


def bill_sources() -> tuple[str, ...]:
    """The bill's sources in order of preference: the allocation rules' ``[bill] sources``, as chargeback reads them."""
    try:
        return chargeback.rules_for(load_settings()).sources
    except LedgerError as exc:
        st.error(str(exc))
        st.stop()


def reconciliation(filters: Filters) -> tuple[pd.DataFrame, reconcile.Totals, float]:
    """Computed vs billed lines flagged at ``[pricing] variance_threshold_percent``, their totals, and that threshold.

    Each month's bill is read from the first of the rules' ``[bill] sources`` that has rows, as its statement is.
    """
    threshold = load_settings().pricing.variance_threshold_percent
    lines, totals = _reconciliation(current_version(), scoped(filters), threshold, bill_sources())
    return lines, totals, threshold


@st.cache_resource(ttl="1h", max_entries=4, show_spinner=False)
def _comparison_rows(version: str, filters: Filters, workflow_type: str) -> pd.DataFrame:
    """One workflow type's per-launch rows, read once for the page's several figures (launches per side, the
    table against each baseline, band and measure); held in memory, never pickled, and only read after."""
    return fetch_uncached("comparison_launches", filters, workflow_type=workflow_type)


@st.cache_data(ttl="1h", max_entries=64, show_spinner=False)
def _comparisons(
    version: str, filters: Filters, workflow_type: str, by: str, baseline: str | None, measure: str, band: int | None, settings
) -> tuple[pd.Series, pd.DataFrame]:
    from estimates import comparisons as like_for_like

    rows = _comparison_rows(version, filters, workflow_type)
    columns = like_for_like.SIDES[by]
    counts = like_for_like.sides(rows, columns)
    if counts.empty or baseline is None:
        return counts, pd.DataFrame()
    options = {"edges": settings.size_bands_gb, "min_launches": settings.min_launches}
    table = like_for_like.against(
        rows, columns, baseline, measure, band, resamples=settings.resamples, seed=settings.seed, **options
    )
    return counts, table


def comparisons(
    filters: Filters, workflow_type: str, by: str, baseline: str | None, measure: str = "cost", band: int | None = None
) -> tuple[pd.Series, pd.DataFrame]:
    """Launches per side, and every side against ``baseline`` at matched input size (``estimates.comparisons``), cached.

    ``by`` is a key of ``estimates.comparisons.SIDES``; with ``baseline`` None only the launches per side (no table).
    """
    settings = load_settings().comparisons
    return _comparisons(current_version(), scoped(filters), workflow_type, by, baseline, measure, band, settings)


AUDIT_SHOWN = ("event_at", "actor", "role", "action", "subject", "consumers", "detail", "provider", "event_id")


def audit_trail(limit: int = 200) -> pd.DataFrame:
    """The latest audit events, newest first: the table's and those recorded but not merged yet (finance, admin).

    The table may not be readable yet where the dashboard has no warehouse of its own (Athena, before the
    first merge has been published): the waiting events are shown all the same.
    """
    try:
        merged = _fetch_for_reader("audit_events", None, {"limit": limit})
    except LedgerError:
        merged = pd.DataFrame(columns=list(AUDIT_SHOWN))
    if not reader().every_consumer:
        return merged  # empty: the query returns no event to a reader of some consumers only
    waiting = pd.DataFrame(audit.pending_events(data_dir()), columns=list(audit.COLUMNS))
    if waiting.empty:
        return merged
    waiting = waiting.assign(event_at=pd.to_datetime(waiting["event_at"]))[list(merged.columns)]
    both = pd.concat([merged, waiting], ignore_index=True) if len(merged) else waiting
    both = both.drop_duplicates("event_id").sort_values(["event_at", "event_id"], ascending=False)
    return both.head(limit).reset_index(drop=True)
