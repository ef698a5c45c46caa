"""Hostile Nextflow trace lines, generated with hypothesis, through the real ``nextflow`` import.

A case is one generated trace line. Each example writes one trace file (a header with task_id, submit, realtime
and peak_rss and a random subset of the other standard fields, in a random order) whose lines are good (values
raw or in Nextflow's human forms, ``1h 2m 3s``, ``4.5 GB``, ``12.5%``, ``-`` for missing, unicode and control
characters in the text fields) or carry one defect: the wrong number of fields, a garbage duration, size,
percentage or status, a negative or huge number, a control character in a number, times out of order, a task_id
already used by an earlier line. It is imported once with ``ingest.nextflow.jobs.ingest_nextflow``. Every bad
line is in ``quarantine`` with a reason naming its line, its field and what was found; every good line is one
``launch_tasks`` row (count, task ids, and the realtime milliseconds and peak_rss bytes summed here); the import
never raises.
"""

from __future__ import annotations

import random
import tempfile
from dataclasses import dataclass
from dataclasses import field as default
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.settings import Settings
from ingest.nextflow.jobs import ingest_nextflow
from ingest.nextflow.options import RunOptions
from warehouse.store import connect

EXAMPLES = 10
LINES = 300  # 10 x 300 = 3,000 cases
ALWAYS = ["task_id", "submit", "realtime", "peak_rss"]
OPTIONAL = "hash native_id process tag name status exit attempt cpus memory disk time start complete duration %cpu queue"
OPTIONAL = OPTIONAL.split() + ["read_bytes", "write_bytes", "rss", "workdir"]
TEXT = ("hash", "native_id", "process", "tag", "name", "queue", "workdir")
DURATIONS, SIZES = ("realtime", "duration", "time"), ("peak_rss", "memory", "disk", "read_bytes", "write_bytes")
# rss and workdir are not read: garbage in them is no defect
# text may hold anything but the separator and line breaks (those make another field or line: the width defect)
JUNK = "aZ9_-é中文Ωж🧬\u0301\u200b\u00a0\x00\x07\x1b\x7f\ufeff\"\\'/{}[]:,;$ ()"
DEFECTS = {  # defect -> words its reason must hold (beside its line number)
    "width": "fields, expected",
    "duration": "expected a Nextflow duration",
    "size": "expected a Nextflow memory size",
    "percent": "expected a percentage",
    "status": "expected one of NEW",
    "negative": "not negative",
    "huge": "out of range",
    "control": 'is "',
    "order": "out of order",
    "duplicate": "is on line",
}
BAD_DURATIONS = ["12 parsecs", "1h 2x", "abc", "1.2.3s", "--5", "5 s s", "∞", "NaN", "1h-2m", "s", "1,5s"]
BAD_SIZES = ["4.5 QB", "lots", "1.5 B", "GB", "4,5 GB", "0x10", "1e3", "NaN"]
BAD_PERCENTS = ["97,5%", "abc%", "1.2.3", "%", "12%%", "0x10%"]
UNITS = ["B", "KB", "MB", "GB", "TB"]
T0 = 1_735_689_600_000  # 2025-01-01 UTC


@dataclass
class Line:
    values: dict[str, str]
    defect: str | None = None
    field: str | None = None  # the field the defect is in
    realtime_ms: int = 0
    peak_rss: int = 0
    cpus: int = 0
    extra: list[str] = default(default_factory=list)


def _text(rng: random.Random) -> str:
    return "a" + "".join(rng.choice(JUNK) for _ in range(rng.randint(0, 8))) + "z"


def _date(rng: random.Random, ms: int) -> str:
    if rng.random() < 0.5:
        return str(ms)
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.") + f"{ms % 1000:03d}"


def _duration(rng: random.Random, ms: int) -> str:
    if rng.random() < 0.4:
        return str(ms)
    parts, rest = [], ms
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    return (" " if rng.random() < 0.7 else "").join(parts) or "0ms"


def _size(rng: random.Random) -> tuple[str, int]:
    """A size as Nextflow prints it (one decimal, 1024-based) or raw bytes, and its bytes."""
    if rng.random() < 0.4:
        n = rng.randint(0, 2**40)
        return str(n), n
    power = rng.randrange(len(UNITS))
    if power == 0:
        n = rng.randint(0, 1023)
        return f"{n} B", n
    tenths = Decimal(rng.randint(0, 10239)) / 10
    return f"{tenths} {UNITS[power]}", int((tenths * 1024**power).quantize(Decimal(1), ROUND_HALF_UP))


def _good(rng: random.Random, n: int, header: list[str]) -> Line:
    submit = T0 + rng.randint(0, 300 * 86_400_000)
    start = submit + rng.randint(0, 3_600_000)
    realtime = rng.randint(0, 20 * 3_600_000)
    complete = start + realtime + rng.randint(0, 60_000)
    values = {"task_id": str(n), "submit": _date(rng, submit), "realtime": _duration(rng, realtime)}
    values["peak_rss"], peak = _size(rng)
    values |= {"start": _date(rng, start), "complete": _date(rng, complete), "duration": _duration(rng, complete - submit)}
    values |= {"time": _duration(rng, rng.randint(0, 48 * 3_600_000)), "%cpu": rng.choice(["12.5%", "400.0%", "98", "NaN%", "0"])}
    values |= {f: _text(rng) for f in TEXT}
    values |= {
        "status": rng.choice(["COMPLETED", "FAILED", "CACHED", "ABORTED", "completed"]),
        "exit": rng.choice(["0", "1", "-"]),
    }
    cpus = rng.randint(1, 64)
    values |= {"attempt": str(rng.randint(1, 4)), "cpus": str(cpus)}
    for f in ("memory", "disk", "read_bytes", "write_bytes", "rss"):
        values[f] = _size(rng)[0]
    for f in set(OPTIONAL) - {"start", "complete", "duration", "status", "cpus"}:
        if rng.random() < 0.1:
            values[f] = "-"
    if rng.random() < 0.1:
        values["peak_rss"], peak = "-", 0
    return Line(values, realtime_ms=realtime, peak_rss=peak, cpus=cpus if "cpus" in header else 0)


def _spoil(rng: random.Random, line: Line, defect: str, header: list[str], good: list[Line]) -> None:
    v = line.values
    present = lambda names: [f for f in names if f in header]  # noqa: E731
    if defect == "width":
        line.extra = ["-"] * rng.randint(1, 3) if rng.random() < 0.5 else []
        line.field = "drop" if not line.extra else None
    elif defect == "duration":
        line.field = rng.choice(present(DURATIONS))
        v[line.field] = rng.choice(BAD_DURATIONS)
    elif defect == "size":
        line.field = rng.choice(present(SIZES))
        v[line.field] = rng.choice(BAD_SIZES)
    elif defect == "percent" and "%cpu" in header:
        line.field, v["%cpu"] = "%cpu", rng.choice(BAD_PERCENTS)
    elif defect == "status" and "status" in header:
        line.field, v["status"] = "status", rng.choice(["DONE", "SUCCEEDED", "ok", "42", "RUNNING?"])
    elif defect == "negative":
        line.field = rng.choice(present(["realtime", "peak_rss", "cpus", "attempt", "%cpu", "duration"]))
        v[line.field] = rng.choice(["-5", "-1", "-0.5"]) + ("%" if line.field == "%cpu" and rng.random() < 0.5 else "")
        if v[line.field] == "-0.5" and line.field not in ("%cpu",):
            v[line.field] = "-7"
    elif defect == "huge":
        line.field = rng.choice(present(["realtime", "peak_rss", "%cpu", "cpus", "submit", "duration", "memory"]))
        v[line.field] = {"%cpu": rng.choice(["1e999", "1e7%", "99999999"]), "cpus": "99999999999", "submit": "4102444800000"}.get(
            line.field, rng.choice(["9" * 30, "99999999999999999999", "99999999999 GB" if line.field in SIZES else "9999999999d"])
        )
    elif defect == "control":
        line.field = rng.choice(present(["realtime", "peak_rss", "submit"]))
        v[line.field] = rng.choice(["12\x00s", "4\x07 GB", "\x1b[31m5", "1\x7f0"])
    elif defect == "order" and ("start" in header or "complete" in header):
        line.field = "start" if "start" in header else "complete"
        v[line.field] = _date(rng, T0 - rng.randint(1, 10**9))  # before its submit
    elif defect == "duplicate" and good:
        line.field, v["task_id"] = "task_id", rng.choice(good).values["task_id"]
    else:
        return spoil_fallback(line)
    line.defect = defect


def spoil_fallback(line: Line) -> None:
    line.field, line.values["realtime"], line.defect = "realtime", "lots", "duration"


def generate(seed: int) -> tuple[list[str], list[Line]]:
    rng = random.Random(seed)
    header = ALWAYS + rng.sample(OPTIONAL, rng.randint(0, len(OPTIONAL)))
    rng.shuffle(header)
    lines: list[Line] = []
    for n in range(1, LINES + 1):
        line = _good(rng, n, header)
        defect = rng.choice([None] * 12 + list(DEFECTS))
        if defect:
            _spoil(rng, line, defect, header, [x for x in lines if x.defect is None])
        lines.append(line)
    return header, lines


def write_trace(path: Path, header: list[str], lines: list[Line]) -> None:
    out = ["\t".join(header)]
    for line in lines:
        cells = [line.values[f] for f in header] + line.extra
        out.append("\t".join(cells[:-1] if line.field == "drop" else cells))
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


class _Trace:  # hypothesis prints the example: keep it short
    def __init__(self, seed: int):
        self.seed = seed
        self.header, self.lines = generate(seed)

    def __repr__(self):
        return f"<trace of {len(self.lines)} lines, {len(self.header)} fields, seed {self.seed}>"


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.integers(0, 2**40).map(_Trace))
def test_every_hostile_trace_line_loads_exactly_or_is_quarantined_naming_its_defect(trace):
    good = [x for x in trace.lines if x.defect is None]
    bad = {n: x for n, x in enumerate(trace.lines, 2) if x.defect is not None}  # line 1 is the header
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "execution_trace.txt"
        write_trace(path, trace.header, trace.lines)
        options = RunOptions(consumer="oncology-research", workflow_type="nf-core/rnaseq", platform="Batch")
        ingest_nextflow(Settings(data_dir=Path(tmp) / "data"), [path], options)
        con = connect(Path(tmp) / "data")
        tasks = con.execute("SELECT task_id, realtime_hours, peak_rss_gb, cpus FROM launch_tasks").fetchall()
        reasons = [r for (r,) in con.execute("SELECT reason FROM quarantine").fetchall()]
    assert sorted(t[0] for t in tasks) == sorted(x.values["task_id"] for x in good), trace
    assert sum(round(t[1] * 3_600_000) for t in tasks) == sum(x.realtime_ms for x in good)
    assert sum(round(t[2] * 2**30) for t in tasks if t[2] is not None) == sum(x.peak_rss for x in good)
    assert sum(t[3] or 0 for t in tasks) == sum(x.cpus for x in good)
    assert len(reasons) == len(bad), (len(reasons), len(bad), reasons[:3])
    for n, x in bad.items():
        mine = [r for r in reasons if f": line {n}: " in r or f": line {n} has " in r]
        assert len(mine) == 1, (n, x.defect, x.values.get(x.field or ""), mine)
        assert DEFECTS[x.defect] in mine[0], (x.defect, mine[0])
        if x.field and x.field != "drop" and x.defect != "width":
            assert x.field in mine[0], (x.field, mine[0])


def test_the_generator_reaches_every_defect():
    """The property above is not vacuous: good lines and every defect are drawn."""
    seen = set()
    for seed in range(4):
        seen |= {x.defect for x in generate(seed)[1]}
    assert seen == {None, *DEFECTS}, seen ^ {None, *DEFECTS}
