"""What a page says when it has nothing to show: what is really missing, and what to do about it.

Pure text from what the warehouse holds (``FilterOptions``) and the selection (``Filters``); the frame and
the pages show it (``frame.require_rows``). No Streamlit here.
"""

from __future__ import annotations

from datetime import date

from dashboard import formatting
from queries import FilterOptions, Filters

NO_BILL = (
    "No bill is loaded for any month, so there is no statement to allocate. Load one with "
    "`python -m ingest cost-explorer` (Cost Explorer, daily), `python -m ingest focus LOCATION` (a FOCUS 1.x "
    "export) or `python -m ingest cur LOCATION` (a CUR 2.0 export), then reload this page."
)
NO_BILL_TO_RECONCILE = (
    "No bill is loaded for any month, so every billed figure below is zero. Load one with "
    "`python -m ingest cost-explorer`, `python -m ingest focus LOCATION` or `python -m ingest cur LOCATION`."
)


# A page's own message when the selection has launches but none of what it shows ({launches}: how many).
NO_PHASE_HOURS = (
    "None of the {launches} launches in this selection has phase hours yet (the times it entered each status): "
    "timing shows where the hours of launches went, phase by phase. Widen the period or clear a filter."
)
NO_INSTANCES = (
    "None of the {launches} launches in this selection has recorded instances yet (a launch gets its resources, "
    "instance types included, when it ends): widen the period or clear the status filter."
)
NOTHING_ENDED = (
    "None of the {launches} launches in this selection has ended yet: estimates learn from COMPLETE and FAILED "
    "launches. Widen the period or clear the status filter."
)
NOT_ON_AWS = (
    "None of the {launches} launches in this selection ran on AWS: on-premises launches have no bill to reconcile "
    "with. Pick another platform or widen the period."
)


def _picked(filters: Filters) -> str:
    """The sidebar filters set besides the period, in words ("" when none is)."""
    parts = [
        f"{label} {', '.join(values)}"
        for label, values in (
            ("consumer", filters.consumers),
            ("workflow type", filters.workflow_types),
            ("platform", filters.platforms),
            ("status", filters.statuses),
        )
        if values
    ]
    return f", {'; '.join(parts)}" if parts else ""


def no_launches(prefix: str, options: FilterOptions, filters: Filters) -> str:
    """No launch in the selection: what the warehouse holds, and what was picked."""
    held = (
        f"The warehouse holds {formatting.count(options.launches)} launches started "
        f"{formatting.period(options.first_day, options.last_day)} (UTC)"
    )
    return f"{prefix} {held}; picked: {formatting.period(filters.start, filters.end)}{_picked(filters)}."


def no_bill_in_period(months: list[date], filters: Filters) -> str:
    """Bills are loaded, but for no month the period touches."""
    held = (
        ", ".join(formatting.month(m) for m in months)
        if len(months) <= 6
        else (f"{formatting.month(months[0])} to {formatting.month(months[-1])}")
    )
    return (
        f"No bill month overlaps the period {formatting.period(filters.start, filters.end)}: the bill is loaded for "
        f"{held}. Widen the period to a billed month (a statement is of a calendar month of the bill)."
    )


def some_launches(template: str, launches: int) -> str:
    """A page's own message when the selection has launches but none of what the page shows."""
    return template.format(launches=formatting.count(launches))
