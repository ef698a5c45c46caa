"""Hostile CUR 2.0 and FOCUS rows, generated with hypothesis, through the real ``cur`` and ``focus`` imports.

A case is one generated row: good (costs with up to 6 decimals, times in several ISO forms, unicode in every
text, the consumer tag as a map, a JSON string, a list of [key, value] pairs or of {key, value} structs, under
``consumer``, ``user:consumer`` or ``user_consumer``), or with one defect: a non-numeric, NaN, Infinity or huge
cost, a missing or unreadable billing or charge period, a period outside 2000..2099, garbage tags. Each example's
rows are written to a Parquet file in a temporary folder and imported once with ``ingest.billing_exports.ingest_export``.
Every bad row is in ``quarantine`` with a reason naming its defect, every good one is summed into ``costs_daily``
(the sums per consumer computed here with Decimal), and the import never raises.
"""

from __future__ import annotations

import json
import random
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.settings import Settings
from ingest.billing_exports import ingest_export
from warehouse.store import connect

EXAMPLES = 12  # 6 CUR, 6 FOCUS (drawn)
ROWS = 180  # 12 x 180 = 2,160 cases
ALPHABET = "aZ9_-é中文Ωж🧬\u0301\u200b\u00a0\t\n\x07\x1b\x7f\ufeff\"\\'/{}[]:,"
TAG_SHAPES = ("json", "map", "pairs", "structs")
DEFECTS = {  # defect -> words the reason must hold
    "cost": "is not a number",
    "huge": "is out of range",
    "no-period": "the billing period start is missing",
    "no-charge": "the charge period start is missing",
    "old-period": "is outside 2000..2099",
    "tags": "are not a JSON object",
    "effective": "the effective cost",  # FOCUS only: CUR computes it from the billed cost
}
BAD_COSTS = ["n/a", "NaN", "nan", "Infinity", "-Infinity", "inf", "1,5", "ten", "0x1F", "1.2.3", "--4", "€5"]
BAD_TIMES = ["2025-02-30T00:00:00Z", "yesterday", "03/04/2025", "2025-13-01", "", "NaN"]
OLD_TIMES = ["1970-01-01T00:00:00Z", "1999-12-31T23:00:00Z", "2150-01-01T00:00:00Z", "2100-01-01T00:00:00Z"]
BAD_TAGS = ["not json", "{unclosed", "42", '"a string"', "[1, 2]", "true", "{'single': 'quotes'}", '[["only-key"], 3]']


@dataclass
class Row:
    values: dict
    tags: list[tuple[str, str | None]]  # (key, value) as generated
    defect: str | None
    consumer: str | None = None  # the consumer the import should find
    billed: Decimal = Decimal(0)
    effective: Decimal = Decimal(0)


def _text(rng: random.Random, size: int = 10) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, size)))


def _money(rng: random.Random) -> Decimal:
    return Decimal(rng.randint(-(10**8), 10**11)).scaleb(-rng.randint(0, 6))


def _time(rng: random.Random, month: int, day: int) -> str:
    hour = rng.randint(0, 23)
    return rng.choice(
        [
            f"2025-{month:02d}-{day:02d}T{hour:02d}:00:00Z",
            f"2025-{month:02d}-{day:02d} {hour:02d}:00:00",
            f"2025-{month:02d}-{day:02d}T{hour:02d}:00:00.000+00:00",
        ]
    )


def _row(rng: random.Random, kind: str, n: int, defect: str | None) -> Row:
    month, day = rng.randint(1, 6), rng.randint(1, 28)
    period, charge = f"2025-{month:02d}-01T00:00:00Z", _time(rng, month, day)
    billed, effective = _money(rng), _money(rng)
    billed_text, effective_text = str(billed), str(effective)
    consumer = _text(rng) if rng.random() < 0.8 else None
    key = rng.choice(["consumer", "user:consumer", "user_consumer"] if kind == "cur" else ["consumer", "user:consumer"])
    tags = [(f"other-{_text(rng, 4)}", _text(rng))] if rng.random() < 0.5 else []
    if consumer is not None or rng.random() < 0.3:
        tags.append((key, consumer))
    if defect == "cost":
        billed_text = rng.choice(BAD_COSTS)
    elif defect == "huge":
        billed_text = rng.choice(["1e15", "-2e12", "1e30", "999999999999999999.5", "1000000000000"])
    elif defect == "no-period":
        period = rng.choice(BAD_TIMES + [None])
    elif defect == "no-charge":
        charge = rng.choice(BAD_TIMES + [None])
    elif defect == "old-period":
        period = charge = rng.choice(OLD_TIMES)
    elif defect == "effective":
        effective_text = rng.choice(BAD_COSTS + [None])
    if kind == "cur":
        values = {
            "bill_billing_period_start_date": period,
            "line_item_usage_start_date": charge,
            "line_item_unblended_cost": billed_text,
            "line_item_resource_id": f"i-{n}-{_text(rng, 5)}",
            "product_servicecode": _text(rng, 8) or "AmazonEC2",
            "line_item_usage_account_id": rng.choice(["111122223333", "444455556666", _text(rng, 6)]),
        }
        effective = billed
    else:
        values = {
            "BillingPeriodStart": period,
            "ChargePeriodStart": charge,
            "BilledCost": billed_text,
            "EffectiveCost": effective_text,
            "ServiceName": _text(rng, 8) or "Amazon Elastic Compute Cloud",
            "ResourceId": f"r-{n}-{_text(rng, 5)}",
            "SubAccountId": rng.choice(["111122223333", _text(rng, 6)]),
        }
    return Row(values, tags, defect, consumer, billed, effective)


def _tags_column(rows: list[Row], shape: str, rng: random.Random) -> pa.Array:
    if shape == "map":
        return pa.array([r.tags for r in rows], pa.map_(pa.string(), pa.string()))
    if shape == "pairs":
        return pa.array([[[k, v] for k, v in r.tags] for r in rows], pa.list_(pa.list_(pa.string())))
    if shape == "structs":
        kv = pa.struct([("key", pa.string()), ("value", pa.string())])
        return pa.array([[{"key": k, "value": v} for k, v in r.tags] for r in rows], pa.list_(kv))
    texts = []
    for r in rows:
        if r.defect == "tags":
            texts.append(rng.choice(BAD_TAGS))
        elif not r.tags and rng.random() < 0.5:
            texts.append(rng.choice([None, "", "{}", "null", "[]"]))
        else:
            texts.append(json.dumps(dict(r.tags), ensure_ascii=rng.random() < 0.5))
    return pa.array(texts, pa.string())


def generate(seeds: list[int], kind: str, shape: str) -> list[Row]:
    defects = [d for d in DEFECTS if (kind == "focus" or d != "effective") and (shape == "json" or d != "tags")]
    rows = []
    for n, seed in enumerate(seeds):
        rng = random.Random(seed + n)
        rows.append(_row(rng, kind, n, rng.choice([None] * 8 + defects)))
    return rows


def write_file(rows: list[Row], kind: str, shape: str, path: Path, seed: int) -> None:
    columns = {name: pa.array([r.values[name] for r in rows], pa.string()) for name in rows[0].values}
    columns["resource_tags" if kind == "cur" else "Tags"] = _tags_column(rows, shape, random.Random(seed))
    pq.write_table(pa.table(columns), path)


class _Export:
    def __init__(self, drawn):
        seeds, self.kind, self.shape = drawn
        self.shape = self.shape if self.kind == "cur" else ("json" if self.shape in ("pairs", "structs") else self.shape)
        self.seed = seeds[0]
        self.rows = generate(seeds, self.kind, self.shape)

    def __repr__(self):
        return f"<{self.kind} export, tags as {self.shape}, {len(self.rows)} rows, seed {self.seed}>"


exports = st.tuples(
    st.lists(st.integers(0, 2**40), min_size=ROWS, max_size=ROWS), st.sampled_from(["cur", "focus"]), st.sampled_from(TAG_SHAPES)
).map(_Export)


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(exports)
def test_every_hostile_row_loads_exactly_or_is_quarantined_naming_its_defect(export):
    rows, kind = export.rows, export.kind
    good = [r for r in rows if r.defect is None]
    bad = [r for r in rows if r.defect is not None]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{kind}.parquet"
        write_file(rows, kind, export.shape, path, export.seed)
        run = ingest_export(Settings(data_dir=Path(tmp) / "data"), kind, str(path), tag="consumer")
        con = connect(Path(tmp) / "data")
        spent = con.execute("SELECT consumer, sum(billed_cost), sum(effective_cost) FROM costs_daily GROUP BY ALL").fetchall()
        reasons = [r for (r,) in con.execute("SELECT reason FROM quarantine").fetchall()]
    assert run.stats.records_read == len(rows) and run.stats.records_quarantined == len(bad) == len(reasons)
    expected: dict[str | None, list[Decimal]] = {}
    for r in good:
        sums = expected.setdefault(r.consumer, [Decimal(0), Decimal(0)])
        sums[0] += r.billed
        sums[1] += r.effective
    assert {c: [b, e] for c, b, e in spent} == expected, export
    for defect, words in DEFECTS.items():
        assert sum(words in reason for reason in reasons) >= sum(r.defect == defect for r in bad), (defect, reasons[:5])


def test_the_generator_reaches_every_defect_and_tag_shape():
    """The property above is not vacuous: both sources, every tag shape, good rows and every defect are drawn."""
    seen = set()
    for kind, shape in (("cur", "json"), ("focus", "json"), ("cur", "map")):
        seen |= {r.defect for r in generate(list(range(ROWS)), kind, shape)}
    assert seen == {None, *DEFECTS}, seen ^ {None, *DEFECTS}
    drawn = set()

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(exports)
    def shapes(export):
        drawn.add((export.kind, export.shape))

    shapes()
    assert {k for k, _ in drawn} == {"cur", "focus"} and {s for _, s in drawn} >= {"json", "map"}, drawn
