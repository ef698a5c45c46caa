"""Overview: the period's headline figures, and what changed since the previous period."""

import streamlit as st

from dashboard import anomalies, charts, data, frame
from dashboard.formatting import change, count, period

scope = frame.scope()
st.title("Overview")
frame.require_launches(scope)

figures = data.fetch("overview", scope.filters)
now, before = figures.loc["current"], figures.loc["previous"]
frame.require_rows(int(now["launches"]))

currency = scope.currency
had_launches_before = int(before["launches"]) > 0
st.caption(scope.money_caption(f"changes vs the previous {scope.filters.days} days ({period(before['start'], before['end'])})"))


def delta(column: str, kind: str) -> str | None:
    return change(now[column], before[column], kind, currency) if had_launches_before else None


spend, launches, per_launch, duration, failed = st.columns(5)
frame.metric(
    spend,
    "Spend",
    now["total_spend"],
    delta("total_spend", "money"),
    currency=currency,
    delta_color="off",
    help="Sum of the prices of launches started in the period; launches pending a price are not included.",
)
frame.metric(
    launches,
    "Launches",
    now["launches"],
    delta("launches", "count"),
    kind="count",
    delta_color="off",
    help="Launches started in the period, whatever their status.",
)
frame.metric(
    per_launch,
    "Cost per launch",
    now["cost_per_launch"],
    delta("cost_per_launch", "money"),
    currency=currency,
    delta_color="inverse",
    help="Spend / priced launches.",
)
frame.metric(
    duration,
    "Median duration",
    now["median_hours"],
    delta("median_hours", "hours"),
    kind="hours",
    delta_color="inverse",
    help="Median hours from PREPARING to COMPLETE or FAILED, over launches that ended.",
)
frame.metric(
    failed,
    "Spend on failed launches",
    now["failed_spend"],
    delta("failed_spend", "money"),
    currency=currency,
    delta_color="inverse",
    help="Price of launches that ended FAILED: money spent without a result.",
)

if not had_launches_before:
    st.caption("No launches started in the previous period, so there is no change to show.")
if int(now["pending_price_launches"]):
    st.warning(
        f"{count(now['pending_price_launches'])} of {count(now['launches'])} launches have no price yet (still running, "
        "or not yet priced by the pricing engine) and are not in the spend. See Data health."
    )
if int(now["computed_price_launches"]):
    st.caption(
        f"{count(now['computed_price_launches'])} launches had no price from the workflow manager: their spend is the "
        "pricing engine's, computed from what they consumed at list and Spot prices."
    )

by_month = data.fetch("monthly_spend_by_consumer", scope.filters)
st.plotly_chart(
    charts.stacked_monthly_bars(
        by_month, "spend", title="Spend by launch month and consumer", yaxis_title=currency, colors=scope.consumer_colors
    ),
    key="overview_spend_chart",
)

by_consumer = by_month.groupby("consumer", as_index=False, dropna=False)[["launches", "priced_launches", "spend"]].sum()
by_consumer["share_of_spend"] = [float(s / now["total_spend"]) if now["total_spend"] else None for s in by_consumer["spend"]]
st.subheader("Spend by consumer")
frame.table(
    by_consumer.sort_values("spend", ascending=False),
    currency=currency,
    money=("spend",),
    percent=("share_of_spend",),
    key="overview_consumers",
)

anomalies.show(scope, key="overview_anomalies")
