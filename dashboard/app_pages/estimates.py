"""Estimates: a planned launch's cost and duration with an honest range, a quarter's plan, spend forecasts."""

from dataclasses import replace

import streamlit as st

from dashboard import charts, data, frame, panels
from dashboard.formatting import count, hours, money, percent
from estimates import plan as planning
from estimates import views
from estimates.estimator import LaunchSpec

scope = frame.scope()
st.title("Estimates")
frame.require_launches(scope)
filters = replace(scope.filters, statuses=())  # learns from completed and failed launches, whatever the status filter
history, estimator = data.estimator(filters)
frame.require_rows(len(history))
currency = scope.currency
st.caption(scope.money_caption("estimates learn from the ended launches in this selection; the status filter does not apply"))
enough, groups = views.groups_with_history(estimator)
learn, groups_with, fails = st.columns(3)
learn.metric("Completed launches to learn from", count(len(estimator.completed)))
groups_with.metric(
    "Type × platform groups with enough history", f"{enough} of {groups}", help="30 completed, priced launches each."
)
fails.metric("Failure rate", percent(views.failure_rate(history)), help="FAILED among ended launches in the selection.")

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
spec = LaunchSpec(
    workflow_type, platform, size, samples or None, None if family == "any" else family, None if option == "any" else option
)
est = estimator.estimate(spec)
if not est.enough_history:
    st.warning(f"No estimate: {est.message}.")
else:
    cost, cost_range, failures = st.columns(3)
    cost.metric(f"Cost of a successful run ({currency}, median)", money(est.cost_median, currency))
    cost_range.metric(f"Cost, 80% interval ({currency})", f"{money(est.cost_low, currency)} – {money(est.cost_high, currency)}")
    duration, duration_range, _ = st.columns(3)
    duration.metric("Duration (median)", hours(est.hours_median))
    duration_range.metric("Duration, 80% interval", f"{hours(est.hours_low)} – {hours(est.hours_high)}")
    failures.metric(
        f"Expected cost of failures ({currency})",
        money(est.expected_failure_cost, currency),
        help=f"Not in the estimate: failure rate {percent(est.failure_rate)} × what a failed run costs.",
    )
    st.caption(f"Learnt from {est.launches:,} completed launches of {est.basis}. " + est.notes)
    st.plotly_chart(charts.estimate_curve(*views.size_curve(estimator, spec), size, currency), key="est_curve")

st.subheader("How often the range was right (backtest)")
backtest = data.fetch("backtest_results")
if backtest.empty and not filters.reader.every_consumer:
    st.info("The backtest scores every consumer's launches together, so it is shown to finance and admins only.")
elif backtest.empty:
    st.info("No backtest yet: run `python -m ingest backtest` to score the estimates month by month against two baselines.")
else:
    st.caption(
        f"Each month estimated from the launches before it (run {backtest['run_id'].iloc[0]}). A calibrated 80% interval "
        "holds about 80% of actual values; MdAPE is the median error of the median estimate."
    )
    frame.table(
        views.backtest_table(backtest),
        percent=("cost_mdape", "cost_in_interval", "hours_mdape", "hours_in_interval"),
        hours=("cost_high_over_low",),
        months=(),
        labels=views.BACKTEST_LABELS,
        key="est_backtest",
    )

panels.plan_a_quarter(history, estimator, currency)
panels.spend_forecast(scope, filters)
