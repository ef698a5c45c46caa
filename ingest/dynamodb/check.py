"""``dynamodb-check``: how the configured attribute names and shapes map onto a sample of real items.

It reads the first N items of an export (a folder, a file or s3://) or of the table (one paginated
Scan with a Limit), then prints, for each setting of ``[dynamodb.attributes]`` and ``[dynamodb.shapes]``:
in how many sampled items the attribute was found, the DynamoDB type (or shape) found, an example value,
and a hint when it is missing or of another shape. Last, it loads the sample through the real pipeline
into a throw-away warehouse and says how many items would load and why the others would not. Nothing
is written to the warehouse. The per-item work here is a diagnostic over at most N items; the load
itself stays the bulk SQL of ``ingest.dynamodb.items``.
"""

from __future__ import annotations

import difflib
import gzip
import re
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from core import aws
from core.settings import RECORD_STATUS_KEYS, RECORD_TIME_KEYS, ItemAttributes, ItemShapes, Settings
from core.vocabulary import STATUSES
from ingest.dynamodb import export, shapes
from warehouse.runs import EXIT_LOADED_NONE

if TYPE_CHECKING:
    import boto3

DEFAULT_SAMPLE = 100
TYPE_KEYS = ("S", "N", "BOOL", "NULL", "L", "M", "SS", "NS", "BS", "B")
_WHERE_ATTRS, _WHERE_SHAPES = "under [dynamodb.attributes]", "under [dynamodb.shapes]"


@dataclass
class Row:
    """One line of the report: a setting, what the sample holds for it, and what to do."""

    field: str  # the ItemAttributes / ItemShapes field
    name: str  # the attribute it names
    found: int
    shape: str  # the types or shape found: "S x98, N x2"
    example: str
    hint: str = ""


@dataclass
class CheckResult:
    source: str
    sampled: int
    deletes: int  # incremental export lines without a new image (not attribute samples)
    rows: list[Row] = field(default_factory=list)
    would_load: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        """``EXIT_LOADED_NONE`` when the sample holds items and not one of them would load."""
        return EXIT_LOADED_NONE if self.sampled and not self.would_load else 0


def type_of(value) -> str:
    """The DynamoDB type key of an attribute value (``{"S": ...}`` -> ``S``), or what it is instead."""
    if isinstance(value, dict):
        keys = [k for k in TYPE_KEYS if k in value]
        return keys[0] if keys else "{}" if not value else "?"
    return f"JSON {type(value).__name__}"


def at_path(item: dict, path: str):
    """The attribute value at a dotted path of an item (through maps), or None."""
    value = {"M": item}
    for part in shapes.split_path(path):
        inner = value.get("M") if isinstance(value, dict) else None
        if not isinstance(inner, dict) or part not in inner:
            return None
        value = inner[part]
    return value


def time_format(value) -> str:
    """How a time value is written: ISO 8601 (with Z, an offset or none), epoch seconds/ms/us, or unreadable."""
    text = value.get("N") if isinstance(value, dict) and "N" in value else value.get("S") if isinstance(value, dict) else None
    if not isinstance(text, str):
        return "not S or N"
    text = text.strip()
    try:
        number = float(text)
    except ValueError:
        if not re.match(r"\d{4}-\d{2}-\d{2}", text):
            return "unreadable"
        if re.search(r"(Z|[+-]\d{2}:?\d{2})$", text):
            return "ISO 8601 with " + ("Z" if text.endswith("Z") else "an offset")
        return "ISO 8601 without an offset (UTC)"
    magnitude = abs(number)
    return "epoch seconds" if magnitude < 1e11 else "epoch milliseconds" if magnitude < 1e14 else "epoch microseconds"


def _example(value) -> str:
    text = orjson.dumps(value).decode() if not isinstance(value, str) else value
    text = re.sub(r"[\x00-\x1f\x7f]", "?", text)
    return text if len(text) <= 48 else text[:45] + "..."


def _shape_of(values: list) -> str:
    counts = Counter(type_of(v) for v in values)
    return ", ".join(f"{t} x{n}" if len(counts) > 1 else t for t, n in counts.most_common()) or "-"


def _similar(name: str, items: list[dict], taken: set[str]) -> str:
    """Top-level attributes of the sample that look like ``name`` (for a hint)."""
    keys = Counter(k for item in items for k in item)
    leaf = shapes.split_path(name)[-1] if name else name
    close = [k for k in keys if k.lower() == leaf.lower() and k != name]
    close += [k for k in difflib.get_close_matches(leaf, list(keys), n=3, cutoff=0.6) if k not in close and k != name]
    close = [k for k in close if k not in taken]
    return ", ".join(f"{k} (in {keys[k]})" for k in close[:3])


def _scalar_rows(items: list[dict], attrs: ItemAttributes) -> list[Row]:
    taken = {getattr(attrs, f.name) for f in fields(attrs)}
    rows = []
    for name, kind in shapes.SCALARS:
        path = getattr(attrs, name)
        values = [v for v in (at_path(i, path) for i in items) if v is not None]
        allowed = {"S"} if name == "status" else {"S", "N"}
        wrong = Counter(type_of(v) for v in values if type_of(v) not in allowed | {"NULL"})
        hint = ""
        if not values:
            similar = _similar(path, items, taken)
            required = name in ("launch_id", "status")
            hint = (
                f'not in any item sampled: set {name} = "<the attribute>" {_WHERE_ATTRS}'
                if required or similar
                else "optional; not in any item sampled"
            )
            hint += f" (similar attributes: {similar})" if similar else ""
        elif wrong:
            kind_found, n = wrong.most_common(1)[0]
            hint = f"{n} item(s) hold {kind_found}, expected {shapes.EXPECTED[kind]}: they would be quarantined"
        rows.append(Row(name, path, len(values), _shape_of(values), _example(values[0]) if values else "-", hint))
    return rows


def _status_time_rows(items: list[dict], attrs: ItemAttributes, item_shapes: ItemShapes) -> list[Row]:
    name = attrs.status_times
    values = [v for v in (at_path(i, name) for i in items) if v is not None]
    shape = item_shapes.status_times_shape
    if shape == "attributes":
        return _attribute_time_rows(items, item_shapes)
    found = Counter(type_of(v) for v in values)
    wanted = "M" if shape == "map" else "L"
    hint = ""
    if not values:
        hint = _find_time_attributes(items) or f"not in any item sampled; name the attribute as status_times {_WHERE_ATTRS}"
    elif found.get(wanted, 0) < len(values):
        hint = _other_shape_hint(values, found, shape, name)
    per_item = [_times_of([v], shape, item_shapes) for v in values]
    times = [t for ts in per_item for t in ts]
    described = _describe_status_times(values, shape, item_shapes)
    rows = [Row("status_times", name, len(values), described, _example(values[0]) if values else "-", hint)]
    if times:
        rows.append(_times_row(times, sum(1 for ts in per_item if ts)))
    return rows


def _times_row(times: list, items_with_times: int) -> Row:
    """How the status times are written: ISO 8601 or epoch numbers, and the unreadable ones."""
    formats = Counter(time_format(t) for t in times)
    bad = [t for t in times if time_format(t) in ("unreadable", "not S or N")]
    hint = f"{len(bad)} unreadable, e.g. {_example(bad[0])}: expected {shapes.TIME_FORMATS}" if bad else ""
    shape = ", ".join(f"{f} x{n}" for f, n in formats.most_common())
    return Row("(the times)", f"{len(times)} times", items_with_times, shape, _example(times[0]), hint)


def _describe_status_times(values: list, shape: str, item_shapes: ItemShapes) -> str:
    if not values:
        return "-"
    first = values[0]
    if type_of(first) == "M":
        keys = Counter(k for v in values if type_of(v) == "M" for k in v["M"])
        return "M with keys " + ", ".join(k for k, _ in keys.most_common(6))
    if type_of(first) == "L":
        records = [e["M"] for v in values if type_of(v) == "L" for e in v["L"] if type_of(e) == "M"]
        keys = Counter(k for r in records for k in r)
        per_item = max(len(v["L"]) for v in values if type_of(v) == "L")
        return f"L of up to {per_item} records with keys " + ", ".join(k for k, _ in keys.most_common(6))
    return _shape_of(values)


def _other_shape_hint(values: list, found: Counter, shape: str, name: str) -> str:
    if shape == "map" and found.get("L"):
        records = [e["M"] for v in values if type_of(v) == "L" for e in v["L"] if type_of(e) == "M"]
        status_key, time_key = _record_keys(records)
        extra = "".join(
            f'; record_{what}_key = "{key}"'
            for what, key, known in (("status", status_key, RECORD_STATUS_KEYS), ("time", time_key, RECORD_TIME_KEYS))
            if key and key not in known
        )
        count = max(len(v["L"]) for v in values if type_of(v) == "L")
        return f'{name} is a list (L) of {count} records, not a map: set status_times_shape = "records"{extra} {_WHERE_SHAPES}'
    if shape == "records" and found.get("M"):
        return f'{name} is a map (M), not a list of records: set status_times_shape = "map" {_WHERE_SHAPES}'
    kind, n = found.most_common(1)[0]
    return f"{n} item(s) hold {kind}: expected {'a map (M)' if shape == 'map' else 'a list (L) of records'}"


def _record_keys(records: list[dict]) -> tuple[str | None, str | None]:
    """The keys records most likely name their status and their time by."""
    keys = Counter(k for r in records for k in r)
    status = next(
        (k for k, _ in keys.most_common() if any(str(r.get(k, {}).get("S", "")).upper() in STATUSES for r in records)), None
    )
    time = next(
        (
            k
            for k, _ in keys.most_common()
            if k != status and any(time_format(r.get(k)) not in ("unreadable", "not S or N") for r in records)
        ),
        None,
    )
    return status, time


def _times_of(values: list, shape: str, item_shapes: ItemShapes) -> list:
    """Every time value the status times of the sample hold, in the configured shape."""
    if shape == "map":
        return [t for v in values if type_of(v) == "M" for t in v["M"].values()]
    status_keys, time_keys = shapes.record_keys(item_shapes)
    out = []
    for v in values:
        for e in v.get("L", []) if type_of(v) == "L" else []:
            record = e.get("M") if isinstance(e, dict) else None
            if isinstance(record, dict):
                out += [record[k] for k in time_keys if k in record][:1]
    return out


def _attribute_time_rows(items: list[dict], item_shapes: ItemShapes) -> list[Row]:
    rows = []
    for status in STATUSES:
        name = item_shapes.status_time_attribute(status)
        values = [v for v in (at_path(i, name) for i in items) if v is not None]
        formats = Counter(time_format(v) for v in values)
        shape = ", ".join(f"{f} x{n}" for f, n in formats.most_common()) or "-"
        hint = "" if values else f"not in any item sampled (status_time_pattern / status_time_attributes {_WHERE_SHAPES})"
        rows.append(Row(f"{status} time", name, len(values), shape, _example(values[0]) if values else "-", hint))
    return rows


def _find_time_attributes(items: list[dict]) -> str:
    """A hint when the items hold one attribute per status (``preparing_at``, ``RUNNING_TIME``)."""
    keys = Counter(k for item in items for k in item)
    per_status = {s: [k for k in keys if s.lower() in k.lower()] for s in STATUSES}
    named = {s: ks[0] for s, ks in per_status.items() if ks}
    if len(named) < 2:
        return ""
    status, key = next(iter(named.items()))
    start = key.lower().index(status.lower())
    written = key[start : start + len(status)]
    token = "{STATUS}" if written.isupper() else "{Status}" if written[0].isupper() else "{status}"
    pattern = key[:start] + token + key[start + len(status) :]
    return (
        f'not in any item, but the items have {", ".join(named.values())}: set status_times_shape = "attributes" and '
        f'status_time_pattern = "{pattern}" {_WHERE_SHAPES}'
    )


def _resource_rows(items: list[dict], attrs: ItemAttributes) -> list[Row]:
    rows = []
    if attrs.resources:
        values = [v for v in (at_path(i, attrs.resources) for i in items) if v is not None]
        keys = Counter(k for v in values if type_of(v) == "M" for k in v["M"])
        shape = "M with keys " + ", ".join(keys) if keys else _shape_of(values)
        rows.append(Row("resources", attrs.resources, len(values), shape, _example(values[0]) if values else "-"))
    for _, name, is_list, _ in shapes.RESOURCE_FIELDS:
        path = shapes.resource_path(attrs, name)
        values = [v for v in (at_path(i, path) for i in items) if v is not None]
        wanted = "L" if is_list else "M"
        wrong = sum(1 for v in values if type_of(v) not in (wanted, "NULL"))
        hint = f"{wrong} item(s) hold another type, expected {'a list (L) of maps' if is_list else 'a map (M)'}" if wrong else ""
        rows.append(Row(name, path, len(values), _shape_of(values), _example(values[0]) if values else "-", hint))
    return rows


def _lines_of(path: Path, limit: int) -> list[bytes]:
    opener = gzip.open if path.suffix == ".gz" else open
    out = []
    try:
        with opener(path, "rb") as fh:
            for line in fh:
                if line.strip():
                    out.append(line.rstrip(b"\n"))
                    if len(out) >= limit:
                        break
    except (OSError, EOFError):
        pass
    return out


def sample_export(location: str, n: int, work_dir: Path, session: boto3.Session | None = None) -> list[bytes]:
    """The first ``n`` lines of an export's data files (downloading only the first files of an s3:// export)."""
    found = export.export_files(location, work_dir, session, max_files=10)
    lines: list[bytes] = []
    for path, _, _ in found.to_read:
        lines += _lines_of(path, n - len(lines))
        if len(lines) >= n:
            break
    return lines


def sample_table(settings: Settings, n: int, session: boto3.Session | None = None) -> list[bytes]:
    """The first ``n`` items of the launches table, by a paginated Scan with a Limit, as export lines."""
    ddb = settings.dynamodb
    client = aws.client("dynamodb", session=session, region=ddb.region, endpoint_url=ddb.endpoint_url)
    kwargs = {"TableName": ddb.table, "Limit": n}
    items: list[dict] = []
    while len(items) < n:
        page = client.scan(**kwargs)
        items += page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            break
        kwargs.update(ExclusiveStartKey=page["LastEvaluatedKey"], Limit=n - len(items))
    from ingest.dynamodb.scan import _default

    return [orjson.dumps({"Item": item}, default=_default) for item in items[:n]]


def _items_of(lines: list[bytes]) -> tuple[list[dict], int]:
    """The items of export lines (an incremental export's NewImage), and how many lines were deletes."""
    items, deletes = [], 0
    for line in lines:
        try:
            doc = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if not isinstance(doc, dict):
            continue
        item = doc.get("Item", doc.get("NewImage"))
        if isinstance(item, dict):
            items.append(item)
        elif "Keys" in doc:
            deletes += 1
    return items, deletes


def _trial_load(lines: list[bytes], settings: Settings) -> tuple[int, dict[str, int]]:
    """Load the sample through the real pipeline into a throw-away warehouse: (items that would load, reasons)."""
    from ingest.dynamodb.items import stage_items
    from warehouse.store import WarehouseWriter

    with tempfile.TemporaryDirectory(prefix="launch-ledger-check-") as tmp:
        sample = Path(tmp) / "sample.json.gz"
        sample.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
        with WarehouseWriter(Path(tmp) / "data", "dynamodb-check") as writer:
            ddb = settings.dynamodb
            staged = stage_items(writer, [sample], ddb.attributes, "sample", settings.currency, item_shapes=ddb.shapes)
    return staged.records_read - staged.quarantined - staged.deletes, staged.reasons


def check_source(
    settings: Settings,
    location: str | None = None,
    sample: int = DEFAULT_SAMPLE,
    session: boto3.Session | None = None,
    out=None,
) -> CheckResult:
    """Sample an export (``location``) or the table (no location) and print how the settings map onto it."""
    ddb = settings.dynamodb
    with tempfile.TemporaryDirectory(prefix="launch-ledger-check-") as tmp:
        if location:
            lines = sample_export(location, sample, Path(tmp), session)
        else:
            lines = sample_table(settings, sample, session)
    items, deletes = _items_of(lines)
    source = location or f"dynamodb://{ddb.table}"
    result = CheckResult(source, len(items), deletes)
    result.rows = [
        *_scalar_rows(items, ddb.attributes),
        *_status_time_rows(items, ddb.attributes, ddb.shapes),
        *_resource_rows(items, ddb.attributes),
    ]
    if items:
        result.would_load, result.reasons = _trial_load(lines, settings)
    print_check(result, ddb.shapes, out)
    return result


def print_check(result: CheckResult, item_shapes: ItemShapes, out=None) -> None:
    out = out or sys.stdout
    head = f"dynamodb-check · {result.source} · {result.sampled:,} item(s) sampled"
    head += f" (and {result.deletes:,} delete(s) of an incremental export)" if result.deletes else ""
    lines = [head, f"status times shape: {item_shapes.status_times_shape} ([dynamodb.shapes] status_times_shape)", ""]
    width = {k: max([len(k), *(len(str(getattr(r, k))) for r in result.rows)]) for k in ("field", "name", "shape")}
    width = {k: min(v, 52 if k == "shape" else 40) for k, v in width.items()}
    header = f"{'setting':<{width['field']}}  {'attribute':<{width['name']}}  {'found':>9}  "
    lines.append(header + f"{'type / shape':<{width['shape']}}  example")
    for r in result.rows:
        found = f"{r.found}/{result.sampled}"
        lines.append(
            f"{r.field:<{width['field']}}  {_cut(r.name, width['name']):<{width['name']}}  {found:>9}  "
            f"{_cut(r.shape, width['shape']):<{width['shape']}}  {r.example}"
        )
        if r.hint:
            lines.append(f"{'':<{width['field']}}  -> {r.hint}")
    lines.append("")
    if not result.sampled:
        lines.append("no items in the sample: nothing to check")
    else:
        lines.append(f"if loaded now: {result.would_load:,} of {result.sampled:,} would load")
        for reason, count in sorted(result.reasons.items(), key=lambda kv: -kv[1])[:8]:
            lines.append(f"  {count:>6,} quarantined: {reason}")
    print("\n".join(lines), file=out)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."
