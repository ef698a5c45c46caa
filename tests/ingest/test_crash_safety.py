"""kill -9 an ingest at named points of every phase; the warehouse stays whole and the next run cleans up.

Each case copies a warehouse that holds export A, starts ``python -m ingest dynamodb-export B --full``
(or ``demo``) with ``LAUNCH_LEDGER_CRASH_AT=<point>:<n>`` (``core.crash``: the process SIGKILLs itself
the n-th time it reaches the point, as ``kill -9`` would: no ``finally``, no cleanup), then checks:

* every named query of the dashboard runs on what is left, and Overview shows the last committed
  version (A before the manifest swap, B after it): never a mix, never an error;
* a rerun ends with exactly B's records: count and Decimal sum of ``totalCost``, computed here from
  the export files with gzip and json alone;
* the rerun removed the killed run's staging directory (``.tmp-<run id>``) and the files it never
  committed, and recorded it in ``job_runs`` with outcome ``died`` (a run killed after its swap had
  committed: its row says succeeded);
* the warehouse then takes as many bytes as a fresh one that went through the same committed loads
  (within 10%), and as a fresh load of B alone (within 10%).

Named points rather than timed kills: each case is the same on every run and every machine, and the
points are where a kill changes what is on disk (between the statements that write it).
The cases run two at a time (this machine has two cores); the tests then read their results.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

import queries
from core.crash import CRASH_ENV
from ingest import demo
from queries.filters import Filters
from warehouse.store import STAGING_PREFIX, TABLES, connect, live_files, read_manifest

ROOT = Path(__file__).resolve().parents[2]
LAUNCHES, SEED, END = 1200, 5, date(2026, 10, 31)
CHANGED_MONTH = "2026-10"  # B reprices A's launches of this month and adds new ones in it
EVERYTHING = Filters(date(2020, 1, 1), date(2030, 12, 31))
# the named queries the pages run (Overview, Trends, Timing, Instance types, Platforms, Reconciliation, Data health)
PAGE_QUERIES = (
    "filter_options",
    "overview",
    "monthly_spend_by_consumer",
    "monthly_cost_per_launch",
    "timing",
    "timing_by_platform",
    "instance_types",
    "spot_vs_on_demand",
    "platforms",
    "reconciliation",
    "bill_lines",
    "statement_months",
    "job_runs",
    "pending_prices",
    "quarantine_reasons",
    "quarantined_records",
)
AFTER_SWAP = {"commit.swapped", "commit.catalog", "commit.collected", "exit.begin"}  # B is committed when these are hit

# (phase, kill points in order: one per killed run, "point:n"); each case then reruns until one run succeeds
EXPORT_CASES = [
    ("extract", ["extract.listed"]),
    ("validate", ["validate.file:1"]),
    ("validate", ["validate.file:3"]),
    ("validate", ["validate.file:5"]),
    ("validate", ["write.files:1"]),  # launches of the batch staged
    ("validate", ["write.files:2"]),  # and its resources
    ("validate", ["validate.staged"]),
    ("write", ["write.files:3"]),  # quarantine written
    ("write", ["write.merged"]),
    ("write", ["write.files:4"]),  # the run's job_runs row written
    ("commit", ["commit.begin"]),
    ("commit", ["commit.rolled-up"]),
    ("commit", ["commit.prev-saved"]),
    ("commit", ["commit.swapped"]),
    ("commit", ["commit.catalog"]),
    ("commit", ["commit.collected"]),
    ("commit", ["exit.begin"]),
    ("validate, then the recovery run in commit", ["write.files:2", "commit.prev-saved"]),
    ("write, then the recovery run after its swap", ["validate.staged", "exit.begin"]),
]
DEMO_CASES = [("demo: the cost-explorer job's write", ["write.files:6"])]  # after the demo's export job committed


def _export_items(export_dir: Path) -> list[dict]:
    """The good items of an export (every data file but the demo's deliberately bad one), gzip + json only."""
    items = []
    for path in sorted(export_dir.rglob("data/*.json.gz")):
        if path.name != demo.BAD_ITEMS_FILE:
            items += [json.loads(line)["Item"] for line in gzip.decompress(path.read_bytes()).decode().splitlines()]
    return items


def _figures(export_dir: Path) -> tuple[int, Decimal]:
    items = _export_items(export_dir)
    return len(items), sum((Decimal(i["totalCost"]["S"]) for i in items if "totalCost" in i), Decimal(0))


def _make_b(a_dir: Path, b_dir: Path) -> None:
    """B: A with its launches of CHANGED_MONTH repriced (+1.0000 on instance and total) and one new launch in ten."""
    shutil.copytree(a_dir, b_dir)
    for path in sorted(b_dir.rglob("data/*.json.gz")):
        if path.name == demo.BAD_ITEMS_FILE:
            continue
        out = []
        for line in gzip.decompress(path.read_bytes()).decode().splitlines():
            item = json.loads(line)["Item"]
            out.append(item)
            started = item["status_times"]["M"].get("PREPARING", {}).get("S", "")
            if not started.startswith(CHANGED_MONTH) or "totalCost" not in item or "instance_cost" not in item:
                continue
            new = json.loads(json.dumps(item))
            new["launch_id"] = {"S": item["launch_id"]["S"] + "-b"}
            for key in ("totalCost", "instance_cost"):
                item[key] = {"S": str(Decimal(item[key]["S"]) + Decimal("1.0000"))}
            if len(out) % 10 == 0:
                out.append(new)
        path.write_bytes(gzip.compress("".join(json.dumps({"Item": i}) + "\n" for i in out).encode()))


def _ingest(data: Path, *args: str, crash: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAUNCH_LEDGER_")}
    if crash:
        env[CRASH_ENV] = crash
    return subprocess.run(
        [sys.executable, "-m", "ingest", *args, "--data-dir", str(data)], cwd=ROOT, env=env, capture_output=True, text=True
    )


def _disk_bytes(data: Path) -> int:
    """Bytes of every file of the warehouse: its folder (staging and scan areas included) and the DuckDB catalog."""
    files = [*(data / "warehouse").rglob("*"), *data.glob("*warehouse.duckdb*")]
    return sum(f.stat().st_size for f in files if f.is_file())


def _staging(data: Path) -> set[str]:
    return {p.name[len(STAGING_PREFIX) :] for p in (data / "warehouse").glob(f"{STAGING_PREFIX}*")}


def _dashboard_figures(data: Path, every_page: bool = False) -> tuple[int, Decimal, Decimal]:
    """Overview's launches and spend, and the spend priced by the items; ``every_page``: first run the pages' queries."""
    con = connect(data)
    for name in PAGE_QUERIES if every_page else ():
        queries.REGISTRY[name].call(con, EVERYTHING, date(2026, 10, 1))  # raises on any error
    current = queries.REGISTRY["overview"].call(con, EVERYTHING).loc["current"]
    item_spend = con.execute("SELECT coalesce(sum(total_cost), 0) FROM launches WHERE price_source = 'item'").fetchone()[0]
    return int(current["launches"]), Decimal(current["total_spend"]), item_spend


@dataclass
class Case:
    phase: str
    points: list[str]
    command: str  # "export" or "demo"
    killed: list[str] = field(default_factory=list)  # run ids of the killed runs, in order
    codes: list[int] = field(default_factory=list)  # return codes of the killed runs
    left_after_kill: list[int] = field(default_factory=list)  # bytes of staging left by each kill
    after_kill: tuple | None = None  # the dashboard's figures after the last kill
    rerun_code: int | None = None
    rerun_out: str = ""
    after_rerun: tuple | None = None
    staging_after_rerun: set[str] = field(default_factory=set)
    leftover_files: list[str] = field(default_factory=list)  # files under <table>/<killed run id>/ after the rerun
    runs: dict = field(default_factory=dict)  # job_runs: run_id -> (outcome, message)
    bytes_after: int = 0

    @property
    def swapped(self) -> bool:
        return any(p.split(":")[0] in AFTER_SWAP for p in self.points)


def _run_case(case: Case, work: Path, start: Path, b_dir: Path, demo_args: list[str]) -> Case:
    data = work / "data"
    args = demo_args if case.command == "demo" else ["dynamodb-export", str(b_dir), "--full"]
    if case.command == "export":
        shutil.copytree(start, data)
    for point in case.points:
        before = _staging(data) if data.exists() else set()
        killed = _ingest(data, *args, crash=point if ":" in point else f"{point}:1")
        assert killed.returncode == -signal.SIGKILL, f"{point}: exit {killed.returncode}: {killed.stderr[-2000:]}"
        case.codes.append(killed.returncode)
        (run_id,) = _staging(data) - before  # the kill left its staging directory, as in the issue
        case.killed.append(run_id)
        case.left_after_kill.append(_disk_bytes(data))
    case.after_kill = _dashboard_figures(data, every_page=True)
    rerun = _ingest(data, *args)
    case.rerun_code, case.rerun_out = rerun.returncode, rerun.stdout + rerun.stderr
    case.after_rerun = _dashboard_figures(data)
    case.staging_after_rerun = _staging(data)
    live = live_files(data / "warehouse", read_manifest(data))
    case.leftover_files = [  # what a killed run wrote that no manifest names
        rel
        for t in TABLES
        for r in case.killed
        for f in (data / "warehouse" / t / r).rglob("*")
        if f.is_file() and (rel := str(f.relative_to(data / "warehouse"))) not in live
    ]
    con = connect(data)
    case.runs = {r: (o, m) for r, o, m in con.execute("SELECT run_id, outcome, message FROM job_runs").fetchall()}
    case.bytes_after = _disk_bytes(data)
    return case


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Sources A and B, a warehouse holding A, fresh references, and every case run (two at a time)."""
    base = tmp_path_factory.mktemp("crash")
    a_dir = demo.generate(base / "src-a", launches=LAUNCHES, seed=SEED, end_date=END).export_dir
    b_dir = base / "src-b" / "dynamodb-export"
    _make_b(a_dir, b_dir)
    start = base / "start"
    assert _ingest(start, "dynamodb-export", str(a_dir)).returncode == 0
    demo_args = ["demo", "--launches", str(LAUNCHES), "--seed", str(SEED), "--end-date", END.isoformat()]
    references = {
        "A, B": (base / "ref-ab", [["dynamodb-export", str(a_dir)], ["dynamodb-export", str(b_dir), "--full"]]),
        "B": (base / "ref-b", [["dynamodb-export", str(b_dir)]]),
        "demo": (base / "ref-demo", [demo_args]),
    }
    cases = [Case(phase, points, "export") for phase, points in EXPORT_CASES] + [
        Case(phase, points, "demo") for phase, points in DEMO_CASES
    ]

    def build(reference):
        data, runs = reference
        for args in runs:
            assert _ingest(data, *args).returncode == 0
        return _disk_bytes(data)

    with ThreadPoolExecutor(max_workers=2) as pool:
        sizes = dict(zip(references, pool.map(build, references.values()), strict=True))
        shutil.copytree(base / "ref-ab", base / "ref-abb")
        sizes["A, B, B"] = build((base / "ref-abb", [["dynamodb-export", str(b_dir), "--full"]]))
        done = list(pool.map(lambda nc: _run_case(nc[1], base / f"case-{nc[0]:02d}", start, b_dir, demo_args), enumerate(cases)))
    return {
        "a": _figures(a_dir),
        "b": _figures(b_dir),
        "start_bytes": _disk_bytes(start),
        "sizes": sizes,
        "cases": {f"{c.command}-{'+'.join(c.points)}": c for c in done},
    }


CASE_IDS = [f"export-{'+'.join(p)}" for _, p in EXPORT_CASES] + [f"demo-{'+'.join(p)}" for _, p in DEMO_CASES]


def test_the_cases_kill_at_least_twenty_times_in_every_phase(world):
    cases = world["cases"].values()
    kills = sum(len(c.codes) for c in cases)
    phases = {phase.split(",")[0].split(":")[0] for phase, _ in EXPORT_CASES}
    assert kills >= 20 and {"extract", "validate", "write", "commit"} <= phases
    assert all(code == -signal.SIGKILL for c in cases for code in c.codes)  # each killed itself where it was told
    a, b = world["a"], world["b"]
    assert a[0] == LAUNCHES and b[0] > a[0] and b[1] > a[1]  # B changes both figures the test checks
    sizes = world["sizes"]
    export = [c for c in cases if c.command == "export"]
    vs_fresh_b = [c.bytes_after / sizes["B"] - 1 for c in export]
    vs_same = [c.bytes_after / sizes["A, B, B" if c.swapped else "A, B"] - 1 for c in export]
    left = [b - world["start_bytes"] for c in export for b in c.left_after_kill]
    print(
        f"\n{kills} kills in {len(cases)} cases; a kill left {min(left):,}-{max(left):,} bytes beside the "
        f"{world['start_bytes']:,}-byte warehouse; after the next run the warehouse is {min(vs_fresh_b):+.1%} to "
        f"{max(vs_fresh_b):+.1%} of a fresh load of B ({sizes['B']:,} bytes) and {min(vs_same):+.1%} to {max(vs_same):+.1%} "
        f"of a fresh warehouse given the same committed loads: {sizes}"
    )


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_after_a_kill_the_dashboard_reads_the_last_good_version_and_a_rerun_loads_exactly_the_source(world, case_id):
    case = world["cases"][case_id]
    a, b = world["a"], world["b"]
    launches, spend, item_spend = case.after_kill
    if case.command == "demo":  # the export was committed by the demo's first job: its launches, priced by the items
        assert (launches, item_spend) == a
    else:
        assert (launches, spend) == (b if case.swapped else a)
    assert case.rerun_code == 0, case.rerun_out
    launches, spend, item_spend = case.after_rerun
    if case.command == "demo":
        assert (launches, item_spend) == a and spend >= item_spend  # price-launches added the computed prices
    else:
        assert (launches, spend) == b


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_the_next_run_removes_what_the_killed_run_left_and_records_that_it_died(world, case_id):
    case = world["cases"][case_id]
    assert len(case.killed) == len(case.points)  # each kill left its .tmp-<run id> (found by _run_case)
    assert case.staging_after_rerun == set()  # no .tmp-* left, the rerun's own removed by its exit
    assert case.leftover_files == []  # nothing under <table>/<killed run>/ unless a manifest names it
    for point, run_id in zip(case.points, case.killed, strict=True):
        outcome, message = case.runs[run_id]
        if point.split(":")[0] in AFTER_SWAP:
            assert outcome == "succeeded"  # it had committed; only its staging was left, and is gone
        else:
            assert outcome == "died" and "died before it finished" in message
    assert "died before it finished" in case.rerun_out or case.swapped


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_after_recovery_the_warehouse_is_as_big_as_a_fresh_one(world, case_id):
    case = world["cases"][case_id]
    sizes = world["sizes"]
    if case.command == "demo":
        same_loads = sizes["demo"]
    else:  # a run killed after its swap had committed B: the rerun is a third load
        same_loads = sizes["A, B, B"] if case.swapped else sizes["A, B"]
        assert abs(case.bytes_after - sizes["B"]) <= 0.10 * sizes["B"], (case.bytes_after, sizes["B"])
    assert abs(case.bytes_after - same_loads) <= 0.10 * same_loads, (case.bytes_after, same_loads)
