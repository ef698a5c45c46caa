"""Platforms: one workflow type on Batch vs EKS vs ParallelCluster vs EC2 vs on-premises, side by side."""

import streamlit as st

from dashboard import charts, comparisons, data, frame
from dashboard.formatting import money, percent

scope = frame.scope()
st.title("Platforms")
frame.require_launches(scope)

by_platform = data.fetch("platforms", scope.filters)
frame.require_rows(len(by_platform))
currency = scope.currency

workflow_types = sorted(by_platform["workflow_type"].dropna().unique())
workflow_type = st.selectbox("Workflow type", workflow_types, key="workflow", bind="query-params")
chosen = by_platform[by_platform["workflow_type"] == workflow_type]
st.caption(scope.money_caption(f"{workflow_type} · cost over priced launches, hours over ended launches"))

platforms, launches, cheapest, fastest = st.columns(4)
frame.metric(platforms, "Platforms", len(chosen), kind="count")
frame.metric(launches, "Launches", chosen["launches"].sum(), kind="count")
priced = chosen.dropna(subset=["median_cost_per_launch"])
if not priced.empty:
    best = priced.loc[priced["median_cost_per_launch"].idxmin()]
    frame.metric(
        cheapest,
        "Cheapest median cost per launch",
        str(best["compute_platform"]),
        money(best["median_cost_per_launch"], currency),
        delta_color="off",
        delta_arrow="off",
    )
timed = chosen.dropna(subset=["median_hours"])
if not timed.empty:
    quick = timed.loc[timed["median_hours"].idxmin()]
    frame.metric(
        fastest,
        "Fastest median duration",
        str(quick["compute_platform"]),
        f"{quick['median_hours']:.2f} h",
        delta_color="off",
        delta_arrow="off",
    )

left, right = st.columns(2)
left.plotly_chart(
    charts.cost_per_launch_bars(chosen, "compute_platform", "Cost per launch: median, bars p25–p75", currency),
    key="platform_cost_chart",
)
right.plotly_chart(
    charts.median_bars(
        chosen,
        x="compute_platform",
        median="median_hours",
        low="p25_hours",
        high="p75_hours",
        title="Hours per launch: median, bars p25–p75",
        yaxis_title="hours per launch",
    ),
    key="platform_hours_chart",
)
frame.table(
    chosen.drop(columns=["workflow_type"]),
    currency=currency,
    money=(
        "p25_cost_per_launch",
        "median_cost_per_launch",
        "p75_cost_per_launch",
        "median_cost_per_gb",
        "median_cost_per_sample",
    ),
    hours=("p25_hours", "median_hours", "p75_hours", "median_hours_per_gb", "median_hours_per_sample"),
    percent=("failure_rate",),
    key="platform_table",
)
st.caption(
    f"Failure rate = FAILED / ended launches. Overall failure rate for {workflow_type}: "
    f"{percent(chosen['failed_launches'].sum() / chosen['ended_launches'].sum() if chosen['ended_launches'].sum() else None)}. "
    "Per GB and per sample: each launch's cost (or hours) over its input size (or sample count), the median of those."
)
comparisons.like_for_like_section(scope, workflow_type)
