"""A Seqera Platform run as a launch (the data contract's item, ``docs/wire-formats.md``) and its tasks as ``launch_tasks`` rows.

The run:

* ``launch_id`` is the run id (``workflow.id``), the value Seqera's dynamic resource label ``${workflowId}``
  puts on the bill; ``workflow_type`` the ``projectName`` (nf-core/rnaseq); ``consumer`` the field
  ``[seqera] consumer_field`` names: a workflow field (default ``userName``), ``workspace``
  (organisation/workspace) or ``label:NAME`` (the value of the run's label NAME, e.g. a resource label
  ``team=oncology``); ``input_path`` the ``input`` parameter when it is a path (nf-core's samplesheet).
  Seqera records carry no input size or sample count, so those stay empty. ``output_size_gb`` is the run's
  ``writeBytes`` (workflow-load.json, or the API's progress) / 2^30: the sum of its tasks' ``wchar``, cached
  tasks included; without it, that sum over the task records (``writeBytes`` where a task has no ``wchar``).
* status: SUBMITTED -> READY (queued for compute), RUNNING -> RUNNING, SUCCEEDED -> COMPLETE, and FAILED,
  CANCELLED and UNKNOWN (the Platform lost the run) -> FAILED. Status times: READY at ``submit``,
  RUNNING at ``start``, COMPLETE or FAILED at ``complete`` (a failed run that never completed: its
  ``lastUpdated``), so queued hours are the wait for the head job and running hours its run.
* platform, from the executor most of its tasks ran on (else the executors the record lists): awsbatch ->
  Batch, k8s -> EKS, local -> EC2 (the head node's own instance), slurm -> ``[seqera] slurm_platform``
  (ParallelCluster or OnPremHPC), the other HPC schedulers (lsf, pbs, pbspro, sge, uge, ...) ->
  OnPremHPC. Runs on Google Cloud or Azure (google-batch, google-lifesciences, azurebatch, or a k8s
  cluster on GKE/AKS) are quarantined: Launch Ledger prices AWS and on-premises compute only.
* region: the region of the zones its tasks ran in (the most tasks'), else the compute environment's.
* resources: one instance per task attempt that ran (not CACHED, with a start and a complete): its
  ``machineType``, ``cloudZone``, ``priceModel`` (spot -> Spot, standard -> On-Demand) and start and
  complete, so ``price-launches`` prices the run whole-instance per task (an upper bound where
  AWS Batch packs several tasks on one instance; Seqera's own figure shares the instance out).
* cost: Seqera's own, the exact Decimal sum of the costs of the tasks that ran (failed attempts and
  retries included; CACHED tasks left out: their cost was incurred, and counted, by the run that computed
  them), rounded half-up once to the micro-dollar, as ``totalCost`` (and ``instance_cost``: Seqera
  prices compute only) with ``price_source`` ``seqera``. No task cost at all: the price is pending.

A task: every task of the record, CACHED, FAILED and retried ones included, with ``seqera_cost`` its
cost rounded half-up to the micro-dollar. Memory, disk and peak RSS are bytes / 2^30 (Nextflow's GB),
times are milliseconds / 3.6e6 (hours). A task that does not parse is quarantined on its own; the run
and its other tasks load.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import pyarrow as pa

from core.settings import SeqeraSettings
from ingest.seqera.records import RunRecord
from ingest.workflow_runs import Rejected

MICRO = Decimal("0.000001")
GIB = float(1 << 30)
MS_PER_HOUR = 3_600_000.0
CURRENCY = "USD"  # Seqera Platform estimates costs in US dollars

RUN_STATUSES = {
    "SUBMITTED": "READY",
    "RUNNING": "RUNNING",
    "SUCCEEDED": "COMPLETE",
    "FAILED": "FAILED",
    "CANCELLED": "FAILED",
    "UNKNOWN": "FAILED",
}
PRICE_MODELS = {"spot": "Spot", "standard": "On-Demand"}
EXECUTOR_PLATFORMS = {"awsbatch": "Batch", "k8s": "EKS", "local": "EC2"}
ONPREM_EXECUTORS = ("lsf", "pbs", "pbspro", "sge", "uge", "moab", "condor", "oar", "nqsii", "hq", "flux", "bridge")
OTHER_CLOUDS = {
    "google-batch": "Google Cloud Batch",
    "google-lifesciences": "Google Cloud Life Sciences",
    "azurebatch": "Azure Batch",
    "azure-batch": "Azure Batch",
}
OTHER_CLOUD_ENVIRONMENTS = {"gke-platform": "Google Kubernetes Engine", "aks-platform": "Azure Kubernetes Service"}
_REGION = re.compile(r"^([a-z]{2}(?:-gov)?-[a-z]+-\d+)")  # us-east-1 of us-east-1a or us-west-2-lax-1a


@dataclass
class Mapped:
    launch: dict | None  # the launch item (default attribute names), None when the run is quarantined
    tasks: RunTasks  # its launch_tasks rows
    rejected: list[Rejected]


class _Bad(ValueError):
    """A field that does not parse; the message says which and what it held."""


def map_run(record: RunRecord, settings: SeqeraSettings) -> Mapped:
    """The launch and task rows of one run record, or the reasons it cannot be one."""
    wf = record.workflow
    run_id = wf.get("id")
    if not isinstance(run_id, str) or not run_id.strip():
        return Mapped(None, RunTasks([]), [_reject(record.source, None, f"{record.source} has no run id (workflow.id)", wf)])
    status = RUN_STATUSES.get(str(wf.get("status")).upper())
    if status is None:
        known = ", ".join(RUN_STATUSES)
        reason = f"run {run_id}: unknown Seqera run status {wf.get('status')!r} (expected {known})"
        return Mapped(None, RunTasks([]), [_reject(record.source, run_id, reason, wf)])
    platform, why_not = _platform(record, settings)
    if platform is None:
        return Mapped(None, RunTasks([]), [_reject(record.source, run_id, f"run {run_id} {why_not}", wf)])

    rows, resources, rejected = [], [], []
    spent = None  # exact Decimal sum of the costs of the tasks that ran
    zones: Counter = Counter()
    for n, task in enumerate(record.tasks, 1):
        try:
            row, cost = _task_row(run_id, task)
        except _Bad as exc:
            name = task.get("name") if isinstance(task, dict) else None
            key = f"{run_id}/{task.get('taskId')}" if isinstance(task, dict) and task.get("taskId") is not None else run_id
            what = f"task {n}" + (f" ({name})" if isinstance(name, str) else "")
            reason = f"run {run_id}: {what} in {record.tasks_source} {exc}; the task is not loaded"
            rejected.append(_reject(f"{record.tasks_source} task {n}", key, reason, task))
            continue
        rows.append(row)
        zone, started, completed = row[_ZONE], row[_STARTED], row[_COMPLETED]
        if zone:
            zones[zone] += 1
        if row[_STATUS] == "CACHED":
            continue
        if cost is not None:
            spent = cost if spent is None else spent + cost
        if started is not None and completed is not None:
            resources.append(
                {
                    "instance_type": row[_MACHINE],
                    "purchase_option": row[_PRICE_MODEL],
                    "count": 1,
                    "availability_zone": zone,
                    "start": task["start"],  # the ISO text as Seqera wrote it (it parsed): no second formatting
                    "end": task["complete"],
                }
            )
    if spent is None and not any(r[_STATUS] != "CACHED" for r in rows):
        spent = Decimal(0)  # nothing ran: Seqera's cost is nothing, not unknown
    total = None if spent is None else spent.quantize(MICRO, ROUND_HALF_UP)
    times = {"READY": wf.get("submit")}
    if status != "READY":
        times["RUNNING"] = wf.get("start")
    if status in ("COMPLETE", "FAILED"):
        times[status] = wf.get("complete") or (wf.get("lastUpdated") if status == "FAILED" else None)
    launch = {
        "launch_id": run_id,
        "consumer": _consumer(record, settings.consumer_field),
        "workflow_type": _workflow_type(wf),
        "compute_platform": platform,
        "region": None if platform == "OnPremHPC" else _region(zones, record.launch),
        "status": status,
        "status_times": times,
        "input_path": _input_path(wf.get("params")),
        "output_size_gb": _output_gb(record),
        "resources": {"instances": resources} if resources else None,
        "totalCost": None if total is None else f"{total:f}",
        "instance_cost": None if total is None else f"{total:f}",
        "price_source": "seqera",
    }
    return Mapped(launch, RunTasks(rows), rejected)


def _byte_count(value) -> int | None:
    """A whole, non-negative number of bytes, or None (absent, or not one)."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    return int(value) if value >= 0 and value == int(value) else None


def _output_gb(record: RunRecord) -> float | None:
    """GB (2^30 bytes) the run wrote: Seqera's own total, else the sum over its tasks of wchar (else writeBytes)."""
    total = _byte_count(record.written_bytes)
    if total is None:
        per_task = [
            _byte_count(t.get("wchar")) if _byte_count(t.get("wchar")) is not None else _byte_count(t.get("writeBytes"))
            for t in record.tasks
            if isinstance(t, dict)
        ]
        known = [b for b in per_task if b is not None]
        total = sum(known) if known else None
    return None if total is None else total / GIB


def _reject(source: str, key: str | None, reason: str, raw) -> Rejected:
    return Rejected(source, key, reason, json.dumps(raw, default=str)[:20000])


def _platform(record: RunRecord, settings: SeqeraSettings) -> tuple[str | None, str | None]:
    """(compute platform, None), or (None, why) when the run ran where Launch Ledger does not price."""
    counts = Counter(t.get("executor") for t in record.tasks if isinstance(t, dict) and isinstance(t.get("executor"), str))
    executors = [e for e, _ in counts.most_common()] or [e for e in record.executors if isinstance(e, str)]
    executor = ([e for e in executors if e != "local"] or executors or [None])[0]
    environment = ((record.launch or {}).get("computeEnv") or {}).get("platform")
    only_aws = "Launch Ledger prices AWS and on-premises compute only"
    if executor in OTHER_CLOUDS:
        return None, f"ran on {executor} ({OTHER_CLOUDS[executor]}): {only_aws}"
    if executor == "k8s" and environment in OTHER_CLOUD_ENVIRONMENTS:
        return None, f"ran on k8s in {environment} ({OTHER_CLOUD_ENVIRONMENTS[environment]}): {only_aws}"
    if executor == "slurm":
        return settings.slurm_platform, None
    if executor in ONPREM_EXECUTORS:
        return "OnPremHPC", None
    if executor in EXECUTOR_PLATFORMS:
        return EXECUTOR_PLATFORMS[executor], None
    if executor is None:
        return None, "names no executor (no task lists one, nor the load or progress record): its platform is unknown"
    return (
        None,
        f"ran on executor {executor!r}, which Launch Ledger does not map to a platform (awsbatch, k8s, slurm, local, ...)",
    )


def _consumer(record: RunRecord, consumer_field: str) -> str | None:
    if consumer_field == "workspace":
        return record.workspace
    if consumer_field.startswith("label:"):
        wanted = consumer_field.split(":", 1)[1]
        for label in record.labels:
            if isinstance(label, dict) and label.get("name") == wanted and label.get("value") not in (None, ""):
                return str(label["value"])
        return None
    value = record.workflow.get(consumer_field)
    return None if value in (None, "") else str(value)


def _region(zones: Counter, launch: dict | None) -> str | None:
    regions: Counter = Counter()
    for zone, n in zones.items():
        match = _REGION.match(zone)
        if match:
            regions[match.group(1)] += n
    if regions:
        return regions.most_common(1)[0][0]
    config = ((launch or {}).get("computeEnv") or {}).get("config") or {}
    region = config.get("region") if isinstance(config, dict) else None
    return region if isinstance(region, str) and region else None


def _workflow_type(wf: dict) -> str | None:
    """``projectName`` (owner/repo: nf-core/rnaseq), else the manifest's name."""
    manifest = wf.get("manifest") if isinstance(wf.get("manifest"), dict) else {}
    return _text(wf.get("projectName")) or _text(manifest.get("name"))


def _input_path(params) -> str | None:
    value = params.get("input") if isinstance(params, dict) else None
    return value if isinstance(value, str) and value else None


# --- tasks -----------------------------------------------------------------------------------------


FIELDS = (
    "launch_id",
    "task_id",
    "task_hash",
    "native_id",
    "process",
    "name",
    "status",
    "attempt",
    "exit_code",
    "machine_type",
    "zone",
    "price_model",
    "cpus",
    "memory_gb",
    "disk_gb",
    "time_limit_hours",
    "submitted_at",
    "started_at",
    "completed_at",
    "realtime_hours",
    "cpu_percent",
    "peak_rss_gb",
    "read_bytes",
    "write_bytes",
    "spot_interruptions",
    "seqera_cost",
    "engine_cost",
    "currency",
    "source",
)  # fmt: skip  (the launch_tasks columns a row carries, in the order _task_row builds them)
_INDEX = {name: i for i, name in enumerate(FIELDS)}
_STATUS, _MACHINE, _ZONE, _PRICE_MODEL = (_INDEX[c] for c in ("status", "machine_type", "zone", "price_model"))
_STARTED, _COMPLETED = _INDEX["started_at"], _INDEX["completed_at"]
_TEXT, _WHOLE, _REAL, _TIME = pa.string(), pa.int64(), pa.float64(), pa.timestamp("us")
_MONEY = pa.decimal128(18, 6)  # launch_tasks' DECIMAL(18,6), exactly
_SCHEMA = pa.schema(
    [(c, _TEXT) for c in FIELDS[:7]]
    + [("attempt", _WHOLE), ("exit_code", _WHOLE)]
    + [(c, _TEXT) for c in ("machine_type", "zone", "price_model")]
    + [("cpus", _WHOLE)]
    + [(c, _REAL) for c in ("memory_gb", "disk_gb", "time_limit_hours")]
    + [(c, _TIME) for c in ("submitted_at", "started_at", "completed_at")]
    + [(c, _REAL) for c in ("realtime_hours", "cpu_percent", "peak_rss_gb")]
    + [(c, _WHOLE) for c in ("read_bytes", "write_bytes", "spot_interruptions")]
    + [("seqera_cost", _MONEY), ("engine_cost", _MONEY), ("currency", _TEXT), ("source", _TEXT)]
)
MAX_MONEY = Decimal(10) ** 12  # DECIMAL(18,6) holds less than a trillion
MAX_WHOLE = 2**63  # BIGINT
MAX_INTEGER = 2**31  # launch_tasks' INTEGER columns: attempt, exit_code, cpus, spot_interruptions
_INTEGERS = ("attempt", "cpus", "numSpotInterruptions")
_NOT_NEGATIVE = ("memory", "disk", "peakRss", "time", "realtime", "pcpu", "readBytes", "writeBytes", *_INTEGERS)
MAX_MEASURE = Decimal(10) ** 18  # bytes, milliseconds, percent: beyond it a measure is garbage
FIRST_TIME, END_TIME = datetime(2000, 1, 1), datetime(2100, 1, 1)
# A task's status as Seqera Platform records it (its TaskStatus), upper-cased
TASK_STATUSES = ("NEW", "SUBMITTED", "RUNNING", "COMPLETED", "FAILED", "ABORTED", "CACHED")


class RunTasks:
    """One run's task rows, held as an Arrow record batch until they are loaded.

    A thousand runs of 300 tasks wait for the load together; as Arrow columns they take half the memory
    of Python tuples (and leave no fragmented heap behind). ``rows()`` gives them back as dicts, one run
    at a time, as ``load_runs`` streams them.
    """

    __slots__ = ("batch",)

    def __init__(self, rows: list[tuple]) -> None:
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in FIELDS]
        arrays = [pa.array(values, f.type) for values, f in zip(columns, _SCHEMA, strict=True)]
        self.batch = pa.RecordBatch.from_arrays(arrays, schema=_SCHEMA)

    def __len__(self) -> int:
        return self.batch.num_rows

    def rows(self) -> list[dict]:
        """``launch_tasks`` rows (every column but launch_month and ingest_run_id): Decimal costs, naive UTC times."""
        return self.batch.to_pylist()


def _task_row(run_id: str, task) -> tuple[tuple, Decimal | None]:
    """A ``launch_tasks`` row and the task's exact cost; raises _Bad naming the field that does not parse."""
    if not isinstance(task, dict):
        raise _Bad(f"is not a task object but {type(task).__name__}")
    if list(task) == ["task"]:  # the API's {"task": ...} wrapping something else
        raise _Bad(f'is not a task object but {type(task["task"]).__name__} (under "task")')
    task_id = task.get("taskId")
    if task_id is None or isinstance(task_id, bool) or str(task_id).strip() == "":
        raise _Bad("has no taskId")
    if not isinstance(task_id, str | int | Decimal):
        raise _Bad(f"has a taskId that is not a number or text but {type(task_id).__name__}: {_short(task_id)}")
    status = task.get("status")
    if not isinstance(status, str) or not status:
        raise _Bad(f"has no status (found {_short(status)})")
    if status.strip().upper() not in TASK_STATUSES:
        raise _Bad(f"has an unknown status {_short(status)} (expected one of {', '.join(TASK_STATUSES)})")
    cost = _decimal(task.get("cost"), "cost")
    if cost is not None and abs(cost.quantize(MICRO, ROUND_HALF_UP)) >= MAX_MONEY:  # 999999999999.9999999 rounds up
        raise _Bad(f"has a cost of a trillion or more, beyond DECIMAL(18,6): {task.get('cost')!r}")
    if cost is not None and cost < 0:
        raise _Bad(f"has a negative cost: {task.get('cost')!r}")
    _check_measures(task)
    memory, disk, peak = _number(task, "memory"), _number(task, "disk"), _number(task, "peakRss")
    limit, realtime, pcpu = _number(task, "time"), _number(task, "realtime"), _number(task, "pcpu")
    row = (
        run_id,
        str(task_id),
        _text(task.get("hash")),
        _text(task.get("nativeId")),
        _text(task.get("process")),
        _text(task.get("name")),
        status.upper(),
        _integer(task, "attempt"),
        _exit(task),
        _text(task.get("machineType")),
        _text(task.get("cloudZone")),
        _price_model(task.get("priceModel")),
        _integer(task, "cpus"),
        None if memory is None else float(memory) / GIB,
        None if disk is None else float(disk) / GIB,
        None if limit is None else float(limit) / MS_PER_HOUR,
        _when(task, "submit"),
        _when(task, "start"),
        _when(task, "complete"),
        None if realtime is None else float(realtime) / MS_PER_HOUR,
        None if pcpu is None else float(pcpu),
        None if peak is None else float(peak) / GIB,
        _integer(task, "readBytes"),
        _integer(task, "writeBytes"),
        _integer(task, "numSpotInterruptions"),
        None if cost is None else cost.quantize(MICRO, ROUND_HALF_UP),
        None,  # engine_cost: the pricing engine's, later
        CURRENCY,
        "seqera",
    )
    return row, cost


def _short(value, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_measures(task: dict) -> None:
    """Sizes, times, counts and percentages are not negative, nor beyond their columns; the task's times in order."""
    for name in _NOT_NEGATIVE:
        value = _number(task, name)
        if value is None:
            continue
        if value < 0:
            raise _Bad(f"has a negative {name}: {_short(task.get(name))}")
        if value >= (MAX_INTEGER if name in _INTEGERS else MAX_MEASURE):
            raise _Bad(f"has a {name} out of range: {_short(task.get(name))}")
    times = [(n, _when(task, n)) for n in ("submit", "start", "complete")]
    given = [(n, t) for n, t in times if t is not None]
    for (before, earlier), (after, later) in zip(given, given[1:], strict=False):
        if later < earlier:
            raise _Bad(f"has its {after} time {task.get(after)!r} before its {before} time {task.get(before)!r}: out of order")


def _text(value) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def _decimal(value, name: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise _Bad(f"has a {name} that is not a number: {value!r}")
    try:
        number = value if isinstance(value, Decimal) else Decimal(value if isinstance(value, int) else str(value).strip())
    except InvalidOperation:
        raise _Bad(f"has a {name} that is not a number: {value!r}") from None
    if not number.is_finite():
        raise _Bad(f"has a {name} that is not a finite number: {value!r}")
    return number


def _number(task: dict, name: str) -> Decimal | int | None:
    value = task.get(name)
    if value is None or (isinstance(value, int | Decimal) and not isinstance(value, bool)):
        return value
    return _decimal(value, name)


def _integer(task: dict, name: str) -> int | None:
    value = _number(task, name)
    if isinstance(value, Decimal):
        if value != value.to_integral_value():
            raise _Bad(f"has a {name} that is not a whole number: {task.get(name)!r}")
        value = int(value)
    if value is not None and not -MAX_WHOLE <= value < MAX_WHOLE:
        raise _Bad(f"has a {name} out of range: {task.get(name)!r}")
    return value


def _exit(task: dict) -> int | None:
    """The exit status (``exitStatus``, else ``exit``; the API has sent it as text); None when there is none."""
    for name in ("exitStatus", "exit"):
        value = task.get(name)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            if not -MAX_INTEGER <= value < MAX_INTEGER:
                raise _Bad(f"has an {name} out of range: {_short(task.get(name))}")
            return value
    return None


def _price_model(value) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    return PRICE_MODELS.get(value.lower(), value)


def _when(task: dict, name: str) -> datetime | None:
    """An ISO 8601 time as naive UTC (``2025-04-17T19:13:13Z``); raises _Bad on anything else."""
    value = task.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _Bad(f"has a {name} time that is not ISO 8601 text: {value!r}")
    try:
        moment = datetime.fromisoformat(value[:-1] if value.endswith("Z") else value)
    except ValueError:
        raise _Bad(f"has an unparseable {name} time {value!r} (expected ISO 8601)") from None
    moment = moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
    if not FIRST_TIME <= moment < END_TIME:
        raise _Bad(f"has a {name} time {value!r} outside 2000..2099")
    return moment
