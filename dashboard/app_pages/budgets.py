"""Budgets: per consumer or tag and period, spend to date, the forecast to the period's end, the chance of overrunning."""

import streamlit as st

from dashboard import auth, charts, data, frame
from dashboard import budgets as view

scope = frame.scope()
access = auth.current()
st.title("Budgets")
frame.require_launches(scope)
frame.require_rows(int(data.fetch("budget_launch_spend", scope.filters)["launches"].sum()))
path, text, budgets = view.budgets_file()
as_of = min(scope.filters.end, scope.options.last_day)
report = view.report(path, text, as_of)
rows = report.rows
currencies = sorted(set(rows["currency"])) or [scope.currency]
st.caption(
    scope.money_caption(
        f"budgets as of {as_of} (the period's last day): spend from each budget period's first day to then, "
        "consumers' from their launch costs, tags' from the bill; forecasts to the period's end with 80% intervals"
    )
)
running, spent, at_risk, over = st.columns(4)
frame.metric(
    running, "Budgets with a period running", len(rows), kind="count", help=f"{len(report.budgets)} budgets in {path.name}."
)
frame.metric(
    spent,
    f"Spent to date ({'/'.join(currencies)})",
    sum(rows["spent"]) if len(currencies) == 1 else "—",
    currency=currencies[0] if currencies else "USD",
    help="Every running budget's spend to date added up (one currency only; a tag's budget may overlap a consumer's).",
)
frame.metric(
    at_risk,
    "At risk",
    (rows["status"] == "at risk").sum(),
    kind="count",
    help="Chance of overrunning at least the threshold set.",
)
frame.metric(over, "Over budget", (rows["status"] == "over").sum(), kind="count")
if report.hidden:
    st.caption(f"{report.hidden} budget(s) of other consumers or of tags are for finance only.")
if rows.empty:
    st.info(f"No budget has a period running on {as_of}. Finance can add one below, or in {path.name}.")
else:
    st.plotly_chart(charts.budget_bars(rows, currencies[0]), key="budgets_chart")
frame.table(
    rows[list(view.SHOWN)],
    currency=currencies[0],
    money=view.MONEY,
    percent=("chance_of_overrun",),
    months=(),
    labels=view.LABELS,
    key="budgets_table",
)
view.form(access, path, report.budgets, scope.options.consumers, scope.currency)
