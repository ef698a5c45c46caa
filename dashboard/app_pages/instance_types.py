"""Instance types: cost and duration per launch by instance type and purchase option; Spot vs On-Demand."""

import streamlit as st

from dashboard import charts, comparisons, data, empty_states, frame, panels

scope = frame.scope()
st.title("Instance types")
frame.require_launches(scope)

by_type = data.fetch("instance_types", scope.filters)
frame.require_rows(len(by_type), empty_states.NO_INSTANCES)
spot_vs_od = data.fetch("spot_vs_on_demand", scope.filters)
currency = scope.currency

st.caption(
    scope.money_caption(
        "each launch is filed under the instance type with the most instance-hours; launches without instances are left out"
    )
)

types, launches, instance_hours = st.columns(3)
frame.metric(types, "Instance types", by_type["instance_type"].nunique(), kind="count")
frame.metric(launches, "Launches on EC2 instances", by_type["launches"].sum(), kind="count")
frame.metric(instance_hours, "Instance-hours", float(by_type["instance_hours"].sum()), kind="hours")

comparisons.instance_type_chart(scope, by_type)
money_columns = ("p25_cost_per_launch", "median_cost_per_launch", "p75_cost_per_launch", "cost_per_instance_hour")
frame.table(by_type, currency=currency, money=money_columns, hours=("median_hours", "instance_hours"), key="instance_table")

st.subheader("Spot vs On-Demand")
if spot_vs_od.empty:
    st.info("No instance type in this selection was launched both as Spot and as On-Demand.")
else:
    st.plotly_chart(charts.spot_vs_on_demand_bars(spot_vs_od, currency), key="spot_chart")
    frame.table(
        spot_vs_od,
        currency=currency,
        money=(
            "spot_median_cost_per_launch",
            "on_demand_median_cost_per_launch",
            "spot_cost_per_instance_hour",
            "on_demand_cost_per_instance_hour",
        ),
        hours=("spot_median_hours", "on_demand_median_hours"),
        percent=("spot_saving_per_instance_hour",),
        key="spot_table",
    )
    st.caption("Savings compare the price of an instance-hour, which does not depend on how big each launch was.")

panels.tasks(scope)
panels.what_if(scope)
