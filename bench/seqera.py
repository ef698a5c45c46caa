"""``python -m ingest seqera`` at scale: 1,000 ``tw runs dump`` archives of 300 tasks each (300,000 task rows).

The archives are synthetic but in the real shape: every member is the committed real dump
(``tests/data/seqera/2VeeQznQdp3rxo.tar.gz``: workflow, metadata, load, launch, metrics, service info)
with its run id and times changed, and the tasks are the real task objects of that dump and of the real
nf-core/sarek run (``15dvxY1LnZYrYe.tar.gz``), renumbered, given new hashes, job ids, times, machine types and
costs (ten decimals, as Seqera writes them), with failed attempts and their retries, and cached tasks.
Members are pretty-printed the way tw writes them (Jackson: two-space indent, ``"key" : value``) and
gzipped at the default level. The ingest runs in a fresh process (``bench.__main__.measured``), which
reports its wall time and peak RSS; then again on the unchanged files (each skipped by its digest).

On that warehouse, the task view per process (the ``process_tasks`` named query, as the Seqera run and
task sections call it) is timed for one run (300 task rows) and for one workflow type (every run: 300,000
task rows), p50/p95 over repeats after one warm-up, beside the same answer from a plain pandas groupby over
the same task rows already in memory (read once, not timed), measured in the same run.

    python -m bench.seqera [WORK_DIR]     # prints the figures as JSON
"""

from __future__ import annotations

import io
import json
import random
import shutil
import sys
import tarfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT / "tests" / "data" / "seqera"
DUMP = REAL / "2VeeQznQdp3rxo.tar.gz"  # a real tw runs dump: the run template
SAREK = REAL / "15dvxY1LnZYrYe.tar.gz"  # a real API record of 16 sarek tasks: more task templates
RUNS, TASKS_PER_RUN = 1_000, 300
MEMBERS = ("service-info.json", "workflow.json", "workflow-metadata.json", "workflow-load.json", "workflow-launch.json")
MACHINES = (("m6i.2xlarge", 8), ("m6i.8xlarge", 32), ("r6i.4xlarge", 16), ("c6i.4xlarge", 16), ("r6i.8xlarge", 32))
ZONES = ("eu-west-1a", "eu-west-1b", "eu-west-1c")
START = datetime(2025, 1, 6, 8, 0, 0)


def _jackson(value) -> bytes:
    """JSON as tw writes it (Jackson's default pretty printer)."""
    return json.dumps(value, indent=2, separators=(",", " : ")).encode()


def _templates() -> tuple[dict[str, object], list[dict], list[dict]]:
    """The real dump's members (metrics kept as bytes) and the real task objects to copy."""
    members: dict[str, object] = {}
    with tarfile.open(DUMP) as tar:
        for m in tar:
            if m.isfile() and m.name in (*MEMBERS, "workflow-metrics.json", "workflow-tasks.json"):
                raw = tar.extractfile(m).read()
                members[m.name] = raw if m.name == "workflow-metrics.json" else json.loads(raw)
    with tarfile.open(SAREK) as tar:
        member = next(m for m in tar if m.isfile() and m.name.endswith(".json"))
        sarek = json.loads(tar.extractfile(member).read())
    dump_tasks = members.pop("workflow-tasks.json")
    return members, list(dump_tasks), [t["task"] for t in sarek["tasks"]]


def _run_id(rng: random.Random) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    return "".join(rng.choice(alphabet) for _ in range(14))


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _tasks(
    rng: random.Random, run_id: str, began: datetime, templates: list[dict], per_run: int = TASKS_PER_RUN
) -> tuple[list[dict], datetime]:
    tasks = []
    clock = began
    task_id = 0
    while len(tasks) < per_run:
        template = templates[len(tasks) % len(templates)]
        failed = rng.random() < 0.03 and len(tasks) < per_run - 1
        cached = not failed and rng.random() < 0.02
        for attempt in (1, 2) if failed else (1,):
            task_id += 1
            machine, cpus = rng.choice(MACHINES)
            submit = clock + timedelta(seconds=rng.randint(0, 30))
            start = submit + timedelta(seconds=rng.randint(20, 240))
            seconds = rng.randint(30, 5400)
            complete = start + timedelta(seconds=seconds)
            clock = submit + timedelta(seconds=rng.randint(5, 60))
            digest = uuid.UUID(int=rng.getrandbits(128)).hex
            task = dict(template)
            task.update(
                {
                    "taskId": task_id,
                    "id": rng.randint(900_000_000, 999_999_999),
                    "hash": f"{digest[:2]}/{digest[2:8]}",
                    "workdir": f"s3://nf-tower-bucket/scratch/{run_id}/{digest[:2]}/{digest[2:]}",
                    "nativeId": str(uuid.UUID(int=rng.getrandbits(128))),
                    "executor": "awsbatch",
                    "machineType": machine,
                    "cpus": rng.choice((1, 2, 4, cpus)),
                    "memory": rng.choice((2, 4, 8, 16, 32)) << 30,
                    "cloudZone": rng.choice(ZONES),
                    "priceModel": "spot" if rng.random() < 0.8 else "standard",
                    "cost": rng.randint(1, 5_000_000_000) / 1e10,  # ten decimals; written back as that decimal text
                    "submit": _iso(submit),
                    "start": _iso(start),
                    "complete": _iso(complete),
                    "dateCreated": _iso(submit),
                    "lastUpdated": _iso(complete),
                    "duration": (complete - submit) // timedelta(milliseconds=1),
                    "realtime": seconds * 1000,
                    "attempt": attempt,
                    "status": "FAILED" if failed and attempt == 1 else ("CACHED" if cached else "COMPLETED"),
                    "exitStatus": 137 if failed and attempt == 1 else 0,
                    "exit": 137 if failed and attempt == 1 else 0,
                }
            )
            tasks.append(task)
    return tasks[:per_run], clock


def generate(out: Path, runs: int = RUNS, seed: int = 11, tasks_per_run: int = TASKS_PER_RUN) -> Path:
    """Write ``runs`` synthetic dump archives under ``out`` (kept: a second call with the same count reuses them)."""
    marker = out / (f".complete-{runs}" if tasks_per_run == TASKS_PER_RUN else f".complete-{runs}x{tasks_per_run}")
    if marker.exists():
        return out
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    rng = random.Random(seed)
    members, dump_tasks, sarek_tasks = _templates()
    templates = dump_tasks + sarek_tasks
    for n in range(runs):
        run_id = _run_id(rng)
        submit = START + timedelta(hours=n * 8760 / runs, minutes=rng.randint(0, 50))
        start = submit + timedelta(seconds=rng.randint(30, 400))
        tasks, last = _tasks(rng, run_id, start + timedelta(seconds=5), templates, tasks_per_run)
        complete = last + timedelta(hours=1)
        workflow = dict(members["workflow.json"])
        workflow.update(
            {
                "id": run_id,
                "submit": _iso(submit),
                "start": _iso(start),
                "complete": _iso(complete),
                "dateCreated": _iso(submit),
                "lastUpdated": _iso(complete + timedelta(seconds=1)),
                "runName": f"bench_run_{n}",
                "sessionId": str(uuid.UUID(int=rng.getrandbits(128))),
                "workDir": f"s3://nf-tower-bucket/scratch/{run_id}",
                "userName": rng.choice(("florian-wuennemann", "edmund-miller", "oncology-bot", "rnaseq-team")),
                "status": "SUCCEEDED" if rng.random() < 0.9 else "FAILED",
            }
        )
        metadata = dict(members["workflow-metadata.json"], runUrl=f"https://cloud.seqera.io/orgs/community/watch/{run_id}")
        content = {
            "service-info.json": _jackson(members["service-info.json"]),
            "workflow.json": _jackson(workflow),
            "workflow-metadata.json": _jackson(metadata),
            "workflow-load.json": _jackson(members["workflow-load.json"]),
            "workflow-launch.json": _jackson(members["workflow-launch.json"]),
            "workflow-metrics.json": members["workflow-metrics.json"],
            "workflow-tasks.json": _jackson(tasks),
        }
        with tarfile.open(out / f"{run_id}.tar.gz", "w:gz", compresslevel=6) as tar:
            for name, data in content.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mtime = int(complete.replace(tzinfo=UTC).timestamp())
                tar.addfile(info, io.BytesIO(data))
    marker.touch()
    return out


def bench_seqera(work: Path, runs: int = RUNS, tasks_per_run: int = TASKS_PER_RUN, repeat: int = 20) -> dict:
    """Ingest 1,000 synthetic dumps of 300 tasks into an empty warehouse in a fresh process; then again (unchanged);
    then time the task view per process on that warehouse."""
    from bench.__main__ import measured

    folder = "seqera-dumps" if (runs, tasks_per_run) == (RUNS, TASKS_PER_RUN) else f"seqera-dumps-{runs}x{tasks_per_run}"
    source = generate(Path(work) / folder, runs, tasks_per_run=tasks_per_run)
    warehouse = Path(work) / "seqera-warehouse"
    shutil.rmtree(warehouse, ignore_errors=True)
    command = [sys.executable, "-m", "ingest", "seqera", str(source), "--data-dir", str(warehouse)]
    full = measured(command)
    again = measured(command)
    tasks = runs * tasks_per_run
    archives_mb = sum(f.stat().st_size for f in source.glob("*.tar.gz")) / 1e6
    return {
        "runs": runs,
        "tasks": tasks,
        "archives_mb_gzip": round(archives_mb, 1),
        "seconds": round(full["seconds"], 2),
        "runs_per_s": round(runs / full["seconds"], 1),
        "tasks_per_s": round(tasks / full["seconds"]),
        "peak_rss_mb": round(full["peak_rss_mb"]),
        "reingest_unchanged_seconds": round(again["seconds"], 2),
        "reingest_peak_rss_mb": round(again["peak_rss_mb"]),
        **bench_task_view(warehouse, repeat),
    }


def _pandas_process_tasks(rows) -> object:
    """The task view per process from task rows in memory: a plain pandas groupby (the baseline)."""
    grouped = rows.groupby("process", sort=True)
    return grouped.agg(
        tasks=("launch_id", "size"),
        launches=("launch_id", "nunique"),
        task_hours=("realtime_hours", "sum"),
        seqera_cost=("seqera_cost", "sum"),
        failed=("failed", "sum"),
        retried=("retried", "sum"),
    )


def bench_task_view(warehouse: Path, repeat: int = 20) -> dict:
    """``process_tasks`` for one run and for one workflow type (p50/p95 ms), against a pandas groupby of the same rows."""
    import queries
    from bench.__main__ import _timed
    from core.months import month_end
    from warehouse.store import connect

    con = connect(warehouse)
    try:
        first, last = con.execute("SELECT min(launch_month), max(launch_month) FROM launch_tasks").fetchone()
        filters = queries.Filters(first, month_end(last))
        launch_id, workflow_type = con.execute(
            """SELECT t.launch_id, l.workflow_type FROM launch_tasks t JOIN launches l USING (launch_id)
               GROUP BY ALL ORDER BY count(*) DESC, 1 LIMIT 1"""
        ).fetchone()
        rows = con.execute(  # the same task rows the query reads, in memory for pandas (read once, not timed)
            """SELECT t.launch_id, l.workflow_type, t.process, t.realtime_hours, t.seqera_cost,
                      t.status = 'FAILED' AS failed, t.attempt > 1 AS retried
               FROM launch_tasks t JOIN launches l USING (launch_id)"""
        ).df()
        one_run = lambda: queries.named.process_tasks(con, filters, launch_id=launch_id)  # noqa: E731
        one_type = lambda: queries.named.process_tasks(con, filters, workflow_type=workflow_type)  # noqa: E731
        run_tasks, type_tasks = int(one_run()["tasks"].sum()), int(one_type()["tasks"].sum())  # also the warm-up
        run_q, type_q = _timed(one_run, repeat), _timed(one_type, repeat)
        run_pd = _timed(lambda: _pandas_process_tasks(rows[rows["launch_id"] == launch_id]), repeat)
        type_pd = _timed(lambda: _pandas_process_tasks(rows[rows["workflow_type"] == workflow_type]), repeat)
    finally:
        con.close()
    return {
        "task_view_run_tasks": run_tasks,
        "task_view_run_p50_ms": run_q["p50_ms"],
        "task_view_run_p95_ms": run_q["p95_ms"],
        "task_view_type_tasks": type_tasks,
        "task_view_type_p50_ms": type_q["p50_ms"],
        "task_view_type_p95_ms": type_q["p95_ms"],
        "pandas_run_p50_ms": run_pd["p50_ms"],
        "pandas_type_p50_ms": type_pd["p50_ms"],
        "task_view_type_vs_pandas": round(type_q["p50_ms"] / type_pd["p50_ms"], 2) if type_pd["p50_ms"] else None,
    }


if __name__ == "__main__":
    print(json.dumps(bench_seqera(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/bench-seqera")), indent=1))
