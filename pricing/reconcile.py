"""Reconciliation: flag the consumer-months where billed and computed cost differ too much, and why they can."""

from __future__ import annotations

import pandas as pd

UNTAGGED = "(untagged)"

# Why billed (Cost Explorer) and computed (list / Spot prices x what launches consumed) can differ.
KNOWN_REASONS = (
    ("Credits", "AWS credits (research credits, promotional) lower the bill; list prices do not know them."),
    ("Discounts", "Enterprise discounts, Savings Plans and Reserved Instances: net amortized cost is lower than list."),
    ("Untagged resources", "Spend without the consumer tag cannot be charged to a consumer: it shows on the untagged row."),
    (
        "Resources outside the workflow manager",
        "Tagged notebooks, dev boxes and idle clusters are billed to the consumer but are no launch.",
    ),
    (
        "Data transfer and other services",
        "S3, NAT, data transfer, support, API calls: billed, but not a resource the benchmark sees.",
    ),
    ("Timing", "The bill counts the day a resource ran (UTC); a launch is counted in the month it started."),
    ("Estimates", "Spot prices estimated without Spot history, and days Cost Explorer still marks as estimated."),
)


def flag(lines: pd.DataFrame, threshold_percent: float) -> pd.DataFrame:
    """The reconciliation lines with ``flagged``: |variance| above the threshold, or billed with nothing computed."""
    out = lines.copy()
    out["consumer"] = out["consumer"].where(out["consumer"].notna(), UNTAGGED)
    pct = pd.to_numeric(out["variance_percent"], errors="coerce")
    tagged = out["consumer"] != UNTAGGED
    billed_only = (
        out["computed_cost"].isna() & out["billed_cost"].notna() & (out["billed_cost"].map(lambda v: v is not None and v != 0))
    )
    out["flagged"] = tagged & ((pct.abs() > threshold_percent).fillna(False) | billed_only)
    return out
