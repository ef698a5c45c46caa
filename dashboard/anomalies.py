"""The anomalies list on Overview and Data health: what, when, how far off, and a link to the view it belongs to.

The rows come from the ``anomalies`` named query (what the latest ``python -m ingest anomalies`` run found,
in the sidebar's selection and the reader's consumers); nothing is fitted on a page load. Each row links to
the filtered view it belongs to, with the sidebar's URL parameters (``dashboard.frame``): a launch to Timing
on its day, consumer, workflow type and platform; a consumer-month to Chargeback for that consumer and month.
"""

from __future__ import annotations

import calendar
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from dashboard import data, formatting, frame
from estimates.anomalies.find import how_far_off_in_words

SHOWN = 10
LABELS = {
    "what": "What",
    "when": "When",
    "how_far_off": "How far off",
    "actual_cost": "Cost",
    "expected_cost": "Expected cost",
    "actual_hours": "Hours",
    "expected_hours": "Expected hours",
    "view": "View",
}
NONE_FOUND = (
    "No anomaly in this selection: no launch and no consumer-month fell outside its 95% interval in the latest "
    "`python -m ingest anomalies` run (run it after each load to look again)."
)


def view_link(row) -> str:
    """The relative URL of the filtered view an anomaly belongs to (the sidebar's query parameters)."""
    if row["kind"] == "launch":
        day = pd.Timestamp(row["launch_day"]).date().isoformat()
        params = {
            "period": [day, day],
            "consumer": row["consumer"],
            "workflow_type": row["workflow_type"],
            "platform": row["compute_platform"],
        }
        return f"timing?{urlencode(params, doseq=True)}"
    month = pd.Timestamp(row["month"])
    last = month.replace(day=calendar.monthrange(month.year, month.month)[1])
    params = {"period": [month.date().isoformat(), last.date().isoformat()], "consumer": row["consumer"]}
    return f"chargeback?{urlencode(params, doseq=True)}"


def rows(found: pd.DataFrame) -> pd.DataFrame:
    """The table shown: one line per anomaly, in the query's order (the furthest off first)."""
    launch = found["kind"] == "launch"
    what = [
        f"Launch {r.launch_id} ({r.consumer}, {r.workflow_type} on {r.compute_platform})"
        if is_launch
        else f"{r.consumer}: spend of the month"
        for r, is_launch in zip(found.itertuples(), launch, strict=True)
    ]
    when = [
        pd.Timestamp(day).date().isoformat() if is_launch else formatting.month(pd.Timestamp(month))
        for day, month, is_launch in zip(found["launch_day"], found["month"], launch, strict=True)
    ]
    return pd.DataFrame(
        {
            "what": what,
            "when": when,
            "how_far_off": [how_far_off_in_words(r) for _, r in found.iterrows()],
            "actual_cost": found["actual_cost"],
            "expected_cost": found["expected_cost"],
            "actual_hours": found["actual_hours"],
            "expected_hours": found["expected_hours"],
            "view": [view_link(r) for _, r in found.iterrows()],
        }
    )


def show(scope: frame.Scope, key: str) -> None:
    """The anomalies of the selection, the furthest off first (up to ``SHOWN``), each linking to its view."""
    st.subheader("Anomalies")
    found = data.fetch("anomalies", scope.filters, limit=SHOWN)
    if found.empty:
        st.caption(NONE_FOUND)
        return
    total = int(found["anomalies_in_selection"].iloc[0])
    st.caption(
        f"{formatting.count(total)} in this selection ({scope.period}), the furthest off first"
        f"{f' (the first {SHOWN})' if total > SHOWN else ''}; {scope.currency}. Outside the 95% interval: a launch "
        "against the estimator for its size (learnt from the other months), a consumer's month against the spend "
        "forecast made from the months before. Found by the latest `python -m ingest anomalies` run."
    )
    frame.table(
        rows(found),
        currency=scope.currency,
        money=("actual_cost", "expected_cost"),
        hours=("actual_hours", "expected_hours"),
        months=(),
        labels=LABELS,
        links={"view": "Open the view"},
        key=key,
    )
