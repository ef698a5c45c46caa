"""Launch items (DynamoDB JSON) → ``launches`` and ``launch_resources``, with bad records quarantined.

The same code loads a table scan and an "export to S3": both arrive as files of DynamoDB JSON
lines (``{"Item": {...}}``). pyarrow's JSON reader parses each file once into a typed struct (no
per-item Python; DuckDB's read_json takes the files it refuses), DuckDB scans it in place, a
set-based validation gives each bad record its reason, and the good rows are staged as Parquet in
batches so memory stays flat however large the table is. ``merge_launches`` then replaces, by
``launch_id``, only the launches whose content changed.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import orjson

from core.settings import ItemAttributes
from core.vocabulary import STATUSES
from warehouse.store import WarehouseWriter

if TYPE_CHECKING:
    import pyarrow as pa

BATCH_BYTES = 28 << 20  # gzip bytes read per batch: two 100k-item export files; peak RSS ~0.9 GB at this size
_SCALAR = {"S": "VARCHAR", "N": "VARCHAR"}  # a DynamoDB scalar: {S: ..} or {N: ..}, both kept as text
_WHEN = {"start": _SCALAR, "end": _SCALAR}

# Helpers for the validation SQL. DynamoDB scalars arrive as {S: ..} or {N: ..}; times may be
# ISO 8601 strings or epoch seconds; costs are decimal strings.
_MACROS = """
CREATE OR REPLACE MACRO ll_text(v) AS coalesce(v.S, v.N);
CREATE OR REPLACE MACRO ll_ts(v) AS CASE
    WHEN v.N IS NOT NULL THEN to_timestamp(TRY_CAST(v.N AS DOUBLE)) AT TIME ZONE 'UTC'
    ELSE make_timestamp(epoch_us(TRY_CAST(v.S AS TIMESTAMPTZ))) END;  -- the UTC wall time, 3x cheaper than AT TIME ZONE
CREATE OR REPLACE MACRO ll_money(v) AS TRY_CAST(trim(ll_text(v)) AS DECIMAL(18,6));
CREATE OR REPLACE MACRO ll_num(v) AS TRY_CAST(ll_text(v) AS DOUBLE);
CREATE OR REPLACE MACRO ll_hours(a, b) AS epoch(b - a) / 3600.0;
CREATE OR REPLACE MACRO ll_purchase(p) AS CASE
    WHEN p IS NULL THEN NULL
    WHEN lower(replace(replace(p, '-', ''), '_', '')) IN ('spot') THEN 'Spot'
    WHEN lower(replace(replace(replace(p, '-', ''), '_', ''), ' ', '')) IN ('ondemand', 'od') THEN 'On-Demand'
    WHEN lower(p) LIKE 'reserved%' OR lower(p) LIKE 'savings%' THEN 'Reserved'
    ELSE p END;
"""


def item_shape(attrs: ItemAttributes) -> dict:
    """What of a launch item is parsed: nested {name: shape}, lists as [shape], leaves "VARCHAR".

    Unknown attributes are ignored. ``item_type`` and ``item_schema`` render the one shape for DuckDB and Arrow.
    """
    instance = {
        "M": {"instance_type": _SCALAR, "purchase_option": _SCALAR, "count": _SCALAR, "availability_zone": _SCALAR, **_WHEN}
    }
    volume = {
        "M": {"volume_type": _SCALAR, "size_gb": _SCALAR, "count": _SCALAR, "iops": _SCALAR, "throughput": _SCALAR, **_WHEN}
    }
    filesystem = {"M": {"file_system_id": _SCALAR, "deployment_type": _SCALAR, "capacity_gb": _SCALAR, **_WHEN}}
    cluster = {"M": {"cluster_name": _SCALAR, **_WHEN}}
    resources = {"M": {"instances": {"L": [instance]}, "volumes": {"L": [volume]}, "filesystem": filesystem, "cluster": cluster}}
    fields = {attrs.status_times: {"M": dict.fromkeys(STATUSES, _SCALAR)}, attrs.resources: resources}
    for name in (
        "launch_id",
        "consumer",
        "workflow_type",
        "compute_platform",
        "region",
        "status",
        "input_path",
        "input_size_gb",
        "sample_count",
        "total_cost",
        "instance_cost",
        "volume_cost",
        "filesystem_cost",
        "price_source",
    ):
        fields[getattr(attrs, name)] = _SCALAR
    return fields


def item_type(attrs: ItemAttributes) -> str:
    """The DuckDB type a launch item is parsed into."""

    def render(shape) -> str:
        if isinstance(shape, str):
            return shape
        if isinstance(shape, list):
            return render(shape[0]) + "[]"
        return "STRUCT(" + ", ".join(f'"{k}" {render(v)}' for k, v in shape.items()) + ")"

    return render(item_shape(attrs))


def item_schema(attrs: ItemAttributes) -> pa.Schema:
    """The same type as an Arrow schema of the JSON line ``{"Item": ...}``, for pyarrow's JSON reader."""
    import pyarrow as pa

    def render(shape) -> pa.DataType:
        if isinstance(shape, str):
            return pa.string()
        if isinstance(shape, list):
            return pa.list_(render(shape[0]))
        return pa.struct([(k, render(v)) for k, v in shape.items()])

    return pa.schema([("Item", render(item_shape(attrs)))])


_COSTS = (
    ("total_cost", "totalCost"),
    ("instance_cost", "instance_cost"),
    ("volume_cost", "volume_cost"),
    ("filesystem_cost", "filesystem_cost"),
)  # (column, the name a reason gives it)


def _parsed_sql(source_sql: str, attrs: ItemAttributes) -> str:
    """Flatten parsed items (a relation with columns rn, source, Item) into typed launch columns.

    Each timestamp and cost string is parsed once (inner SELECT); the outer one tells a value that
    is missing from one that did not parse by comparing the text with its parsed value.
    """
    a = {k: f'Item."{getattr(attrs, k)}"' for k in ItemAttributes.__dataclass_fields__}
    times = a["status_times"] + ".M"
    res = a["resources"] + ".M"
    status_cols = ",\n            ".join(
        f"ll_ts({times}.{s}) AS {s.lower()}_ts, ll_text({times}.{s}) AS {s.lower()}_text" for s in STATUSES
    )
    cost_cols = ",\n            ".join(f"ll_money({a[c]}) AS {c}, ll_text({a[c]}) AS {c}_text" for c, _ in _COSTS)
    bad_times = " OR ".join(f"({s.lower()}_text IS NOT NULL AND {s.lower()}_ts IS NULL)" for s in STATUSES)
    bad_cost = " ".join(f"WHEN {c}_text IS NOT NULL AND {c} IS NULL THEN '{name}'" for c, name in _COSTS)
    texts = [f"{s.lower()}_text" for s in STATUSES] + [f"{c}_text" for c, _ in _COSTS]
    return f"""
    SELECT * EXCLUDE ({", ".join(texts)}),
        {bad_times} AS has_bad_status_time,
        CASE {bad_cost} END AS bad_cost_field,
        [{", ".join(f"{c}_text" for c, _ in _COSTS)}] AS cost_texts
    FROM (
        SELECT
            rn, source,
            nullif(trim(ll_text({a["launch_id"]})), '') AS launch_id,
            ll_text({a["consumer"]}) AS consumer,
            ll_text({a["workflow_type"]}) AS workflow_type,
            ll_text({a["compute_platform"]}) AS compute_platform,
            ll_text({a["region"]}) AS region,
            upper(ll_text({a["status"]})) AS status,
            ll_text({a["input_path"]}) AS input_path,
            ll_num({a["input_size_gb"]}) AS input_size_gb,
            ll_text({a["input_size_gb"]}) AS input_size_text,
            TRY_CAST(ll_num({a["sample_count"]}) AS INTEGER) AS sample_count,
            lower(trim(ll_text({a["price_source"]}))) AS item_price_source,
            {status_cols},
            {cost_cols},
            coalesce({res}.instances.L, []) AS instances,
            coalesce({res}.volumes.L, []) AS volumes,
            {res}.filesystem.M AS filesystem,
            {res}.cluster.M AS cluster
        FROM ({source_sql})
    )
    """


def _resources_sql() -> str:
    """One row per consumed resource of each parsed launch (relation ``parsed``).

    resource_index numbers a launch's resources from 1: instances, then volumes, file system, cluster.
    """
    return """
    SELECT launch_id, rn, kind, resource_type, family, size, purchase_option, count, size_gb, iops, throughput_mibps,
           availability_zone, resource_id, started_at, ended_at, start_text, end_text,
           idx AS resource_index
    FROM (
        SELECT p.launch_id, p.rn, 'instance' AS kind, ll_text(i.M.instance_type) AS resource_type,
               split_part(ll_text(i.M.instance_type), '.', 1) AS family,
               nullif(split_part(ll_text(i.M.instance_type), '.', 2), '') AS size,
               ll_purchase(ll_text(i.M.purchase_option)) AS purchase_option,
               coalesce(TRY_CAST(ll_num(i.M.count) AS INTEGER), 1) AS count, NULL::DOUBLE AS size_gb,
               NULL::INTEGER AS iops, NULL::INTEGER AS throughput_mibps,
               ll_text(i.M.availability_zone) AS availability_zone, NULL AS resource_id,
               ll_ts(i.M."start") AS started_at, ll_ts(i.M."end") AS ended_at,
               ll_text(i.M."start") AS start_text, ll_text(i.M."end") AS end_text, i_idx AS idx
        FROM (SELECT launch_id, rn, unnest(instances) AS i, generate_subscripts(instances, 1) AS i_idx FROM parsed) p
        UNION ALL
        SELECT p.launch_id, p.rn, 'volume', ll_text(v.M.volume_type), ll_text(v.M.volume_type), NULL, NULL,
               coalesce(TRY_CAST(ll_num(v.M.count) AS INTEGER), 1), ll_num(v.M.size_gb),
               TRY_CAST(ll_num(v.M.iops) AS INTEGER), TRY_CAST(ll_num(v.M.throughput) AS INTEGER), NULL, NULL,
               ll_ts(v.M."start"), ll_ts(v.M."end"), ll_text(v.M."start"), ll_text(v.M."end"), v_idx
        FROM (SELECT launch_id, rn, unnest(volumes) AS v, len(instances) + generate_subscripts(volumes, 1) AS v_idx
              FROM parsed) p
        UNION ALL
        SELECT launch_id, rn, 'filesystem', ll_text(filesystem.deployment_type), 'fsx-lustre', NULL, NULL, 1,
               ll_num(filesystem.capacity_gb), NULL, NULL, NULL, ll_text(filesystem.file_system_id),
               ll_ts(filesystem."start"), ll_ts(filesystem."end"), ll_text(filesystem."start"),
               ll_text(filesystem."end"), len(instances) + len(volumes) + 1
        FROM parsed WHERE filesystem IS NOT NULL
        UNION ALL
        SELECT launch_id, rn, 'cluster', 'eks', 'eks', NULL, NULL, 1, NULL, NULL, NULL, NULL, ll_text(cluster.cluster_name),
               ll_ts(cluster."start"), ll_ts(cluster."end"), ll_text(cluster."start"), ll_text(cluster."end"),
               len(instances) + len(volumes) + CAST(filesystem IS NOT NULL AS INTEGER) + 1
        FROM parsed WHERE cluster IS NOT NULL
    )
    """


_VALIDATED_SQL = """
SELECT p.* EXCLUDE (instances, volumes, filesystem, cluster, cost_texts),
    coalesce(preparing_ts, waiting_ts, ready_ts, running_ts, complete_ts, failed_ts) AS launched_at,
    coalesce(complete_ts, failed_ts) AS ended_at,
    CASE
        WHEN p.launch_id IS NULL THEN 'missing launch_id: the item has no key attribute'
        WHEN p.status IS NULL THEN 'missing status'
        WHEN p.status NOT IN ('PREPARING', 'WAITING', 'READY', 'RUNNING', 'COMPLETE', 'FAILED')
            THEN 'unknown status "' || p.status || '" (expected PREPARING, WAITING, READY, RUNNING, COMPLETE or FAILED)'
        WHEN has_bad_status_time THEN 'unparseable timestamp in status times (expected ISO 8601 or epoch seconds)'
        WHEN r.bad_time_text IS NOT NULL
            THEN 'unparseable timestamp "' || r.bad_time_text || '" on a consumed ' || r.bad_time_kind
        WHEN bad_cost_field IS NOT NULL THEN bad_cost_field || ' is not a number: "'
            || coalesce(list_filter(cost_texts, lambda x: TRY_CAST(trim(x) AS DECIMAL(18,6)) IS NULL AND x IS NOT NULL)[1], '')
            || '"'
        WHEN input_size_text IS NOT NULL AND (input_size_gb IS NULL OR input_size_gb < 0)
            THEN 'input size is not a non-negative number: "' || input_size_text || '"'
        WHEN coalesce(preparing_ts, waiting_ts, ready_ts, running_ts, complete_ts, failed_ts) IS NULL
            THEN 'no status times: the launch has no PREPARING (or any other) timestamp'
        WHEN complete_ts IS NOT NULL AND failed_ts IS NOT NULL THEN 'both COMPLETE and FAILED times are set'
        WHEN list_filter([preparing_ts, waiting_ts, ready_ts, running_ts, coalesce(complete_ts, failed_ts)],
                         lambda x: x IS NOT NULL)
             <> list_sort(list_filter([preparing_ts, waiting_ts, ready_ts, running_ts, coalesce(complete_ts, failed_ts)],
                                      lambda x: x IS NOT NULL))
            THEN 'status times out of order (PREPARING <= WAITING <= READY <= RUNNING <= COMPLETE/FAILED expected)'
        WHEN CASE p.status WHEN 'PREPARING' THEN preparing_ts WHEN 'WAITING' THEN waiting_ts WHEN 'READY' THEN ready_ts
                 WHEN 'RUNNING' THEN running_ts WHEN 'COMPLETE' THEN complete_ts ELSE failed_ts END IS NULL
            THEN 'status ' || p.status || ' has no time in the status times'
        WHEN r.negative_kind IS NOT NULL THEN 'negative duration: a consumed ' || r.negative_kind || ' ends before it starts'
        WHEN total_cost IS NOT NULL
             AND coalesce(instance_cost, 0) + coalesce(volume_cost, 0) + coalesce(filesystem_cost, 0) > total_cost + 0.01
            THEN 'cost parts (instance + volume + filesystem) exceed totalCost ' || CAST(total_cost AS VARCHAR)
        WHEN item_price_source NOT IN ('item', 'seqera')
            THEN 'unknown price_source "' || item_price_source || '" (expected item or seqera)'
    END AS reason
FROM parsed p
LEFT JOIN (
    SELECT rn,
        arg_min(kind || ' ' || coalesce(resource_type, ''), resource_index)  -- the first such resource of the launch
            FILTER (WHERE ended_at < started_at) AS negative_kind,
        first(CASE WHEN started_at IS NULL AND start_text IS NOT NULL THEN start_text
                   WHEN ended_at IS NULL AND end_text IS NOT NULL THEN end_text END)
            FILTER (WHERE (started_at IS NULL AND start_text IS NOT NULL) OR (ended_at IS NULL AND end_text IS NOT NULL))
            AS bad_time_text,
        first(kind)
            FILTER (WHERE (started_at IS NULL AND start_text IS NOT NULL) OR (ended_at IS NULL AND end_text IS NOT NULL))
            AS bad_time_kind
    FROM resources GROUP BY rn
) r USING (rn)
"""

# What of a launch's resources goes into the launch's fingerprint.
_RESOURCE_CONTENT = ", ".join(
    (
        "kind",
        "resource_type",
        "purchase_option",
        "count",
        "size_gb",
        "iops",
        "throughput_mibps",
        "availability_zone",
        "resource_id",
        "started_at",
        "ended_at",
    )
)

_LAUNCH_ROWS_SQL = """
SELECT
    v.launch_id, v.consumer, v.workflow_type, v.compute_platform, v.region, v.status, v.input_path,
    v.input_size_gb, v.sample_count, v.launched_at, date_trunc('month', v.launched_at)::DATE AS launch_month,
    v.preparing_ts AS preparing_at, v.waiting_ts AS waiting_at, v.ready_ts AS ready_at, v.running_ts AS running_at,
    v.complete_ts AS completed_at, v.failed_ts AS failed_at, v.ended_at,
    ll_hours(v.preparing_ts, coalesce(v.waiting_ts, v.ready_ts, v.running_ts, v.ended_at)) AS preparing_hours,
    ll_hours(v.waiting_ts, coalesce(v.ready_ts, v.running_ts, v.ended_at)) AS waiting_hours,
    ll_hours(v.ready_ts, coalesce(v.running_ts, v.ended_at)) AS queued_hours,
    ll_hours(v.running_ts, v.ended_at) AS running_hours,
    ll_hours(v.launched_at, v.ended_at) AS total_hours,
    coalesce(i.instance_count, 0) AS instance_count,
    coalesce(i.instance_hours, 0) AS instance_hours,
    i.primary_instance_type, i.primary_purchase_option,
    CASE WHEN v.total_cost IS NOT NULL THEN coalesce(v.instance_cost, 0) END AS instance_cost,
    CASE WHEN v.total_cost IS NOT NULL THEN coalesce(v.volume_cost, 0) END AS volume_cost,
    CASE WHEN v.total_cost IS NOT NULL THEN coalesce(v.filesystem_cost, 0) END AS filesystem_cost,
    v.total_cost - coalesce(v.instance_cost, 0) - coalesce(v.volume_cost, 0) - coalesce(v.filesystem_cost, 0)
        AS control_plane_cost,
    v.total_cost,
    $currency AS currency,
    CASE WHEN v.total_cost IS NULL THEN 'pending' WHEN v.item_price_source = 'seqera' THEN 'seqera' ELSE 'item' END
        AS price_source,
    NULL AS row_hash,
    $run_id AS ingest_run_id,
    i.resource_hash
FROM validated v
LEFT JOIN (
    SELECT rn, sum(count) FILTER (WHERE kind = 'instance') AS instance_count,
           sum(count * hours) FILTER (WHERE kind = 'instance') AS instance_hours,
           arg_max(resource_type, count * coalesce(hours, 0)) FILTER (WHERE kind = 'instance') AS primary_instance_type,
           arg_max(purchase_option, count * coalesce(hours, 0)) FILTER (WHERE kind = 'instance') AS primary_purchase_option,
           bit_xor(hash(resource_index, RESOURCE_CONTENT)) AS resource_hash
    FROM resource_rows GROUP BY rn
) i USING (rn)
WHERE v.reason IS NULL
""".replace("RESOURCE_CONTENT", _RESOURCE_CONTENT)


@dataclass
class StageResult:
    """What staging read: counts, and the staged files (already in the warehouse layout) the merge uses."""

    records_read: int = 0
    quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    launch_parts: dict[str, list[str]] = field(default_factory=dict)  # month -> files, relative to the warehouse root
    resource_parts: dict[str, list[str]] = field(default_factory=dict)
    quarantine_files: list[str] = field(default_factory=list)

    def add(self, table_parts: dict[str, list[str]], written: dict[str, list[str]]) -> None:
        for part, files in written.items():
            table_parts.setdefault(part, []).extend(files)


def _launch_fingerprint_sql() -> str:
    """A 64-bit fingerprint of the launch row (everything but the hash and the run id) and its resources.

    Only compared for the same launch_id, old against new, to skip unchanged launches.
    """
    from warehouse.store import schema_columns

    content = [f'"{c}"' for c, _ in schema_columns()["launches"] if c not in ("row_hash", "ingest_run_id")]
    return f"CAST(hash({', '.join(content)}, resource_hash) AS VARCHAR)"


def _validate_batch(con: duckdb.DuckDBPyConnection, attrs: ItemAttributes, run_id: str, base: Path) -> None:
    """Parse and check the batch's launch items, keep each launch's latest state, and write out the bad records."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE parsed AS {_parsed_sql('SELECT rn, source, Item FROM items', attrs)}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE resources AS {_resources_sql()}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE validated AS {_VALIDATED_SQL}")
    con.execute(  # the same launch twice in a batch: its last line is its latest state
        "DELETE FROM validated WHERE rn IN (SELECT rn FROM validated WHERE reason IS NULL QUALIFY row_number() OVER "
        "(PARTITION BY launch_id ORDER BY coalesce(ended_at, running_ts, ready_ts, waiting_ts, launched_at) DESC, "
        "rn DESC) > 1)"
    )
    con.execute(
        f"""COPY (
            SELECT $run_id AS run_id, v.source, v.launch_id AS record_key, v.reason, to_json(i.Item) AS raw_record,
                   now()::TIMESTAMP AS quarantined_at
            FROM validated v JOIN items i ON i.rn = v.rn WHERE v.reason IS NOT NULL
        ) TO '{base}-quarantine.parquet' (FORMAT parquet)""",
        {"run_id": run_id},
    )


def _stage_launches(writer: WarehouseWriter, result: StageResult, currency: str, tag: str) -> None:
    """Stage the batch's valid launches and their resources as files in the warehouse layout."""
    con = writer.con
    con.execute(
        "CREATE OR REPLACE TEMP TABLE resource_rows AS SELECT r.*, ll_hours(started_at, ended_at) AS hours "
        "FROM resources r SEMI JOIN validated v ON v.rn = r.rn AND v.reason IS NULL"
    )
    fingerprint = _launch_fingerprint_sql()
    result.add(
        result.launch_parts,
        writer.write_files(
            "launches",
            f"SELECT * EXCLUDE (row_hash, resource_hash), {fingerprint} AS row_hash FROM ({_LAUNCH_ROWS_SQL})",
            {"run_id": writer.run_id, "currency": currency},
            tag,
        ),
    )
    result.add(
        result.resource_parts,
        writer.write_files(
            "launch_resources",
            """SELECT r.* EXCLUDE (rn, start_text, end_text),
                  date_trunc('month', v.launched_at)::DATE AS launch_month, $run_id AS ingest_run_id
           FROM resource_rows r JOIN validated v USING (rn)""",
            {"run_id": writer.run_id},
            tag,
        ),
    )


def _count_quarantined(con: duckdb.DuckDBPyConnection, result: StageResult) -> None:
    """Add the batch's quarantined launch items to the counts, by reason."""
    for reason, count in con.execute(
        "SELECT reason, count(*) FROM validated WHERE reason IS NOT NULL GROUP BY reason"
    ).fetchall():
        result.reasons[reason] = result.reasons.get(reason, 0) + count
        result.quarantined += count


def stage_items(
    writer: WarehouseWriter,
    files: Iterable[Path],
    attrs: ItemAttributes,
    source: str | None = None,
    currency: str = "USD",
    on_file: Callable[[Path, int], None] | None = None,  # called with each file and the items it held
    batch_bytes: int = BATCH_BYTES,
) -> StageResult:
    """Parse, validate and stage launch items from DynamoDB-JSON-lines files (plain or gzip).

    Files are read in batches of up to ``batch_bytes`` on disk (each file parsed on every core), so
    memory follows the batch, not the input; ``source`` labels the records
    in ``quarantine`` (default: the file each came from).
    """
    con = writer.con
    con.execute(_MACROS)
    stage_dir = writer.tmp / "stage"
    stage_dir.mkdir(exist_ok=True)
    result = StageResult()
    files = [Path(f) for f in files]
    for n, batch in enumerate(_batches(files, batch_bytes)):
        rows = _read_batch(con, batch, attrs, source, stage_dir, n, result)
        base = stage_dir / f"{n:05d}"
        _validate_batch(con, attrs, writer.run_id, base)
        if on_file:
            counts = dict(con.execute("SELECT filename, count(*) FROM items GROUP BY filename").fetchall())
            for path in batch:
                on_file(path, counts.get(str(path), 0))
        _drop_items(con)  # the raw items are done with: free their memory for the writes
        con.execute("DROP TABLE parsed")
        _stage_launches(writer, result, currency, f"stage{n:05d}")
        result.records_read += rows
        _count_quarantined(con, result)
        result.quarantine_files.append(f"{base}-quarantine.parquet")
    for name in ("resources", "validated", "resource_rows"):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    return result


def _batches(files: list[Path], budget: int) -> Iterable[list[Path]]:
    """Consecutive files, as many per batch as fit in ``budget`` bytes on disk (at least one)."""
    batch: list[Path] = []
    size = 0
    for f in files:
        f_size = f.stat().st_size
        if batch and size + f_size > budget:
            yield batch
            batch, size = [], 0
        batch.append(f)
        size += f_size
    if batch:
        yield batch


def _read_batch(
    con: duckdb.DuckDBPyConnection,
    paths: list[Path],
    attrs: ItemAttributes,
    source: str | None,
    stage_dir: Path,
    n: int,
    result: StageResult,
) -> int:
    """Make the files' items the view ``items`` (rn, filename, source, Item); lines that are not items are quarantined.

    The fast path parses a file with pyarrow's JSON reader (a third of the CPU of DuckDB's typed
    read_json) into the same type, and DuckDB scans the Arrow table where it lies. A file it cannot
    take whole (a malformed line, a value of an unexpected JSON type) is read by DuckDB instead, and
    failing that, line by line. The caller drops the view with ``_drop_items``.
    """
    import pyarrow as pa  # imported when there is something to parse: a re-ingest of unchanged files starts faster

    typ = item_type(attrs)
    schema = item_schema(attrs)
    spec = f"columns={{'Item': '{typ}'}}, format='newline_delimited', maximum_object_size=16777216, filename=true"
    insert = f"INSERT INTO items_read SELECT filename, coalesce($source, filename) AS source, Item FROM read_json($paths, {spec})"
    con.execute(f"CREATE OR REPLACE TEMP TABLE items_read (filename VARCHAR, source VARCHAR, Item {typ})")
    parsed: list[pa.Table] = []
    for k, path in enumerate(paths):
        if path.stat().st_size <= _ARROW_MAX_BYTES:  # larger files go to DuckDB's reader, which spills past its limit
            try:
                parsed.append(_parse_with_arrow(path, schema, source))
                continue
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError, EOFError):  # DuckDB's reader sorts the file out
                pass
        try:
            con.execute(insert, {"paths": [str(path)], "source": source})
        except duckdb.Error:
            _read_damaged_file(con, path, insert, spec, source, stage_dir, f"{n:05d}-{k}", result)
    columns = pa.schema([("filename", pa.string()), ("source", pa.string()), schema.field("Item")])
    arrow = pa.concat_tables(parsed) if parsed else columns.empty_table()
    arrow = arrow.append_column("rn", pa.array(range(arrow.num_rows), pa.int64()))
    con.register("items_arrow", arrow)
    con.execute(
        "CREATE OR REPLACE TEMP VIEW items AS SELECT rn, filename, source, Item FROM items_arrow "
        f"UNION ALL SELECT rowid + {arrow.num_rows} AS rn, filename, source, Item FROM items_read"
    )
    return con.execute("SELECT count(*) FROM items").fetchone()[0]


def _drop_items(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DROP VIEW IF EXISTS items; DROP TABLE IF EXISTS items_read")
    con.unregister("items_arrow")


_ARROW_MAX_BYTES = 16 << 20  # about 125k items gzipped: Arrow holds a file whole, so larger ones go to DuckDB


def _parse_with_arrow(path: Path, schema: pa.Schema, source: str | None) -> pa.Table:
    """The file's items as an Arrow table (filename, source, Item); raises if any line does not fit ``schema``."""
    import pyarrow as pa
    import pyarrow.json as pa_json

    table = pa_json.read_json(
        pa.input_stream(str(path), compression="detect"),
        read_options=pa_json.ReadOptions(block_size=8 << 20),
        parse_options=pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore"),
        memory_pool=pa.system_memory_pool(),  # gives freed memory back, so the peak RSS stays where DuckDB's limit puts it
    )
    rows = table.num_rows
    label = source if source is not None else str(path)
    return pa.table(
        {
            "filename": pa.array([str(path)] * rows, pa.string()),
            "source": pa.array([label] * rows, pa.string()),
            "Item": table.column("Item"),
        }
    )


def _read_damaged_file(
    con, path: Path, insert: str, spec: str, source: str | None, stage_dir: Path, tag: str, result: StageResult
) -> None:
    """A malformed line spoils DuckDB's bulk read: sort this file's lines, good from bad, in Python,
    quarantine the bad ones with their line number, and load the rest.

    Lines that are not JSON items are found in one pass; only if DuckDB still refuses what is left
    is each remaining line tried on its own (slow, and rare: a value of a type DuckDB cannot read).
    """
    clean = stage_dir / f"{tag}-clean.json"
    label = source or str(path)
    bad = []
    kept: list[tuple[int, bytes]] = []
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as src:
        for lineno, line in _lines_until_cut(src, label, bad):
            if not line.strip():
                continue
            try:
                doc = orjson.loads(line)
                if not isinstance(doc, dict) or not isinstance(doc.get("Item"), dict):
                    raise ValueError("no Item object")
            except ValueError as exc:
                why = "not valid JSON" if isinstance(exc, orjson.JSONDecodeError) else "not a DynamoDB JSON item"
                bad.append((label, f"line {lineno} is {why}", line.decode("utf-8", "replace")[:10000]))
                continue
            kept.append((lineno, line.rstrip(b"\n") + b"\n"))
    clean.write_bytes(b"".join(line for _, line in kept))
    try:
        con.execute(insert, {"paths": [str(clean)], "source": label})
    except duckdb.Error:
        survivors = []
        for lineno, line in kept:
            try:
                con.execute(f"SELECT * FROM read_json(?, {spec})", [_one_line_file(stage_dir, line)]).fetchall()
                survivors.append(line)
            except duckdb.Error:
                bad.append((label, f"line {lineno} is not a DynamoDB JSON item", line.decode("utf-8", "replace")[:10000]))
        clean.write_bytes(b"".join(survivors))
        con.execute(insert, {"paths": [str(clean)], "source": label})
    con.execute("UPDATE items_read SET filename = $orig WHERE filename = $clean", {"orig": str(path), "clean": str(clean)})
    if bad:
        con.execute("CREATE OR REPLACE TEMP TABLE bad_lines (source VARCHAR, reason VARCHAR, raw_record VARCHAR)")
        con.executemany("INSERT INTO bad_lines VALUES (?, ?, ?)", bad)
        out_file = stage_dir / f"{tag}-badlines-quarantine.parquet"
        con.execute(
            "COPY (SELECT '' AS run_id, source, CAST(NULL AS VARCHAR) AS record_key, reason, raw_record, "
            f"now()::TIMESTAMP AS quarantined_at FROM bad_lines) TO '{out_file}' (FORMAT parquet)"
        )
        result.quarantine_files.append(str(out_file))
        result.quarantined += len(bad)
        result.records_read += len(bad)
        for _, reason, _ in bad:
            key = reason if reason.startswith((CUT_SHORT, UNREADABLE)) else "line is " + reason.split(" is ", 1)[1]
            result.reasons[key] = result.reasons.get(key, 0) + 1


CUT_SHORT = "file cut short"
UNREADABLE = "file unreadable"


def _lines_until_cut(src, label: str, bad: list) -> Iterable[tuple[int, bytes]]:
    """(line number, line) of a file; a gzip stream that ends early (a truncated download or export) stops the
    file with one quarantined record saying so, and the lines before it still load."""
    lineno = 0
    try:
        for lineno, line in enumerate(src, 1):  # noqa: B007 (lineno is read after the loop)
            yield lineno, line
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        if lineno:
            why = f"{CUT_SHORT} after line {lineno}: the rest is not readable gzip ({exc}); export or download it again"
        else:
            why = f"{UNREADABLE}: not a gzip file of DynamoDB JSON lines ({exc}); export or download it again"
        bad.append((label, why, ""))


def _one_line_file(stage_dir: Path, line: bytes) -> str:
    probe = stage_dir / "probe.json"
    probe.write_bytes(line.rstrip(b"\n") + b"\n")
    return str(probe)


@dataclass
class MergeResult:
    loaded: int
    unchanged: int


# A month staged in more files than this is rewritten as one file instead of adopted as it is.
MAX_FILES_PER_PARTITION = 8
_BATCH = "regexp_extract(filename, '/(stage[0-9]+)/', 1)"  # staged files sit under <table>/<run>/stage<n>/


def merge_launches(writer: WarehouseWriter, staged: StageResult) -> MergeResult:
    """Replace, by launch_id, the launches whose content changed; leave every other row alone.

    Staged files are already in the warehouse layout, one set per month. A month the warehouse does
    not hold yet takes its staged files as they are (the first load writes every row once); a month
    that already has rows is rewritten: its unchanged rows plus the changed ones.
    """
    con = writer.con
    if not staged.launch_parts:
        return MergeResult(0, 0)
    root = writer.root.resolve()

    def paths(parts: dict[str, list[str]], months=None) -> list[str]:
        return [str(root / f) for m, files in sorted(parts.items()) if months is None or m in months for f in files]

    con.execute(
        "CREATE OR REPLACE TEMP TABLE incoming AS SELECT launch_id, strftime(launch_month, '%Y-%m') AS month, row_hash, "
        "coalesce(ended_at, running_at, ready_at, waiting_at, launched_at) AS latest, "
        f"{_BATCH} AS batch FROM read_parquet($files, filename = true)",
        {"files": paths(staged.launch_parts)},
    )
    rows, keys = con.execute("SELECT count(*), count(DISTINCT launch_id) FROM incoming").fetchone()
    duplicates = rows != keys
    if duplicates:  # the same launch twice in one input: keep its latest state
        con.execute(
            "CREATE OR REPLACE TEMP TABLE incoming AS SELECT * FROM incoming "
            "QUALIFY row_number() OVER (PARTITION BY launch_id ORDER BY latest DESC, batch DESC) = 1"
        )
    # row_hash covers the launch row and its resources: equal hash, nothing to write.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE changed AS SELECT i.launch_id, i.month, i.batch FROM incoming i "
        "ANTI JOIN launches o ON o.launch_id = i.launch_id AND o.row_hash = i.row_hash"
    )
    changed = con.execute("SELECT count(*) FROM changed").fetchone()[0]
    incoming = con.execute("SELECT count(*) FROM incoming").fetchone()[0]
    adopted: set[str] = set()
    if changed:
        months = {
            m
            for (m,) in con.execute(
                "SELECT DISTINCT month FROM changed UNION "
                "SELECT DISTINCT strftime(launch_month, '%Y-%m') FROM launches WHERE launch_id IN (SELECT launch_id FROM changed)"
            ).fetchall()
        }
        held = set(writer.partitions_of("launches")) | set(writer.partitions_of("launch_resources"))
        adopted = {
            m
            for m in months - held
            if not duplicates
            and len(staged.launch_parts.get(m, [])) <= MAX_FILES_PER_PARTITION
            and len(staged.resource_parts.get(m, [])) <= MAX_FILES_PER_PARTITION
        }
        for table, parts in (("launches", staged.launch_parts), ("launch_resources", staged.resource_parts)):
            for m in adopted:
                writer.adopt(table, m, parts.get(m, []))
            rewrite = sorted(months - adopted)
            if not rewrite:
                continue
            new_rows = paths(parts, rewrite)
            newer = (  # the kept version of each changed launch, from the batch it was staged in
                f"SELECT * FROM read_parquet($files, filename = true) n "
                f"SEMI JOIN changed c ON c.launch_id = n.launch_id AND c.batch = {_BATCH.replace('filename', 'n.filename')}"
                if new_rows
                else "SELECT * FROM (SELECT 1) WHERE false"
            )
            written = writer.write_partitions(
                table,
                f"""SELECT * FROM {table} WHERE strftime(launch_month, '%Y-%m') IN (SELECT unnest($months))
                      AND launch_id NOT IN (SELECT launch_id FROM changed)
                    UNION ALL BY NAME {newer}""",
                {"months": rewrite, **({"files": new_rows} if new_rows else {})},
            )
            writer.drop_partitions(table, [m for m in rewrite if m not in written])
    for parts in (staged.launch_parts, staged.resource_parts):  # staged files no partition took
        for m, files in parts.items():
            if m not in adopted:
                for f in files:
                    (root / f).unlink(missing_ok=True)
    return MergeResult(changed, incoming - changed)


def stage_quarantine(writer: WarehouseWriter, staged: StageResult) -> None:
    """Record this run's rejected records (always kept, even when the run fails later)."""
    files = [f for f in staged.quarantine_files if Path(f).exists()]
    if files:
        writer.write_partitions(
            "quarantine",
            "SELECT $run_id AS run_id, source, record_key, reason, raw_record, quarantined_at FROM read_parquet($files)",
            {"run_id": writer.run_id, "files": files},
        )
