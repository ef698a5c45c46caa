"""The frame around every page: the shared sidebar filters (bound to the URL) and page helpers.

Each filter widget has an explicit key and ``bind="query-params"``: the key is the URL parameter,
so ``?period=2025-01-01&period=2025-03-31&consumer=oncology-research`` reproduces a view, and
changing a widget updates the URL. Values that equal the default are left out of the URL; values
the warehouse does not hold are ignored. The consumers a person may see are not a filter: they come
from the signed-in user (``dashboard.auth``), never from the URL, and the options offered are theirs only.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, timedelta

import streamlit as st

from dashboard import auth, charts, empty_states, formatting
from dashboard.data import fetch, filter_options
from queries import FilterOptions, Filters

SCOPE_KEY = "launch_ledger_scope"
EMPTY_WAREHOUSE = "The warehouse is empty: run `make run` or `python -m ingest demo` to load launches, then reload this page."
NO_LAUNCHES = "No launches match these filters. Widen the period or clear a filter in the sidebar."
FILTER_KEYS = ("period", "consumer", "workflow_type", "platform", "status")
EARLIEST = date(2000, 1, 1)


@dataclass(frozen=True)
class Scope:
    """What every page works on: the filters chosen and what the warehouse holds."""

    filters: Filters
    options: FilterOptions

    @property
    def currency(self) -> str:
        return "/".join(self.options.currencies) or "USD"

    @property
    def period(self) -> str:
        return formatting.period(self.filters.start, self.filters.end)

    @property
    def consumer_colors(self) -> dict[str, str]:
        return charts.color_map(self.options.consumers)

    def money_caption(self, extra: str = "") -> str:
        """States the currency and the period of every money figure on a page."""
        text = f"{self.currency} · launches started {self.period} (UTC)"
        return f"{text} · {extra}" if extra else text


def _default_period(options: FilterOptions) -> tuple[date, date]:
    """The last full month and the month to date: the first day of the month before the latest launch's, to that day.

    "Changes" then compare with the same number of days immediately before (``Filters.previous_period``).
    """
    last = options.last_day or date.today()
    start = (last.replace(day=1) - timedelta(days=1)).replace(day=1)
    return start, last


def period_caption(options: FilterOptions) -> str:
    """The sidebar's words for the default period and what changes compare with."""
    start, end = _default_period(options)
    days = (end - start).days + 1
    return (
        f"Default period: the last full month and the month to date, {formatting.period(start, end)} "
        f"(to the latest launch day); changes compare with the {days} days before."
    )


def _reset(options: FilterOptions) -> None:
    # Through Session State: the only way to change a URL-bound widget (and the URL) from code.
    st.session_state["period"] = _default_period(options)
    for key in FILTER_KEYS[1:]:
        st.session_state[key] = []


def sidebar() -> Scope:
    """Draw the shared filters in the sidebar; returns (and remembers for the page) the scope."""
    options = filter_options()
    default = _default_period(options)
    bar = st.sidebar
    bar.header("Filters")
    picked = bar.date_input(
        "Period (day the launch started, UTC)",
        value=default,
        min_value=EARLIEST,
        max_value=max(default[1], date.today()) + timedelta(days=366),
        key="period",
        bind="query-params",
        help="Launches that started between these days, both included. Defaults to the last full month and the month "
        "to date (to the day of the latest launch in the warehouse).",
    )
    bar.caption(period_caption(options))
    # While a range is being picked the widget holds one day: treat it as a one-day period.
    start, end = (picked[0], picked[-1]) if picked else default
    consumers = bar.multiselect("Consumer", options.consumers, key="consumer", bind="query-params", placeholder="All consumers")
    workflow_types = bar.multiselect(
        "Workflow type", options.workflow_types, key="workflow_type", bind="query-params", placeholder="All workflow types"
    )
    platforms = bar.multiselect("Platform", options.platforms, key="platform", bind="query-params", placeholder="All platforms")
    statuses = bar.multiselect("Status", options.statuses, key="status", bind="query-params", placeholder="All statuses")
    bar.button("Reset filters", key="reset_filters", on_click=_reset, args=(options,), width="stretch")
    scope = Scope(
        filters=Filters(
            start=start,
            end=end,
            consumers=tuple(consumers),
            workflow_types=tuple(workflow_types),
            platforms=tuple(platforms),
            statuses=tuple(statuses),
            reader=auth.current().reader,
        ),
        options=options,
    )
    st.session_state[SCOPE_KEY] = scope
    return scope


def scope() -> Scope:
    """The scope the sidebar set for this run (drawing the sidebar if a page runs on its own)."""
    found = st.session_state.get(SCOPE_KEY)
    return found if isinstance(found, Scope) else sidebar()


def require_launches(current: Scope) -> None:
    """Stop the page with a helpful message when the warehouse holds no launches at all."""
    if current.options.is_empty:
        st.info(EMPTY_WAREHOUSE)
        st.stop()


def require_rows(rows: int, missing: str | None = None) -> None:
    """Stop the page with what is missing when it has no rows: no launch in the selection (what the warehouse holds
    and what was picked), or, when the selection has launches, the page's own ``missing`` message (``{launches}``
    is their count)."""
    if rows:
        return
    current = scope()
    launches = int(fetch("overview", current.filters).loc["current", "launches"]) if missing else 0
    if launches:
        st.info(empty_states.some_launches(missing, launches))
    else:
        st.info(empty_states.no_launches(NO_LAUNCHES, current.options, current.filters))
    st.stop()


def metric(where, label: str, value, delta: str | None = None, *, kind: str = "money", currency: str = "USD", **kwargs) -> None:
    """``st.metric`` (in ``where``: a column, or ``st``) with a figure that fits: whole, or abbreviated ("$679.9K")
    with the exact figure on hover (``help``). ``kind``: money, hours, count, percent or text."""
    shown, exact = formatting.figure(value, kind, currency)
    if shown != exact:
        kwargs["help"] = f"Exactly {exact}." + (f" {kwargs['help']}" if kwargs.get("help") else "")
    where.metric(label, shown, delta, **kwargs)


def money_format(currency: str) -> str:
    return {"USD": "dollar", "EUR": "euro"}.get(currency, "%.2f")


def table(
    rows,
    *,
    currency: str = "USD",
    money: tuple[str, ...] = (),
    hours: tuple[str, ...] = (),
    percent: tuple[str, ...] = (),
    months: tuple[str, ...] = ("launch_month",),
    labels: dict[str, str] | None = None,
    key: str | None = None,
    links: dict[str, str] | None = None,
) -> None:
    """Show a result table: money rounded to the cent (display only), hours to 2 decimals, labels in words,
    missing values as "—". ``links``: {column of URLs: the text each link shows}."""
    labels = labels or {}
    shown = rows.copy()
    config: dict[str, object] = {}
    for column in shown.columns:
        label = labels.get(column, column.replace("_", " ").capitalize())
        if column in money:
            shown[column] = [formatting.cents(v) for v in shown[column]]
            config[column] = st.column_config.NumberColumn(label, format=money_format(currency))
        elif column in hours:
            config[column] = st.column_config.NumberColumn(label, format="%.2f")
        elif column in percent:
            config[column] = st.column_config.NumberColumn(label, format="percent")
        elif column in months:
            config[column] = st.column_config.DateColumn(label, format="YYYY-MM")
        elif column in (links or {}):
            config[column] = st.column_config.LinkColumn(label, display_text=links[column])
        else:
            config[column] = st.column_config.Column(label)
    # A keyed container (not a keyed dataframe) so tests and CSS can find the table by its key.
    with st.container(key=key) if key else nullcontext():
        st.dataframe(shown, hide_index=True, column_config=config, placeholder=formatting.MISSING)
