"""Data health: ingest runs, launches pending a price, quarantined records and why, the audit trail."""

import streamlit as st

from dashboard import anomalies, auth, data, frame, panels
from warehouse.runs import FAILED_OUTCOMES

scope = frame.scope()
access = auth.current()
st.title("Data health")

# Each query returns only what this reader may see: job runs and raw records to admins, quarantine
# reasons to finance and admins, pending launches of the reader's consumers.
runs = data.fetch("job_runs", limit=50)
if scope.options.is_empty and runs.empty:
    st.info(frame.EMPTY_WAREHOUSE)
    st.stop()
pending = data.fetch("pending_prices", scope.filters, limit=20)
reasons = data.fetch("quarantine_reasons", limit=100)
records = data.fetch("quarantined_records", limit=20)

latest, failed_runs, pending_count, quarantined = st.columns(4)
if not runs.empty:
    last = runs.iloc[0]
    frame.metric(
        latest,
        "Last ingest",
        str(last["outcome"]),
        f"ended {last['ended_at']:%Y-%m-%d %H:%M} UTC",
        delta_color="off",
        delta_arrow="off",
        help=f"Run {last['run_id']} ({last['command']}, {last['source']}).",
    )
if access.is_admin:
    frame.metric(
        failed_runs,
        "Failed runs",
        int(runs["outcome"].isin(FAILED_OUTCOMES).sum()),
        kind="count",
        help="Among the latest 50 runs: those that failed and those that died (killed or out of memory, found by the next run).",
    )
frame.metric(
    pending_count,
    "Launches pending a price",
    int(pending["pending_launches"].iloc[0]) if len(pending) else 0,
    kind="count",
    help="Launches in the sidebar's selection without a price yet.",
)
if access.every_consumer:
    frame.metric(
        quarantined,
        "Quarantined records",
        int(reasons["records"].sum()),
        kind="count",
        help="Records an ingest rejected, kept with the reason.",
    )

st.subheader("Ingest runs")
if access.is_admin:
    st.caption(
        "The latest 50 runs, newest first (times UTC). Records deleted: launches the source deleted (an incremental "
        "DynamoDB export), removed from the warehouse and listed in launch_deletions."
    )
    frame.table(runs, key="health_runs")
else:
    st.caption("Ingest runs are shown to admins only: a run's source and message may name any team's files.")

st.subheader("Launches pending a price")
st.caption(
    f"Launches started {scope.period} (UTC) matching the sidebar filters, oldest first (up to 20). "
    "A running launch is priced when it ends; an ended launch still pending has no price from the workflow manager "
    "and none from the pricing engine yet: run "
    "`python -m ingest prices` and `python -m ingest price-launches` (a resource without a unit price keeps it pending)."
)
if pending.empty:
    st.success("Every launch in this selection has a price.")
else:
    frame.table(pending.drop(columns=["pending_launches"]), key="health_pending")

if not scope.options.is_empty:
    anomalies.show(scope, key="health_anomalies")

st.subheader("Quarantined records")
if not access.every_consumer:
    st.caption("Shown to finance and admins only: a record that failed validation cannot be trusted to say whose it is.")
elif reasons.empty:
    st.success("No record has been quarantined.")
else:
    frame.table(reasons, key="health_reasons")
    if access.is_admin:
        st.caption("The latest 20 quarantined records, with the record as it was read:")
        frame.table(records, key="health_records")
    else:
        st.caption("The records as they were read are shown to admins only: a raw record may carry any team's data.")

if access.sees_audit:
    panels.audit_trail()
