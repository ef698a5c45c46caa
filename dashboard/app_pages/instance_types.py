"""Instance types: cost and duration per launch by instance type and purchase option; Spot vs On-Demand."""

import streamlit as st

from dashboard import charts, data, frame
from dashboard.formatting import count, hours

scope = frame.scope()
st.title("Instance types")
frame.require_launches(scope)

by_type = data.fetch("instance_types", scope.filters)
frame.require_rows(len(by_type))
spot_vs_od = data.fetch("spot_vs_on_demand", scope.filters)
currency = scope.currency

st.caption(
    scope.money_caption(
        "each launch is filed under the instance type with the most instance-hours; launches without instances are left out"
    )
)

types, launches, instance_hours = st.columns(3)
types.metric("Instance types", count(by_type["instance_type"].nunique()))
launches.metric("Launches on EC2 instances", count(by_type["launches"].sum()))
instance_hours.metric("Instance-hours", hours(float(by_type["instance_hours"].sum())))

st.plotly_chart(
    charts.median_bars(
        by_type,
        x="instance_type",
        median="median_cost_per_launch",
        low="p25_cost_per_launch",
        high="p75_cost_per_launch",
        group="purchase_option",
        title="Cost per launch: median, bars p25–p75",
        yaxis_title=f"{currency} per launch",
        colors=charts.PURCHASE_COLORS,
    ),
    key="instance_cost_chart",
)
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

# --- What if: the same launches under another purchase option or instance family (pricing engine) ---
from dashboard.formatting import money  # noqa: E402
from ingest.config import load_settings  # noqa: E402
from ingest.prices import rules_from  # noqa: E402
from pricing import whatif  # noqa: E402

WHATIF_LIMIT = 2000
st.subheader("What if")
st.caption(
    f"The latest {WHATIF_LIMIT:,} ended AWS launches in this selection, priced from what they consumed by the pricing engine "
    "as they ran and again under the scenario (list prices, Spot history where held, Reserved at the configured rate)."
)
scenario = st.radio("Reprice the same launches", whatif.SCENARIOS, key="whatif_scenario", horizontal=True)
consumed = data.fetch("whatif_resources", scope.filters, limit=WHATIF_LIMIT)
if consumed.empty:
    st.info("No ended launch on EC2 instances in this selection to reprice.")
else:
    price_book = data.fetch("price_points")
    if scenario == whatif.SCENARIOS[0]:
        change_to = {"purchase_option": "On-Demand", "from_option": "Spot"}
    elif scenario == whatif.SCENARIOS[1]:
        ran_on, price_on = st.columns(2)
        source_family = ran_on.selectbox("Family the launches ran on", whatif.families(consumed), key="whatif_from_family")
        target_family = price_on.selectbox(
            "Family to price them on", [f for f in whatif.price_families(price_book) if f != source_family], key="whatif_to_family"
        )
        change_to = {"family": target_family, "from_family": source_family}
    else:
        option = st.selectbox("Purchase option for every instance", whatif.PURCHASE_OPTIONS, key="whatif_option")
        change_to = {"purchase_option": option}
    result = whatif.reprice(consumed, price_book, rules_from(load_settings().pricing), **change_to)
    w1, w2, w3, w4 = st.columns(4)
    w1.metric("What-if launches", count(result.launches))
    w2.metric("Computed as they ran", money(result.current, currency))
    w3.metric("What-if cost", money(result.what_if, currency))
    w4.metric(
        "Difference",
        money(result.difference, currency),
        None if result.percent is None else f"{result.percent:+.2f}%",
        delta_color="inverse",
    )
    if result.unpriced:
        st.caption(f"{count(result.unpriced)} launch(es) left out: a price is missing for them as they ran or under the scenario.")
