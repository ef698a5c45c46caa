"""Reconciliation: computed cost (list and Spot prices) against billed cost, per consumer and month, and per run."""

import streamlit as st

from dashboard import charts, data, empty_states, frame, panels
from pricing.reconcile import KNOWN_REASONS, UNTAGGED

scope = frame.scope()
st.title("Reconciliation")
frame.require_launches(scope)

lines, totals, threshold = data.reconciliation(scope.filters)
frame.require_rows(len(lines), empty_states.NOT_ON_AWS)
currency = scope.currency
if data.fetch("statement_months").empty:
    st.info(empty_states.NO_BILL_TO_RECONCILE)

st.caption(
    scope.money_caption(
        "computed = what the pricing engine makes of each launch's resources at list and Spot prices; billed = the "
        f"month's bill (the first of {', '.join(data.bill_sources())} with rows, the rules' [bill] sources, as "
        "chargeback reads it): unblended cost under the consumer's tag on EC2, EBS, FSx and EKS. Only the period and "
        "consumer filters reach the bill"
    )
)

c1, c2, c3, c4, c5 = st.columns(5)
frame.metric(c1, "Computed cost", totals.computed, currency=currency)
frame.metric(c2, "Billed cost", totals.billed, currency=currency, help="Tagged to a consumer, on the services launches consume.")
frame.metric(
    c3,
    "Variance",
    totals.variance,
    None if totals.variance_percent is None else f"{totals.variance_percent:+.1f}%",
    currency=currency,
    delta_color="off",
    help="Billed minus computed.",
)
frame.metric(
    c4,
    "Lines flagged",
    totals.flagged,
    kind="count",
    help=f"|variance| above {threshold:g}% ([pricing] variance_threshold_percent).",
)
frame.metric(c5, "Untagged spend", totals.untagged, currency=currency, help="Billed without a consumer tag (all services).")
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
