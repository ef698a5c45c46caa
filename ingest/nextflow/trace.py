"""A Nextflow trace file, line by line: the header says which fields it holds, each line is one task attempt.

Any subset and order of the trace fields is read (``trace.fields``); unknown columns are ignored, and a
field written twice (``duration`` and ``duration:num`` both print as ``duration``) is read from its raw
copy, which is exact. Lines are read with the csv module, one at a time, so a trace of any size streams.
A line that has the wrong number of fields, or a value that does not parse, comes back as a ``Rejected``
naming the file, the line, the field, what was found and what was expected.

When the trace lacks ``start`` or ``complete`` (the default fields have neither), they are derived the
way Nextflow defines them: complete = submit + duration, start = complete - realtime (never before submit).
"""

from __future__ import annotations

import csv
import gzip
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from core.errors import SourceError
from ingest.nextflow import values
from ingest.workflow_runs import Rejected

# Every field Nextflow's TraceRecord can write (trace.fields); a header naming none of them is not a trace.
TRACE_FIELDS = frozenset(
    (
        "task_id hash native_id process module container tag name status exit submit start complete duration realtime "
        "%cpu %mem rss vmem peak_rss peak_vmem rchar wchar syscr syscw read_bytes write_bytes attempt workdir script "
        "scratch queue cpus memory disk time env error_action vol_ctxt inv_ctxt hostname cpu_model accelerator "
        "accelerator_type"
    ).split()
)
# A task's status as Nextflow writes it (CACHED: taken from the cache of an earlier run, -resume).
TASK_STATUSES = ("NEW", "SUBMITTED", "RUNNING", "COMPLETED", "FAILED", "ABORTED", "CACHED")
DONE_STATUSES = ("COMPLETED", "CACHED")

_TEXT = ("task_id", "hash", "native_id", "process", "tag", "name", "status", "queue")


@dataclass(frozen=True, slots=True)
class TraceLine:
    """One task attempt; times are epoch milliseconds (UTC), sizes bytes, durations milliseconds."""

    lineno: int
    task_id: str | None = None
    hash: str | None = None
    native_id: str | None = None
    process: str | None = None
    tag: str | None = None
    name: str | None = None
    status: str | None = None
    queue: str | None = None
    exit: int | None = None
    attempt: int | None = None
    cpus: int | None = None
    memory: int | None = None
    disk: int | None = None
    time: int | None = None
    submit: int | None = None
    start: int | None = None
    complete: int | None = None
    duration: int | None = None
    realtime: int | None = None
    cpu_percent: float | None = None
    peak_rss: int | None = None
    read_bytes: int | None = None
    write_bytes: int | None = None
    wchar: int | None = None  # every byte the task wrote (write_bytes: only those that reached a block device)

    @property
    def written(self) -> int | None:
        """Bytes the task wrote: wchar, else write_bytes."""
        return self.wchar if self.wchar is not None else self.write_bytes

    @property
    def task_name(self) -> str | None:
        """The task's name; without a ``name`` field, ``process (tag)`` as Nextflow names it."""
        if self.name:
            return self.name
        if self.process:
            return f"{self.process} ({self.tag})" if self.tag else self.process
        return None

    @property
    def process_name(self) -> str | None:
        """The process; without a ``process`` field, the name without its `` (tag)`` suffix."""
        if self.process:
            return self.process
        return re.sub(r"\s+\(.*\)$", "", self.name) if self.name else None

    @property
    def key(self) -> str:
        """What a retry shares with the attempt it retries: the task's name (else its hash, id or line)."""
        return self.task_name or self.hash or self.task_id or f"line {self.lineno}"

    @property
    def outcome(self) -> str | None:
        """The status, or without a ``status`` field, COMPLETED for exit 0 and FAILED for another exit."""
        if self.status:
            return self.status
        if self.exit is None:
            return None
        return "COMPLETED" if self.exit == 0 else "FAILED"

    @property
    def cached(self) -> bool:
        return self.status == "CACHED"

    @property
    def ran(self) -> bool:
        """It ran in this run: started, and not taken from the cache of an earlier one."""
        return not self.cached and self.start is not None


def _date(zone: tzinfo) -> Callable[[str], int]:
    return lambda text: values.parse_date_ms(text, zone)


def _status(text: str) -> str:
    status = text.strip().upper()
    if status not in TASK_STATUSES:
        raise ValueError("one of " + ", ".join(TASK_STATUSES))
    return status


def _parsers(zone: tzinfo) -> dict[str, tuple[Callable[[str], object], str]]:
    """Field -> (parser, what a good value looks like) for every field Launch Ledger reads."""
    date = (_date(zone), values.DATE_EXPECTED)
    duration = (values.parse_duration_ms, values.DURATION_EXPECTED)
    memory = (values.parse_memory_bytes, values.MEMORY_EXPECTED)
    integer = (values.parse_integer, values.INTEGER_EXPECTED)
    count = (values.parse_count, values.COUNT_EXPECTED)
    text = (str.strip, "text")
    return {
        **dict.fromkeys(_TEXT, text),
        "status": (_status, "one of " + ", ".join(TASK_STATUSES)),
        "exit": integer,
        **dict.fromkeys(("attempt", "cpus"), count),
        **dict.fromkeys(("memory", "disk", "peak_rss", "read_bytes", "write_bytes", "wchar"), memory),
        **dict.fromkeys(("time", "duration", "realtime"), duration),
        **dict.fromkeys(("submit", "start", "complete"), date),
        "%cpu": (values.parse_percent, values.PERCENT_EXPECTED),
    }


_ATTRIBUTE = {"%cpu": "cpu_percent"}
_FIELD_LIMIT = 64 << 20


class TraceFile:
    """An open trace file: its header, and its lines as ``TraceLine`` or ``Rejected``."""

    def __init__(self, path: Path, label: str | None = None):
        self.path = Path(path)
        self.label = label or str(path)
        header = self._header()
        if header is None:
            raise SourceError(f"{self.label} is empty: a Nextflow trace starts with a header line (task_id, hash, name, ...)")
        self.header_line, self.separator = header
        self.header = [name.strip() for name in self.header_line.split(self.separator)]
        self.columns: dict[str, list[int]] = {}
        for index, name in enumerate(self.header):
            if name in TRACE_FIELDS:
                self.columns.setdefault(name, []).append(index)
        if not self.columns:
            raise SourceError(
                f"{self.label} is not a Nextflow trace: its first line names none of the trace fields "
                "(task_id, hash, name, status, submit, realtime, ...); write one with nextflow run -with-trace"
            )

    def _open(self):
        if self.path.suffix == ".gz":
            return gzip.open(self.path, "rt", encoding="utf-8-sig", errors="replace", newline="")
        return open(self.path, encoding="utf-8-sig", errors="replace", newline="")

    def _header(self) -> tuple[str, str] | None:
        try:
            with self._open() as f:
                for line in f:
                    line = line.rstrip("\r\n")
                    if line.strip():
                        separator = "\t" if "\t" in line else "," if "," in line else ";" if ";" in line else "\t"
                        return line, separator
        except (OSError, EOFError, UnicodeError) as exc:
            raise SourceError(f"cannot read {self.label}: {getattr(exc, 'strerror', None) or exc}") from None
        return None

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(self.columns)

    def lines(self, zone: tzinfo) -> Iterator[TraceLine | Rejected]:
        """Every task line, parsed (or rejected with its reason), in file order."""
        parsers = {f: p for f, p in _parsers(zone).items() if f in self.columns}
        width = len(self.header)
        csv.field_size_limit(max(csv.field_size_limit(), _FIELD_LIMIT))  # script and env fields can be long
        with self._open() as f:
            rows = csv.reader(f, delimiter=self.separator, quoting=csv.QUOTE_NONE, strict=False)
            seen_header = False
            task_lines: dict[str, int] = {}  # task_id -> the line it was first read on
            for cells in rows:
                lineno = rows.line_num
                if not any(c.strip() for c in cells):
                    continue
                if not seen_header:
                    seen_header = True
                    continue
                raw = self.separator.join(cells)
                if len(cells) != width:
                    yield Rejected(
                        f"{self.label}:{lineno}",
                        None,
                        f"{self.label}: line {lineno} has {len(cells)} fields, expected {width} as in the header",
                        raw,
                    )
                    continue
                line = self._parse(cells, lineno, parsers, raw)
                if isinstance(line, TraceLine) and line.task_id is not None:
                    first = task_lines.setdefault(line.task_id, lineno)
                    if first != lineno:
                        what = f'task_id "{_shown(line.task_id)}" is on line {first} already: a task attempt is one line'
                        line = self._rejected(cells, lineno, what + "; this one is not loaded", raw)
                yield line

    def _parse(self, cells: list[str], lineno: int, parsers, raw: str) -> TraceLine | Rejected:
        found: dict[str, object] = {}
        for field, (parse, expected) in parsers.items():
            texts = [cells[i].strip() for i in self.columns[field]]
            texts = [t for t in texts if t and t != values.MISSING]
            if not texts:
                continue
            parsed = []
            for text in texts:
                try:
                    parsed.append((values.is_raw(text), parse(text)))
                except ValueError as exc:
                    return self._rejected(cells, lineno, f'{field} is "{_shown(text)}", expected {str(exc) or expected}', raw)
            raw_values = [v for is_raw, v in parsed if is_raw]  # the raw copy is exact: prefer it
            found[_ATTRIBUTE.get(field, field)] = raw_values[0] if raw_values else parsed[0][1]
        line = TraceLine(lineno, **found)
        disorder = _out_of_order(line)
        if disorder:
            return self._rejected(cells, lineno, disorder, raw)
        return _derive(line)

    def _rejected(self, cells: list[str], lineno: int, what: str, raw: str) -> Rejected:
        task = cells[self.columns["task_id"][0]].strip() if "task_id" in self.columns else None
        return Rejected(f"{self.label}:{lineno}", task or None, f"{self.label}: line {lineno}: {what}", raw)


def _shown(text: str, limit: int = 80) -> str:
    """A value as a reason shows it: control characters escaped, cut at ``limit`` characters."""
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[:limit])
    return shown + ("..." if len(text) > limit else "")


def _out_of_order(line: TraceLine) -> str | None:
    """Why the line's own submit, start and complete are not in that order (None when they are)."""
    given = [(f, getattr(line, f)) for f in ("submit", "start", "complete") if getattr(line, f) is not None]
    for (before, earlier), (after, later) in zip(given, given[1:], strict=False):
        if later < earlier:
            return f"{after} {_utc(later)} is before {before} {_utc(earlier)} (UTC): the times of a task are out of order"
    return None


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _derive(line: TraceLine) -> TraceLine:
    """Fill submit, start, complete and realtime the trace lacks from the ones it has (Nextflow's definitions)."""
    submit, start, complete = line.submit, line.start, line.complete
    if complete is None and submit is not None and line.duration is not None:
        complete = submit + line.duration
    if submit is None and complete is not None and line.duration is not None:
        submit = complete - line.duration
    if start is None and complete is not None and line.realtime is not None:
        start = complete - line.realtime
        if submit is not None:
            start = max(start, submit)  # human durations are rounded: never before the submit
    realtime = line.realtime
    if realtime is None and start is not None and complete is not None:
        realtime = max(complete - start, 0)
    if (submit, start, complete, realtime) == (line.submit, line.start, line.complete, line.realtime):
        return line
    return replace(line, submit=submit, start=start, complete=complete, realtime=realtime)
