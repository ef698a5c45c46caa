"""Estimates: a planned launch's cost and duration with an honest range, a quarter's plan, spend forecasts."""

from dataclasses import replace

import streamlit as st

from dashboard import charts, data, empty_states, frame, panels
from dashboard.formatting import percent
from estimates import plan as planning
from estimates import views
from estimates.estimator import LaunchSpec

scope = frame.scope()
st.title("Estimates")
frame.require_launches(scope)
filters = replace(scope.filters, statuses=())  # learns from completed and failed launches, whatever the status filter
history, estimator = data.estimator(filters)
frame.require_rows(len(history), empty_states.NOTHING_ENDED)
currency = scope.currency
st.caption(scope.money_caption("estimates learn from the ended launches in this selection; the status filter does not apply"))
enough, groups = views.groups_with_history(estimator)
learn, groups_with, fails = st.columns(3)
frame.metric(learn, "Completed launches to learn from", len(estimator.completed), kind="count")
frame.metric(
    groups_with,
    "Type × platform groups with enough history",
    f"{enough} of {groups}",
    help=f"30 completed, priced launches each; {views.young_groups(estimator)} more with 5-29 get a pooled estimate "
    "(their level from their own launches, their curve from related ones, a wider interval).",
)
frame.metric(fails, "Failure rate", percent(views.failure_rate(history)), help="FAILED among ended launches in the selection.")

st.subheader("A planned launch")
left, mid, right = st.columns(3)
workflow_type = left.selectbox("Workflow type", sorted(history["workflow_type"].unique()), key="est_workflow_type")
usual = history.loc[history["workflow_type"] == workflow_type, "compute_platform"].mode()
platform = mid.selectbox(
    "Compute platform",
    planning.PLATFORMS,
    key="est_platform",
    index=planning.PLATFORMS.index(usual[0]) if len(usual) and usual[0] in planning.PLATFORMS else 0,
)
typical = float(history.loc[history["workflow_type"] == workflow_type, "input_size_gb"].median())
size = right.number_input("Input size (GB)", min_value=0.1, value=round(typical, 1), key="est_input_gb")
samples = left.number_input("Samples (0 = unknown)", min_value=0, value=0, step=1, key="est_samples")
family = mid.selectbox("Instance family", ["any", *sorted(history["instance_family"].dropna().unique())], key="est_family")
option = right.selectbox("Purchase option", ["any", *planning.PURCHASE_OPTIONS], key="est_purchase")
output_gb = left.number_input("Expected output (GB, 0 = unknown)", min_value=0.0, value=0.0, key="est_output_gb")
spec = LaunchSpec(
    workflow_type,
    platform,
    size,
    samples or None,
    None if family == "any" else family,
    None if option == "any" else option,
    output_gb or None,
)
est = estimator.estimate(spec)
if not est.enough_history:
    st.warning(f"No estimate: {est.message}.")
else:
    cost, cost_range, failures = st.columns(3)
    frame.metric(cost, f"Cost of a successful run ({currency}, median)", est.cost_median, currency=currency)
    frame.metric(cost_range, f"Cost, 80% interval ({currency})", (est.cost_low, est.cost_high), currency=currency)
    duration, duration_range, _ = st.columns(3)
    frame.metric(duration, "Duration (median)", est.hours_median, kind="hours")
    frame.metric(duration_range, "Duration, 80% interval", (est.hours_low, est.hours_high), kind="hours")
    frame.metric(
        failures,
        f"Expected cost of failures ({currency})",
        est.expected_failure_cost,
        currency=currency,
        help=f"Not in the estimate: failure rate {percent(est.failure_rate)} × what a failed run costs.",
    )
    st.caption(f"Learnt from {est.launches:,} completed launches of {est.basis}. " + est.notes)
    st.caption(f"How much history it stands on: {est.history}.")
    st.plotly_chart(charts.estimate_curve(*views.size_curve(estimator, spec), size, currency), key="est_curve")

panels.backtest_scores(filters)
panels.plan_a_quarter(history, estimator, currency)
panels.spend_forecast(scope, filters)
