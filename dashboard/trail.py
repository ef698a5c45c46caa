"""The dashboard's side of the audit trail: one event by the person of this run (no Streamlit here).

``warehouse.audit`` appends the event without waiting for the warehouse lock, and merges the waiting
events into ``audit_events`` when enough have waited long enough (or at once, ``merge=True``: after a
month is closed, which has just committed a new warehouse version anyway). On Athena the dashboard has
no warehouse to merge into: events wait in the data dir for ``warehouse.audit.merge`` where the ingest runs.
"""

from __future__ import annotations

from core.access import Access
from core.settings import load_settings
from warehouse import audit


def covers(access: Access) -> str | None:
    """The consumers a person's view covers, in words, for an event's ``consumers`` column."""
    return "every consumer" if access.every_consumer else (", ".join(access.consumers) or None)


def note(access: Access, action: str, *, merge: bool = False, consumers: str | None = None, **event) -> dict:
    """Record ``action`` by ``access``; returns the event as written."""
    settings = load_settings()
    directory = settings.data_dir.resolve()
    written = audit.record(
        directory,
        actor=access.who,
        role=access.role,
        provider=access.provider,
        action=action,
        consumers=consumers or covers(access),
        **event,
    )
    if settings.athena.engine != "athena" and (merge or audit.merge_due(directory)):
        audit.merge(directory)
    return written
