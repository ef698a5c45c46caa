"""Hostile DynamoDB items, generated with hypothesis: every item either loads, with the figures an independent
Python computation gives, or lands in quarantine with a non-empty reason; the process never crashes.

Each example is a batch of ITEMS items (missing keys, every DynamoDB type in the wrong place, NaN and
Infinity, huge strings and lists, unicode and control characters, timestamps in every format seen in the
wild, status times out of order, negative and non-numeric costs, the same launch id twice), staged through
``ingest.dynamodb.items.stage_items`` exactly as an export is. EXAMPLES x ITEMS cases in all.
"""

from __future__ import annotations

import gzip
import json
import math
import random
import tempfile
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.settings import ItemAttributes, ItemShapes
from core.vocabulary import STATUSES
from ingest.dynamodb.items import stage_items
from warehouse.store import WarehouseWriter

EXAMPLES = 22
ITEMS = 240  # 5,280 hostile items, and ONE_DEFECT_EXAMPLES x 40 more: 6,080 cases in all
ONE_DEFECT_EXAMPLES = 20
LO, HI = int(datetime(2001, 1, 1, tzinfo=UTC).timestamp()), int(datetime(2098, 6, 1, tzinfo=UTC).timestamp())
WRONG_TYPES = [
    {"L": [{"S": "1"}]},
    {"M": {"x": {"S": "1"}}},
    {"BOOL": True},
    {"SS": ["a", "b"]},
    {"NS": ["1"]},
    {"B": "AAEC"},
    {},
]
BAD_TIMES = [
    "04/03/2025 10:00",
    "Tue, 04 Mar 2025 10:00:00 GMT",
    "2025-02-30T10:00:00Z",
    "2025-13-01T00:00:00Z",
    "",
    "   ",
    "NaN",
    "Infinity",
    "-Infinity",
    "infinity",
    "1e400",
    "-5",
    "99999999999999999999",
    "1969-12-31T23:59:59Z",
    "2150-01-01T00:00:00Z",
    "epoch",
    "yesterday",
]
BAD_NUMBERS = ["n/a", "NaN", "Infinity", "-Infinity", "1e400", "", " ", "12,5", "1.2.3", "0x10", "ten"]
# Unicode as it comes: letters of many scripts, combining marks, emoji, control characters (no lone surrogates).
ALPHABET = "aZ9_-é中文Ωж🧬\u0301\u200b\u00a0\t\n\r\x00\x07\x1b\x7f\ufeff\"\\'/{}[]:,"


def _text(rng: random.Random, size: int = 12) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, size)))


@dataclass
class Expected:
    """What the independent computation says of one generated item."""

    key: str | None  # the launch_id the warehouse should record (trimmed), None when the item has none
    valid: bool
    maybe_line: bool = False  # bare NaN/Infinity in the line: quarantined under its key, or as a line without one
    latest: datetime | None = None
    figures: dict = field(default_factory=dict)
    defect: str | None = None  # the one defect generated (None: a good item)


def _ts(seconds: int, ms: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None) + timedelta(milliseconds=ms)


def time_value(rng: random.Random, moment: datetime) -> dict:
    """``moment`` (UTC) written in one of the formats seen in the wild."""
    fmt = rng.choice(["Z", "offset", "compact", "naive", "space", "epoch_s", "epoch_s_text", "epoch_ms", "epoch_us"])
    iso = moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{moment.microsecond // 1000:03d}" if moment.microsecond else "")
    epoch = (moment - datetime(1970, 1, 1)) // timedelta(milliseconds=1)
    if fmt == "Z":
        return {"S": iso + "Z"}
    if fmt in ("offset", "compact"):
        minutes = rng.randint(-56, 56) * 15
        local = (moment + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        sign, hours, mins = "+" if minutes >= 0 else "-", abs(minutes) // 60, abs(minutes) % 60
        return {"S": f"{local}{sign}{hours:02d}{':' if fmt == 'offset' else ''}{mins:02d}"}
    if fmt == "naive":
        return {"S": iso}
    if fmt == "space":
        return {"S": iso.replace("T", " ")}
    if fmt == "epoch_s":
        return {"N": f"{epoch / 1000:.3f}"}
    if fmt == "epoch_s_text":
        return {"S": str(epoch // 1000)} if epoch % 1000 == 0 else {"N": f"{epoch // 1000}.{epoch % 1000:03d}"}
    if fmt == "epoch_ms":
        return rng.choice([{"N": str(epoch)}, {"S": str(epoch)}])
    return {"S": str(epoch * 1000)}


def _hours(a, b):
    return None if a is None or b is None else (b - a).total_seconds() / 3600


# The defects an item may carry, one at a time (None: a good item, noisy but valid). Each names the check it trips.
DEFECTS = (
    [None] * 24
    + ["key:missing", "key:empty", "key:null", "key:wrong", "text:wrong", "status:missing", "status:unknown"]
    + ["status:wrong", "status:padded", "times:order", "times:bad", "times:wrong", "times:both_ends"]
    + ["times:own_missing", "times:absent", "times:records", "cost:bad", "cost:negative", "cost:wrong", "parts"]
    + ["size", "samples", "source", "res:negative", "res:bad_time", "res:bad_count", "res:wrong_field"]
    + ["res:wrong_element", "container", "nan"]
)
# The defects that are a value of the wrong DynamoDB type (the checks a clean batch's SQL may leave out).
TYPE_DEFECTS = (
    "key:wrong",
    "text:wrong",
    "status:wrong",
    "times:wrong",
    "times:records",
    "cost:wrong",
    "source",
    "res:wrong_field",
    "res:wrong_element",
    "container",
)


def _money(rng: random.Random, defect: str | None, at_most: Decimal | None = None):
    """(attribute value, Decimal or None) of a cost up to ``at_most``; ``defect`` bad, negative or wrong makes it one."""
    if defect == "bad":
        return {rng.choice(["S", "N"]): rng.choice(BAD_NUMBERS)}, None
    if defect == "wrong":
        return rng.choice(WRONG_TYPES), None
    kind = rng.choice(["good"] * 6 + ["absent", "null"]) if defect is None else "good"
    if kind == "absent":
        return None, None
    if kind == "null":
        return {"NULL": True}, None
    top = 10**9 if at_most is None else int(at_most.scaleb(4))
    value = Decimal(rng.randint(1 if defect else 0, max(top, 1))).scaleb(-4)
    value = -value if defect == "negative" else value
    text = rng.choice([str(value), f" {value} ", f"{value:f}"])
    return {rng.choice(["S", "N"]): text}, value


def status_times(rng: random.Random, defect: str | None):
    """(status, {status: datetime}, attribute value): a launch's statuses, in order unless ``defect`` says otherwise."""
    status = rng.choice(STATUSES)
    end = STATUSES.index(status)
    path = [s for s in STATUSES[:end] if s not in ("COMPLETE", "FAILED") and rng.random() < 0.5] + [status]
    if defect in ("times:order", "times:own_missing") and len(path) == 1:
        path = ["PREPARING", "COMPLETE"]
        status = "COMPLETE"
    if defect == "times:both_ends" and status not in ("COMPLETE", "FAILED"):
        status = "FAILED"
        path = [*path[:-1], "FAILED"]
    t = rng.randint(LO, HI - 10 * 86400)
    moments = {}
    for s in path:
        t += rng.randint(1 if defect == "times:order" else 0, 86400)
        moments[s] = _ts(t, rng.randint(0, 999) if rng.random() < 0.5 else 0)
    if defect == "times:order":
        keys = list(moments)
        moments[keys[0]], moments[keys[-1]] = moments[keys[-1]], moments[keys[0]]
    values = {s: time_value(rng, m) for s, m in moments.items()}
    if defect == "times:bad":
        values[rng.choice(list(values))] = {rng.choice(["S", "N"]): rng.choice(BAD_TIMES)}
    elif defect == "times:wrong":
        values[rng.choice(list(values))] = rng.choice(WRONG_TYPES[:3])
    elif defect == "times:both_ends":
        values["FAILED" if status == "COMPLETE" else "COMPLETE"] = time_value(rng, max(moments.values()))
    elif defect == "times:own_missing":
        del values[status], moments[status]
    attr = {"M": values}
    if defect == "times:absent":
        attr = rng.choice([None, {"NULL": True}, {"M": {}}])
    elif defect == "times:records":  # the list-of-records shape, under the default map shape
        attr = {"L": [{"M": {"status": {"S": s}, "at": v}} for s, v in values.items()]}
    return status, moments, attr


def instances(rng: random.Random, window: datetime, defect: str | None):
    """(attribute value, [(count, hours)]) of a launch's instances, now and then far too many of them."""
    n = max(rng.choice([0, 0, 1, 1, 2, 3, 250]), 1 if defect else 0)
    out, rows = [], []
    for _ in range(min(n, 3)):
        start = window + timedelta(seconds=rng.randint(0, 3600))
        hours = rng.randint(1 if defect == "res:negative" else 0, 20 * 3600) / 3600
        count = rng.randint(1, 64)
        element = {
            "instance_type": {"S": rng.choice(["r6i.4xlarge", "c6i.2xlarge", "m6i.xlarge"])},
            "purchase_option": {"S": rng.choice(["Spot", "on-demand", "RESERVED", "savings plan"])},
            "count": rng.choice([{"N": str(count)}, {"S": str(count)}]),
            "start": time_value(rng, start),
            "end": time_value(rng, start + timedelta(hours=hours)),
        }
        out.append({"M": element})
        rows.append((count, hours))
    if n == 250:
        out, rows = [json.loads(json.dumps(out[0])) for _ in range(250)], rows[:1] * 250
    target = out[0]["M"] if out else {}
    if defect == "res:negative":
        target["start"], target["end"] = target["end"], target["start"]
    elif defect == "res:bad_time":
        target["end"] = {"S": rng.choice(BAD_TIMES)}
    elif defect == "res:bad_count":
        target["count"] = {"N": rng.choice(["-1", "1.5", "NaN", "lots", "3e10"])}
    elif defect == "res:wrong_field":
        target["count"] = rng.choice(WRONG_TYPES[:3])
    elif defect == "res:wrong_element":
        out[0] = rng.choice([{"S": "r6i.4xlarge"}, {"N": "1"}, {"NULL": True}])
    return ({"L": out} if out or rng.random() < 0.5 else None), rows


def _trim(text: str) -> str | None:
    """The key as DuckDB's trim leaves it: Unicode spaces (Zs: ' ', NBSP, ideographic space) off both ends."""
    spaces = "".join(ch for ch in set(text) if unicodedata.category(ch) == "Zs")
    return text.strip(spaces) or None


def _key(rng: random.Random, n: int, defect: str | None) -> tuple[dict | None, str | None]:
    """(attribute value, the key the warehouse records) of a launch id: plain, unicode, huge, padded, a number."""
    base = f"hyp-{n:04d}"
    if defect == "key:missing":
        return None, None
    if defect == "key:empty":
        return {"S": rng.choice(["", "   "])}, None
    if defect == "key:null":
        return {"NULL": True}, None
    if defect == "key:wrong":
        return rng.choice(WRONG_TYPES), None
    kind = rng.choice(["plain"] * 12 + ["unicode", "unicode", "huge", "padded", "number"])
    if kind == "number":
        return {"N": str(900_000 + n)}, str(900_000 + n)
    text = {"plain": base, "unicode": base + _text(rng).replace(" ", "_"), "huge": base + "x" * 20_000}.get(kind)
    text = text if text is not None else f"  {base}  "
    return {"S": text}, _trim(text)


def launch_item(seed: int, n: int, defect: str | None = "any"):
    """(JSON line, Expected) of one hostile launch item, all of its choices made by an rng hypothesis seeds
    (``defect``: the one to give it; by default, one drawn from DEFECTS, or none)."""
    rng = random.Random(seed)
    defect = rng.choice(DEFECTS) if defect == "any" else defect
    area, _, what = (defect or "").partition(":")
    item: dict = {}
    value, key = _key(rng, n, defect)
    if value is not None:
        item["launch_id"] = value
    wrong_text = rng.choice(["consumer", "workflow_type", "compute_platform", "region", "input_path"])
    for name in ("consumer", "workflow_type", "compute_platform", "region", "input_path"):
        choice = (
            "wrong"
            if area == "text" and name == wrong_text
            else rng.choice(["text"] * 8 + ["unicode", "unicode", "absent", "null", "number", "huge"])
        )
        value = {
            "text": {"S": f"{name}-{n % 7}"},
            "unicode": {"S": _text(rng)},
            "absent": None,
            "null": {"NULL": True},
            "number": {"N": "42"},
            "huge": {"S": "é" * rng.choice([5_000, 50_000])},
            "wrong": rng.choice(WRONG_TYPES),
        }[choice]
        if value is not None:
            item[name] = value
    status, moments, times_attr = status_times(rng, defect if area == "times" else None)
    if times_attr is not None:
        item["status_times"] = times_attr
    if area != "status":
        item["status"] = {"S": rng.choice([status, status.lower(), status.title()])}
    elif what != "missing":
        item["status"] = {
            "unknown": {"S": rng.choice(["CANCELLED", "SUCCEEDED", "DONE", _text(rng)])},
            "wrong": rng.choice([{"N": "3"}, *WRONG_TYPES]),
            "padded": {"S": f" {status}"},
        }[what]
    return _finish_item(rng, n, item, key, status, moments, defect)


def _finish_item(rng, n, item, key, status, moments, defect):
    """Costs, sizes and resources of a generated item, and what the independent computation expects of it."""
    area, _, what = (defect or "").partition(":")
    costs = {}
    bad_cost = rng.choice(["total", "instance", "volume", "fs"]) if area == "cost" else None
    names = {"total": "totalCost", "instance": "instance_cost", "volume": "volume_cost", "fs": "filesystem_cost"}
    left = None
    for name, attr in names.items():  # the parts share what the total leaves (a cent over is allowed, never more)
        value, costs[name] = _money(rng, what if name == bad_cost else None, left)
        if name == "total" and costs[name] is not None and costs[name] >= 0:
            left = costs[name]
        elif left is not None and costs[name] is not None and costs[name] >= 0:
            left -= costs[name]
        if value is not None:
            item[attr] = value
    if defect == "parts":  # the parts above the total (by more than the cent the check allows)
        costs["total"] = Decimal(rng.randint(0, 10**6)).scaleb(-4)
        costs["instance"] = costs["total"] + Decimal("0.0101") + Decimal(rng.randint(0, 10**6)).scaleb(-4)
        item["totalCost"], item["instance_cost"] = {"S": str(costs["total"])}, {"N": str(costs["instance"])}
    size = rng.choice(["-1", "NaN", "Infinity", "abc", "1e400"] if defect == "size" else [None, "12.5", "0", "1e3"])
    if size is not None:
        item["input_size_gb"] = {"N": size}
    samples = rng.choice(["12.5", "-3", "3e10", "NaN", "x"] if defect == "samples" else [None, "12", "12.0", "0"])
    if samples is not None:
        item["sample_count"] = {"N": samples}
    source = rng.choice(["other", "wrong"] if defect == "source" else [None, None, "item", "seqera", "ITEM"])
    if source is not None:
        item["price_source"] = {"BOOL": True} if source == "wrong" else {"S": source}
    window = min(moments.values()) if moments else datetime(2025, 1, 1)
    value, rows = instances(rng, window, defect if area == "res" else None)
    if value is not None:
        item["resources"] = {"M": {"instances": value}}
    if defect == "container":  # a map or list of the wrong type: the status times, the resources, their lists
        where = rng.choice(["status_times", "resources", "instances"])
        wrong = rng.choice([{"S": "x"}, {"N": "1"}, {"BOOL": True}, {"L": []} if where != "instances" else {"M": {}}])
        if where == "instances":
            item["resources"] = {"M": {"instances": wrong}}
        else:
            item[where] = wrong
    if defect == "nan":  # NaN and Infinity as bare JSON numbers: not JSON, though readers may take them
        item["totalCost"] = {"N": "@@"}
        line = json.dumps({"Item": item}).replace('"@@"', rng.choice(["NaN", "Infinity", "-Infinity"]))
        return line, Expected(key, False, maybe_line=True)
    expected = Expected(key, defect is None, defect=defect)
    if defect is None:
        expected.figures, expected.latest = _figures(status, moments, costs, rows, source)
    return json.dumps({"Item": item}), expected


def _number_ok(text: str, whole: bool) -> bool:
    """A finite number of at least 0 (and whole, below 2**31, when ``whole``)."""
    try:
        number = float(text)
    except ValueError:
        return False
    if not math.isfinite(number) or number < 0:
        return False
    return not whole or (number == int(number) and number < 2**31)


def _figures(status, moments, costs, rows, source):
    """The launch row's figures, computed in Python from what was generated (not from what was written)."""
    p, w, r, run = (moments.get(s) for s in ("PREPARING", "WAITING", "READY", "RUNNING"))
    end = moments.get("COMPLETE") or moments.get("FAILED")
    launched = next(m for m in (p, w, r, run, end) if m is not None)
    total = costs["total"]
    part = {k: (costs[k] or Decimal(0)) if total is not None else None for k in ("instance", "volume", "fs")}
    figures = {
        "status": status,
        "launched_at": launched,
        "ended_at": end,
        "preparing_hours": _hours(p, w or r or run or end),
        "waiting_hours": _hours(w, r or run or end),
        "queued_hours": _hours(r, run or end),
        "running_hours": _hours(run, end),
        "total_hours": _hours(launched, end),
        "instance_count": sum(c for c, _ in rows),
        "instance_hours": sum(c * h for c, h in rows),
        "total_cost": total,
        "instance_cost": part["instance"],
        "control_plane_cost": None if total is None else total - sum(part.values()),
        "price_source": "pending" if total is None else "seqera" if source == "seqera" else "item",
    }
    return figures, next(m for m in (end, run, r, w, launched) if m is not None)


@st.composite
def batches(draw):
    """ITEMS items; now and then one reuses an earlier item's launch id (the same launch twice)."""
    seeds = draw(st.lists(st.integers(0, 2**63), min_size=ITEMS, max_size=ITEMS))
    rng = random.Random(seeds[0] ^ 0x5EED)
    lines = [launch_item(seed, n) for n, seed in enumerate(seeds)]
    for k in range(1, ITEMS):
        if rng.randint(0, 19) == 0:
            j = rng.randint(0, k - 1)
            line, expected = lines[k]
            key_j = lines[j][1].key
            if expected.maybe_line or key_j is None or expected.key is None or not key_j.startswith("hyp-"):
                continue
            doc = json.loads(line)
            doc["Item"]["launch_id"] = {"S": key_j}
            expected.key = key_j
            lines[k] = (json.dumps(doc), expected)
    return lines


def _stage(lines: list[str]) -> tuple[list[tuple], list[tuple]]:
    """Stage the lines as an export file is staged; (launch rows, quarantine rows) as written."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "items.json.gz"
        path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
        with WarehouseWriter(Path(tmp) / "data", "hypothesis") as writer:
            staged = stage_items(writer, [path], ItemAttributes(), None, item_shapes=ItemShapes())
            files = [str(writer.root / f) for fs in staged.launch_parts.values() for f in fs]
            columns = ", ".join(["launch_id", *FIGURES])
            con = duckdb.connect()
            launches = con.execute(f"SELECT {columns} FROM read_parquet($f)", {"f": files}).fetchall() if files else []
            quarantine = con.execute(
                "SELECT record_key, reason FROM read_parquet($f)", {"f": [f for f in staged.quarantine_files if Path(f).exists()]}
            ).fetchall()
    return launches, quarantine


FIGURES = (
    "status",
    "launched_at",
    "ended_at",
    "preparing_hours",
    "waiting_hours",
    "queued_hours",
    "running_hours",
    "total_hours",
    "instance_count",
    "instance_hours",
    "total_cost",
    "instance_cost",
    "control_plane_cost",
    "price_source",
)
CASES = {"items": 0}


class _Batch:
    """A generated batch, with a short repr (hypothesis prints the failing example)."""

    def __init__(self, lines):
        self.lines = lines

    def __repr__(self) -> str:
        return f"<{len(self.lines)} items: {_short(self.lines[0][0], 200)} ...>"


def _short(text, size: int = 400):
    text = str(text)
    return text if len(text) <= size else text[:size] + f"... ({len(text):,} chars)"


def _close(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)
    return a == b


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
@given(batches().map(_Batch))
def test_every_hostile_item_loads_exactly_or_is_quarantined_with_a_reason(batch):
    check_batch(batch.lines)


def check_batch(batch: list[tuple[str, Expected]]) -> None:
    """The property, for one batch: each item loaded with its figures, quarantined with a reason, or superseded."""
    lines = [line for line, _ in batch]
    launches, quarantine = _stage(lines)
    CASES["items"] += len(batch)
    assert all(isinstance(reason, str) and reason.strip() for _, reason in quarantine), quarantine
    loaded = {row[0]: dict(zip(FIGURES, row[1:], strict=True)) for row in launches}
    assert len(loaded) == len(launches), "a launch staged twice"
    by_key: dict[str | None, list[tuple[int, Expected]]] = {}
    for n, (_, expected) in enumerate(batch):
        by_key.setdefault(expected.key, []).append((n, expected))
    quarantined: dict[str | None, int] = {}
    for key, _ in quarantine:
        quarantined[key] = quarantined.get(key, 0) + 1
    as_lines = 0  # items with bare NaN/Infinity quarantined as lines (without their key)
    for key, versions in by_key.items():
        good = [(e.latest, n, e) for n, e in versions if e.valid and key is not None]
        bad = len(versions) - len(good)
        maybe = sum(1 for _, e in versions if e.maybe_line) if key is not None else 0
        mine = [r for k, r in quarantine if k == key]
        assert bad - maybe <= len(mine) <= bad, (_short(key), [(e.valid, e.maybe_line) for _, e in versions], mine[:3])
        as_lines += bad - quarantined.get(key, 0) if key is not None else 0
        if not good:
            assert key not in loaded, (_short(key), "loaded though every version is invalid", _short(batch[versions[0][0]][0]))
            continue
        _, winner_n, winner = max(good, key=lambda g: (g[0], g[1]))
        row = loaded[key]
        for name, value in winner.figures.items():
            assert _close(row[name], value), (_short(key), name, row[name], value, _short(batch[winner_n][0]))
    assert quarantined.get(None, 0) == len(by_key.get(None, [])) + as_lines, [_short(r) for k, r in quarantine if k is None]
    assert set(loaded) <= set(by_key), set(loaded) - set(by_key)


@st.composite
def one_type_defect(draw):
    """A batch of good items but one, which holds one value of the wrong type (the type checks must still run),
    or one other defect (the batch holds no wrong type: its SQL leaves the type checks out, the rest must hold)."""
    seeds = draw(st.lists(st.integers(0, 2**63), min_size=40, max_size=40))
    others = sorted({d for d in DEFECTS if d and d not in TYPE_DEFECTS and d != "nan"})
    hidden, defect = draw(st.integers(0, 39)), draw(st.sampled_from([*TYPE_DEFECTS, *TYPE_DEFECTS, *others]))
    return [launch_item(seed, n, defect if n == hidden else None) for n, seed in enumerate(seeds)]


@settings(max_examples=ONE_DEFECT_EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(one_type_defect().map(_Batch))
def test_a_value_of_the_wrong_type_is_caught_in_an_otherwise_clean_batch(batch):
    check_batch(batch.lines)
    CASES["items"] += len(batch.lines)


def test_the_generator_reaches_every_outcome():
    """The property above is not vacuous: the batches hold loads, quarantines, bad lines and duplicates."""
    seen = {"valid": 0, "invalid": 0, "bare NaN": 0, "duplicate": 0}

    @settings(max_examples=5, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(batches())
    def count(batch):
        keys = [e.key for _, e in batch if e.key]
        seen["duplicate"] += len(keys) - len(set(keys))
        for _, e in batch:
            seen["bare NaN" if e.maybe_line else "valid" if e.valid else "invalid"] += 1

    count()
    assert all(seen.values()), seen
