"""The DuckDB query that renders each launch of a chunk as one DynamoDB JSON line of the export.

The query reads table ``chunk`` (see ``dynamodb_export.chunk_table``) and builds each line by string
concatenation. ``concat_ws`` skips NULLs, so an attribute whose value is NULL is simply left out of the item,
as DynamoDB leaves out attributes an item does not have.
"""

from __future__ import annotations

from core.vocabulary import STATUSES

STATUS_TIME_COLUMNS = ("t_prep", "t_wait", "t_ready", "t_run", "t_complete", "t_failed")  # in STATUSES order


def _ts(column: str) -> str:
    """DynamoDB JSON for a timestamp column: ISO 8601 UTC string, or epoch seconds for old items."""
    return (
        f"CASE WHEN ep THEN '{{\"N\":\"' || epoch({column})::BIGINT || '\"}}' "
        f"ELSE '{{\"S\":\"' || strftime({column}, '%Y-%m-%dT%H:%M:%SZ') || '\"}}' END"
    )


def _s(expr: str) -> str:
    """A string attribute value: ``{"S":"..."}``."""
    return f"'{{\"S\":\"' || {expr} || '\"}}'"


def _n(expr: str) -> str:
    """A number attribute value: ``{"N":"..."}``."""
    return f"'{{\"N\":\"' || {expr} || '\"}}'"


def _attr(name: str, value: str) -> str:
    """``"name":value``; NULL when value is NULL, so concat_ws leaves the attribute out."""
    return f"'\"{name}\":' || {value}"


def _money(column: str) -> str:
    """An integer column of 1e-4 USD as a string with 4 decimals (``{"S":"3.0240"}``)."""
    return _s(f"({column} // 10000)::VARCHAR || '.' || lpad(({column} % 10000)::VARCHAR, 4, '0')")


def _map(fields: list[str]) -> str:
    """``{"M":{...}}`` of fields joined with commas (every field present)."""
    return "'{\"M\":{' || " + " || ',' || ".join(fields) + " || '}}'"


def _instance(k: int) -> str:
    """Instance line ``k`` (1 or 2) as a map, NULL when the line has no instance type."""
    fields = ", ".join(
        [
            _attr("instance_type", _s(f"i{k}_type")),
            _attr("purchase_option", _s(f"i{k}_opt")),
            _attr("count", _n(f"i{k}_n")),
            _attr("availability_zone", _s(f"i{k}_az")),  # absent on premises
            _attr("start", _ts(f"i{k}_s")),
            _attr("end", _ts(f"i{k}_e")),
        ]
    )
    return f"CASE WHEN i{k}_type IS NOT NULL THEN '{{\"M\":{{' || concat_ws(',', {fields}) || '}}}}' END"


def _volume(k: int) -> str:
    """The volume of instance line ``k``: NULL when its type is NULL; iops/throughput only when recorded."""
    fields = ", ".join(
        [
            _attr("volume_type", _s(f"v{k}_type")),
            _attr("size_gb", _n(f"v{k}_gb")),
            _attr("count", _n(f"i{k}_n")),
            _attr("iops", _n(f"v{k}_iops")),
            _attr("throughput", _n(f"v{k}_mibps")),
            _attr("start", _ts(f"i{k}_s")),
            _attr("end", _ts(f"i{k}_e")),
        ]
    )
    return f"CASE WHEN v{k}_type IS NOT NULL THEN '{{\"M\":{{' || concat_ws(',', {fields}) || '}}}}' END"


def _resources() -> str:
    """The ``resources`` map (instances, volumes, filesystem, cluster) of launches that have resources."""
    instances = f"'\"instances\":{{\"L\":[' || concat_ws(',', {_instance(1)}, {_instance(2)}) || ']}}'"
    volumes = (
        f'CASE WHEN v1_type IS NOT NULL THEN \'"volumes":{{"L":[\' || '
        f"concat_ws(',', {_volume(1)}, CASE WHEN i2_type IS NOT NULL THEN {_volume(2)} END) || ']}}' END"
    )
    filesystem = _attr(
        "filesystem",
        _map(
            [
                _attr("file_system_id", _s("'fs-0' || lower(lpad(to_hex(fs_hid), 16, '0'))")),
                _attr("deployment_type", _s("fs_type")),
                _attr("capacity_gb", _n("fs_cap")),
                _attr("start", _ts("fs_s")),
                _attr("end", _ts("i1_e")),
            ]
        ),
    )
    cluster = _attr(
        "cluster", _map([_attr("cluster_name", _s("cluster")), _attr("start", _ts("i1_s")), _attr("end", _ts("i1_e"))])
    )
    parts = f"concat_ws(',', {instances}, {volumes}, {filesystem}, {cluster})"
    return f"CASE WHEN has_res THEN '\"resources\":{{\"M\":{{' || {parts} || '}}}}' END"


def _status_times() -> str:
    """The ``status_times`` map: one timestamp per status reached."""
    times = ", ".join(_attr(status, _ts(column)) for status, column in zip(STATUSES, STATUS_TIME_COLUMNS, strict=True))
    return "'\"status_times\":{\"M\":{' || concat_ws(',', " + times + ") || '}}'"


def item_sql(id_width: int) -> str:
    """One JSON line (with its newline) per launch in table ``chunk``, attributes absent when NULL.

    ``id_width`` digits of the launch index go into the launch id (``wl-0000042-1a2b3c``).
    """
    launch_id = f"'wl-' || lpad(idx::VARCHAR, {id_width}, '0') || '-' || lower(lpad(to_hex(hid), 6, '0'))"
    run = "strftime(t_prep, '%Y%m%d') || '-' || lower(lpad(to_hex(run_hid), 4, '0'))"
    input_path = f"'s3://genomics-raw/' || consumer || '/run-' || {run} || '/'"
    attributes = [
        _attr("launch_id", _s(launch_id)),
        _attr("consumer", _s("consumer")),
        _attr("workflow_type", _s("workflow_type")),
        _attr("compute_platform", _s("platform")),
        _attr("region", _s("region")),
        _attr("status", _s("status")),
        _status_times(),
        _attr("input_path", _s(input_path)),
        _attr("input_size_gb", _n("(size_tenths // 10)::VARCHAR || '.' || (size_tenths % 10)::VARCHAR")),
        _attr("sample_count", _n("sample_count")),
        _attr("output_size_gb", _n("(output_tenths // 10)::VARCHAR || '.' || (output_tenths % 10)::VARCHAR")),
        _resources(),
        _attr("totalCost", _money("c_total")),
        _attr("instance_cost", _money("c_inst")),
        _attr("volume_cost", _money("c_vol")),
        _attr("filesystem_cost", _money("c_fs")),
    ]
    return "SELECT '{\"Item\":{' || concat_ws(',', " + ", ".join(attributes) + ") || '}}' || chr(10) AS line FROM chunk"
