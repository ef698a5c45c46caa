"""Where a launch item keeps each field, in which DynamoDB type, and the SQL that reads it and says what is wrong.

``[dynamodb.attributes]`` names the attributes (any name may be a dotted path into nested maps:
``meta.owner.team`` is ``Item.meta.M.owner.M.team``); ``[dynamodb.shapes]`` says how the status times
are held (a map, a list of records, one attribute per status). From the two, this module builds the
one type every reader parses an item into (``item_tree``): each value an attribute may hold carries a
*probe* of the DynamoDB type keys (S, N, NULL, BOOL, M, L; a set or binary value is seen as one with none
of them), so a value of the wrong type is seen, and named, instead of being read as missing. The SQL fragments here are what
``ingest.dynamodb.items`` puts in its bulk statements; nothing runs per item in Python.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.errors import ConfigError
from core.settings import RECORD_STATUS_KEYS, RECORD_TIME_KEYS, ItemAttributes, ItemShapes
from core.vocabulary import STATUSES

TYPE_KEYS = ("S", "N", "NULL", "BOOL", "M", "L")  # the type keys a probe reads (sets and binary show as "?")
TYPE_NAMES = {
    "S": "a string (S)",
    "N": "a number (N)",
    "BOOL": "a boolean (BOOL)",
    "NULL": "null (NULL)",
    "L": "a list (L)",
    "M": "a map (M)",
    "?": "a set, binary or empty value (SS, NS, BS, B or {})",
    "*": "a value of another DynamoDB type (M, L, BOOL, a set or binary)",
    "^": "a value of another DynamoDB type than a map (S, N, L, BOOL, a set or binary)",
}
_MARK = {"__": "BOOLEAN"}  # a map or list element whose content is not read: only that it is there


def probe(**override) -> dict:
    """A DynamoDB attribute value with the type keys S, N, NULL, BOOL, M and L, so whichever the item holds is
    seen (``override`` types one of them; a set or binary value is seen as a value with none of them)."""
    node: dict = {"S": "VARCHAR", "N": "VARCHAR", "NULL": "BOOLEAN", "BOOL": "BOOLEAN", "L": [{"M": _MARK}], "M": _MARK}
    node.update(override)
    return node


def field_probe() -> dict:
    """A resource's field: S, N and NULL are read; any other type is seen as a value with none of them.

    (Resource fields are many per item: the narrow probe keeps the parse fast.)"""
    return {"S": "VARCHAR", "N": "VARCHAR", "NULL": "BOOLEAN"}


# The scalar launch fields: (ItemAttributes field, kind). text: S (or N); number and money: N or a numeric S.
SCALARS = (
    ("launch_id", "key"),
    ("consumer", "text"),
    ("workflow_type", "text"),
    ("compute_platform", "text"),
    ("region", "text"),
    ("status", "text"),
    ("input_path", "text"),
    ("input_size_gb", "number"),
    ("sample_count", "number"),
    ("output_size_gb", "number"),
    ("price_source", "text"),
    ("total_cost", "money"),
    ("instance_cost", "money"),
    ("volume_cost", "money"),
    ("filesystem_cost", "money"),
)
EXPECTED = {
    "key": "a string (S) or a number (N)",
    "text": "a string (S)",
    "number": "a number (N) or a numeric string (S)",
    "money": "a number (N) or a numeric string (S)",
    "time": "an ISO 8601 string (S) or an epoch number (N)",
}
# Fields of each consumed resource: (kind, ItemAttributes field of its list or map, is a list, {field: value kind}).
RESOURCE_FIELDS = (
    (
        "instance",
        "instances",
        True,
        {
            "instance_type": "text",
            "purchase_option": "text",
            "count": "whole",
            "availability_zone": "text",
            "start": "time",
            "end": "time",
        },
    ),
    (
        "volume",
        "volumes",
        True,
        {
            "volume_type": "text",
            "size_gb": "number",
            "count": "whole",
            "iops": "whole",
            "throughput": "whole",
            "start": "time",
            "end": "time",
        },
    ),
    (
        "filesystem",
        "filesystem",
        False,
        {"file_system_id": "text", "deployment_type": "text", "capacity_gb": "number", "start": "time", "end": "time"},
    ),
    ("cluster", "cluster", False, {"cluster_name": "text", "start": "time", "end": "time"}),
)
STRUCTURES = ("status_times", "resources", "instances", "volumes", "filesystem", "cluster")


def split_path(path: str) -> list[str]:
    """The levels of a dotted attribute path (``meta.owner.team``); an empty path is the item itself."""
    return [p for p in path.split(".")] if path else []


def value_sql(path: str, root: str = "Item") -> str:
    """SQL of the attribute value (the probe struct) at a dotted path below ``root``."""
    out = root
    for n, part in enumerate(split_path(path)):
        out += (".M" if n else "") + '."' + part.replace('"', '""') + '"'
    return out


def resource_path(attrs: ItemAttributes, name: str) -> str:
    """The dotted path of a resource list or map (``resources.instances``), from the item's top level."""
    inner = getattr(attrs, name)
    return f"{attrs.resources}.{inner}" if attrs.resources else inner


def _merge(a, b):
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for k, v in b.items():
            out[k] = _merge(out[k], v) if k in out else v
        return out
    if isinstance(a, list) and isinstance(b, list):
        return [_merge(a[0], b[0])]
    if a == b:
        return a
    raise ConfigError(f"two attributes in [dynamodb.attributes] need the same place of the item as {a!r} and {b!r}")


def _place(tree: dict, path: str, node: dict) -> dict:
    """``tree`` with ``node`` at the dotted ``path`` (maps on the way as ``{"M": ...}``)."""
    parts = split_path(path)
    if not parts:
        raise ConfigError("an attribute name in [dynamodb.attributes] is empty")
    for part in reversed(parts[1:]):
        node = {"M": {part: node}}
    return _merge(tree, {parts[0]: node})


@dataclass(frozen=True)
class TimeSource:
    """Where one status's time is read: the SQL of its value, and the words a reason names it by."""

    status: str
    value: str  # SQL giving the probe struct of the time value (NULL when absent)
    label: str  # e.g. status_times.PREPARING, or preparing_at


def record_keys(shapes: ItemShapes) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The keys a status-time record may name its status and its time by."""
    status = (shapes.record_status_key,) if shapes.record_status_key else RECORD_STATUS_KEYS
    time = (shapes.record_time_key,) if shapes.record_time_key else RECORD_TIME_KEYS
    return status, time


def item_tree(attrs: ItemAttributes, shapes: ItemShapes, wide: bool = False) -> dict:
    """What of a launch item is parsed: nested {name: node}, lists as [node], leaves DuckDB type names.

    The bulk read is narrow: each value reads the type keys its field may hold (S, N and NULL of a scalar;
    NULL and M or L of a map or list), so a value of another type is seen as one with none of them. ``wide``
    gives every value a whole probe: it is read again that way only for the rare item with a value of the
    wrong type, to name the type found (``name_types_sql``).
    """
    scalar = probe if wide else field_probe
    tree: dict = {}
    for name, _ in SCALARS:
        tree = _place(tree, getattr(attrs, name), scalar())
    if shapes.status_times_shape == "map":
        times = {"NULL": "BOOLEAN", "M": {s: scalar() for s in STATUSES}, "L": [{"M": _MARK}]}
        tree = _place(tree, attrs.status_times, probe(**times) if wide else times)
    elif shapes.status_times_shape == "records":
        status_keys, time_keys = record_keys(shapes)
        record = {"M": {k: scalar() for k in (*status_keys, *time_keys)}, **field_probe()}
        times = {"NULL": "BOOLEAN", "M": _MARK, "L": [record]}
        tree = _place(tree, attrs.status_times, probe(**times) if wide else times)
    else:
        for s in STATUSES:
            tree = _place(tree, shapes.status_time_attribute(s), scalar())
    containers = {}
    for _, name, is_list, fields in RESOURCE_FIELDS:
        inner = {f: field_probe() for f in fields}
        node = {"NULL": "BOOLEAN", "L": [{"M": inner, "NULL": "BOOLEAN"}]} if is_list else {"NULL": "BOOLEAN", "M": inner}
        containers[name] = probe(**node) if wide else node
    if attrs.resources:
        tree = _place(tree, attrs.resources, probe() if wide else {"NULL": "BOOLEAN", "M": _MARK})
    for name, node in containers.items():
        tree = _place(tree, resource_path(attrs, name), node)
    _check_case(tree)
    return tree


def _path(path: str) -> tuple[str, ...]:
    """A dotted attribute path as the fields the parsed struct nests it under (``a.b`` -> a, M, b)."""
    parts = split_path(path)
    return tuple(x for n, part in enumerate(parts) for x in ((part,) if n == 0 else ("M", part)))


def type_specs(attrs: ItemAttributes, shapes: ItemShapes) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """(path in the parsed item, the type keys allowed there) of every value the bulk SQL checks the type of.

    NULL is allowed everywhere (it counts as absent) but in a resource list's elements. ``[]`` in a path
    steps into a list's elements. A parsed batch in which every such value is absent or of an allowed type
    holds no value of a wrong type, so the type checks can be left out of its SQL.
    """
    specs = [(_path(getattr(attrs, name)), ("S", "NULL") if name == "status" else ("S", "N", "NULL")) for name, _ in SCALARS]
    times = _path(attrs.status_times)
    if shapes.status_times_shape == "map":
        specs += [(times, ("M", "NULL"))] + [((*times, "M", s), ("S", "N", "NULL")) for s in STATUSES]
    elif shapes.status_times_shape == "records":
        _, time_keys = record_keys(shapes)
        specs += [(times, ("L", "NULL"))] + [((*times, "L", "[]", "M", k), ("S", "N", "NULL")) for k in time_keys]
    else:
        specs += [(_path(shapes.status_time_attribute(s)), ("S", "N", "NULL")) for s in STATUSES]
    if attrs.resources:
        specs.append((_path(attrs.resources), ("M", "NULL")))
    for _, name, is_list, fields in RESOURCE_FIELDS:
        where = _path(resource_path(attrs, name))
        if is_list:
            specs += [(where, ("L", "NULL")), ((*where, "L", "[]"), ("M",))]
            specs += [((*where, "L", "[]", "M", f), ("S", "N", "NULL")) for f in fields]
        else:
            specs += [(where, ("M", "NULL"))] + [((*where, "M", f), ("S", "N", "NULL")) for f in fields]
    return specs


def _check_case(node, where: str = "the item") -> None:
    """DuckDB's struct field names ignore case: two names that differ only in case cannot both be read."""
    if isinstance(node, list):
        _check_case(node[0], where)
    if not isinstance(node, dict):
        return
    seen: dict[str, str] = {}
    for key, child in node.items():
        if key.lower() in seen:
            raise ConfigError(
                f"[dynamodb.attributes]/[dynamodb.shapes] name both {seen[key.lower()]!r} and {key!r} in {where}: "
                "names that differ only in case cannot be told apart; keep one"
            )
        seen[key.lower()] = key
        _check_case(child, key if key not in TYPE_KEYS else where)


def render_duckdb(node) -> str:
    if isinstance(node, str):
        return node
    if isinstance(node, list):
        return render_duckdb(node[0]) + "[]"
    return "STRUCT(" + ", ".join(f'"{k.replace(chr(34), chr(34) * 2)}" {render_duckdb(v)}' for k, v in node.items()) + ")"


def render_arrow(node):
    import pyarrow as pa

    if isinstance(node, str):
        return pa.bool_() if node == "BOOLEAN" else pa.string()
    if isinstance(node, list):
        return pa.list_(render_arrow(node[0]))
    return pa.struct([(k, render_arrow(v)) for k, v in node.items()])


def time_sources(attrs: ItemAttributes, shapes: ItemShapes) -> list[TimeSource]:
    """For each status, the SQL of its time's value in the configured shape."""
    times = value_sql(attrs.status_times)
    if shapes.status_times_shape == "map":
        return [TimeSource(s, f'{times}.M."{s}"', f"{attrs.status_times}.{s}") for s in STATUSES]
    if shapes.status_times_shape == "attributes":
        return [TimeSource(s, value_sql(shapes.status_time_attribute(s)), shapes.status_time_attribute(s)) for s in STATUSES]
    status_keys, time_keys = record_keys(shapes)
    status_of = _coalesce([f'r.M."{k}"' for k in status_keys])
    out = []
    for s in STATUSES:
        record = f"struct_extract(list_filter({times}.L, lambda r: upper(trim(ll_text({status_of}))) = '{s}')[1], 'M')"
        value = _coalesce([f"struct_extract({record}, '{k}')" for k in time_keys])
        out.append(TimeSource(s, value, f"the {s} record of {attrs.status_times}"))
    return out


def _coalesce(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"coalesce({', '.join(items)})"


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _wrong(value: str, label: str, allowed: tuple[str, ...], expected: str) -> str:
    """A CASE branch: ``value`` (a column of ``picked_values``) holds a type not in ``allowed``; absent and NULL pass.

    The type found is left as a marker naming the column (``name_types_sql`` fills it in), so the bulk
    statement reads only the type keys it allows: a probe's other keys are read for the rare bad item alone.
    """
    ok = " OR ".join([f"{value} IS NULL", f'{value}."NULL" IS NOT NULL', *(f'{value}."{t}" IS NOT NULL' for t in allowed)])
    return f"WHEN NOT ({ok}) THEN {_sql_text(label + ' is ' + MARK + value + MARK + ', expected ' + expected)}"


MARK = "\x01"  # brackets the column whose type a reason still has to name


def name_types_sql(attrs: ItemAttributes, shapes: ItemShapes, wide_items: str) -> str:
    """An UPDATE of ``parsed`` naming the DynamoDB type in each reason that holds a marker: ``wide_items`` is the
    flagged items' files read again with whole probes (columns filename, Item), matched by file and launch_id.
    A value it cannot match (an item without a readable key) is named as "of another DynamoDB type"."""
    values = picked_values(attrs, shapes)
    cases = " ".join(f"WHEN '{col}' THEN ll_type({sql})" for col, sql in values.items())
    marker = "regexp_extract(p.type_error, chr(1) || '([a-z_]+)' || chr(1), 1)"
    key = f"nullif(trim(ll_text({values['a_launch_id']})), '')"
    return f"""
    UPDATE parsed SET type_error = regexp_replace(parsed.type_error, chr(1) || '[a-z_]+' || chr(1), named.name)
    FROM (
        SELECT p.rn, coalesce(any_value({TYPE_NAME_MAP}[CASE f.marker {cases} END]), '{TYPE_NAMES["*"]}') AS name
        FROM (SELECT p.rn, i.filename, p.launch_id, {marker} AS marker FROM parsed p JOIN items i USING (rn)
              WHERE contains(p.type_error, chr(1))) f
        JOIN parsed p USING (rn)
        LEFT JOIN (SELECT filename, {key} AS launch_id, Item FROM {wide_items}) w
               ON w.filename = f.filename AND w.launch_id = f.launch_id
        GROUP BY p.rn
    ) named
    WHERE parsed.rn = named.rn"""


def picked_values(attrs: ItemAttributes, shapes: ItemShapes) -> dict[str, str]:
    """{column: SQL of the value picked out of ``Item``}: every scalar (``a_<field>``), each status's time
    (``v_<status>``), the status times themselves (``st``) and the resource containers (``c_<name>``)."""
    out = {f"a_{name}": value_sql(getattr(attrs, name)) for name, _ in SCALARS}
    out |= {f"v_{t.status.lower()}": t.value for t in time_sources(attrs, shapes)}
    if shapes.status_times_shape != "attributes":
        out["st"] = value_sql(attrs.status_times)
    if attrs.resources:
        out["c_resources"] = value_sql(attrs.resources)
    for _, name, _, _ in RESOURCE_FIELDS:
        out[f"c_{name}"] = value_sql(resource_path(attrs, name))
    return out


def type_error_sql(attrs: ItemAttributes, shapes: ItemShapes, check_types: bool = True) -> str:
    """A CASE naming the first value (outside the resource lists' elements) held in a wrong type, or a record shape
    the settings do not fit. ``check_types`` False (a batch ``type_specs`` found clean) leaves the type checks out.

    It reads the columns of ``picked_values`` (``st`` is the status times' own value).
    """
    branches = []
    for name, kind in SCALARS:
        allowed = ("S",) if name == "status" else ("S", "N")
        branches.append(_wrong(f"a_{name}", getattr(attrs, name), allowed, EXPECTED[kind]))
    branches += _status_times_type_errors(attrs, shapes)
    if attrs.resources:
        branches.append(_wrong("c_resources", attrs.resources, ("M",), "a map (M) of instances, volumes, filesystem, cluster"))
    for _, name, is_list, _fields in RESOURCE_FIELDS:
        expected = "a list (L) of maps (M)" if is_list else "a map (M)"
        branches.append(_wrong(f"c_{name}", resource_path(attrs, name), ("L",) if is_list else ("M",), expected))
    if not check_types:
        branches = [b for b in branches if MARK not in b and "status_times_shape" not in b]
    if not branches:
        return "CAST(NULL AS VARCHAR)"
    return "CASE\n            " + "\n            ".join(branches) + "\n        END"


NOT_A_MAP = ' records, not a map: set status_times_shape = "records"'
NOT_RECORDS = ' is a map (M), not a list of records: set status_times_shape = "map"'


def _status_times_type_errors(attrs: ItemAttributes, shapes: ItemShapes) -> list[str]:
    label, where = attrs.status_times, " under [dynamodb.shapes]"
    if shapes.status_times_shape == "map":
        records = "len(list_filter(st.L, lambda e: e.M IS NOT NULL))"
        is_list, not_map = _sql_text(label + " is a list (L) of "), _sql_text(NOT_A_MAP + where)
        branches = [
            f"WHEN st.L IS NOT NULL AND {records} > 0 THEN {is_list} || {records} || {not_map}",
            _wrong("st", label, ("M",), "a map (M) of status -> time"),
        ]
    elif shapes.status_times_shape == "records":
        status_keys, time_keys = record_keys(shapes)
        has_status = " OR ".join(f'r.M."{k}" IS NOT NULL' for k in status_keys)
        has_time = " OR ".join(f'r.M."{k}" IS NOT NULL' for k in time_keys)
        records = "list_filter(st.L, lambda r: r.M IS NOT NULL)"
        branches = [
            f"WHEN st.M IS NOT NULL THEN {_sql_text(label + NOT_RECORDS + where)}",
            _wrong("st", label, ("L",), "a list (L) of records (M)"),
            f"WHEN len({records}) > 0 AND NOT list_bool_or(list_transform({records}, lambda r: {has_status})) THEN "
            + _sql_text(
                f"{label} has records but none names a status by {' or '.join(status_keys)}: set record_status_key{where}"
            ),
            f"WHEN len({records}) > 0 AND NOT list_bool_or(list_transform({records}, lambda r: {has_time})) THEN "
            + _sql_text(f"{label} has records but none holds a time under {' or '.join(time_keys)}: set record_time_key{where}"),
        ]
    else:
        branches = []
    for source in time_sources(attrs, shapes):
        branches.append(_wrong(f"v_{source.status.lower()}", source.label, ("S", "N"), EXPECTED["time"]))
    return branches


def resource_type_error_sql(label: str, element: str, fields: dict[str, str], index: str, check_types: bool = True) -> str:
    """A CASE naming what is wrong with one resource: ``element`` is its probe struct, ``n_<field>`` the numbers
    of its numeric fields (``resource_numbers_sql``); ``index`` the SQL of its position in its list."""
    at = f"{_sql_text(label)} || '[' || {index} || ']'" if index else _sql_text(label)
    branches = (
        [  # a list element that is not a map (a file system or cluster of another type fails as the container)
            f"WHEN {element}.M IS NULL THEN {at} || ' is ' || {TYPE_NAME_MAP}[CASE WHEN {element}.\"NULL\" THEN 'NULL' "
            "ELSE '^' END] || ', expected a map (M)'"
        ]
        if index and check_types
        else []
    )
    for name, kind in fields.items():
        expected = EXPECTED["time"] if kind == "time" else EXPECTED["number" if kind != "text" else "text"]
        value = f'{element}.M."{name}"'
        if check_types:
            branches.append(
                f'WHEN NOT ({value} IS NULL OR {value}.S IS NOT NULL OR {value}.N IS NOT NULL OR {value}."NULL" IS NOT NULL) '
                f"THEN {at} || {_sql_text('.' + name + ' is ')} || {TYPE_NAME_MAP}[ll_field_type({value})] "
                f"|| {_sql_text(', expected ' + expected)}"
            )
        if kind in ("number", "whole"):
            num = f"n_{name}"
            bad = f"({num} IS NULL OR NOT isfinite({num}) OR {num} < 0"
            bad += f" OR {num} <> floor({num}) OR {num} > 2147483647)" if kind == "whole" else ")"
            what = "a whole number of at least 0" if kind == "whole" else "a number of at least 0"
            text = f'll_text({element}.M."{name}")'
            branches.append(
                f"WHEN {text} IS NOT NULL AND {bad} THEN {at} || {_sql_text('.' + name + ' is not ' + what + ': ')} "
                f"|| ll_quote({text})"
            )
    return "CASE " + " ".join(branches) + " END" if branches else "CAST(NULL AS VARCHAR)"


def resource_numbers_sql(element: str, fields: dict[str, str]) -> str:
    """The numbers of a resource's numeric fields, once each, for ``resource_type_error_sql`` and the resource row."""
    cols = [f'll_num({element}.M."{name}") AS n_{name}' for name, kind in fields.items() if kind in ("number", "whole")]
    return ", ".join(cols) if cols else "NULL AS n_none"


# DynamoDB values arrive as probes ({S: .., N: .., L: .., ...}); a time may be an ISO 8601 string (with an
# offset, converted to UTC; without one, UTC), or an epoch number (as N or as a numeric S): below 1e11 it is
# seconds, below 1e14 milliseconds, else microseconds. ll_us gives microseconds since the epoch; ll_at turns
# them into a UTC timestamp when they fall in 2000..2099 (anything else is not a launch time).
MACROS = """
CREATE OR REPLACE MACRO ll_text(v) AS coalesce(v.S, v.N);
CREATE OR REPLACE MACRO ll_type(v) AS CASE
    WHEN v IS NULL THEN NULL WHEN v.S IS NOT NULL THEN 'S' WHEN v.N IS NOT NULL THEN 'N' WHEN v."NULL" IS NOT NULL THEN 'NULL'
    WHEN v.M IS NOT NULL THEN 'M' WHEN v.L IS NOT NULL THEN 'L' WHEN v."BOOL" IS NOT NULL THEN 'BOOL' ELSE '?' END;
CREATE OR REPLACE MACRO ll_field_type(v) AS CASE
    WHEN v IS NULL THEN NULL WHEN v.S IS NOT NULL THEN 'S' WHEN v.N IS NOT NULL THEN 'N' WHEN v."NULL" IS NOT NULL THEN 'NULL'
    ELSE '*' END;
CREATE OR REPLACE MACRO ll_epoch_us(x) AS CASE
    WHEN NOT isfinite(x) THEN NULL WHEN abs(x) >= 1e14 THEN x WHEN abs(x) >= 1e11 THEN x * 1000 ELSE x * 1000000 END;
CREATE OR REPLACE MACRO ll_us(v) AS CASE
    WHEN v.N IS NOT NULL THEN ll_epoch_us(TRY_CAST(v.N AS DOUBLE))
    WHEN substr(v.S, 5, 1) = '-' THEN epoch_us(TRY_CAST(v.S AS TIMESTAMPTZ))
    ELSE coalesce(ll_epoch_us(TRY_CAST(v.S AS DOUBLE)), epoch_us(TRY_CAST(v.S AS TIMESTAMPTZ))) END;
CREATE OR REPLACE MACRO ll_at(us) AS CASE
    WHEN us >= 946684800000000 AND us < 4102444800000000 THEN make_timestamp(CAST(us AS BIGINT)) END;
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
TYPE_NAME_MAP = "MAP {" + ", ".join(f"'{k}': '{v}'" for k, v in TYPE_NAMES.items()) + "}"
TIME_RANGE = "between 2000-01-01 and 2099-12-31 (UTC)"
TIME_FORMATS = "ISO 8601 (an offset is converted to UTC, none means UTC), epoch seconds or epoch milliseconds"


def setting_hint(reason: str) -> str:
    """The setting to look at when most items were quarantined for ``reason``."""
    if "[dynamodb." in reason:
        return "the setting the reason names"
    if reason.startswith("no status times"):
        return "status_times under [dynamodb.attributes] and status_times_shape under [dynamodb.shapes]"
    if reason.startswith("missing launch_id"):
        return "launch_id under [dynamodb.attributes] (the table's key)"
    if reason.startswith(("missing status", "unknown status")):
        return "status under [dynamodb.attributes]"
    if reason.startswith("unparseable timestamp"):
        return f"the times themselves ({TIME_FORMATS}) and status_times_shape under [dynamodb.shapes]"
    found = re.match(r"(\S+) is (?:a |an |null|binary)", reason)
    if found:
        return f"{found.group(1)}: map the attribute that holds it under [dynamodb.attributes]"
    return "[dynamodb.attributes] and [dynamodb.shapes]"
