"""Reconciliation: computed cost (list and Spot prices) against billed cost, per consumer and month, and per run."""

import streamlit as st

from dashboard import charts, data, frame, panels
from dashboard.formatting import count, money
from pricing.reconcile import KNOWN_REASONS, UNTAGGED

scope = frame.scope()
st.title("Reconciliation")
frame.require_launches(scope)

lines, totals, threshold = data.reconciliation(scope.filters)
frame.require_rows(len(lines))
currency = scope.currency

st.caption(
    scope.money_caption(
        "computed = what the pricing engine makes of each launch's resources at list and Spot prices; billed = the "
        "month's bill (CUR, else FOCUS, else Cost Explorer): unblended cost under the consumer's tag on EC2, EBS, FSx "
        "and EKS. Only the period and consumer filters reach the bill"
    )
)

c1, c2, c3, c4, c5 = st.columns(5)
c1.metric("Computed cost", money(totals.computed, currency))
c2.metric("Billed cost", money(totals.billed, currency), help="Tagged to a consumer, on the services launches consume.")
c3.metric(
    "Variance",
    money(totals.variance, currency),
    None if totals.variance_percent is None else f"{totals.variance_percent:+.1f}%",
    delta_color="off",
    help="Billed minus computed.",
)
c4.metric(
    "Lines flagged",
    count(totals.flagged),
    help=f"|variance| above {threshold:g}% ([pricing] variance_threshold_percent).",
)
c5.metric("Untagged spend", money(totals.untagged, currency), help="Billed without a consumer tag (all services).")
st.plotly_chart(charts.computed_vs_billed_bars(lines[lines["consumer"] != UNTAGGED], currency), key="reconciliation_chart")

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

panels.run_reconciliation(scope)

st.subheader("Why billed and computed cost differ")
st.markdown("\n".join(f"- **{title}**: {why}" for title, why in KNOWN_REASONS))
