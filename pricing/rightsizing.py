"""Right-sizing from task usage: per process, what its tasks asked for, what they used, and what to ask for instead.

Frames in (``right_sizing_tasks`` and ``price_points`` query results), figures out; no I/O.

* **Use.** CPU used by a task = ``%cpu / 100`` (its average number of busy CPUs); memory used = its peak RSS.
  Only tasks that COMPLETED count: a failed attempt stopped early, a CACHED one ran in another run.
* **Recommendation.** The ``quantile`` of use over the process' tasks (numpy's linear interpolation, p95 by
  default) times ``1 + headroom``, rounded up: CPUs to a whole number (at least 1), memory to a multiple of
  ``memory_step_gb``. It never falls below what the tasks killed for memory needed: a task that failed with
  exit 137 (out of memory) and was retried must fit, so the memory covers its retried attempt's peak and is
  above the failed attempt's own request (it was killed at that limit).
* **Instance.** The cheapest instance type (by On-Demand list price in the region) of the family the task ran
  on that has at least the recommended vCPUs and memory (``pricing.instance_shapes``).
* **Savings.** The tasks that completed, priced by the reference engine (``pricing.engine``: per second, 60 s
  minimum, Spot from history or the fallback fraction, Reserved at its rate) on the machine type they ran on
  and on the recommended one, same zone, purchase option and run time: a whole instance per task, as the
  ingest prices them. Per run = the difference over the runs that ran the process; per month = per run x the
  process' runs per month over the history (its runs / calendar months from the first run's to the last's).
* **Retries.** Attempts that failed and were tried again (a later line of the same task name in the run), why
  (out of memory: exit 137; Spot interruption; other), and what they cost (engine, and Seqera's estimate).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from pricing.engine import MICRO, PriceBook, Resource, Rules, instance_cost, instance_steps
from pricing.inputs import book_from
from pricing.instance_shapes import family_of, shape_of

OUT_OF_MEMORY_EXIT = 137  # SIGKILL: what a task killed at its memory limit exits with (Nextflow retries it)
RAN = ("COMPLETED", "FAILED")
ZERO = Decimal("0.000000")
PROCESS_COLUMNS = (
    "process",
    "runs",
    "tasks",
    "cpus_requested",
    "cpus_used_quantile",
    "cpus_recommended",
    "memory_requested_gb",
    "memory_used_quantile_gb",
    "memory_floor_gb",
    "memory_recommended_gb",
    "machine_type",
    "recommended_machine_type",
    "priced_tasks",
    "current_cost",
    "recommended_cost",
    "savings",
    "savings_per_run",
    "savings_per_month",
    "out_of_memory_retries",
    "spot_interruptions",
    "retry_cost",
    "changed",
)
RETRY_COLUMNS = ("launch_id", "process", "name", "attempt", "reason", "machine_type", "engine_cost", "seqera_cost")


@dataclass(frozen=True)
class Policy:
    """How use becomes a request (``[right_sizing]``; ``core.settings.RightSizingSettings`` has the same fields)."""

    quantile: float = 0.95
    headroom: float = 0.20
    memory_step_gb: float = 1.0

    @classmethod
    def of(cls, settings) -> Policy:
        return cls(float(settings.quantile), float(settings.headroom), float(settings.memory_step_gb))


@dataclass(frozen=True)
class RightSizing:
    processes: pd.DataFrame  # one row per process, PROCESS_COLUMNS; money columns hold Decimal
    retries: pd.DataFrame  # one row per failed attempt that was tried again, RETRY_COLUMNS
    runs: int  # runs (launches) whose tasks were read
    months: int  # calendar months the history spans (the per-month figures' denominator)
    savings: Decimal  # sum of the processes' savings (exact)
    savings_per_month: Decimal  # sum of the processes' savings per month
    retry_cost: Decimal  # what the retried attempts cost (engine)
    currency: str
    policy: Policy  # the rule the recommendations follow


# --- the arithmetic of one recommendation --------------------------------------------------------------


def use_quantile(values, q: float) -> float | None:
    """The ``q`` quantile of the known values (linear interpolation between order statistics); None when none."""
    known = [float(v) for v in values if v is not None and not pd.isna(v)]
    return float(np.quantile(known, q)) if known else None


def round_up(value: float, step: float) -> float:
    """``value`` rounded up to a multiple of ``step`` (floating-point dust below 1e-9 of a step is ignored)."""
    return math.ceil(round(value / step, 9)) * step


def recommended_cpus(used: float | None, headroom: float) -> int | None:
    """Whole CPUs covering ``used`` x (1 + headroom), at least 1."""
    return None if used is None else max(1, math.ceil(round(used * (1 + headroom), 9)))


def recommended_memory(
    used: float | None, headroom: float, step: float, floor: float | None = None, killed_at: float | None = None
) -> float | None:
    """GB covering ``used`` x (1 + headroom) and ``floor`` (a retried attempt's peak), above ``killed_at``, in steps."""
    wanted = [v for v in (None if used is None else used * (1 + headroom), floor) if v is not None]
    if not wanted:
        return None
    memory = max(round_up(max(wanted), step), step)
    if killed_at is not None and memory <= killed_at + 1e-9:
        memory = round_up(killed_at, step)
        memory = memory + step if memory <= killed_at + 1e-9 else memory
    return memory


# --- out-of-memory kills and retries ---------------------------------------------------------------------


def _ordered(tasks: pd.DataFrame) -> pd.DataFrame:
    """Tasks in the order they were tried: per run and task name, by attempt, then submit time, then task id."""
    order = tasks.assign(_attempt=tasks["attempt"].fillna(0), _task=pd.to_numeric(tasks["task_id"], errors="coerce"))
    order = order.sort_values(["launch_id", "name", "_attempt", "submitted_at", "_task", "task_id"], na_position="first")
    return order.drop(columns=["_attempt", "_task"])


def retried_attempts(tasks: pd.DataFrame) -> pd.DataFrame:
    """Each attempt that failed and was tried again, with why and the peak of the attempt that followed it."""
    rows = []
    for _, lines in _ordered(tasks).groupby(["launch_id", "name"], sort=False, dropna=False):
        records = lines.to_dict("records")
        for i, line in enumerate(records[:-1]):
            if line["status"] != "FAILED":
                continue
            after = next((r for r in records[i + 1 :] if r["status"] == "COMPLETED"), None)
            rows.append({**line, "reason": _reason(line), "retry_peak_rss_gb": None if after is None else after["peak_rss_gb"]})
    columns = [*tasks.columns, "reason", "retry_peak_rss_gb"]
    return pd.DataFrame(rows, columns=columns)


def _reason(line: dict) -> str:
    if _known(line.get("exit_code")) and int(line["exit_code"]) == OUT_OF_MEMORY_EXIT:
        return "out of memory (exit 137)"
    if _known(line.get("spot_interruptions")) and int(line["spot_interruptions"]) > 0:
        return "Spot interruption"
    return "other failure"


def _known(value) -> bool:
    return value is not None and not pd.isna(value)


# --- pricing the tasks -------------------------------------------------------------------------------------


def cheapest_fitting(family: str, region: str | None, cpus: int, memory_gb: float, book: PriceBook) -> str | None:
    """The instance type of ``family`` with at least ``cpus`` vCPUs and ``memory_gb`` GiB and the lowest list price."""
    fits = []
    for (price_region, kind, resource_type, charge), price in book.list_prices.items():
        if price_region != region or kind != "instance" or charge != "usage" or family_of(resource_type) != family:
            continue
        shape = shape_of(resource_type)
        if shape and shape.vcpus >= cpus and shape.memory_gb + 1e-9 >= memory_gb:
            fits.append((price, shape.vcpus, resource_type))
    return min(fits)[2] if fits else None


def task_cost(task: dict, machine_type: str | None, book: PriceBook, rules: Rules) -> Decimal | None:
    """One task attempt on one ``machine_type`` instance, from its start to its end, priced by the engine."""
    if not machine_type or not _known(task.get("started_at")) or not _known(task.get("completed_at")):
        return None
    line = Resource(
        launch_id=task["launch_id"],
        kind="instance",
        resource_type=machine_type,
        purchase_option=task.get("price_model") if _known(task.get("price_model")) else None,
        availability_zone=task.get("zone") if _known(task.get("zone")) else None,
    )
    steps = instance_steps(line, task.get("region"), book, rules)
    if steps is None:
        return None
    started, ended = pd.Timestamp(task["started_at"]).to_pydatetime(), pd.Timestamp(task["completed_at"]).to_pydatetime()
    return instance_cost(started, max(started, ended), 1, steps)


def _book(tasks: pd.DataFrame, prices: pd.DataFrame) -> PriceBook:
    """The instance prices of the tasks' regions and families (a warehouse's Spot history can be long)."""
    families = {family_of(t) for t in tasks["machine_type"].dropna()}
    regions = set(tasks["region"].dropna())
    if prices.empty or not families:
        return PriceBook()
    wanted = prices[
        (prices["resource_kind"] == "instance")
        & prices["region"].isin(regions)
        & prices["resource_type"].map(lambda t: family_of(str(t)) in families)
    ]
    return book_from(wanted)


# --- per process ---------------------------------------------------------------------------------------------


def _requested(values) -> float | None:
    """The request most tasks carried (the larger on a tie); None when no task says."""
    known = pd.Series([v for v in values if _known(v)], dtype="float64")
    if known.empty:
        return None
    counts = known.value_counts()
    return float(max(counts[counts == counts.max()].index))


def _recommend(completed: pd.DataFrame, first_tries: pd.DataFrame, kills: pd.DataFrame, policy: Policy) -> dict:
    """The request, use and recommendation of one process (the figures of PROCESS_COLUMNS before money)."""
    cpus_used = use_quantile(completed["cpu_percent"] / 100, policy.quantile)
    memory_used = use_quantile(completed["peak_rss_gb"], policy.quantile)
    peaks = [v for v in kills["retry_peak_rss_gb"] if _known(v)] + [v for v in kills["peak_rss_gb"] if _known(v)]
    killed_at = [v for v in kills["memory_gb"] if _known(v)]
    floor = max(peaks) if peaks else None
    cpus = recommended_cpus(cpus_used, policy.headroom)
    memory = recommended_memory(memory_used, policy.headroom, policy.memory_step_gb, floor, max(killed_at) if killed_at else None)
    cpus_requested, memory_requested = _requested(first_tries["cpus"]), _requested(first_tries["memory_gb"])
    changed = (cpus is not None and (cpus_requested is None or cpus != cpus_requested)) or (
        memory is not None and (memory_requested is None or abs(memory - memory_requested) > 1e-9)
    )
    return {
        "cpus_requested": None if cpus_requested is None else int(cpus_requested),
        "cpus_used_quantile": cpus_used,
        "cpus_recommended": cpus,
        "memory_requested_gb": memory_requested,
        "memory_used_quantile_gb": memory_used,
        "memory_floor_gb": floor,
        "memory_recommended_gb": memory,
        "changed": bool(changed),
    }


def _money(completed: pd.DataFrame, figures: dict, book: PriceBook, rules: Rules) -> dict:
    """The completed tasks priced as they ran and on the cheapest fitting type of their family, same everything else."""
    current = recommended = ZERO
    priced: list[str] = []
    target: dict[tuple, str | None] = {}
    for task in completed.to_dict("records"):
        machine = task["machine_type"] if _known(task["machine_type"]) else None
        if machine is None or figures["cpus_recommended"] is None or figures["memory_recommended_gb"] is None:
            continue
        key = (family_of(machine), task.get("region"))
        if key not in target:
            target[key] = cheapest_fitting(*key, figures["cpus_recommended"], figures["memory_recommended_gb"], book)
        now, then = task_cost(task, machine, book, rules), task_cost(task, target[key], book, rules)
        if now is None or then is None:
            continue
        current, recommended = current + now, recommended + then
        priced.append(task["launch_id"])
    machines = completed["machine_type"].dropna()
    dominant = machines.mode().sort_values().iloc[0] if len(machines) else None
    region = completed["region"].dropna().mode().sort_values().iloc[0] if completed["region"].notna().any() else None
    return {
        "machine_type": dominant,
        "recommended_machine_type": None if dominant is None else target.get((family_of(dominant), region)),
        "priced_tasks": len(priced),
        "priced_runs": len(set(priced)),
        "current_cost": current,
        "recommended_cost": recommended,
        "savings": current - recommended,
    }


def history_volume(history: pd.DataFrame) -> tuple[dict[str, int], int]:
    """Per process, the runs that ran it; and the calendar months from the first run's launch month to the last's."""
    if history.empty:
        return {}, 0
    months = pd.to_datetime(history["launch_month"])
    span = (months.max().year - months.min().year) * 12 + months.max().month - months.min().month + 1
    runs = history.groupby("process")["launch_id"].nunique()
    return {str(k): int(v) for k, v in runs.items()}, int(span)


def _per(amount: Decimal, numerator: int, denominator: int) -> Decimal:
    return ZERO if denominator == 0 else (amount * numerator / denominator).quantize(MICRO, ROUND_HALF_UP)


def right_size(
    tasks: pd.DataFrame, prices: pd.DataFrame, rules: Rules, policy: Policy = Policy(), history: pd.DataFrame | None = None
) -> RightSizing:
    """Every process of ``tasks`` right-sized and priced; per-month figures at the volume of ``history`` (default: tasks)."""
    history = tasks if history is None else history
    runs_in_history, months = history_volume(history)
    book = _book(tasks, prices)
    retries = retried_attempts(tasks)
    rows, retry_rows = [], []
    for process, of_process in tasks.groupby("process", sort=True):
        ran = of_process[of_process["status"].isin(RAN)]
        completed = ran[ran["status"] == "COMPLETED"]
        first_tries = ran[ran["attempt"].isna() | (ran["attempt"] <= 1)]
        mine = retries[retries["process"] == process]
        kills = mine[mine["reason"].str.startswith("out of memory")]
        figures = _recommend(completed, first_tries if len(first_tries) else ran, kills, policy)
        money = _money(completed, figures, book, rules)
        runs = money.pop("priced_runs")
        costs = [
            (r, task_cost(r, r["machine_type"] if _known(r["machine_type"]) else None, book, rules))
            for r in mine.to_dict("records")
        ]
        retry_rows += [{**r, "engine_cost": c} for r, c in costs]
        rows.append(
            {
                "process": process,
                "runs": int(of_process["launch_id"].nunique()),
                "tasks": len(completed),
                **figures,
                **money,
                "savings_per_run": _per(money["savings"], 1, runs),
                "savings_per_month": _per(money["savings"], runs_in_history.get(str(process), runs), runs * months),
                "out_of_memory_retries": len(kills),
                "spot_interruptions": int(pd.to_numeric(of_process["spot_interruptions"]).fillna(0).sum()),
                "retry_cost": sum((c for _, c in costs if c is not None), ZERO),
            }
        )
    processes = pd.DataFrame(rows, columns=list(PROCESS_COLUMNS))
    retried = pd.DataFrame(retry_rows, columns=[*retries.columns, "engine_cost"]).reindex(columns=list(RETRY_COLUMNS))
    currency = "/".join(sorted(set(tasks["currency"].dropna()))) or "USD"
    return RightSizing(
        processes=processes,
        retries=retried.reset_index(drop=True),
        runs=int(tasks["launch_id"].nunique()),
        months=months,
        savings=sum(processes["savings"], ZERO),
        savings_per_month=sum(processes["savings_per_month"], ZERO),
        retry_cost=sum(processes["retry_cost"], ZERO),
        currency=currency,
        policy=policy,
    )


# --- the Nextflow config --------------------------------------------------------------------------------------


def _selector(process: str) -> str:
    """A ``withName`` selector matching exactly this process name, quoted for a Nextflow (Groovy) config.

    ``withName`` takes a regular expression matched against the whole name, simple (``FASTQC``) or fully
    qualified (``NFCORE_RNASEQ:RNASEQ:FASTQC``, what a trace's ``process`` field holds). Letters, digits, ``_`` and
    ``:`` stand for themselves; anything else is escaped for the regular expression, and backslashes and quotes for
    the single-quoted string.
    """
    pattern = re.sub(r"[^A-Za-z0-9_:]", lambda m: "\\" + m.group(0), process)
    return "'" + pattern.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _gb(memory: float) -> str:
    """``16.0`` -> ``16 GB``, ``8.5`` -> ``8.5 GB`` (Nextflow's MemoryUnit reads decimals)."""
    return f"{format(Decimal(str(round(memory, 6))).normalize(), 'f')} GB"


def nextflow_config(processes: pd.DataFrame, header: str = "") -> str:
    """A Nextflow config that sets the recommended ``cpus`` and ``memory`` of every process with a change.

    One ``withName`` block per process, inside one ``process`` scope; ``header`` becomes ``//`` comment lines.
    Empty when no process changes.
    """
    changed = processes[processes["changed"]]
    if changed.empty:
        return ""
    lines = [f"// {line}" if line else "//" for line in header.splitlines()]
    lines.append("process {")
    for row in changed.sort_values("process").to_dict("records"):
        lines.append(f"    withName: {_selector(str(row['process']))} {{")
        if _known(row["cpus_recommended"]):
            lines.append(f"        cpus = {int(row['cpus_recommended'])}")
        if _known(row["memory_recommended_gb"]):
            lines.append(f"        memory = '{_gb(float(row['memory_recommended_gb']))}'")
        lines.append("    }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def config_header(subject: str, period: str, policy: Policy, runs: int) -> str:
    """The comment lines of a config snippet: what it is for, from which runs, and the rule that made it."""
    return (
        f"Launch Ledger right-sizing for {subject}: {runs:,} run(s) launched {period} (UTC).\n"
        f"cpus and memory = p{policy.quantile * 100:g} of the tasks' use (%cpu, peak RSS) + {policy.headroom * 100:g}% "
        f"headroom, rounded up (memory to {policy.memory_step_gb:g} GB, never below an out-of-memory retry's peak).\n"
        "Use with: nextflow run ... -c right-sizing.config"
    )
