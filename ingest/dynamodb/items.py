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
import re
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import orjson

from core.settings import ItemAttributes, ItemShapes
from core.vocabulary import STATUSES
from ingest.dynamodb import changes, shapes
from warehouse.store import WarehouseWriter

if TYPE_CHECKING:
    import pyarrow as pa

BATCH_BYTES = 28 << 20  # gzip bytes read per batch: two 100k-item export files; peak RSS ~0.9 GB at this size
_MACROS = (
    shapes.MACROS
    + """
CREATE OR REPLACE MACRO ll_quote(t) AS '"' || regexp_replace(left(t, 80), '[\\x00-\\x1f\\x7f]', '?', 'g')
    || CASE WHEN length(t) > 80 THEN '...' ELSE '' END || '"';
"""
)


def item_shape(attrs: ItemAttributes, item_shapes: ItemShapes | None = None) -> dict:
    """What of a launch item is parsed: nested {name: shape}, lists as [shape], leaves DuckDB type names.

    Unknown attributes are ignored. ``item_type`` and ``item_schema`` render the one shape for DuckDB and Arrow.
    """
    return shapes.item_tree(attrs, item_shapes or ItemShapes())


def item_type(attrs: ItemAttributes, item_shapes: ItemShapes | None = None) -> str:
    """The DuckDB type a launch item is parsed into."""
    return shapes.render_duckdb(item_shape(attrs, item_shapes))


def item_schema(attrs: ItemAttributes, item_shapes: ItemShapes | None = None) -> pa.Schema:
    """The same type as an Arrow schema of the JSON line ``{"Item": ...}``, for pyarrow's JSON reader."""
    import pyarrow as pa

    return pa.schema([("Item", shapes.render_arrow(item_shape(attrs, item_shapes)))])


def change_columns(attrs: ItemAttributes, item_shapes: ItemShapes | None = None) -> dict:
    """The parts of an incremental export line that are read: its write time, its key and its new image."""
    return {
        "Metadata": {"WriteTimestampMicros": {"N": "VARCHAR"}},
        "Keys": {shapes.split_path(attrs.launch_id)[0]: shapes.probe()},
        "NewImage": item_shape(attrs, item_shapes),
    }


_COSTS = ("total_cost", "instance_cost", "volume_cost", "filesystem_cost")


def _parsed_sql(source_sql: str, attrs: ItemAttributes, item_shapes: ItemShapes | None = None, check_types: bool = True) -> str:
    """Flatten parsed items (a relation with columns rn, source, as_of_us, Item) into typed launch columns.

    Levels, innermost first: pick each value out of the item (``shapes.picked_values``); tag each with its
    DynamoDB type and parse each time and cost string once; name the first value of a wrong type and tell a
    value that is missing from one that did not parse (or fell outside 2000..2099) by comparing the text
    with its parsed value. Each level computes a column once, so the statement stays small to plan.
    """
    item_shapes = item_shapes or ItemShapes()
    picked = shapes.picked_values(attrs, item_shapes)
    sources = shapes.time_sources(attrs, item_shapes)
    sep = ",\n            "
    status = [s.lower() for s in STATUSES]
    parse_times = sep.join(f"ll_us(v_{s}) AS {s}_us, ll_text(v_{s}) AS {s}_text" for s in status)
    at_times = sep.join(f"ll_at({s}_us) AS {s}_ts" for s in status)
    bad_time = " ".join(
        f"WHEN {t.status.lower()}_text IS NOT NULL AND ll_at({t.status.lower()}_us) IS NULL THEN 'unparseable timestamp ' "
        f"|| ll_quote({t.status.lower()}_text) || {_sql_text(f' for {t.status} ({t.label}): expected {_TIME_EXPECTED}')}"
        for t in sources
    )
    cost_cols = sep.join(f"ll_money(a_{c}) AS {c}, ll_text(a_{c}) AS {c}_text" for c in _COSTS)
    bad_cost = " ".join(f"WHEN {c}_text IS NOT NULL AND {c} IS NULL THEN {_sql_text(getattr(attrs, c))}" for c in _COSTS)
    bad_cost_text = " ".join(f"WHEN {c}_text IS NOT NULL AND {c} IS NULL THEN {c}_text" for c in _COSTS)
    if item_shapes.status_times_shape == "attributes":
        has_times = " OR ".join(f"v_{s} IS NOT NULL" for s in status)
    else:
        has_times = 'st IS NOT NULL AND st."NULL" IS NULL'
    dropped = list(picked)
    dropped += [f"{s}_{k}" for s in status for k in ("us", "text")] + [f"{c}_text" for c in _COSTS]
    return f"""
    SELECT * EXCLUDE ({", ".join(dropped)}),
        {at_times},
        {shapes.type_error_sql(attrs, item_shapes, check_types)} AS type_error,
        CASE {bad_time} END AS bad_status_time,
        CASE {bad_cost} END AS bad_cost_field,
        CASE {bad_cost_text} END AS bad_cost_text,
        [{", ".join(f"{c}_text" for c in _COSTS)}] AS cost_texts
    FROM (
        SELECT *,
            nullif(trim(ll_text(a_launch_id)), '') AS launch_id,
            ll_text(a_consumer) AS consumer,
            ll_text(a_workflow_type) AS workflow_type,
            ll_text(a_compute_platform) AS compute_platform,
            ll_text(a_region) AS region,
            upper(ll_text(a_status)) AS status,
            ll_text(a_input_path) AS input_path,
            ll_num(a_input_size_gb) AS input_size_gb,
            ll_text(a_input_size_gb) AS input_size_text,
            ll_num(a_sample_count) AS sample_number,
            ll_text(a_sample_count) AS sample_count_text,
            ll_num(a_output_size_gb) AS output_size_gb,
            ll_text(a_output_size_gb) AS output_size_text,
            lower(trim(ll_text(a_price_source))) AS item_price_source,
            {parse_times},
            {cost_cols},
            {has_times} AS has_status_times,
            coalesce(c_instances.L, []) AS instances,
            coalesce(c_volumes.L, []) AS volumes,
            c_filesystem AS filesystem,
            c_cluster AS cluster
        FROM (
            SELECT rn, source, as_of_us,
                {sep.join(f"{sql} AS {col}" for col, sql in picked.items())}
            FROM ({source_sql})
        )
    )
    """


def _resources_sql(attrs: ItemAttributes | None = None, check_types: bool = True) -> str:
    """One row per consumed resource of each parsed launch (relation ``parsed``), with what is wrong with it.

    resource_index numbers a launch's resources from 1: instances, then volumes, file system, cluster.
    """
    attrs = attrs or ItemAttributes()
    kinds = {kind: (shapes.resource_path(attrs, name), fields) for kind, name, _, fields in shapes.RESOURCE_FIELDS}
    element = {"instance": "i", "volume": "v", "filesystem": "filesystem", "cluster": "cluster"}
    index = {"instance": "i_idx", "volume": "v_idx - len(instances)", "filesystem": "", "cluster": ""}
    errors = {
        k: shapes.resource_type_error_sql(path, element[k], fields, index[k], check_types) for k, (path, fields) in kinds.items()
    }
    tags = {k: shapes.resource_numbers_sql(element[k], fields) for k, (_, fields) in kinds.items()}
    return f"""
    SELECT launch_id, rn, kind, resource_type, family, size, purchase_option, count, size_gb, iops, throughput_mibps,
           availability_zone, resource_id, ll_at(start_us) AS started_at, ll_at(end_us) AS ended_at, start_text, end_text,
           idx AS resource_index, type_error
    FROM (
        SELECT p.launch_id, p.rn, 'instance' AS kind, ll_text(i.M.instance_type) AS resource_type,
               split_part(ll_text(i.M.instance_type), '.', 1) AS family,
               nullif(split_part(ll_text(i.M.instance_type), '.', 2), '') AS size,
               ll_purchase(ll_text(i.M.purchase_option)) AS purchase_option,
               coalesce(TRY_CAST(n_count AS INTEGER), 1) AS count, NULL::DOUBLE AS size_gb,
               NULL::INTEGER AS iops, NULL::INTEGER AS throughput_mibps,
               ll_text(i.M.availability_zone) AS availability_zone, NULL AS resource_id,
               ll_us(i.M."start") AS start_us, ll_us(i.M."end") AS end_us,
               ll_text(i.M."start") AS start_text, ll_text(i.M."end") AS end_text, i_idx AS idx,
               {errors["instance"]} AS type_error
        FROM (SELECT *, {tags["instance"]} FROM (
              SELECT launch_id, rn, unnest(instances) AS i, generate_subscripts(instances, 1) AS i_idx FROM parsed)) p
        UNION ALL
        SELECT p.launch_id, p.rn, 'volume', ll_text(v.M.volume_type), ll_text(v.M.volume_type), NULL, NULL,
               coalesce(TRY_CAST(n_count AS INTEGER), 1), n_size_gb,
               TRY_CAST(n_iops AS INTEGER), TRY_CAST(n_throughput AS INTEGER), NULL, NULL,
               ll_us(v.M."start"), ll_us(v.M."end"), ll_text(v.M."start"), ll_text(v.M."end"), v_idx,
               {errors["volume"]}
        FROM (SELECT *, {tags["volume"]} FROM (
              SELECT launch_id, rn, instances, unnest(volumes) AS v,
                     len(instances) + generate_subscripts(volumes, 1) AS v_idx FROM parsed)) p
        UNION ALL
        SELECT launch_id, rn, 'filesystem', ll_text(filesystem.M.deployment_type), 'fsx-lustre', NULL, NULL, 1,
               n_capacity_gb, NULL, NULL, NULL, ll_text(filesystem.M.file_system_id),
               ll_us(filesystem.M."start"), ll_us(filesystem.M."end"), ll_text(filesystem.M."start"),
               ll_text(filesystem.M."end"), len(instances) + len(volumes) + 1, {errors["filesystem"]}
        FROM (SELECT *, {tags["filesystem"]} FROM parsed WHERE filesystem.M IS NOT NULL)
        UNION ALL
        SELECT launch_id, rn, 'cluster', 'eks', 'eks', NULL, NULL, 1, NULL, NULL, NULL, NULL, ll_text(cluster.M.cluster_name),
               ll_us(cluster.M."start"), ll_us(cluster.M."end"), ll_text(cluster.M."start"), ll_text(cluster.M."end"),
               len(instances) + len(volumes) + CAST(filesystem.M IS NOT NULL AS INTEGER) + 1, {errors["cluster"]}
        FROM (SELECT *, {tags["cluster"]} FROM parsed WHERE cluster.M IS NOT NULL)
    )
    """


def _no_status_times_reason(attrs: ItemAttributes, item_shapes: ItemShapes) -> str:
    """SQL of the reason for an item with no status time at all, in the words of its configured shape."""
    where = " under [dynamodb.shapes]"
    statuses = ", ".join(STATUSES)
    if item_shapes.status_times_shape == "attributes":
        names = ", ".join(item_shapes.status_time_attribute(s) for s in STATUSES)
        return _sql_text(
            f"no status times: the item has none of {names} (set status_time_pattern or status_time_attributes{where}, "
            f"or status_times_shape if the times are in one attribute)"
        )
    missing = _sql_text(
        f"no status times: the item has no {attrs.status_times} attribute (name the attribute as status_times under "
        f'[dynamodb.attributes]; if every status has an attribute of its own, set status_times_shape = "attributes"{where})'
    )
    if item_shapes.status_times_shape == "records":
        empty = f"no status times: {attrs.status_times} has no record of a status {statuses}"
    else:
        empty = f"no status times: {attrs.status_times} has none of {statuses} as keys"
    return f"CASE WHEN has_status_times THEN {_sql_text(empty)} ELSE {missing} END"


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_TIME_EXPECTED = f"{shapes.TIME_FORMATS}, {shapes.TIME_RANGE}"


def _validated_sql(attrs: ItemAttributes | None = None, item_shapes: ItemShapes | None = None) -> str:
    """Each parsed launch with ``reason``: why it is quarantined (the first defect found), NULL when it loads."""
    attrs, item_shapes = attrs or ItemAttributes(), item_shapes or ItemShapes()
    costs = {c: (getattr(attrs, c), n) for n, c in enumerate(_COSTS, 1)}
    negative = " ".join(
        f"WHEN {c} < 0 THEN {_sql_text(name + ' is negative (')} || trim(cost_texts[{n}]) || ')'"
        for c, (name, n) in costs.items()
    )
    values = {
        "NEGATIVE_COSTS": negative,
        "NO_STATUS_TIMES": _no_status_times_reason(attrs, item_shapes),
        "LAUNCH_ID": _sql_text(attrs.launch_id),
        "STATUS_ATTRIBUTE": _sql_text(attrs.status),
        "INPUT_SIZE": _sql_text(attrs.input_size_gb),
        "SAMPLE_COUNT": _sql_text(attrs.sample_count),
        "OUTPUT_SIZE": _sql_text(attrs.output_size_gb),
        "TOTAL_COST": _sql_text(attrs.total_cost),
        "TIME_EXPECTED": _sql_text(f"expected {_TIME_EXPECTED}"),
    }
    return re.sub(r"@@(\w+)@@", lambda m: values[m.group(1)], _VALIDATED_SQL)


_VALIDATED_SQL = """
SELECT p.* EXCLUDE (instances, volumes, filesystem, cluster, cost_texts, sample_number),
    CASE WHEN sample_number = floor(sample_number) AND sample_number BETWEEN 0 AND 2147483647
         THEN CAST(sample_number AS INTEGER) END AS sample_count,
    coalesce(preparing_ts, waiting_ts, ready_ts, running_ts, complete_ts, failed_ts) AS launched_at,
    coalesce(complete_ts, failed_ts) AS ended_at,
    CASE
        WHEN p.type_error IS NOT NULL THEN p.type_error
        WHEN p.launch_id IS NULL THEN 'missing launch_id: the item has no ' || @@LAUNCH_ID@@ || ' attribute (the key; '
            || 'name yours as launch_id under [dynamodb.attributes])'
        WHEN p.status IS NULL THEN 'missing status: the item has no ' || @@STATUS_ATTRIBUTE@@ || ' attribute'
        WHEN p.status NOT IN ('PREPARING', 'WAITING', 'READY', 'RUNNING', 'COMPLETE', 'FAILED')
            THEN 'unknown status ' || ll_quote(p.status) || ' (expected PREPARING, WAITING, READY, RUNNING, COMPLETE or FAILED)'
        WHEN bad_status_time IS NOT NULL THEN bad_status_time
        WHEN r.resource_error IS NOT NULL THEN r.resource_error
        WHEN r.bad_time_text IS NOT NULL
            THEN 'unparseable timestamp ' || ll_quote(r.bad_time_text) || ' on a consumed ' || r.bad_time_kind || ': '
            || @@TIME_EXPECTED@@
        WHEN bad_cost_field IS NOT NULL THEN bad_cost_field
            || CASE WHEN isfinite(TRY_CAST(trim(bad_cost_text) AS DOUBLE))
                    THEN ' is out of range (at most 12 digits before the decimal point): ' ELSE ' is not a number: ' END
            || ll_quote(bad_cost_text)
        @@NEGATIVE_COSTS@@
        WHEN input_size_text IS NOT NULL AND (input_size_gb IS NULL OR NOT isfinite(input_size_gb) OR input_size_gb < 0)
            THEN @@INPUT_SIZE@@ || ' is not a number of at least 0: ' || ll_quote(input_size_text)
        WHEN sample_count_text IS NOT NULL AND NOT coalesce(isfinite(sample_number)
                AND sample_number = floor(sample_number) AND sample_number BETWEEN 0 AND 2147483647, false)
            THEN @@SAMPLE_COUNT@@ || ' is not a whole number of at least 0: ' || ll_quote(sample_count_text)
        WHEN output_size_text IS NOT NULL AND (output_size_gb IS NULL OR NOT isfinite(output_size_gb) OR output_size_gb < 0)
            THEN @@OUTPUT_SIZE@@ || ' is not a number of at least 0: ' || ll_quote(output_size_text)
        WHEN coalesce(preparing_ts, waiting_ts, ready_ts, running_ts, complete_ts, failed_ts) IS NULL THEN @@NO_STATUS_TIMES@@
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
            THEN 'cost parts (instance + volume + filesystem) exceed ' || @@TOTAL_COST@@ || ' ' || CAST(total_cost AS VARCHAR)
        WHEN item_price_source NOT IN ('item', 'seqera')
            THEN 'unknown price_source ' || ll_quote(item_price_source) || ' (expected item or seqera)'
        WHEN d.deleted_at IS NOT NULL AND (p.as_of_us IS NULL OR p.as_of_us <= epoch_us(d.deleted_at))
            THEN 'launch deleted from the table at ' || strftime(d.deleted_at, '%Y-%m-%d %H:%M:%S') || ' UTC (an incremental '
            || 'export; see launch_deletions): this item ' || CASE WHEN p.as_of_us IS NULL
                THEN 'carries no time to show it is newer: load it from its export folder (with manifest-summary.json) '
                     || 'or scan the table to bring the launch back'
                ELSE 'is from before that (' || coalesce(strftime(ll_at(p.as_of_us), '%Y-%m-%d %H:%M:%S'), '?')
                     || ' UTC): not loaded again' END
    END AS reason
FROM parsed p
LEFT JOIN (
    SELECT rn,
        arg_min(kind || ' ' || coalesce(resource_type, ''), resource_index)  -- the first such resource of the launch
            FILTER (WHERE ended_at < started_at) AS negative_kind,
        arg_min(type_error, resource_index) FILTER (WHERE type_error IS NOT NULL) AS resource_error,
        first(CASE WHEN started_at IS NULL AND start_text IS NOT NULL THEN start_text
                   WHEN ended_at IS NULL AND end_text IS NOT NULL THEN end_text END)
            FILTER (WHERE (started_at IS NULL AND start_text IS NOT NULL) OR (ended_at IS NULL AND end_text IS NOT NULL))
            AS bad_time_text,
        first(kind)
            FILTER (WHERE (started_at IS NULL AND start_text IS NOT NULL) OR (ended_at IS NULL AND end_text IS NOT NULL))
            AS bad_time_kind
    FROM resources GROUP BY rn
) r USING (rn)
LEFT JOIN (SELECT launch_id, max(deleted_at) AS deleted_at FROM launch_deletions GROUP BY ALL) d ON d.launch_id = p.launch_id
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
    v.input_size_gb, v.sample_count, v.output_size_gb, v.launched_at, date_trunc('month', v.launched_at)::DATE AS launch_month,
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
    ll_at(v.as_of_us) AS as_of,
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
    deletes: int = 0  # incremental export deletes read (``changes``: applied by ``merge_launches``)

    def add(self, table_parts: dict[str, list[str]], written: dict[str, list[str]]) -> None:
        for part, files in written.items():
            table_parts.setdefault(part, []).extend(files)


def _launch_fingerprint_sql() -> str:
    """A 64-bit fingerprint of the launch row (everything but the hash, the run id and the as-of time) and its resources.

    Only compared for the same launch_id, old against new, to skip unchanged launches (the same state read
    again from a newer export is unchanged).
    """
    from warehouse.store import schema_columns

    content = [f'"{c}"' for c, _ in schema_columns()["launches"] if c not in ("row_hash", "ingest_run_id", "as_of")]
    return f"CAST(hash({', '.join(content)}, resource_hash) AS VARCHAR)"


def _validate_batch(con: duckdb.DuckDBPyConnection, reader: _Reader, run_id: str, base: Path) -> None:
    """Parse and check the batch's launch items, keep each launch's latest state, and write out the bad records."""
    attrs, item_shapes = reader.attrs, reader.item_shapes
    items = "SELECT rn, source, as_of_us, Item FROM items WHERE NOT is_delete"
    check = reader.anomalies  # no value of a wrong type in the batch: its SQL leaves the type checks out
    con.execute(f"CREATE OR REPLACE TEMP TABLE parsed AS {_parsed_sql(items, attrs, item_shapes, check)}")
    _name_types(con, reader)
    con.execute(f"CREATE OR REPLACE TEMP TABLE resources AS {_resources_sql(attrs, check)}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE validated AS {_validated_sql(attrs, item_shapes)}")
    if reader.changes:
        changes.quarantine_bad_deletes(con, shapes.split_path(attrs.launch_id)[0])
    con.execute(  # the same launch twice in a batch: the latest write (or else its furthest state, its last line) wins
        "DELETE FROM validated WHERE rn IN (SELECT rn FROM validated WHERE reason IS NULL QUALIFY row_number() OVER "
        "(PARTITION BY launch_id ORDER BY as_of_us DESC NULLS LAST, "
        "coalesce(ended_at, running_ts, ready_ts, waiting_ts, launched_at) DESC, rn DESC) > 1)"
    )
    con.execute(
        f"""COPY (
            SELECT $run_id AS run_id, v.source, v.launch_id AS record_key, v.reason,
                   CAST(json_strip_nulls(CASE WHEN i.change THEN to_json(struct_pack(Keys := i.Keys, NewImage := i.Item))
                                              ELSE to_json(i.Item) END) AS VARCHAR) AS raw_record,
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
            """SELECT r.* EXCLUDE (rn, start_text, end_text, type_error),
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
    *,
    item_shapes: ItemShapes | None = None,
    file_times: dict[Path, int] | None = None,  # as_of_us of each file's items (a full export's exportTime, a scan's start)
    track_seen: bool = False,  # keep every launch id read (a full source: ``changes.not_in_source``)
) -> StageResult:
    """Parse, validate and stage launch items from DynamoDB-JSON-lines files (plain or gzip).

    A file is either ``{"Item": ...}`` lines (a full export, a scan) or an incremental export's
    ``{"Metadata", "Keys", "NewImage", "OldImage"}`` lines, told apart by its first line. Files are read
    in batches of up to ``batch_bytes`` on disk (each file parsed on every core), so memory follows the
    batch, not the input; ``source`` labels the records in ``quarantine`` (default: the file each came from).
    """
    con = writer.con
    con.execute("SET TimeZone = 'UTC'")  # an ISO 8601 time without an offset is UTC, whatever the machine's zone
    con.execute(_MACROS)
    item_shapes = item_shapes or ItemShapes()
    changes.create_tables(con, track_seen)
    stage_dir = writer.tmp / "stage"
    stage_dir.mkdir(exist_ok=True)
    result = StageResult()
    files = [Path(f) for f in files]
    for n, batch in enumerate(_batches(files, batch_bytes)):
        reader = _Reader(attrs, item_shapes, source, stage_dir, file_times or {})
        rows = _read_batch(con, batch, reader, n, result)
        base = stage_dir / f"{n:05d}"
        _validate_batch(con, reader, writer.run_id, base)
        changes.record_batch(con, f"stage{n:05d}", track_seen, reader.changes)
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
    result.deletes = changes.count_deletes(con)
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


ITEM, CHANGE = "item", "change"  # a file of {"Item": ...} lines; a file of an incremental export's lines


@dataclass
class _Reader:
    """How the files of one batch are read: the item type, and the two line layouts rendered for Arrow and DuckDB."""

    attrs: ItemAttributes
    item_shapes: ItemShapes
    source: str | None
    stage_dir: Path
    file_times: dict[Path, int]
    changes: bool = False  # the batch holds an incremental export's lines
    anomalies: bool = False  # a value of a type its field does not allow, or a file Arrow did not parse (unknown)
    kinds: dict[str, str] = field(default_factory=dict)  # each file read: ITEM or CHANGE

    def __post_init__(self) -> None:
        import pyarrow as pa

        changed = change_columns(self.attrs, self.item_shapes)
        self.item = shapes.render_duckdb(changed["NewImage"])
        self.meta = shapes.render_duckdb(changed["Metadata"])
        self.keys = shapes.render_duckdb(changed["Keys"])
        self.schemas = {
            ITEM: pa.schema([("Item", shapes.render_arrow(changed["NewImage"]))]),
            CHANGE: pa.schema([(k, shapes.render_arrow(v)) for k, v in changed.items()]),
        }
        self.specs = shapes.type_specs(self.attrs, self.item_shapes)
        self.columns = pa.schema(
            [
                ("filename", pa.string()),
                ("source", pa.string()),
                ("Item", self.schemas[ITEM].field("Item").type),
                ("Metadata", self.schemas[CHANGE].field("Metadata").type),
                ("Keys", self.schemas[CHANGE].field("Keys").type),
                ("file_as_of", pa.int64()),
                ("change", pa.bool_()),
                ("is_delete", pa.bool_()),
            ]
        )

    def spec(self, kind: str) -> str:
        cols = (
            f"'Item': '{self.item}'"
            if kind == ITEM
            else f"'Metadata': '{self.meta}', 'Keys': '{self.keys}', 'NewImage': '{self.item}'"
        )
        return f"columns={{{cols}}}, format='newline_delimited', maximum_object_size=16777216, filename=true"

    def insert(self, kind: str) -> str:
        picked = "Item, NULL, NULL" if kind == ITEM else "NewImage, Metadata, Keys"
        return (
            f"INSERT INTO items_read SELECT filename, coalesce($source, filename) AS source, {picked}, "
            f"CAST($as_of AS BIGINT), {kind == CHANGE}, {'NewImage IS NULL' if kind == CHANGE else 'false'} "
            f"FROM read_json($paths, {self.spec(kind)})"
        )

    def params(self, path: Path, kind: str, source: str | None = None) -> dict:
        as_of = self.file_times.get(path) if kind == ITEM else None
        return {"paths": [str(path)], "source": source if source is not None else self.source, "as_of": as_of}


def _read_batch(con: duckdb.DuckDBPyConnection, paths: list[Path], reader: _Reader, n: int, result: StageResult) -> int:
    """Make the files' items the view ``items`` (rn, filename, source, Item, Keys, change, as_of_us, key_id,
    is_delete); lines that are not items are quarantined.

    The fast path parses a file with pyarrow's JSON reader (a third of the CPU of DuckDB's typed
    read_json) into the same type, and DuckDB scans the Arrow table where it lies. A file it cannot
    take whole (a malformed line, a value of an unexpected JSON type) is read by DuckDB instead, and
    failing that, line by line. The caller drops the view with ``_drop_items``.
    """
    import pyarrow as pa  # imported when there is something to parse: a re-ingest of unchanged files starts faster

    con.execute(
        f"CREATE OR REPLACE TEMP TABLE items_read (filename VARCHAR, source VARCHAR, Item {reader.item}, "
        f"Metadata {reader.meta}, Keys {reader.keys}, file_as_of BIGINT, change BOOLEAN, is_delete BOOLEAN)"
    )
    parsed: list[pa.Table] = []
    for k, path in enumerate(paths):
        kind = _line_kind(path)
        reader.changes = reader.changes or kind == CHANGE
        reader.kinds[str(path)] = kind
        if path.stat().st_size <= _ARROW_MAX_BYTES:  # larger files go to DuckDB's reader, which spills past its limit
            try:
                parsed.append(_parse_with_arrow(path, reader, kind))
                continue
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError, EOFError):  # DuckDB's reader sorts the file out
                pass
        reader.anomalies = True  # read by DuckDB: its values' types are checked in SQL
        try:
            con.execute(reader.insert(kind), reader.params(path, kind))
        except duckdb.Error:
            _read_damaged_file(con, path, reader, kind, f"{n:05d}-{k}", result)
    arrow = pa.concat_tables(parsed) if parsed else reader.columns.empty_table()
    reader.anomalies = reader.anomalies or (bool(parsed) and _has_type_anomaly(arrow.column("Item"), reader.specs))
    arrow = arrow.append_column("rn", pa.array(range(arrow.num_rows), pa.int64()))
    con.register("items_arrow", arrow)
    key = shapes.value_sql(shapes.split_path(reader.attrs.launch_id)[0], "Keys")
    con.execute(
        "CREATE OR REPLACE TEMP VIEW items AS SELECT rn, filename, source, Item, Keys, change, is_delete, "
        f"coalesce(TRY_CAST(Metadata.WriteTimestampMicros.N AS BIGINT), file_as_of) AS as_of_us, ll_text({key}) AS key_id "
        "FROM (SELECT rn, filename, source, Item, Metadata, Keys, file_as_of, change, is_delete FROM items_arrow "
        f"UNION ALL SELECT rowid + {arrow.num_rows} AS rn, * FROM items_read)"
    )
    return con.execute("SELECT count(*) FROM items").fetchone()[0]


def _name_types(con: duckdb.DuckDBPyConnection, reader: _Reader) -> None:
    """Name the type found in each reason of ``parsed`` that still holds a marker (an attribute of the wrong type).

    Rare, so it may be slow: the files holding such items are read again by DuckDB with every value a whole
    probe (``shapes.item_tree(wide=True)``), and the type of the flagged value is looked up by file and launch_id.
    """
    flagged = con.execute(
        "SELECT DISTINCT i.filename FROM parsed p JOIN items i USING (rn) WHERE contains(p.type_error, chr(1))"
    ).fetchall()
    if not flagged:
        return
    wide = shapes.render_duckdb(shapes.item_tree(reader.attrs, reader.item_shapes, wide=True))
    con.execute(f"CREATE OR REPLACE TEMP TABLE wide_items (filename VARCHAR, Item {wide})")
    for (filename,) in flagged:
        if reader.kinds.get(filename) == CHANGE:
            cols, item = f"'Metadata': '{reader.meta}', 'Keys': '{reader.keys}', 'NewImage': '{wide}'", "NewImage"
        else:
            cols, item = f"'Item': '{wide}'", "Item"
        spec = f"columns={{{cols}}}, format='newline_delimited', maximum_object_size=16777216, filename=true, ignore_errors=true"
        try:
            con.execute(f"INSERT INTO wide_items SELECT filename, {item} FROM read_json($path, {spec})", {"path": filename})
        except duckdb.Error:  # unreadable as a whole: its flagged values are named "of another type"
            pass
    con.execute(shapes.name_types_sql(reader.attrs, reader.item_shapes, "wide_items"))
    con.execute("DROP TABLE wide_items")


def _line_kind(path: Path) -> str:
    """``change`` when the file's first line is an incremental export's (Keys, NewImage, OldImage, Metadata)."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            first = next((line for line in fh if line.strip()), b"")
        doc = orjson.loads(first)
    except (OSError, EOFError, zlib.error, ValueError):
        return ITEM
    if isinstance(doc, dict) and "Item" not in doc and doc.keys() & {"Keys", "NewImage", "OldImage", "Metadata"}:
        return CHANGE
    return ITEM


def _drop_items(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DROP VIEW IF EXISTS items; DROP TABLE IF EXISTS items_read")
    con.unregister("items_arrow")


_ARROW_MAX_BYTES = 16 << 20  # about 125k items gzipped: Arrow holds a file whole, so larger ones go to DuckDB


def _parse_with_arrow(path: Path, reader: _Reader, kind: str) -> pa.Table:
    """The file's lines as an Arrow table in ``reader.columns``; raises if any line does not fit the schema."""
    import pyarrow as pa
    import pyarrow.compute  # noqa: F401 (pa.compute.is_null)
    import pyarrow.json as pa_json

    table = pa_json.read_json(
        pa.input_stream(str(path), compression="detect"),
        read_options=pa_json.ReadOptions(block_size=8 << 20),
        parse_options=pa_json.ParseOptions(explicit_schema=reader.schemas[kind], unexpected_field_behavior="ignore"),
        memory_pool=pa.system_memory_pool(),  # gives freed memory back, so the peak RSS stays where DuckDB's limit puts it
    )
    rows = table.num_rows
    label = reader.source if reader.source is not None else str(path)
    columns = reader.columns
    if kind == ITEM:
        item = table.column("Item")
        meta, keys = pa.nulls(rows, columns.field("Metadata").type), pa.nulls(rows, columns.field("Keys").type)
    else:
        item, meta, keys = table.column("NewImage"), table.column("Metadata"), table.column("Keys")
    as_of = reader.file_times.get(path) if kind == ITEM else None
    return pa.table(
        [
            pa.array([str(path)] * rows, pa.string()),
            pa.array([label] * rows, pa.string()),
            item,
            meta,
            keys,
            pa.array([as_of] * rows, pa.int64()),
            pa.array([kind == CHANGE] * rows, pa.bool_()),
            pa.compute.is_null(item) if kind == CHANGE else pa.array([False] * rows, pa.bool_()),
        ],
        schema=columns,
    )


def _has_type_anomaly(items, specs) -> bool:
    """Whether any value at a ``shapes.type_specs`` path is present with none of the type keys allowed there.

    Columnar (pyarrow compute over the parsed file), so a clean file costs a few vector operations per path.
    """
    import pyarrow.compute as pc

    nodes: dict[tuple[str, ...], object] = {(): items}

    def node_at(path: tuple[str, ...]):
        if path not in nodes:
            parent = node_at(path[:-1])
            nodes[path] = pc.list_flatten(parent) if path[-1] == "[]" else pc.struct_field(parent, path[-1])
        return nodes[path]

    for path, allowed in specs:
        node = node_at(path)
        if node.null_count == len(node):
            continue
        ok = pc.is_null(node)
        for key in allowed:
            ok = pc.or_(ok, pc.is_valid(node_at((*path, key))))
        if not pc.all(ok).as_py():
            return True
    return False


def _read_damaged_file(con, path: Path, reader: _Reader, kind: str, tag: str, result: StageResult) -> None:
    """A malformed line spoils DuckDB's bulk read: sort this file's lines, good from bad, in Python,
    quarantine the bad ones with their line number, and load the rest.

    Lines that are not JSON items are found in one pass; only if DuckDB still refuses what is left
    is each remaining line tried on its own (slow, and rare: a value of a type DuckDB cannot read).
    """
    stage_dir = reader.stage_dir
    clean = stage_dir / f"{tag}-clean.json"
    label = reader.source or str(path)
    insert, params = reader.insert(kind), {**reader.params(path, kind, label), "paths": [str(clean)]}
    bad = []
    kept: list[tuple[int, bytes]] = []
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as src:
        for lineno, line in _lines_until_cut(src, label, bad):
            if not line.strip():
                continue
            try:
                doc = orjson.loads(line)
                if not _is_line_of(doc, kind):
                    raise ValueError("no Item object")
            except ValueError as exc:
                why = "not valid JSON" if isinstance(exc, orjson.JSONDecodeError) else "not a DynamoDB JSON item"
                bad.append((label, f"line {lineno} is {why}", line.decode("utf-8", "replace")[:10000]))
                continue
            kept.append((lineno, line.rstrip(b"\n") + b"\n"))
    clean.write_bytes(b"".join(line for _, line in kept))
    try:
        con.execute(insert, params)
    except duckdb.Error:
        survivors = []
        for lineno, line in kept:
            try:
                con.execute(f"SELECT * FROM read_json(?, {reader.spec(kind)})", [_one_line_file(stage_dir, line)]).fetchall()
                survivors.append(line)
            except duckdb.Error:
                bad.append((label, f"line {lineno} is not a DynamoDB JSON item", line.decode("utf-8", "replace")[:10000]))
        clean.write_bytes(b"".join(survivors))
        con.execute(insert, params)
    con.execute("UPDATE items_read SET filename = $orig WHERE filename = $clean", {"orig": str(path), "clean": str(clean)})
    if bad:
        _quarantine_lines(con, bad, stage_dir / f"{tag}-badlines-quarantine.parquet", result)


def _is_line_of(doc, kind: str) -> bool:
    """An ``{"Item": {...}}`` line, or an incremental export line with a Keys or NewImage object."""
    if not isinstance(doc, dict):
        return False
    if kind == ITEM:
        return isinstance(doc.get("Item"), dict)
    return isinstance(doc.get("Keys"), dict) or isinstance(doc.get("NewImage"), dict)


def _quarantine_lines(con, bad: list[tuple[str, str, str]], out_file: Path, result: StageResult) -> None:
    con.execute("CREATE OR REPLACE TEMP TABLE bad_lines (source VARCHAR, reason VARCHAR, raw_record VARCHAR)")
    con.executemany("INSERT INTO bad_lines VALUES (?, ?, ?)", bad)
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
    unchanged: int  # read and identical to the row held, or older than it (``older``)
    older: int = 0  # read in a state older than the one held (``launches.as_of``): the newer row stays
    older_ids: list[str] = field(default_factory=list)  # a few of them


# A month staged in more files than this is rewritten as one file instead of adopted as it is.
MAX_FILES_PER_PARTITION = 8
SAMPLE_IDS = 5  # launch ids a note names
_BATCH = "regexp_extract(filename, '/(stage[0-9]+)/', 1)"  # staged files sit under <table>/<run>/stage<n>/


def merge_launches(writer: WarehouseWriter, staged: StageResult) -> MergeResult:
    """Replace, by launch_id, the launches whose content changed; leave every other row alone.

    Staged files are already in the warehouse layout, one set per month. A month the warehouse does
    not hold yet takes its staged files as they are (the first load writes every row once); a month
    that already has rows is rewritten: its unchanged rows plus the changed ones.
    """
    con = writer.con
    if staged.deletes:
        changes.settle_deletes(con)
    gone = con.execute("SELECT count(*) FROM gone_launches").fetchone()[0] if staged.deletes else 0
    if not staged.launch_parts and not gone:
        return MergeResult(0, 0)
    root = writer.root.resolve()

    def paths(parts: dict[str, list[str]], months=None) -> list[str]:
        return [str(root / f) for m, files in sorted(parts.items()) if months is None or m in months for f in files]

    _incoming(con, paths(staged.launch_parts))
    rows, keys = con.execute("SELECT count(*), count(DISTINCT launch_id) FROM incoming").fetchone()
    duplicates = rows != keys
    if duplicates:  # the same launch twice in one input: keep its latest write (or else its furthest state)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE incoming AS SELECT * FROM incoming QUALIFY row_number() OVER "
            "(PARTITION BY launch_id ORDER BY as_of_us DESC NULLS LAST, latest DESC, batch DESC) = 1"
        )
    deleted, older, older_ids = _drop_superseded(con, staged.deletes)
    duplicates = duplicates or bool(deleted or older)  # staged files hold rows left out: a month is rewritten, not adopted
    # row_hash covers the launch row and its resources: equal hash, nothing to write.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE changed AS SELECT i.launch_id, i.month, i.batch FROM incoming i "
        "ANTI JOIN launches o ON o.launch_id = i.launch_id AND o.row_hash = i.row_hash"
    )
    changed = con.execute("SELECT count(*) FROM changed").fetchone()[0]
    incoming = con.execute("SELECT count(*) FROM incoming").fetchone()[0]
    adopted: set[str] = set()
    if changed or gone:
        months = {
            m
            for (m,) in con.execute(
                "SELECT DISTINCT month FROM changed UNION SELECT DISTINCT month FROM gone_launches UNION "
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
                      AND launch_id NOT IN (SELECT launch_id FROM changed UNION ALL SELECT launch_id FROM gone_launches)
                    UNION ALL BY NAME {newer}""",
                {"months": rewrite, **({"files": new_rows} if new_rows else {})},
            )
            writer.drop_partitions(table, [m for m in rewrite if m not in written])
    for parts in (staged.launch_parts, staged.resource_parts):  # staged files no partition took
        for m, files in parts.items():
            if m not in adopted:
                for f in files:
                    (root / f).unlink(missing_ok=True)
    return MergeResult(changed, incoming - changed + older, older, older_ids)


def _drop_superseded(con: duckdb.DuckDBPyConnection, deletes: bool) -> tuple[int, int, list[str]]:
    """Leave out of ``incoming`` the launches deleted after every state read of them, and those read in a state
    older than the one held; returns (deleted left out, older left out, a few of the older ids).

    A row is replaced only by a state at least as new as its ``as_of``: an older full export loaded again with
    ``--full`` after a newer incremental export brings back no older state. A state with no time (a loose
    file) is taken as older than any held state with a time, as it is for deletes (``changes.settle_deletes``).
    """
    deleted = 0
    if deletes:
        removed = con.execute("DELETE FROM incoming WHERE launch_id IN (SELECT launch_id FROM deleted_launches)").fetchone()
        deleted = removed[0] if removed else 0
    con.execute(
        "CREATE OR REPLACE TEMP TABLE older_states AS SELECT i.launch_id FROM incoming i JOIN launches o USING (launch_id) "
        "WHERE o.as_of IS NOT NULL AND (ll_at(i.as_of_us) IS NULL OR ll_at(i.as_of_us) < o.as_of)"
    )
    older = con.execute("SELECT count(*) FROM older_states").fetchone()[0]
    if not older:
        return deleted, 0, []
    con.execute("DELETE FROM incoming WHERE launch_id IN (SELECT launch_id FROM older_states)")
    ids = [i for (i,) in con.execute(f"SELECT launch_id FROM older_states ORDER BY launch_id LIMIT {SAMPLE_IDS}").fetchall()]
    return deleted, older, ids


def _incoming(con: duckdb.DuckDBPyConnection, files: list[str]) -> None:
    """``incoming``: each staged launch row's key, month, fingerprint, furthest state, batch and the time of its state."""
    if not files:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE incoming (launch_id VARCHAR, month VARCHAR, row_hash VARCHAR, latest TIMESTAMP, "
            "batch VARCHAR, as_of_us BIGINT)"
        )
        return
    con.execute(
        "CREATE OR REPLACE TEMP TABLE incoming AS SELECT i.*, v.as_of_us FROM ("
        "SELECT launch_id, strftime(launch_month, '%Y-%m') AS month, row_hash, "
        "coalesce(ended_at, running_at, ready_at, waiting_at, launched_at) AS latest, "
        f"{_BATCH} AS batch FROM read_parquet($files, filename = true)) i "
        "LEFT JOIN launch_versions v ON v.launch_id = i.launch_id AND v.batch = i.batch",
        {"files": files},
    )


def stage_quarantine(writer: WarehouseWriter, staged: StageResult) -> None:
    """Record this run's rejected records (always kept, even when the run fails later)."""
    files = [f for f in staged.quarantine_files if Path(f).exists()]
    if files:
        writer.write_partitions(
            "quarantine",
            "SELECT $run_id AS run_id, source, record_key, reason, raw_record, quarantined_at FROM read_parquet($files)",
            {"run_id": writer.run_id, "files": files},
        )
