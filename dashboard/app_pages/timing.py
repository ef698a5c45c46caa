"""Timing: where the hours go, phase by phase, per platform and workflow type."""

import streamlit as st

from dashboard import charts, data, empty_states, frame

scope = frame.scope()
st.title("Timing")
frame.require_launches(scope)

by_workflow = data.fetch("timing", scope.filters)
frame.require_rows(len(by_workflow), empty_states.NO_PHASE_HOURS)
by_platform = data.fetch("timing_by_platform", scope.filters)

st.caption(
    f"Launches started {scope.period} (UTC) · phases: preparing → waiting → queued (READY until RUNNING) → running · "
    "sums over launches; distributions pool the workflow types selected (pick one in the sidebar to compare like with like)."
)

phase_totals = by_workflow.groupby("phase")["total_hours"].sum()
all_hours = float(phase_totals.sum())


def share(*phases: str) -> float | None:
    return sum(float(phase_totals.get(p, 0.0)) for p in phases) / all_hours if all_hours else None


total, running, waiting, preparing = st.columns(4)
frame.metric(total, "Launch-hours", all_hours, kind="hours", help="Hours summed over launches and phases.")
frame.metric(running, "Running", share("running"), kind="percent", help="Share of the hours spent RUNNING.")
frame.metric(
    waiting,
    "Waiting + queued",
    share("waiting", "queued"),
    kind="percent",
    help="Share of the hours spent before compute started.",
)
frame.metric(preparing, "Preparing", share("preparing"), kind="percent")

left, right = st.columns(2)
left.plotly_chart(charts.phase_hours_bars(by_workflow, "compute_platform"), key="timing_by_platform_chart")
right.plotly_chart(charts.phase_hours_bars(by_workflow, "workflow_type"), key="timing_by_workflow_chart")
st.plotly_chart(charts.phase_boxes(by_platform), key="timing_boxes")

st.subheader("Hours per launch by platform, workflow type and phase")
frame.table(
    by_workflow.drop(columns=["phase_order"]),
    hours=("total_hours", "mean_hours", "p10_hours", "p25_hours", "p50_hours", "p75_hours", "p90_hours"),
    labels={
        "p10_hours": "p10",
        "p25_hours": "p25",
        "p50_hours": "median",
        "p75_hours": "p75",
        "p90_hours": "p90",
        "mean_hours": "mean",
        "launches": "Launches with hours in phase",
    },
    key="timing_table",
)
