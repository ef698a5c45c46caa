"""Data access for pages: one warehouse connection per warehouse version, query results cached.

Both caches are keyed on ``warehouse_version(data_dir)``, a cheap stat of the manifest that changes
on every ingest commit: the first page run after an ingest opens a fresh connection and misses the
result cache, so new data shows up without a restart. Old entries age out (max_entries / ttl).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

import queries
from ingest.config import load_settings
from ingest.errors import LedgerError
from ingest.warehouse import connect, warehouse_version
from queries import FilterOptions, Filters

# Each page question, by name; those taking Filters are called as fn(con, filters, **kwargs).
QUERIES_WITH_FILTERS = {
    "overview": queries.overview,
    "chargeback": queries.chargeback,
    "timing": queries.timing,
    "timing_by_platform": queries.timing_by_platform,
    "instance_types": queries.instance_types,
    "spot_vs_on_demand": queries.spot_vs_on_demand,
    "platforms": queries.platforms,
    "monthly_spend_by_consumer": queries.monthly_spend_by_consumer,
    "monthly_cost_per_launch": queries.monthly_cost_per_launch,
    "pending_prices": queries.pending_prices,
}
QUERIES_WITHOUT_FILTERS = {
    "filter_options": queries.filter_options,
    "ingest_runs": queries.ingest_runs,
    "quarantine_reasons": queries.quarantine_reasons,
    "quarantined_records": queries.quarantined_records,
}


def data_dir() -> Path:
    """The data dir of the settings ($LAUNCH_LEDGER_DATA_DIR beats the config file)."""
    return load_settings().data_dir.resolve()


@st.cache_resource(max_entries=2, show_spinner=False)
def _connection(data_dir: str, version: str) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with one view per table over the files of that warehouse version."""
    return connect(data_dir)


@st.cache_data(ttl="1h", max_entries=512, show_spinner=False)
def _fetch(name: str, data_dir: str, version: str, filters: Filters | None, kwargs: tuple) -> pd.DataFrame | FilterOptions:
    # A cursor per call: DuckDB connections are not safe to share between threads (sessions).
    cursor = _connection(data_dir, version).cursor()
    try:
        if name in QUERIES_WITH_FILTERS:
            return QUERIES_WITH_FILTERS[name](cursor, filters, **dict(kwargs))
        return QUERIES_WITHOUT_FILTERS[name](cursor, **dict(kwargs))
    finally:
        cursor.close()


def fetch(name: str, filters: Filters | None = None, **kwargs) -> pd.DataFrame:
    """The result of a named query for the current warehouse version; errors stop the page with a message."""
    try:
        directory = str(data_dir())
        return _fetch(name, directory, warehouse_version(directory), filters, tuple(sorted(kwargs.items())))
    except LedgerError as exc:
        st.error(str(exc))
        st.stop()


def filter_options() -> FilterOptions:
    return fetch("filter_options")
