"""``python -m ingest nextflow PATH...``: Nextflow trace files into the warehouse, one launch per run, tasks alongside."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC
from itertools import islice
from pathlib import Path

from core.errors import ConfigError, SourceError
from core.settings import Settings
from ingest.nextflow.options import RunOptions, resolve
from ingest.nextflow.run import RunScan, scan_run, task_rows
from ingest.nextflow.trace import TraceFile
from ingest.workflow_runs import load_runs
from warehouse.runs import JobRun, job_run, print_summary

# In a folder, the files that may be traces: Nextflow's trace-<timestamp>.txt, nf-core's execution_trace_*.txt.
TRACE_NAME = re.compile(r".*trace.*\.(txt|tsv|csv)(\.gz)?$", re.IGNORECASE)


def find_traces(paths: Iterable[str | Path]) -> list[tuple[Path, bool]]:
    """(file, named on the command line) for every path: a file as it is, a folder's trace files recursively."""
    found: dict[Path, bool] = {}
    for given in paths:
        path = Path(given)
        if path.is_file():
            found.setdefault(path, True)
        elif path.is_dir():
            inside = sorted(p for p in path.rglob("*") if p.is_file() and TRACE_NAME.fullmatch(p.name))
            if not inside:
                raise SourceError(f"{path} holds no trace file (*trace*.txt, .tsv or .csv)")
            for p in inside:
                found.setdefault(p, False)
        else:
            raise SourceError(f"cannot read {path}: no such file or folder")
    unique: dict[Path, tuple[Path, bool]] = {}
    for path, named in found.items():  # the same file twice is read once
        unique.setdefault(path.resolve(), (path, named))
    return list(unique.values())


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_POD = re.compile(r"nf-[0-9a-f]{32}(-\d+)?")


def platform_hint(trace: TraceFile) -> Callable[[], str]:
    """A hint for the missing-platform message, from the executor's job ids (read only when needed)."""

    def hint() -> str:
        ids = [line.native_id for line in islice(trace.lines(UTC), 200) if getattr(line, "native_id", None)]
        if not ids:
            return ""
        if sum(bool(_UUID.fullmatch(i)) for i in ids) > len(ids) / 2:
            return "; its native ids look like AWS Batch job ids (--platform Batch?)"
        if sum(bool(_POD.fullmatch(i)) for i in ids) > len(ids) / 2:
            return "; its native ids look like Kubernetes pod names (--platform EKS?)"
        if all(i.isdigit() for i in ids):
            return (
                "; its native ids are numbers: a grid scheduler's job ids (OnPremHPC, ParallelCluster) or local process ids (EC2)"
            )
        return ""

    return hint


def _describe(paths: list[Path]) -> str:
    shown = ", ".join(str(p) for p in paths[:3])
    return shown + (f" (+{len(paths) - 3} more)" if len(paths) > 3 else "")


def ingest_nextflow(settings: Settings, paths: Iterable[str | Path], given: RunOptions | None = None) -> JobRun:
    """Load trace files (or folders of them) as launches and their tasks; every option is checked before anything is read."""
    given = given or RunOptions()
    found = find_traces(paths)
    if given.run_id and len(found) > 1:
        raise ConfigError(f"--run-id names one run, but {len(found)} trace files were given: set run_id in each one's sidecar")
    plans, skipped = [], []
    for path, named in found:
        try:
            trace = TraceFile(path)
        except SourceError:
            if named:
                raise
            skipped.append(path)  # a file in a folder that only looks like a trace by its name
            continue
        plans.append((trace, resolve(path, trace.label, given, platform_hint(trace))))
    if not plans:
        raise SourceError(f"no Nextflow trace among {_describe([p for p, _ in found])}")
    source = _describe([t.path for t, _ in plans])
    with job_run(settings.data_dir, "nextflow", source, settings=settings) as run:
        scans = [scan_run(trace, options, settings.pricing.onprem_cores_per_node) for trace, options in plans]
        _one_trace_per_run(scans)
        good = [s for s in scans if s.launch]
        loaded = load_runs(
            run,
            [s.launch for s in good],
            (row for s in good for row in task_rows(s, settings.currency)),
            [r for s in scans for r in s.rejected],
            source,
            settings.currency,
        )
        run.stats.notes += [s.note for s in scans]
        run.stats.notes.append(f"{loaded.tasks_written:,} task rows written to launch_tasks")
        if skipped:
            run.stats.notes.append(f"skipped {len(skipped)} file(s) named like traces that are not: {_describe(skipped)}")
        failure = _failure(scans, len(good) - loaded.runs_loaded - loaded.runs_unchanged)
        if failure:
            run.stats.outcome, run.stats.message = "failed", failure  # recorded as failed; the rest stays loaded
    print_summary(run)
    if failure:
        raise SourceError(failure)
    return run


def _one_trace_per_run(scans: list[RunScan]) -> None:
    owners: dict[str, str] = {}
    for scan in scans:
        if scan.run_id and scan.launch:
            if scan.run_id in owners:
                raise ConfigError(
                    f"run id {scan.run_id} is given to two traces ({owners[scan.run_id]}, {scan.trace.label}): "
                    "a launch is one trace; give each its own run_id"
                )
            owners[scan.run_id] = scan.trace.label


def _failure(scans: list[RunScan], invalid: int) -> str | None:
    """Why the command fails when a trace loaded nothing (every line rejected, no times...), else None."""
    unloaded = [s for s in scans if not s.launch]
    if not unloaded and invalid <= 0:
        return None
    what = f"nothing loaded from {unloaded[0].trace.label}: {unloaded[0].reason}" if unloaded else ""
    if len(unloaded) > 1:
        what += f" (and from {len(unloaded) - 1} more trace file(s))"
    if invalid > 0:
        what += ("; " if what else "nothing loaded from ") + f"{invalid} run(s) that failed the launch checks (see quarantine)"
    return what
