"""The audit trail: who signed in, who was refused, who closed which month, who downloaded which statement.

**Writing never waits for the warehouse.** The warehouse has one writer at a time (an ingest may hold
the lock for minutes), and a person clicking Download must neither wait for it nor lose the event. So
``record`` writes each event as its own small JSON file under ``<data-dir>/audit-pending/``: written to a
temporary name, flushed and renamed into place, so a file is there whole or not at all, and any number of
dashboard sessions (threads or processes) append at once without a lock. Nothing is ever rewritten.

**Merging is opportunistic.** Every job that commits (``warehouse.runs.job_run``: an ingest, ``prices``,
``price-launches``, ``close-month``, ...) moves the events pending when it commits into the ``audit_events``
table (one partition per month) in the same commit. ``merge`` does only that, inside a recorded ``job_run``
(command ``audit-merge``), taking the warehouse lock with a short retry; when another writer holds it, the
events simply stay pending for that writer (or the next try) to merge.
The dashboard tries after an event once the oldest pending one is ``MERGE_AFTER_SECONDS`` old (so a
busy morning of sign-ins commits a new warehouse version, which empties the dashboard's caches, at most
every few minutes) and straight after closing a month (which commits a version anyway). An event id is
merged once: a crash between the commit and deleting the files merges nothing twice (``event_id``
already in the table is skipped). Readers see both: ``pending_events`` beside the table.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from core.errors import WarehouseError

PENDING_DIR = "audit-pending"
ACTIONS = ("sign-in", "sign-out", "access-denied", "close-month", "download", "budget-change")
COLUMNS = ("event_id", "event_at", "event_month", "actor", "provider", "role", "action", "subject", "consumers", "detail")
MERGE_AFTER_SECONDS = 300
MERGE_AFTER_EVENTS = 200
LOCK_ATTEMPTS = 3
LOCK_WAIT_SECONDS = 0.2


def pending_dir(data_dir: os.PathLike | str) -> Path:
    return Path(data_dir) / PENDING_DIR


def record(
    data_dir: os.PathLike | str,
    *,
    actor: str,
    action: str,
    role: str | None = None,
    provider: str | None = None,
    subject: str | None = None,
    consumers: str | None = None,
    detail: str | None = None,
    at: datetime | None = None,
) -> dict:
    """Append one event (atomically, without the warehouse lock); returns it as written."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; the actions are {', '.join(ACTIONS)}")
    when = (at or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    event_id = f"{when:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:12]}"
    event = {
        "event_id": event_id,
        "event_at": when.isoformat(sep=" ", timespec="microseconds"),
        "event_month": when.date().replace(day=1).isoformat(),
        "actor": actor,
        "provider": provider,
        "role": role,
        "action": action,
        "subject": subject,
        "consumers": consumers,
        "detail": detail,
    }
    folder = pending_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        fh.write(json.dumps(event, sort_keys=True))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, folder / f"{event_id}.json")
    return event


def _pending_files(data_dir: os.PathLike | str) -> list[Path]:
    folder = pending_dir(data_dir)
    return sorted(folder.glob("[!.]*.json")) if folder.is_dir() else []


def pending_events(data_dir: os.PathLike | str) -> list[dict]:
    """The events recorded but not merged yet, oldest first (a file that cannot be read is skipped)."""
    events = []
    for path in _pending_files(data_dir):
        try:
            event = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # removed by a merge meanwhile, or not an event
        if isinstance(event, dict) and event.get("event_id"):
            events.append({c: event.get(c) for c in COLUMNS})
    return events


def merge_due(data_dir: os.PathLike | str, now: float | None = None) -> bool:
    """Whether enough events wait (by age or number) to be worth a warehouse commit."""
    files = _pending_files(data_dir)
    if not files:
        return False
    if len(files) >= MERGE_AFTER_EVENTS:
        return True
    try:
        oldest = min(f.stat().st_mtime for f in files)
    except OSError:
        return False
    return (now or time.time()) - oldest >= MERGE_AFTER_SECONDS


def merge(data_dir: os.PathLike | str) -> int:
    """Move the pending events into ``audit_events``; how many were merged (0 when another writer holds the lock)."""
    from warehouse.runs import job_run  # the run records itself (and any run it finds dead) in job_runs

    merged = 0
    for attempt in range(LOCK_ATTEMPTS):
        try:
            with job_run(Path(data_dir), "audit-merge", str(pending_dir(data_dir)), memory_limit="256MB") as run:
                merged = merge_into(run, data_dir)  # job_run removes the merged files once the run has committed
                run.stats.records_read, run.stats.records_loaded = len(run.audit_files or []), merged
            break
        except WarehouseError as exc:
            if "another" not in str(exc) or attempt == LOCK_ATTEMPTS - 1:
                return 0  # busy (or unwritable): the events stay pending, whole, for the next merge
            time.sleep(LOCK_WAIT_SECONDS)
    return merged


def merge_into(run, data_dir: os.PathLike | str) -> int:
    """Stage the events pending now in ``run``'s writer, to commit with the run; how many were new.

    ``warehouse.runs.job_run`` calls it for every run that commits (a CLI job merges what the dashboard
    left waiting) and, after the commit, removes the files merged (``remove_merged(run.audit_files)``).
    """
    files = _pending_files(data_dir)
    run.audit_files = files
    run.audit_merged = _write_events(run.writer, files)
    return run.audit_merged


def remove_merged(files: list[Path]) -> None:
    """Delete the pending files of events now committed (an event merged twice is skipped, so a crash before this is safe)."""
    for path in files:
        path.unlink(missing_ok=True)


def _write_events(writer, files: list[Path]) -> int:
    """Append the events of ``files`` to their months' partitions (partitions are rewritten whole)."""
    events = [e for e in (_read(f) for f in files) if e]
    if not events:
        return 0
    table = pa.Table.from_pylist(events, schema=pa.schema([(c, pa.string()) for c in COLUMNS]))
    writer.con.register("new_audit_events", table)
    try:
        rows = (
            "WITH new AS (SELECT * FROM new_audit_events WHERE event_id NOT IN (SELECT event_id FROM audit_events)), "
            "months AS (SELECT DISTINCT CAST(event_month AS DATE) AS m FROM new) "
            "SELECT * FROM audit_events WHERE event_month IN (SELECT m FROM months) "
            "UNION ALL BY NAME SELECT * FROM new"
        )
        ((fresh,),) = writer.con.sql(
            "SELECT count(*) FROM new_audit_events WHERE event_id NOT IN (SELECT event_id FROM audit_events)"
        ).fetchall()
        if fresh:
            writer.write_partitions("audit_events", rows)
    finally:
        writer.con.unregister("new_audit_events")
    return int(fresh)


def _read(path: Path) -> dict | None:
    try:
        event = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return {c: (None if event.get(c) is None else str(event.get(c))) for c in COLUMNS} if isinstance(event, dict) else None
