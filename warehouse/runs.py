"""One ingest run: the writer, its counters, its ``job_runs`` row and its one-screen summary."""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from core.settings import Settings
from warehouse import audit
from warehouse.store import WarehouseWriter, new_run_id

DIED = "died"  # job_runs.outcome of a run the next run found dead (beside succeeded and failed)
FAILED = "failed"  # job_runs.outcome of a run that raised: its tables are as they were, its message says why
FAILED_OUTCOMES = (FAILED, DIED)  # the runs that did not do their work: Data health counts them as failed
# Exit codes of a command (``cli.main``): 0 it did its work, 1 it failed (one line: error: ...), 130 interrupted,
# and EXIT_LOADED_NONE: it read records but loaded none (every one quarantined; the summary says why, first).
EXIT_LOADED_NONE = 2


@dataclass
class RunStats:
    command: str
    source: str
    records_read: int = 0
    records_loaded: int = 0
    records_unchanged: int = 0
    records_quarantined: int = 0
    api_requests: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    outcome: str = "succeeded"
    message: str | None = None
    records_deleted: int = 0  # launches a source deleted (a DynamoDB incremental export), removed from the warehouse
    look_at: str | None = None  # the setting to look at when nothing loaded (the source's words)

    @property
    def loaded_none(self) -> bool:
        """Records were read and not one loaded, changed, was unchanged or deleted: all were quarantined."""
        return self.records_read > 0 and not (self.records_loaded or self.records_unchanged or self.records_deleted)

    def count(self, read: int = 0, loaded: int = 0, unchanged: int = 0, quarantined: int = 0, reasons=None) -> None:
        """Add one step's records to the run's counters (and its quarantine reasons)."""
        self.records_read += read
        self.records_loaded += loaded
        self.records_unchanged += unchanged
        self.records_quarantined += quarantined
        self.add_reasons(reasons or {})

    def add_reasons(self, reasons: dict[str, int]) -> None:
        for reason, count in reasons.items():
            self.reasons[reason] = self.reasons.get(reason, 0) + count


@dataclass
class JobRun:
    writer: WarehouseWriter
    stats: RunStats
    started_at: datetime
    started: float
    audit_files: list[Path] | None = None  # the pending audit events merged into this run's commit (``audit.merge_into``)
    audit_merged: int = 0  # how many of them were new to audit_events

    @property
    def exit_code(self) -> int:
        """0, or ``EXIT_LOADED_NONE`` when the run read records but loaded none."""
        return EXIT_LOADED_NONE if self.stats.loaded_none else 0


@contextmanager
def job_run(data_dir: Path, command: str, source: str, memory_limit: str = "450MB", settings: Settings | None = None):
    """Open the warehouse for one run; on any exit record the run in ``job_runs``.

    Data tables are committed only if the body finishes; a failed run still records its
    ``job_runs`` row (outcome failed, with the message) and leaves every table as it was.
    A run that never got that far (killed with ``kill -9``, out of memory) is found by the next run
    (``warehouse.store.recover``), which removes what it left and records it with outcome ``died``.
    With ``settings.athena.engine == "athena"`` a committed run then publishes the changed
    partitions to S3 + Glue (``warehouse.lake.publish``), still holding the warehouse lock.
    """
    run_id = new_run_id()
    about = {"command": command, "source": source}
    with WarehouseWriter(Path(data_dir), run_id, memory_limit=memory_limit, about=about) as writer:
        run = JobRun(writer, RunStats(command, source), datetime.now(UTC).replace(tzinfo=None), time.monotonic())
        _record_dead_runs(run)
        try:
            yield run
        except BaseException as exc:
            run.stats.outcome = FAILED
            run.stats.message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            _write_run_row(run)
            writer.commit(keep_only=("job_runs",))
            raise
        _merge_audit_events(run, Path(data_dir))
        _write_run_row(run)
        writer.commit()
        audit.remove_merged(run.audit_files or [])
        if settings is not None and settings.athena.engine == "athena":
            from warehouse.lake import publish  # awswrangler is imported only by deployments that use it

            published = publish(settings, data_dir)
            run.stats.notes.append(published.summary(settings.athena.lake_path))


def _merge_audit_events(run: JobRun, data_dir: Path) -> None:
    """The audit events waiting in ``audit-pending/`` go into ``audit_events`` with this run's commit.

    Unless the body merged them itself (``audit.merge``). Should that fail, the events stay pending, whole, for
    the next run, and the run's own work still commits.
    """
    if run.audit_files is not None:
        return
    try:
        merged = audit.merge_into(run, data_dir)
    except Exception as exc:  # noqa: BLE001 - an unmergeable event must not fail an ingest; it waits, named in a note
        run.audit_files, run.audit_merged = [], 0
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        run.stats.notes.append(f"audit events left pending in {audit.pending_dir(data_dir)} for the next run: {why}")
        return
    if merged:
        run.stats.notes.append(f"merged {merged:,} audit event(s) waiting in {audit.pending_dir(data_dir)} into audit_events")


def _write_run_row(run: JobRun) -> None:
    s = run.stats
    _write_row(
        run.writer,
        {
            "run_id": run.writer.run_id,
            "command": s.command,
            "source": s.source,
            "started_at": run.started_at,
            "ended_at": datetime.now(UTC).replace(tzinfo=None),
            "read": s.records_read,
            "loaded": s.records_loaded,
            "unchanged": s.records_unchanged,
            "quarantined": s.records_quarantined,
            "deleted": s.records_deleted,
            "api": s.api_requests,
            "outcome": s.outcome,
            "message": s.message,
        },
    )


def _write_row(writer: WarehouseWriter, values: dict) -> None:
    writer.write_partitions(
        "job_runs",
        "SELECT $run_id AS run_id, $command AS command, $source AS source, $started_at::TIMESTAMP AS started_at, "
        "$ended_at::TIMESTAMP AS ended_at, $read::BIGINT AS records_read, $loaded::BIGINT AS records_loaded, "
        "$unchanged::BIGINT AS records_unchanged, $quarantined::BIGINT AS records_quarantined, "
        "$deleted::BIGINT AS records_deleted, $api::BIGINT AS api_requests, $outcome AS outcome, $message AS message",
        values,
    )


def _record_dead_runs(run: JobRun) -> None:
    """A ``job_runs`` row with outcome ``died`` for each earlier run that left its staging behind without one.

    The writer has already removed what they left (``warehouse.store.recover``); the counts of a run
    that died are unknown (NULL), its ``ended_at`` is the last time it wrote anything.
    """
    me = run.writer.run_id
    for dead in run.writer.recovered:
        freed = _size_text(dead.freed_bytes)
        if dead.recorded:
            if dead.freed_bytes:
                run.stats.notes.append(f"removed {freed} left in .tmp-{dead.run_id} by a run that stopped before cleaning up")
            continue
        about, last_seen = dead.about, dead.last_seen.replace(tzinfo=None)
        started = about.get("started_at")
        started_at = datetime.fromisoformat(started).astimezone(UTC).replace(tzinfo=None) if started else None
        _write_row(
            run.writer,
            {
                "run_id": dead.run_id,
                "command": about.get("command"),
                "source": about.get("source"),
                "started_at": started_at,
                "ended_at": last_seen,
                "read": None,
                "loaded": None,
                "unchanged": None,
                "quarantined": None,
                "deleted": None,
                "api": None,
                "outcome": DIED,
                "message": f"died before it finished (killed or crashed; pid {about.get('pid')}, last wrote at "
                f"{last_seen:%Y-%m-%d %H:%M:%S} UTC); run {me} removed the {freed} it left and recorded it",
            },
        )
        run.stats.notes.append(
            f"run {dead.run_id} ({about.get('command')}, started {started or 'at an unknown time'}) died before it "
            f"finished: recorded in job_runs as {DIED}; removed the {freed} it left"
        )


def _size_text(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n} bytes"


def _nothing_loaded(run: JobRun) -> list[str]:
    """The summary's first lines when records were read and none loaded: say so, the main reason, where to look."""
    s = run.stats
    if not s.loaded_none:
        return []
    lines = [f"NOTHING LOADED: {s.records_read:,} records read, none loaded ({s.records_quarantined:,} quarantined)"]
    if s.reasons:
        reason, count = max(s.reasons.items(), key=lambda kv: kv[1])
        lines.append(f"  most common reason ({count:,} of {s.records_quarantined:,}): {reason}")
    look = s.look_at or f"every reason: SELECT reason, raw_record FROM quarantine WHERE run_id = '{run.writer.run_id}'"
    lines.append(f"  look at: {look}")
    return lines


def print_summary(run: JobRun, out=None) -> None:
    s = run.stats
    took = time.monotonic() - run.started
    lines = [
        *_nothing_loaded(run),
        f"Launch Ledger ingest · {s.command} · run {run.writer.run_id} · {s.outcome}",
        f"  source               {s.source}",
        f"  records read         {s.records_read:,}",
        f"  loaded (new/changed) {s.records_loaded:,}",
        f"  unchanged            {s.records_unchanged:,}",
        f"  quarantined          {s.records_quarantined:,}",
    ]
    if s.records_deleted:
        lines.insert(-1, f"  deleted              {s.records_deleted:,}")
    for reason, count in sorted(s.reasons.items(), key=lambda kv: -kv[1])[:8]:
        lines.append(f"    {count:>8,}  {reason}")
    lines += [
        f"  API requests         {s.api_requests:,}",
        f"  time taken           {took:,.1f} s",
        f"  warehouse            {run.writer.root}",
    ]
    lines += [f"  note: {n}" for n in s.notes]
    print("\n".join(lines), file=out or sys.stdout)
