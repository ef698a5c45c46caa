"""One ingest run: the writer, its counters, its ``job_runs`` row and its one-screen summary."""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from core.settings import Settings
from warehouse.store import WarehouseWriter, new_run_id


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


@contextmanager
def job_run(data_dir: Path, command: str, source: str, memory_limit: str = "450MB", settings: Settings | None = None):
    """Open the warehouse for one run; on any exit record the run in ``job_runs``.

    Data tables are committed only if the body finishes; a failed run still records its
    ``job_runs`` row (outcome failed, with the message) and leaves every table as it was.
    With ``settings.athena.engine == "athena"`` a committed run then publishes the changed
    partitions to S3 + Glue (``warehouse.lake.publish``), still holding the warehouse lock.
    """
    run_id = new_run_id()
    with WarehouseWriter(Path(data_dir), run_id, memory_limit=memory_limit) as writer:
        run = JobRun(writer, RunStats(command, source), datetime.now(UTC).replace(tzinfo=None), time.monotonic())
        try:
            yield run
        except BaseException as exc:
            run.stats.outcome = "failed"
            run.stats.message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            _write_run_row(run)
            writer.commit(keep_only=("job_runs",))
            raise
        _write_run_row(run)
        writer.commit()
        if settings is not None and settings.athena.engine == "athena":
            from warehouse.lake import publish  # awswrangler is imported only by deployments that use it

            published = publish(settings, data_dir)
            run.stats.notes.append(published.summary(settings.athena.lake_path))


def _write_run_row(run: JobRun) -> None:
    s = run.stats
    run.writer.write_partitions(
        "job_runs",
        "SELECT $run_id AS run_id, $command AS command, $source AS source, $started_at AS started_at, "
        "now()::TIMESTAMP AS ended_at, $read AS records_read, $loaded AS records_loaded, $unchanged AS records_unchanged, "
        "$quarantined AS records_quarantined, $api AS api_requests, $outcome AS outcome, $message AS message",
        {
            "run_id": run.writer.run_id,
            "command": s.command,
            "source": s.source,
            "started_at": run.started_at,
            "read": s.records_read,
            "loaded": s.records_loaded,
            "unchanged": s.records_unchanged,
            "quarantined": s.records_quarantined,
            "api": s.api_requests,
            "outcome": s.outcome,
            "message": s.message,
        },
    )


def print_summary(run: JobRun, out=None) -> None:
    s = run.stats
    took = time.monotonic() - run.started
    lines = [
        f"Launch Ledger ingest · {s.command} · run {run.writer.run_id} · {s.outcome}",
        f"  source               {s.source}",
        f"  records read         {s.records_read:,}",
        f"  loaded (new/changed) {s.records_loaded:,}",
        f"  unchanged            {s.records_unchanged:,}",
        f"  quarantined          {s.records_quarantined:,}",
    ]
    for reason, count in sorted(s.reasons.items(), key=lambda kv: -kv[1])[:8]:
        lines.append(f"    {count:>8,}  {reason}")
    lines += [
        f"  API requests         {s.api_requests:,}",
        f"  time taken           {took:,.1f} s",
        f"  warehouse            {run.writer.root}",
    ]
    lines += [f"  note: {n}" for n in s.notes]
    print("\n".join(lines), file=out or sys.stdout)
