"""Demo task records: ``launch_tasks`` rows, as a Nextflow trace would give them, for a share of the demo's Nextflow runs.

``python -m ingest demo`` loads them after the launches (``load_demo_tasks``), so the Right-sizing page and the
task sections have something to show. They are coherent with the launches they belong to:

* Only ended runs of the ``nextflow-*`` workflow types on AWS (not OnPremHPC) with instance lines get tasks, a
  ``TASK_SHARE`` of them drawn by the seed. Each instance of each instance line runs the workflow's processes
  one after another, back to back, from the line's start to its end exactly, on the line's instance type, purchase
  option and zone: priced task by task (``price-launches``), a run costs what its instance lines cost, give or
  take the rounding of each task to the micro-dollar.
* Each process asks for fixed cpus and memory (nf-core-like labels) and uses a share of them drawn per task
  (``PROCESSES``: some processes ask for far more than they use, the aligners use most of it). A memory-hungry
  process is sometimes killed at its limit (exit 137) and retried with twice the memory, as nf-core's
  ``errorStrategy`` does; the retry's peak is above the first request.
* A failed run's last task FAILED (exit 1). Times are whole seconds; every task runs at least 2 minutes.

Same launches and seed, same rows (a generator of its own, spawned from the seed: the other demo figures do not move).
"""

from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

import numpy as np
import pandas as pd

from core.settings import Settings
from ingest.workflow_runs import _tasks_table
from warehouse.runs import JobRun, job_run, print_summary
from warehouse.store import select_list

TASK_SHARE = 0.3  # of the eligible Nextflow runs
MIN_TASK_SECONDS = 120
OUT_OF_MEMORY_EXIT = 137


class Process(NamedTuple):
    name: str  # fully qualified, as a trace's process field holds it
    cpus: int
    memory_gb: float
    time_share: float  # of an instance's run
    cpu_use: tuple[float, float]  # share of the requested cpus used (%cpu / 100 / cpus), uniform
    rss_use: tuple[float, float]  # share of the requested memory at peak, uniform
    oom_chance: float = 0.0  # chance a task is killed at its memory limit and retried with twice the memory


PROCESSES = {
    "nextflow-rnaseq": (
        Process("NFCORE_RNASEQ:RNASEQ:FASTQC", 2, 4, 0.08, (0.45, 0.95), (0.15, 0.40)),
        Process("NFCORE_RNASEQ:RNASEQ:FASTQ_FASTQC_UMITOOLS_TRIMGALORE:TRIMGALORE", 8, 12, 0.12, (0.25, 0.55), (0.08, 0.25)),
        Process("NFCORE_RNASEQ:RNASEQ:ALIGN_STAR:STAR_ALIGN", 12, 36, 0.45, (0.70, 0.95), (0.70, 0.97), 0.04),
        Process("NFCORE_RNASEQ:RNASEQ:BAM_SORT_STATS_SAMTOOLS:SAMTOOLS_SORT", 6, 12, 0.15, (0.35, 0.80), (0.25, 0.60)),
        Process("NFCORE_RNASEQ:RNASEQ:QUANTIFY_SALMON:SALMON_QUANT", 6, 12, 0.15, (0.50, 0.90), (0.20, 0.50)),
        Process("NFCORE_RNASEQ:RNASEQ:MULTIQC", 1, 4, 0.05, (0.60, 1.00), (0.20, 0.50)),
    ),
    "nextflow-sarek": (
        Process("NFCORE_SAREK:SAREK:FASTQC", 2, 4, 0.06, (0.45, 0.95), (0.15, 0.40)),
        Process("NFCORE_SAREK:SAREK:FASTP", 6, 8, 0.09, (0.40, 0.80), (0.15, 0.35)),
        Process(
            "NFCORE_SAREK:SAREK:FASTQ_ALIGN_BWAMEM_MEM2_DRAGMAP_SENTIEON:BWAMEM1_MEM", 16, 30, 0.45, (0.80, 0.97), (0.40, 0.70)
        ),
        Process("NFCORE_SAREK:SAREK:BAM_MARKDUPLICATES:GATK4_MARKDUPLICATES", 4, 24, 0.15, (0.25, 0.50), (0.60, 0.95), 0.05),
        Process(
            "NFCORE_SAREK:SAREK:BAM_VARIANT_CALLING_GERMLINE_ALL:GATK4_HAPLOTYPECALLER", 4, 12, 0.20, (0.25, 0.60), (0.30, 0.60)
        ),
        Process("NFCORE_SAREK:SAREK:MULTIQC", 1, 4, 0.05, (0.60, 1.00), (0.20, 0.50)),
    ),
    "nextflow-methylseq": (
        Process("NFCORE_METHYLSEQ:METHYLSEQ:FASTQC", 2, 4, 0.06, (0.45, 0.95), (0.15, 0.40)),
        Process("NFCORE_METHYLSEQ:METHYLSEQ:TRIMGALORE", 8, 12, 0.10, (0.25, 0.55), (0.08, 0.25)),
        Process("NFCORE_METHYLSEQ:METHYLSEQ:BISMARK:BISMARK_ALIGN", 16, 64, 0.50, (0.60, 0.90), (0.40, 0.70)),
        Process("NFCORE_METHYLSEQ:METHYLSEQ:BISMARK:BISMARK_DEDUPLICATE", 2, 24, 0.10, (0.40, 0.90), (0.50, 0.90), 0.05),
        Process("NFCORE_METHYLSEQ:METHYLSEQ:BISMARK:BISMARK_METHYLATIONEXTRACTOR", 8, 16, 0.19, (0.40, 0.80), (0.30, 0.60)),
        Process("NFCORE_METHYLSEQ:METHYLSEQ:MULTIQC", 1, 4, 0.05, (0.60, 1.00), (0.20, 0.50)),
    ),
}

_LAUNCHES_SQL = """
SELECT l.launch_id, l.workflow_type, l.status
FROM launches l
WHERE l.workflow_type IN (SELECT unnest($types)) AND l.ended_at IS NOT NULL AND l.compute_platform <> 'OnPremHPC'
  AND EXISTS (SELECT 1 FROM launch_resources r WHERE r.launch_id = l.launch_id AND r.kind = 'instance')
ORDER BY l.launch_id"""
_LINES_SQL = """
SELECT launch_id, resource_index, resource_type, purchase_option, coalesce(count, 1) AS count, availability_zone,
       started_at, ended_at
FROM launch_resources
WHERE kind = 'instance' AND launch_id IN (SELECT unnest($ids))
ORDER BY launch_id, resource_index"""


def _durations(rng: np.random.Generator, processes: tuple[Process, ...], seconds: int) -> list[int] | None:
    """Whole seconds per process, jittered around its time share, adding up to ``seconds``; None if too short."""
    weights = np.array([p.time_share for p in processes]) * rng.uniform(0.8, 1.25, len(processes))
    parts = np.floor(weights / weights.sum() * seconds).astype(int)
    parts[-1] += seconds - parts.sum()
    return None if parts.min() < MIN_TASK_SECONDS else [int(p) for p in parts]


def _task(launch_id: str, task_id: int, process: Process, sample: str, start, seconds: int, line: dict, rng) -> dict:
    """One COMPLETED attempt of ``process`` from ``start``, using a drawn share of what it asked for."""
    simple = process.name.rsplit(":", 1)[-1]
    return {
        "launch_id": launch_id,
        "task_id": str(task_id),
        "task_hash": f"{int(rng.integers(0, 256)):02x}/{int(rng.integers(0, 16**6)):06x}",
        "native_id": None,
        "process": process.name,
        "name": f"{simple} ({sample})",
        "status": "COMPLETED",
        "attempt": 1,
        "exit_code": 0,
        "machine_type": line["resource_type"],
        "zone": line["availability_zone"],
        "price_model": line["purchase_option"],
        "cpus": process.cpus,
        "memory_gb": float(process.memory_gb),
        "disk_gb": None,
        "time_limit_hours": None,
        "submitted_at": start,
        "started_at": start,
        "completed_at": start + timedelta(seconds=seconds),
        "realtime_hours": seconds / 3600,
        "cpu_percent": round(process.cpus * 100 * float(rng.uniform(*process.cpu_use)), 1),
        "peak_rss_gb": round(process.memory_gb * float(rng.uniform(*process.rss_use)), 3),
        "read_bytes": int(rng.integers(10**8, 10**10)),
        "write_bytes": int(rng.integers(10**7, 10**9)),
        "spot_interruptions": None,
        "seqera_cost": None,
        "engine_cost": None,
        "currency": "USD",
        "source": "nextflow",
    }


def _killed_then_retried(first: dict, process: Process, seconds: int, rng) -> list[dict]:
    """``first`` killed at its memory limit part-way, then its retry with twice the memory for the rest of the slot."""
    killed_after = max(MIN_TASK_SECONDS // 2, int(seconds * rng.uniform(0.2, 0.4)))
    end = first["completed_at"]
    killed = {**first, "status": "FAILED", "exit_code": OUT_OF_MEMORY_EXIT, "peak_rss_gb": float(process.memory_gb)}
    killed |= {"completed_at": first["started_at"] + timedelta(seconds=killed_after), "realtime_hours": killed_after / 3600}
    retry_start = killed["completed_at"]
    retry = {**first, "attempt": 2, "memory_gb": 2.0 * process.memory_gb, "submitted_at": retry_start, "started_at": retry_start}
    retry |= {
        "realtime_hours": (end - retry_start).total_seconds() / 3600,
        "peak_rss_gb": round(process.memory_gb * rng.uniform(1.02, 1.3), 3),
    }
    return [killed, retry]


def run_tasks(launch: dict, lines: list[dict], rng: np.random.Generator) -> list[dict]:
    """Every task of one run: each instance of each line runs the processes back to back over the line's hours."""
    processes = PROCESSES[launch["workflow_type"]]
    rows: list[dict] = []
    for line in lines:
        seconds = int((line["ended_at"] - line["started_at"]).total_seconds())
        for copy in range(int(line["count"])):
            durations = _durations(rng, processes, seconds)
            if durations is None:
                return []  # an instance line too short for the pipeline: the run gets no tasks
            start = line["started_at"]
            sample = f"S{int(line['resource_index']) + 1}_{copy + 1}"
            for process, duration in zip(processes, durations, strict=True):
                task = _task(launch["launch_id"], len(rows) + 1, process, sample, start, duration, line, rng)
                if rng.random() < process.oom_chance:
                    killed, retry = _killed_then_retried(task, process, duration, rng)
                    rows += [killed, {**retry, "task_id": str(len(rows) + 2)}]
                else:
                    rows.append(task)
                start = start + timedelta(seconds=duration)
    if launch["status"] == "FAILED" and rows:
        rows[-1] = {**rows[-1], "status": "FAILED", "exit_code": 1}
    return rows


def demo_task_rows(launches: pd.DataFrame, lines: pd.DataFrame, seed: int) -> list[dict]:
    """The task rows of a ``TASK_SHARE`` of ``launches`` (launch_id, workflow_type, status), drawn by ``seed``."""
    rng = np.random.default_rng([seed, 0x7A5C])
    by_launch = {k: g.to_dict("records") for k, g in lines.groupby("launch_id", sort=False)}
    rows: list[dict] = []
    for launch in launches.sort_values("launch_id").to_dict("records"):
        if rng.random() >= TASK_SHARE or launch["launch_id"] not in by_launch:
            continue
        for line in by_launch[launch["launch_id"]]:
            line["started_at"], line["ended_at"] = pd.Timestamp(line["started_at"]), pd.Timestamp(line["ended_at"])
        rows += run_tasks(launch, by_launch[launch["launch_id"]], rng)
    return rows


def load_demo_tasks(settings: Settings, seed: int) -> JobRun:
    """Write the demo's task rows into ``launch_tasks`` (the demo runs' rows replaced, any other run's kept)."""
    with job_run(settings.data_dir, "demo-tasks", f"demo task records (seed {seed})", settings=settings) as run:
        con = run.writer.con
        launches = con.execute(_LAUNCHES_SQL, {"types": list(PROCESSES)}).df()
        lines = con.execute(_LINES_SQL, {"ids": list(launches["launch_id"])}).df()
        rows = demo_task_rows(launches, lines, seed)
        demo_task_rows_table = _tasks_table(rows)  # read by DuckDB's replacement scan, by its name
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE demo_tasks AS SELECT {select_list("launch_tasks", "t")} FROM (
                    SELECT d.*, l.launch_month, $run_id AS ingest_run_id
                    FROM demo_task_rows_table d JOIN launches l USING (launch_id)) t""",
            {"run_id": run.writer.run_id},
        )
        del demo_task_rows_table
        months = [m for (m,) in con.execute("SELECT DISTINCT strftime(launch_month, '%Y-%m') FROM demo_tasks").fetchall()]
        months += [m for m in run.writer.partitions_of("launch_tasks") if m not in months]
        if months:
            written = run.writer.write_partitions(
                "launch_tasks",
                """SELECT * FROM launch_tasks WHERE launch_id NOT IN (SELECT unnest($ids))
                   UNION ALL BY NAME SELECT * FROM demo_tasks""",
                {"ids": list(launches["launch_id"])},
            )
            run.writer.drop_partitions("launch_tasks", [m for m in months if m not in written])
        run.stats.records_read = run.stats.records_loaded = len(rows)
        run.stats.notes.append(f"{len(rows):,} task rows for {len({r['launch_id'] for r in rows}):,} demo Nextflow runs")
    print_summary(run)
    return run
