"""The domain's words, once: what a launch goes through, where it runs, how its instances are bought."""

from __future__ import annotations

# A launch's statuses in the order it passes them (COMPLETE and FAILED both end it).
STATUSES = ("PREPARING", "WAITING", "READY", "RUNNING", "COMPLETE", "FAILED")
ENDED_STATUSES = ("COMPLETE", "FAILED")
# The four phases between them: preparing (PREPARING -> WAITING), waiting (-> READY),
# queued for compute (READY -> RUNNING) and running (RUNNING -> the end).
PHASES = ("preparing", "waiting", "queued", "running")

# Compute platforms a launch runs on; on premises is priced by a rate card, not by AWS.
PLATFORMS = ("EC2", "Batch", "ParallelCluster", "EKS", "OnPremHPC")
ONPREM_PLATFORM = "OnPremHPC"

# How an instance is bought.
PURCHASE_OPTIONS = ("Spot", "On-Demand", "Reserved")

# Where a month's bill can come from, in the default order of preference (the rules file's [bill] sources).
BILL_SOURCES = ("cur", "focus", "cost-explorer")

# AWS prorates monthly prices (EBS GB-months, FSx capacity) over 730 hours.
HOURS_PER_MONTH = 730


def status_rank(status: str) -> tuple[int, str]:
    """A sort key putting statuses in launch order, unknown ones last (alphabetically)."""
    return (STATUSES.index(status) if status in STATUSES else len(STATUSES), status)
