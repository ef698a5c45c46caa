"""Right-sizing: per process, requested vs used CPU and memory, the recommended request and what it saves."""

import streamlit as st

from dashboard import charts, data, frame, panels
from dashboard.formatting import count
from pricing.rightsizing import config_header

NO_TASKS = (
    "No task records for the launches in this selection: load Nextflow traces with `python -m ingest nextflow PATH` "
    "(with `--instance-type` and `--region` to price them) or Seqera Platform runs with `python -m ingest seqera PATH`, "
    "then `python -m ingest price-launches`."
)
PROCESS_MONEY = ("current_cost", "recommended_cost", "savings", "savings_per_run", "savings_per_month", "retry_cost")
PROCESS_LABELS = {
    "cpus_requested": "CPUs requested",
    "cpus_recommended": "CPUs recommended",
    "cpus_used_quantile": "CPUs used (quantile)",
    "memory_requested_gb": "Memory requested (GB)",
    "memory_used_quantile_gb": "Memory used (quantile, GB)",
    "memory_floor_gb": "Out-of-memory retry peak (GB)",
    "memory_recommended_gb": "Memory recommended (GB)",
    "changed": "Request changes",
}

scope = frame.scope()
st.title("Right-sizing")
frame.require_launches(scope)
frame.require_rows(int(data.fetch("overview", scope.filters).loc["current", "launches"]))
runs = data.fetch("run_reconciliation", scope.filters)
with_tasks = runs[runs["tasks"] > 0]
if with_tasks.empty:
    panels.runs_with_tasks_elsewhere(scope, NO_TASKS)

left, right = st.columns(2)
by_runs = with_tasks.groupby("workflow_type")["launch_id"].nunique().reset_index(name="runs")
types = list(by_runs.sort_values(["runs", "workflow_type"], ascending=[False, True])["workflow_type"])  # most runs first
workflow_type = left.selectbox("Workflow type", types, key="right_sizing_workflow_type")
of_type = sorted(with_tasks.loc[with_tasks["workflow_type"] == workflow_type, "launch_id"])
launch_id = right.selectbox("Run", ["every run", *of_type], key="right_sizing_run")
launch_id = "" if launch_id == "every run" else launch_id
result = data.right_sizing(scope.filters, workflow_type, launch_id)
policy = result.policy
quantile = f"p{policy.quantile * 100:g}"
currency = result.currency
processes = result.processes

st.caption(
    scope.money_caption(
        f"use = {quantile} of the completed tasks' %cpu and peak RSS; recommended = that + {policy.headroom * 100:g}% headroom, "
        f"rounded up; each task priced by the engine as a whole instance, on the type it ran on and on the cheapest type of its "
        f"family that fits; per month at {result.runs:,} run(s) over {result.months} month(s) of history"
    )
)
changes, per_month, savings, retries = st.columns(4)
frame.metric(changes, "Processes to change", f"{count(int(processes['changed'].sum()))} of {count(len(processes))}")
frame.metric(per_month, f"Savings per month ({currency})", result.savings_per_month, currency=currency)
frame.metric(savings, f"Savings over these runs ({currency})", result.savings, currency=currency)
frame.metric(retries, f"Retried attempts cost ({currency})", result.retry_cost, currency=currency)

if processes.empty:
    st.info("The tasks of this selection name no process: nothing to right-size.")
    st.stop()
cpu_chart, memory_chart = st.columns(2)
cpu_chart.plotly_chart(charts.right_sizing_bars(processes, "cpus", quantile), key="right_sizing_cpus_chart")
memory_chart.plotly_chart(charts.right_sizing_bars(processes, "memory", quantile), key="right_sizing_memory_chart")
frame.table(
    processes,
    currency=currency,
    money=PROCESS_MONEY,
    hours=("cpus_used_quantile",),
    labels=PROCESS_LABELS,
    key="right_sizing_table",
)
st.caption(
    "Savings are the tasks that completed, priced on both types with the same zone, purchase option and run time; a negative "
    "saving means the processes asked for too little. Tasks without a machine type or a price are not priced (priced tasks)."
)

st.subheader("Retried attempts")
if result.retries.empty:
    st.caption("No attempt in this selection failed and was tried again.")
else:
    frame.table(result.retries, currency=currency, money=("engine_cost", "seqera_cost"), key="right_sizing_retries")

panels.nextflow_config(
    processes, config_header(f"run {launch_id}" if launch_id else workflow_type, scope.period, policy, result.runs)
)
