"""Reconciliation: flag the consumer-months where billed and computed cost differ too much, and why they can."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

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


@dataclass(frozen=True)
class Totals:
    """The Reconciliation page's headline figures, exact: tagged computed and billed cost, and what no tag names."""

    computed: Decimal  # the pricing engine, over the tagged consumer-months
    billed: Decimal  # Cost Explorer, tagged to a consumer, on the services launches consume
    untagged: Decimal  # billed without a consumer tag (all services)
    flagged: int  # lines whose |variance| is above the threshold (or billed with nothing computed)

    @property
    def variance(self) -> Decimal:
        return self.billed - self.computed

    @property
    def variance_percent(self) -> Decimal | None:
        return self.variance / self.computed * 100 if self.computed else None


def _total(values) -> Decimal:
    return sum((v for v in values if v is not None and v == v), Decimal(0))  # v == v: not NaN


def totals(flagged_lines: pd.DataFrame) -> Totals:
    """The totals of ``flag``'s lines."""
    tagged = flagged_lines[flagged_lines["consumer"] != UNTAGGED]
    untagged = flagged_lines.loc[flagged_lines["consumer"] == UNTAGGED, "billed_cost"]
    return Totals(
        _total(tagged["computed_cost"]), _total(tagged["billed_cost"]), _total(untagged), int(flagged_lines["flagged"].sum())
    )
