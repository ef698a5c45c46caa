"""One trace, one run: the launch it becomes (status, status times, resources) and its ``launch_tasks`` rows.

The trace is read twice, each time streaming: ``scan_run`` keeps only what the launch needs (the first
submit and start, the last complete, each task's final attempt, the start and end of every attempt that
ran), and ``task_rows`` yields the task rows while the load writes them.

* Status: COMPLETE when every task's final attempt (highest attempt, else latest submit, of the lines
  sharing its name) is COMPLETED or CACHED; FAILED otherwise.
* Status times: PREPARING and READY at the first submit, RUNNING at the first start, COMPLETE/FAILED at the
  last complete, over the tasks of this run (CACHED lines carry the times of the run that computed them,
  so they count only when every line is cached).
* Output size: the bytes every task line wrote (``wchar``, else ``write_bytes``; cached lines included, as
  Seqera's workflow ``writeBytes`` counts them) / 2^30, as ``output_size_gb``; none when no line has either.
* Resources: with an instance type, one instance line per task attempt that ran (CACHED lines did not run;
  failed and retried attempts did, and cost), count 1, from its start to its complete (an attempt still
  running when the run stopped, to the end of the run). Without one, none: the run stays pending a price.
  On premises the rate card charges cores: one ``onprem-node`` line as long as the run's node-hours, the sum
  over attempts that ran of cpus x (complete - start) / ``[pricing] onprem_cores_per_node``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ingest.nextflow.options import ResolvedRun
from ingest.nextflow.trace import DONE_STATUSES, TraceFile, TraceLine
from ingest.workflow_runs import Rejected

EPOCH = datetime(1970, 1, 1)
ONPREM_NODE = "onprem-node"  # the resource type of on-premises node-hours (as the demo and the rate card use it)
GIB = 1024**3  # Nextflow's GB
MS_PER_HOUR = 3_600_000


def moment(ms: int) -> datetime:
    """Epoch milliseconds as a naive UTC datetime."""
    return EPOCH + timedelta(milliseconds=ms)


@dataclass
class _Span:
    """The first submit, first start and latest time of a set of task lines, and the first time in file order."""

    first_submit: int | None = None
    first_start: int | None = None
    first: int | None = None
    last: int | None = None
    anchor: int | None = None  # the first line's submit (else start, complete): stable as the trace grows

    def add(self, line: TraceLine) -> None:
        times = [t for t in (line.submit, line.start, line.complete) if t is not None]
        if not times:
            return
        if self.anchor is None:
            self.anchor = times[0]
        if line.submit is not None:
            self.first_submit = line.submit if self.first_submit is None else min(self.first_submit, line.submit)
        if line.start is not None:
            self.first_start = line.start if self.first_start is None else min(self.first_start, line.start)
        self.first = min(times) if self.first is None else min(self.first, *times)
        self.last = max(times) if self.last is None else max(self.last, *times)


@dataclass
class RunScan:
    """What the first pass over a trace found: its launch (None when the run cannot be loaded) and its rejects."""

    trace: TraceFile
    run: ResolvedRun
    run_id: str | None = None
    launch: dict | None = None
    rejected: list[Rejected] = field(default_factory=list)
    lines: int = 0
    failed: int = 0
    cached: int = 0
    reason: str | None = None  # why the run cannot be loaded
    note: str = ""


def derived_run_id(trace: TraceFile, anchor: int | None) -> str:
    """``nf-`` and 16 hex digits of the file's absolute path and its first task line's submit time."""
    digest = hashlib.sha256(f"{trace.path.resolve()}\n{anchor}".encode()).hexdigest()
    return f"nf-{digest[:16]}"


def scan_run(trace: TraceFile, run: ResolvedRun, cores_per_node: int) -> RunScan:
    """Read the trace once and build its launch item (attribute name -> value, the data contract's default names)."""
    scan = RunScan(trace, run)
    this_run, every_line = _Span(), _Span()
    finals: dict[str, tuple[tuple, str | None]] = {}
    attempts: list[tuple[int, int | None, int | None]] = []  # (start, complete, cpus) of each attempt that ran
    written: int | None = None  # bytes the task lines wrote
    for item in trace.lines(run.zone):
        if isinstance(item, Rejected):
            scan.rejected.append(item)
            continue
        line = item
        scan.lines += 1
        scan.cached += line.cached
        scan.failed += line.outcome in ("FAILED", "ABORTED")
        every_line.add(line)
        if line.written is not None:
            written = line.written + (written or 0)
        if not line.cached:
            this_run.add(line)
        rank = (line.attempt or 0, line.submit if line.submit is not None else -1, line.lineno)
        if line.key not in finals or rank > finals[line.key][0]:
            finals[line.key] = (rank, line.outcome)
        if line.ran:
            attempts.append((line.start, line.complete, line.cpus))
    span = this_run if this_run.first is not None else every_line
    scan.run_id = run.options.run_id or (derived_run_id(trace, span.anchor) if span.anchor is not None else None)
    scan.reason = _unloadable(scan, span)
    if scan.reason:
        scan.rejected.append(Rejected(trace.label, scan.run_id, f"{trace.label}: {scan.reason}", trace.header_line))
        scan.note = f"{trace.label}: not loaded: {scan.reason}"
        return scan
    prepared = span.first_submit if span.first_submit is not None else span.first
    running = None if span.first_start is None else max(span.first_start, prepared)
    ended = max(span.last, running if running is not None else prepared)
    status = "COMPLETE" if all(outcome in DONE_STATUSES for _, outcome in finals.values()) else "FAILED"
    instances, priced = _instances(run, attempts, ended, cores_per_node)
    options = run.options
    scan.launch = {
        "launch_id": scan.run_id,
        "consumer": options.consumer,
        "workflow_type": options.workflow_type,
        "compute_platform": options.platform,
        "region": options.region,
        "status": status,
        "status_times": {
            "PREPARING": moment(prepared),
            "READY": moment(prepared),
            "RUNNING": None if running is None else moment(running),
            status: moment(ended),
        },
        "input_path": options.input_path,
        "input_size_gb": options.input_size_gb,
        "sample_count": options.sample_count,
        "output_size_gb": None if written is None else written / GIB,
        "resources": {"instances": instances} if instances else None,
    }
    scan.note = (
        f"{trace.label}: run {scan.run_id}: {scan.lines:,} task lines ({scan.failed:,} failed or aborted, "
        f"{scan.cached:,} cached), {status}; {priced}"
    )
    return scan


def _unloadable(scan: RunScan, span: _Span) -> str | None:
    if not scan.lines:
        if scan.rejected:
            return f"no readable task line: all {len(scan.rejected):,} were rejected"
        return "no task lines: the trace holds only its header (the run ran no task)"
    if span.first is None:
        return (
            "no submit, start or complete time on any task line, so the run cannot be placed in time: "
            "add submit, start and complete (or submit and duration) to trace.fields"
        )
    return None


def _instances(run: ResolvedRun, attempts, ended: int, cores_per_node: int) -> tuple[list[dict], str]:
    """The run's instance lines and a few words on how it will be priced."""
    options = run.options
    if run.onprem:
        if not attempts:
            return [], "no task ran, nothing to price"
        unknown = sum(cpus is None for _, _, cpus in attempts)
        if unknown:
            return [], (
                f"{unknown:,} task attempts without cpus: on premises the rate card charges cores, so the run stays "
                "pending a price (add cpus to trace.fields)"
            )
        den = cores_per_node * 1000
        node_ms = sum(
            cpus * (max(complete if complete is not None else ended, start) - start) for start, complete, cpus in attempts
        )
        seconds = (2 * node_ms + den) // (2 * den)  # node-seconds, half up
        first = min(start for start, _, _ in attempts)
        line = {
            "instance_type": ONPREM_NODE,
            "count": 1,
            "start": moment(first),
            "end": moment(first) + timedelta(seconds=seconds),
        }
        return [line], f"{seconds / 3600:,.3f} node-hours at the on-premises rate card ({cores_per_node} cores a node)"
    if not options.instance_type:
        return [], "no instance type: pending a price (pass --instance-type, or set instance_type, to price it)"
    lines = [
        {
            "instance_type": options.instance_type,
            "purchase_option": options.purchase_option,
            "count": 1,
            "availability_zone": options.availability_zone,
            "start": moment(start),
            "end": moment(max(complete if complete is not None else ended, start)),
        }
        for start, complete, _ in attempts
    ]
    return lines, f"{len(lines):,} {options.instance_type} instance lines (one per task attempt that ran)"


def task_rows(scan: RunScan, currency: str = "USD"):
    """The run's ``launch_tasks`` rows, one per trace line that was read (a second pass over the file)."""
    options = scan.run.options
    for line in scan.trace.lines(scan.run.zone):
        if isinstance(line, Rejected):
            continue
        ran_here = not line.cached
        yield {
            "launch_id": scan.run_id,
            "task_id": line.task_id,
            "task_hash": line.hash,
            "native_id": line.native_id,
            "process": line.process_name,
            "name": line.task_name,
            "status": line.status,
            "attempt": line.attempt,
            "exit_code": line.exit,
            "machine_type": options.instance_type if ran_here else None,
            "zone": options.availability_zone if ran_here else None,
            "price_model": options.purchase_option if ran_here and options.instance_type else None,
            "cpus": line.cpus,
            "memory_gb": None if line.memory is None else line.memory / GIB,
            "disk_gb": None if line.disk is None else line.disk / GIB,
            "time_limit_hours": None if line.time is None else line.time / MS_PER_HOUR,
            "submitted_at": None if line.submit is None else moment(line.submit),
            "started_at": None if line.start is None else moment(line.start),
            "completed_at": None if line.complete is None else moment(line.complete),
            "realtime_hours": None if line.realtime is None else line.realtime / MS_PER_HOUR,
            "cpu_percent": line.cpu_percent,
            "peak_rss_gb": None if line.peak_rss is None else line.peak_rss / GIB,
            "read_bytes": line.read_bytes,
            "write_bytes": line.write_bytes,
            "spot_interruptions": None,
            "seqera_cost": None,
            "engine_cost": None,
            "currency": currency,
            "source": "nextflow",
        }
