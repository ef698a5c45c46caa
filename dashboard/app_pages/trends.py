"""Trends: spend and launches by month and consumer; what a launch costs over time; failure waste."""

import streamlit as st

from dashboard import charts, data, frame

scope = frame.scope()
st.title("Trends")
frame.require_launches(scope)

by_consumer = data.fetch("monthly_spend_by_consumer", scope.filters)
frame.require_rows(len(by_consumer))
monthly = data.fetch("monthly_cost_per_launch", scope.filters)
currency = scope.currency
st.caption(scope.money_caption("months are the month a launch started"))

months, spend, launches, failed = st.columns(4)
frame.metric(months, "Months", len(monthly), kind="count")
frame.metric(spend, "Spend", sum(monthly["spend"]), currency=currency)
frame.metric(launches, "Launches", monthly["launches"].sum(), kind="count")
frame.metric(failed, "Spend on failed launches", sum(monthly["failed_spend"]), currency=currency)

left, right = st.columns(2)
left.plotly_chart(
    charts.stacked_monthly_bars(
        by_consumer, "spend", title="Spend by month and consumer", yaxis_title=currency, colors=scope.consumer_colors
    ),
    key="trend_spend",
)
right.plotly_chart(
    charts.stacked_monthly_bars(
        by_consumer, "launches", title="Launches by month and consumer", yaxis_title="launches", colors=scope.consumer_colors
    ),
    key="trend_launches",
)
left, right = st.columns(2)
left.plotly_chart(charts.cost_per_launch_lines(monthly, currency), key="trend_cost_per_launch")
right.plotly_chart(charts.failed_spend_bars(monthly, currency), key="trend_failed")

st.subheader("By month")
frame.table(
    monthly,
    currency=currency,
    money=("spend", "median_cost_per_launch", "mean_cost_per_launch", "failed_spend"),
    key="trend_table",
)
