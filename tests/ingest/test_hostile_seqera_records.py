"""Hostile Seqera Platform records, generated with hypothesis, through the real ``seqera`` import.

A case is one generated record: a task of a run (good: costs with up to ten decimals, times with ``Z`` or an
offset, unicode names, COMPLETED, FAILED and CACHED; or with one defect: not an object, no taskId or one of the
wrong JSON type, a cost that is not a number, NaN or Infinity, a negative or huge cost or size, a garbage or
out-of-range date, times out of order, an unknown status), or a whole run record that cannot load (a JSON file
that is not JSON, an archive cut short, a dump whose tasks member is not JSON, an unknown run status, no run id).
Each example writes its runs as Platform API JSON files and ``tw runs dump`` archives into one folder and imports
it once with ``ingest.seqera.ingest_seqera``. Every bad record is in ``quarantine`` with a reason naming its
defect; every good task is one ``launch_tasks`` row; each run's ``total_cost`` is Seqera's own cost summed here
with Decimal over its good tasks that ran; the import never raises.
"""

from __future__ import annotations

import io
import json
import random
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.settings import Settings
from ingest.seqera import ingest_seqera
from warehouse.store import connect

EXAMPLES = 10
RUNS, TASKS = 6, 40  # 10 x (6 x 40 tasks + 6 runs) = 2,460 cases
MICRO = Decimal("0.000001")
JUNK = "aZ9_-é中文Ωж🧬\u0301\u200b\u00a0\t\n\x00\x07\x1b\x7f\ufeff\"\\'/{}[]:,"
TASK_DEFECTS = {  # defect -> words its reason must hold
    "not-object": "is not a task object",
    "no-id": "has no taskId",
    "id-type": "taskId that is not a number or text",
    "cost": "cost that is not a number",
    "nan": "not a finite number",
    "negative": "has a negative",
    "huge": "trillion or more",
    "size": "out of range",
    "date": "time",
    "old-date": "outside 2000..2099",
    "order": "out of order",
    "status": "status",
}
RUN_DEFECTS = {
    "not-json": "is not JSON",
    "cut": "cut short",
    "member": "is not JSON",
    "run-status": "unknown Seqera run status",
    "no-run-id": "has no run id",
}


@dataclass
class Task:
    value: object
    defect: str | None = None
    cost: Decimal | None = None
    ran: bool = True  # not CACHED


def _iso(rng: random.Random, day: int, hour: int, minute: int) -> str:
    """A UTC time as Seqera may write it: with Z, no offset (UTC), or in another offset."""
    moment = datetime(2025, 4, day, hour, minute, rng.randint(0, 59), rng.choice([0, 250_000]), tzinfo=UTC)
    offset = rng.choice([None, "Z", timedelta(0), timedelta(hours=2), timedelta(hours=-5, minutes=-30)])
    if offset is None:
        return moment.replace(tzinfo=None).isoformat()
    if offset == "Z":
        return moment.replace(tzinfo=None).isoformat() + "Z"
    return moment.astimezone(timezone(offset)).isoformat()


def _task(rng: random.Random, n: int, defect: str | None) -> Task:
    cost = Decimal(rng.randint(0, 10**13)).scaleb(-rng.randint(4, 10))  # up to $1e9 a task: a run's sum fits DECIMAL(18,6)
    status = rng.choice(["COMPLETED", "FAILED", "CACHED", "completed", "ABORTED"])
    name = "".join(rng.choice(JUNK) for _ in range(rng.randint(0, 12)))
    value: dict = {
        "taskId": n if rng.random() < 0.7 else str(n),
        "hash": f"ab/{n:06x}",
        "name": f"FASTQC ({name})",
        "process": "NFCORE:FASTQC",
        "status": status,
        "executor": "awsbatch",
        "machineType": "m5.large",
        "cloudZone": "us-east-1a",
        "priceModel": rng.choice(["spot", "standard"]),
        "cost": cost,
        "submit": _iso(rng, 3, 8, 0),
        "start": _iso(rng, 3, 9, 0),  # at least 30 min after any submit, whatever the offsets
        "complete": _iso(rng, 3, 23, 0),
        "realtime": rng.randint(0, 10**8),
        "memory": rng.randint(0, 2**40),
        "peakRss": rng.choice([rng.randint(0, 2**36), None]),
        "cpus": rng.randint(1, 16),
    }
    task = Task(value, None, cost, status.upper() != "CACHED")
    if defect is None:
        return task
    task.defect = defect
    if defect == "not-object":
        task.value = rng.choice([[1, 2], "a task", 42, None, True])
    elif defect == "no-id":
        value["taskId"] = rng.choice([None, "", "  ", False]) if rng.random() < 0.8 else value.pop("taskId") and None
        value.pop("taskId", None) if value.get("taskId") is None and rng.random() < 0.5 else None
    elif defect == "id-type":
        value["taskId"] = rng.choice([{"id": n}, [n]])
    elif defect == "cost":
        value["cost"] = rng.choice(["n/a", "12,5", "ten", [1], {"usd": 1}, True, "1.2.3"])
    elif defect == "nan":
        value["cost"] = rng.choice([float("nan"), float("inf"), float("-inf"), "NaN", "Infinity"])
    elif defect == "negative":
        key = rng.choice(["cost", "memory", "realtime", "cpus", "peakRss"])
        value[key] = -rng.randint(1, 10**6) if key != "cost" else -cost - Decimal("0.000001")
    elif defect == "huge":
        value["cost"] = rng.choice([Decimal("1e15"), Decimal("-2e12"), Decimal("999999999999.9999999")])
    elif defect == "size":
        key = rng.choice(["memory", "realtime", "cpus", "attempt", "readBytes"])
        value[key] = rng.choice([10**30, 2**63, 2**40 if key in ("cpus", "attempt") else 10**19])
    elif defect == "date":
        value[rng.choice(["submit", "start", "complete"])] = rng.choice(
            ["yesterday", "2025-02-30T00:00:00Z", 1743670800, "3/4/2025"]
        )
    elif defect == "old-date":
        value["submit"] = rng.choice(["1970-01-01T00:00:00Z", "2150-01-01T00:00:00Z", "0001-01-01T00:00:00"])
        value["start"] = value["complete"] = value["submit"]
    elif defect == "order":
        value["complete"] = _iso(rng, 2, 12, 0)  # the day before its start
    elif defect == "status":
        value["status"] = rng.choice(["DONE", "SUCCEEDED", "ok", 5, None, ""])
    return task


@dataclass
class Run:
    run_id: str
    tasks: list[Task]
    defect: str | None  # a defect of the whole record: none of its tasks load
    form: str  # api or dump


def generate(seed: int) -> list[Run]:
    rng = random.Random(seed)
    runs = []
    for r in range(RUNS):
        tasks = [_task(rng, n, rng.choice([None] * 10 + list(TASK_DEFECTS))) for n in range(1, TASKS + 1)]
        defect = rng.choice([None] * 3 + list(RUN_DEFECTS))
        form = "dump" if defect in ("cut", "member") else "api" if defect == "not-json" else rng.choice(["api", "dump"])
        runs.append(Run(f"{seed % 997}run{r}{rng.choice(['', 'é', '-x'])}", tasks, defect, form))
    runs[0].defect = None  # one run loads at least (a folder of which nothing loads is an error, tested elsewhere)
    runs[0].form = rng.choice(["api", "dump"])
    return runs


def _dumps(value) -> str:
    """JSON with exact decimals: each Decimal written as the number it is."""
    marks: dict[str, str] = {}

    def mark(obj):
        if isinstance(obj, Decimal):
            key = f"@@{len(marks)}@@"
            marks[key] = format(obj, "f") if obj == obj.to_integral_value() or obj.adjusted() > -7 else str(obj)
            return key
        raise TypeError(type(obj).__name__)

    text = json.dumps(value, default=mark, ensure_ascii=False)
    for key, number in marks.items():
        text = text.replace(f'"{key}"', number)
    return text


def _workflow(rng: random.Random, run: Run) -> dict:
    wf = {
        "id": run.run_id,
        "status": "SUCCEEDED",
        "projectName": "nf-core/rnaseq",
        "userName": "oncology-research",
        "submit": "2025-04-03T07:00:00Z",
        "start": "2025-04-03T07:05:00Z",
        "complete": "2025-04-04T03:00:00Z",
    }
    if run.defect == "run-status":
        wf["status"] = rng.choice(["DONE", "succeeded!", 3, None])
    elif run.defect == "no-run-id":
        wf["id"] = rng.choice([None, "", 42.5, ["x"]]) if rng.random() < 0.7 else wf.pop("id") and None
    return wf


def write_runs(folder: Path, runs: list[Run], seed: int) -> None:
    rng = random.Random(seed)
    for k, run in enumerate(runs):
        wf, tasks = _workflow(rng, run), [t.value for t in run.tasks]
        if run.form == "api":
            text = _dumps({"workflow": wf, "tasks": [{"task": t} for t in tasks], "progress": {}})
            if run.defect == "not-json":
                text = text[: len(text) // 2]
            (folder / f"run-{k}.json").write_text(text, encoding="utf-8")
            continue
        members = [("workflow-tasks.json", _dumps(tasks)), ("workflow.json", _dumps(wf))]
        if run.defect == "member":
            members[0] = ("workflow-tasks.json", _dumps(tasks)[:-7] + "\x00 oops")
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            for name, text in members:
                data = text.encode("utf-8")
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        data = buffer.getvalue()
        (folder / f"run-{k}.tar.gz").write_bytes(data[: len(data) // 2] if run.defect == "cut" else data)


class _Runs:  # hypothesis prints the example: keep it short
    def __init__(self, seed: int):
        self.seed, self.runs = seed, generate(seed)

    def __repr__(self):
        return f"<{len(self.runs)} Seqera runs, seed {self.seed}>"


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.integers(0, 2**40).map(_Runs))
def test_every_hostile_seqera_record_loads_exactly_or_is_quarantined_naming_its_defect(example):
    runs = example.runs
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "runs"
        folder.mkdir()
        write_runs(folder, runs, example.seed)
        ingest_seqera(Settings(data_dir=Path(tmp) / "data"), [str(folder)], quiet=True)
        con = connect(Path(tmp) / "data")
        totals = dict(con.execute("SELECT launch_id, total_cost FROM launches").fetchall())
        tasks = con.execute("SELECT launch_id, task_id, seqera_cost FROM launch_tasks").fetchall()
        reasons = [r for (r,) in con.execute("SELECT reason FROM quarantine").fetchall()]
    loaded = [r for r in runs if r.defect is None]
    assert set(totals) == {r.run_id for r in loaded}, example
    for run in loaded:
        good = [t for t in run.tasks if t.defect is None]
        spent = sum((t.cost for t in good if t.ran), Decimal(0))
        assert totals[run.run_id] == spent.quantize(MICRO, ROUND_HALF_UP), run.run_id
        mine = [(task_id, cost) for launch, task_id, cost in tasks if launch == run.run_id]
        assert sorted(i for i, _ in mine) == sorted(str(t.value["taskId"]) for t in good)
        assert sum(c for _, c in mine) == sum(t.cost.quantize(MICRO, ROUND_HALF_UP) for t in good)
    assert len(tasks) == sum(t.defect is None for r in loaded for t in r.tasks)
    bad_tasks = [t for r in loaded for t in r.tasks if t.defect]
    bad_runs = [r for r in runs if r.defect]
    assert len(reasons) == len(bad_tasks) + len(bad_runs), (len(reasons), len(bad_tasks), len(bad_runs))
    for defect, words in {**TASK_DEFECTS, **RUN_DEFECTS}.items():
        expected = sum(t.defect == defect for t in bad_tasks) + sum(r.defect == defect for r in bad_runs)
        assert sum(words in reason for reason in reasons) >= expected, (defect, words, reasons[:4])
    for reason in reasons:
        assert "the task is not loaded" in reason or any(w in reason for w in RUN_DEFECTS.values()), reason


def test_the_generator_reaches_every_defect():
    """The property above is not vacuous: good tasks and runs, every task defect and every run defect are drawn."""
    tasks, runs = set(), set()
    for seed in range(8):
        for run in generate(seed):
            runs.add(run.defect)
            tasks |= {t.defect for t in run.tasks}
    assert tasks == {None, *TASK_DEFECTS} and runs == {None, *RUN_DEFECTS}, (tasks, runs)
