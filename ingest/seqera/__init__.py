"""Seqera Platform runs → ``launches`` (one per run, priced by Seqera) and ``launch_tasks`` (one row per task).

``python -m ingest seqera PATH...`` reads ``tw runs dump`` archives (``.tar.gz``, ``.tar.xz``), the folders
they were unpacked into, and the Platform API's JSON for a run (``records``); maps each run to a launch
item and its task rows (``mapping``); and loads them through ``ingest.workflow_runs.load_runs``, the
launches table's own checks, quarantine and idempotence: the same files twice change nothing, an updated
run replaces its launch, its resources and its tasks. Bill rows already tagged with a run's id
(``launch_billed_costs``: the ``unique_run_id`` resource label) are then matched to it.

A file (an archive, a JSON file, an unpacked dump's members) whose content digest (sha256), ``[seqera]``
settings and reading code (``records``, ``mapping``) are those it had when it was last loaded is not read
again: the warehouse already holds what it says. The digests live in the manifest (cursor ``seqera-files``),
so they are committed with the data; ``--full`` reads every file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from core.errors import SourceError
from core.settings import Settings
from ingest.billed_runs import match_runs
from ingest.seqera import mapping, records
from ingest.seqera.mapping import CURRENCY, RunTasks, map_run
from ingest.seqera.records import DUMP_MEMBERS, Input, find_inputs, read_input
from ingest.workflow_runs import Rejected, load_runs
from warehouse.runs import JobRun, job_run, print_summary

__all__ = ["ingest_seqera"]


SEEN_CURSOR = "seqera-files"


def ingest_seqera(settings: Settings, paths: list[str], quiet: bool = False, full: bool = False) -> JobRun:
    """Load the Seqera runs under ``paths``; a non-empty input of which nothing loads is an error.

    Files unchanged since they were loaded (same content digest, same ``[seqera]`` settings) are skipped
    unless ``full``.
    """
    inputs = find_inputs(paths)
    source = " ".join(paths) if len(paths) <= 3 else f"{paths[0]} and {len(paths) - 1} more paths"
    if not inputs:
        raise SourceError(
            f"no Seqera run records in {source}: expected tw runs dump archives (.tar.gz, .tar.xz), "
            "their unpacked folders or Platform API run JSON files"
        )
    with job_run(settings.data_dir, "seqera", source, settings=settings) as run:
        seen: dict = dict(run.writer.manifest.get("cursors", {}).get(SEEN_CURSOR) or {})
        inputs, keys, skipped = _changed_inputs(inputs, seen, _settings_digest(settings), full)
        if skipped:
            runs = sum(seen[file_id]["runs"] for file_id in skipped)
            run.stats.records_read += runs
            run.stats.records_unchanged += runs
            run.stats.notes.append(
                f"{len(skipped):,} file(s) unchanged since they were loaded, skipped ({runs:,} run(s)); --full reads them"
            )
        if not inputs:
            run.writer.set_cursor(SEEN_CURSOR, seen)
            if not quiet:
                print_summary(run)
            return run
        reader = _Reader(settings, keys)
        # load_runs writes the launches first, then reads the rejected records, then streams the tasks: the
        # launches generator collects both as it goes, so the runs' resources are never all in memory at once,
        # and each run's tasks wait as Arrow columns until they are handed over, run by run.
        loaded = load_runs(run, reader.launches(inputs), reader.handed_over(), reader.rejected, source, currency=CURRENCY)
        if reader.duplicates:
            run.stats.notes.append(f"{reader.duplicates:,} run(s) found twice: the latest state of each kept")
        if loaded.runs_loaded + loaded.runs_unchanged == 0:
            reasons = sorted(run.stats.reasons.items(), key=lambda kv: -kv[1])
            first = reasons[0][0] if reasons else "no run record found"
            raise SourceError(
                f"nothing loaded from {source}: {run.stats.records_read:,} record(s) read, "
                f"{run.stats.records_quarantined:,} quarantined; first reason: {first}"
            )
        run.stats.notes.append(
            f"{loaded.tasks_written:,} task row(s) written to launch_tasks; task rows of unchanged runs kept as they were"
        )
        seen.update(reader.read_files)
        run.writer.set_cursor(SEEN_CURSOR, seen)
        if loaded.runs_loaded:
            matched = match_runs(run.writer)  # bill rows tagged with these runs' ids, imported before them
            if matched:
                run.stats.notes.append(f"{matched:,} launch_billed_costs row(s) matched to their launch")
    if not quiet:
        print_summary(run)
    return run


def _settings_digest(settings: Settings) -> str:
    """The ``[seqera]`` settings and the reading and mapping code a file was loaded with: a change to either maps
    the same file differently, so the file is read again."""
    digest = hashlib.sha256(json.dumps(asdict(settings.seqera), sort_keys=True, default=str).encode())
    for module in (mapping, records):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:16]


def content_digest(item: Input) -> str:
    """sha256 of what an input holds: a file's bytes, or an unpacked dump's member names and bytes."""
    digest = hashlib.sha256()
    if item.kind != "folder":
        with open(item.path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()
    for name in DUMP_MEMBERS:
        member = item.path / name
        if member.is_file():
            digest.update(f"{name}\0{member.stat().st_size}\0".encode())
            digest.update(member.read_bytes())
    return digest.hexdigest()


def _changed_inputs(
    inputs: list[Input], seen: dict, settings_digest: str, full: bool
) -> tuple[list[Input], dict[Input, tuple[str, str]], list[str]]:
    """(the inputs to read, {input: (its id, its digest)}, the ids of the inputs unchanged since they were loaded)."""
    to_read, keys, skipped = [], {}, []
    for item in inputs:
        file_id, digest = str(item.path.resolve()), f"{content_digest(item)}:{settings_digest}"
        held = seen.get(file_id)
        if not full and held is not None and held.get("digest") == digest:
            skipped.append(file_id)
        else:
            to_read.append(item)
            keys[item] = (file_id, digest)
    return to_read, keys, skipped


class _Reader:
    """Reads the inputs into launch items (a generator), keeping each run's task rows and the rejected records."""

    def __init__(self, settings: Settings, keys: dict[Input, tuple[str, str]]) -> None:
        self.settings = settings
        self.keys = keys
        self.rejected: list[Rejected] = []
        self.tasks: dict[str, tuple[datetime | None, RunTasks]] = {}  # run id -> (latest time, its task rows)
        self.duplicates = 0
        self.read_files: dict[str, dict] = {}  # file id -> {digest, runs}: the files read, for the next load to skip

    def launches(self, inputs: list[Input]) -> Iterator[dict]:
        for item in inputs:
            records = 0
            for record in read_input(item):
                if isinstance(record, Rejected):
                    self.rejected.append(record)
                    continue
                records += 1
                mapped = map_run(record, self.settings.seqera)
                self.rejected += mapped.rejected
                if mapped.launch is None:
                    continue
                # The same run twice (an archive and its unpacked folder, two dumps of it): the launches pipeline
                # keeps the state with the latest time (the last line on a tie), so its tasks are the ones kept.
                run_id, when = mapped.launch["launch_id"], _latest(mapped.launch)
                if run_id in self.tasks:
                    self.duplicates += 1
                    if _earlier(when, self.tasks[run_id][0]):
                        continue
                self.tasks[run_id] = (when, mapped.tasks)
                yield mapped.launch
            if item in self.keys:
                file_id, digest = self.keys[item]
                self.read_files[file_id] = {"digest": digest, "runs": records}

    def handed_over(self) -> Iterator[dict]:
        """Every kept run's task rows, run by run, each run let go of once given: load_runs streams them."""
        while self.tasks:
            _, (_, tasks) = self.tasks.popitem()
            yield from tasks.rows()


def _latest(launch: dict) -> datetime | None:
    """The time the launches pipeline orders a run's states by: its end, else its start, else its submission."""
    times = launch["status_times"]
    text = times.get("COMPLETE") or times.get("FAILED") or times.get("RUNNING") or times.get("READY")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _earlier(when: datetime | None, than: datetime | None) -> bool:
    """``when`` is before ``than`` (no time counts as the earliest); a tie is not earlier: the last one read wins."""
    if than is None:
        return False
    return when is None or when < than
