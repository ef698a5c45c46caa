"""Reconciliation: computed cost (list and Spot prices) against billed cost (Cost Explorer), per consumer and month."""

from decimal import Decimal

import streamlit as st

from dashboard import charts, data, frame
from dashboard.formatting import count, money
from ingest.config import load_settings
from pricing.reconcile import KNOWN_REASONS, UNTAGGED, flag

scope = frame.scope()
st.title("Reconciliation")
frame.require_launches(scope)

lines = data.fetch("reconciliation", scope.filters)
frame.require_rows(len(lines))
currency = scope.currency
threshold = load_settings().pricing.variance_threshold_percent
lines = flag(lines, threshold)

st.caption(
    scope.money_caption(
        "computed = what the pricing engine makes of each launch's resources at list and Spot prices; billed = Cost "
        "Explorer unblended cost under the consumer's tag on EC2, EBS, FSx and EKS. Only the period and consumer "
        "filters reach the bill"
    )
)

tagged = lines[lines["consumer"] != UNTAGGED]
computed = sum((v for v in tagged["computed_cost"] if v is not None and v == v), Decimal(0))
billed = sum((v for v in tagged["billed_cost"] if v is not None and v == v), Decimal(0))
untagged = sum((v for v in lines.loc[lines["consumer"] == UNTAGGED, "billed_cost"] if v is not None and v == v), Decimal(0))
variance = billed - computed

c1, c2, c3, c4, c5 = st.columns(5)
c1.metric("Computed cost", money(computed, currency))
c2.metric("Billed cost", money(billed, currency), help="Tagged to a consumer, on the services launches consume.")
c3.metric(
    "Variance",
    money(variance, currency),
    f"{variance / computed * 100:+.1f}%" if computed else None,
    delta_color="off",
    help="Billed minus computed.",
)
c4.metric(
    "Lines flagged",
    count(int(lines["flagged"].sum())),
    help=f"|variance| above {threshold:g}% ([pricing] variance_threshold_percent).",
)
c5.metric("Untagged spend", money(untagged, currency), help="Billed without a consumer tag (all services).")
st.plotly_chart(charts.computed_vs_billed_bars(tagged, currency), key="reconciliation_chart")

shown = lines[
    [
        "month",
        "consumer",
        "launches",
        "priced_launches",
        "computed_cost",
        "billed_cost",
        "variance",
        "variance_percent",
        "flagged",
        "recorded_cost",
        "other_services_cost",
        "discounts",
        "estimated",
    ]
].assign(variance_percent=lambda f: f["variance_percent"] / 100)
frame.table(
    shown,
    currency=currency,
    money=("computed_cost", "billed_cost", "variance", "recorded_cost", "other_services_cost", "discounts"),
    percent=("variance_percent",),
    months=("month",),
    labels={"recorded_cost": "Recorded by the manager", "other_services_cost": "Other tagged services"},
    key="reconciliation_table",
)

st.subheader("Why billed and computed cost differ")
st.markdown("\n".join(f"- **{title}**: {why}" for title, why in KNOWN_REASONS))
