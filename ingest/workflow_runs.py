"""Workflow runs as launches: the load step shared by the Nextflow trace and Seqera Platform importers.

An importer reads its files and turns each run into one launch in the data contract's shape (the
attributes a workflow manager writes in DynamoDB, ``docs/wire-formats.md``, with the default names)
and its tasks into ``launch_tasks`` rows. ``load_runs`` then validates and loads them through the very
pipeline of the launches table (``ingest.dynamodb.items``), so a run gets the same checks, the same
quarantine reasons and the same idempotence as any launch: an unchanged run is skipped, an updated run
replaces its launch row, its resources and its tasks, and a run that fails validation loads no task.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import orjson
import pyarrow as pa

from core.settings import ItemAttributes
from ingest.dynamodb.items import merge_launches, stage_items, stage_quarantine
from warehouse.runs import JobRun
from warehouse.store import schema_columns, select_list

TASK_COLUMNS = tuple(c for c, _ in schema_columns()["launch_tasks"])
# Filled by load_runs, not by the importer.
_LOADER_COLUMNS = ("launch_month", "ingest_run_id")


@dataclass(frozen=True)
class Rejected:
    """A record the importer itself could not read (a malformed line, a member that is not JSON)."""

    source: str  # the file (and member or line) it came from
    record_key: str | None  # the run or task id, when it could be read
    reason: str  # what is wrong, in words a person can act on
    raw: str  # the record as read


@dataclass
class Loaded:
    runs_read: int = 0
    runs_loaded: int = 0
    runs_unchanged: int = 0
    quarantined: int = 0
    tasks_written: int = 0


def attribute_value(value) -> dict:
    """A Python value as a DynamoDB JSON attribute value (``{"S": ...}``, ``{"N": ...}``, ``{"M": ...}``...)."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | Decimal):
        return {"N": str(value)}
    if isinstance(value, float):
        return {"N": repr(value)}
    if isinstance(value, datetime):
        return {"S": iso_utc(value)}
    if isinstance(value, date):
        return {"S": value.isoformat()}
    if isinstance(value, dict):
        return {"M": {str(k): attribute_value(v) for k, v in value.items() if v is not None}}
    if isinstance(value, list | tuple):
        return {"L": [attribute_value(v) for v in value]}
    return {"S": str(value)}


def iso_utc(moment: datetime) -> str:
    """``2025-03-04T10:31:05.250Z`` (naive times are UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="milliseconds") + "Z"


def launch_item(launch: dict) -> bytes:
    """One launch (attribute name -> Python value, None left out) as a DynamoDB JSON line."""
    fields = {k: attribute_value(v) for k, v in launch.items() if v is not None}
    return orjson.dumps({"Item": fields}) + b"\n"


def load_runs(
    run: JobRun,
    launches: Iterable[dict],
    tasks: Iterable[dict],
    rejected: Iterable[Rejected],
    source: str,
    currency: str = "USD",
) -> Loaded:
    """Validate and load the runs and their tasks into ``launches``, ``launch_resources`` and ``launch_tasks``.

    ``launches`` are launch items with the default attribute names (``core.settings.ItemAttributes``);
    ``tasks`` are ``launch_tasks`` rows (every column but launch_month and ingest_run_id) whose
    ``launch_id`` names their run. ``rejected`` records are quarantined with their reason. The run's
    counters (``run.stats``) count runs, not tasks.
    """
    writer = run.writer
    stage = writer.tmp / "workflow-runs"
    stage.mkdir(exist_ok=True)
    items = stage / f"runs-{len(list(stage.iterdir())):04d}.json.gz"
    with gzip.open(items, "wb", compresslevel=1) as out:
        for launch in launches:
            out.write(launch_item(launch))
    staged = stage_items(writer, [items], ItemAttributes(), source, currency)
    rejected = list(rejected)
    if rejected:
        staged.quarantine_files.append(_rejected_file(writer, stage, rejected))
    stage_quarantine(writer, staged)
    merged = merge_launches(writer, staged)
    loaded = Loaded(staged.records_read, merged.loaded, merged.unchanged, staged.quarantined + len(rejected))
    if merged.loaded or merged.unchanged:  # merge_launches left its incoming and changed launches to compare with
        loaded.tasks_written = _merge_tasks(writer, tasks)
    reasons = dict(staged.reasons)
    for r in rejected:
        reasons[r.reason] = reasons.get(r.reason, 0) + 1
    run.stats.count(staged.records_read + len(rejected), merged.loaded, merged.unchanged, loaded.quarantined, reasons)
    return loaded


def _rejected_file(writer, stage, rejected: list[Rejected]) -> str:
    """The importer's own rejects in the layout of the staged quarantine files."""
    path = stage / f"rejected-{len(list(stage.iterdir())):04d}.parquet"
    now = datetime.now(UTC).replace(tzinfo=None)
    table = pa.table(
        {
            "run_id": pa.array([writer.run_id] * len(rejected), pa.string()),
            "source": pa.array([r.source for r in rejected], pa.string()),
            "record_key": pa.array([r.record_key for r in rejected], pa.string()),
            "reason": pa.array([r.reason for r in rejected], pa.string()),
            "raw_record": pa.array([_as_json(r.raw) for r in rejected], pa.string()),
            "quarantined_at": pa.array([now] * len(rejected), pa.timestamp("us")),
        }
    )
    writer.con.register("rejected_records", table)
    writer.con.execute(  # typed as the staged quarantine files are: the raw record is JSON
        f"COPY (SELECT * REPLACE (CAST(raw_record AS JSON) AS raw_record) FROM rejected_records) TO '{path}' (FORMAT parquet)"
    )
    writer.con.unregister("rejected_records")
    return str(path)


def _as_json(raw: str) -> str:
    """The raw record as JSON text: itself when it is JSON, else a JSON string holding it."""
    try:
        orjson.loads(raw)
        return raw
    except orjson.JSONDecodeError:
        return orjson.dumps(raw).decode()


_TASK_BATCH_ROWS = 50_000  # task rows held as dicts at once: the table is built batch by batch, so a big run streams
_ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "INTEGER": pa.int32(),
    "BIGINT": pa.int64(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "TIMESTAMP": pa.timestamp("us"),
}


def _tasks_table(tasks: Iterable[dict]) -> pa.Table:
    types = dict(schema_columns()["launch_tasks"])
    schema = pa.schema(  # DECIMAL columns travel as text: exact, Decimal in, DECIMAL out, never through float
        [
            (c, pa.string() if types[c].startswith("DECIMAL") else _ARROW_TYPES[types[c]])
            for c in TASK_COLUMNS
            if c not in _LOADER_COLUMNS
        ]
    )
    batches, chunk = [], []
    for row in tasks:
        chunk.append(row)
        if len(chunk) == _TASK_BATCH_ROWS:
            batches.append(_tasks_batch(chunk, schema, types))
            chunk = []
    if chunk:
        batches.append(_tasks_batch(chunk, schema, types))
    return pa.Table.from_batches(batches, schema)


def _tasks_batch(rows: list[dict], schema: pa.Schema, types: dict[str, str]) -> pa.RecordBatch:
    arrays = []
    for f in schema:
        values = [row.get(f.name) for row in rows]
        if types[f.name] == "TIMESTAMP":
            values = [_naive_utc(v) for v in values]
        elif types[f.name].startswith("DECIMAL"):
            values = [None if v is None else str(v) for v in values]
        arrays.append(pa.array(values, f.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _naive_utc(value):
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _task_digest_sql(alias: str) -> str:
    """A fingerprint of one run's task rows (every column but the loader's), to see when a run's tasks changed."""
    cells = ", ".join(f"coalesce(CAST({alias}.{c} AS VARCHAR), '\x00')" for c in TASK_COLUMNS if c not in _LOADER_COLUMNS)
    return f"md5(string_agg(concat_ws('\x1f', {cells}), '\x1e' ORDER BY {alias}.task_id, {alias}.attempt, {alias}.name))"


def _merge_tasks(writer, tasks: Iterable[dict]) -> int:
    """Replace the tasks of every run whose launch or tasks changed in this load; returns the rows written.

    A run is replaced when ``merge_launches`` wrote it (``changed``) or when it is unchanged as a launch
    but its task rows differ from those held (a trace whose per-task figures were corrected).
    """
    con = writer.con
    incoming_task_rows = _tasks_table(tasks)  # read by DuckDB's replacement scan, by its name
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE incoming_tasks AS
            SELECT {select_list("launch_tasks", "t")} FROM (
                SELECT r.*, CAST(i.month || '-01' AS DATE) AS launch_month, $run_id AS ingest_run_id
                FROM incoming_task_rows r JOIN incoming i USING (launch_id)) t""",
        {"run_id": writer.run_id},
    )
    del incoming_task_rows
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE replaced_runs AS
            SELECT launch_id, month FROM changed
            UNION
            SELECT i.launch_id, i.month FROM incoming i
            LEFT JOIN (SELECT launch_id, {_task_digest_sql("n")} AS digest FROM incoming_tasks n GROUP BY 1) new USING (launch_id)
            LEFT JOIN (SELECT launch_id, {_task_digest_sql("o")} AS digest FROM launch_tasks o
                       WHERE launch_id IN (SELECT launch_id FROM incoming) GROUP BY 1) old USING (launch_id)
            WHERE new.digest IS DISTINCT FROM old.digest"""
    )
    months = [
        m
        for (m,) in con.execute(
            """SELECT month FROM replaced_runs UNION
               SELECT strftime(launch_month, '%Y-%m') FROM launch_tasks WHERE launch_id IN (SELECT launch_id FROM replaced_runs)
               ORDER BY 1"""
        ).fetchall()
    ]
    count = 0
    if months:
        written = writer.write_partitions(
            "launch_tasks",
            """SELECT * FROM launch_tasks WHERE strftime(launch_month, '%Y-%m') IN (SELECT unnest($months))
                 AND launch_id NOT IN (SELECT launch_id FROM replaced_runs)
               UNION ALL BY NAME SELECT * FROM incoming_tasks SEMI JOIN replaced_runs USING (launch_id)""",
            {"months": months},
        )
        writer.drop_partitions("launch_tasks", [m for m in months if m not in written])
        count = con.execute("SELECT count(*) FROM incoming_tasks SEMI JOIN replaced_runs USING (launch_id)").fetchone()[0]
    con.execute("DROP TABLE incoming_tasks")
    con.execute("DROP TABLE replaced_runs")
    return count
