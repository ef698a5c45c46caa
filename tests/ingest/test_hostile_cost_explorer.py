"""Hostile Cost Explorer pages, generated with hypothesis, through the real ``cost-explorer`` job.

A case is one generated record: a group of one day (good, or with one defect: a garbage, NaN, Infinity or
huge amount, an unknown unit, a non-USD currency, Keys or Metrics of the wrong type, the same day and keys
twice), or a day that is bad as a whole (no readable TimePeriod, a day outside the range asked for, Estimated
not a boolean, no Groups but spend in its Total). The pages (some empty, with a NextPageToken) are returned
by a fake Cost Explorer client to ``ingest.cost_explorer.jobs.ingest_cost_explorer``, one run per example.
Every bad record is in ``quarantine`` with a reason naming its defect; every good one is in ``costs_daily``
(count and Decimal sums computed here from the generated groups), unless its day also holds a quarantined group:
such a day keeps what was stored for it; the run never raises.
"""

from __future__ import annotations

import random
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.settings import load_settings
from ingest.cost_explorer import usage
from ingest.cost_explorer.jobs import ingest_cost_explorer
from warehouse.store import connect

EXAMPLES = 10
RECORDS = 200  # 10 x 200 = 2,000 cases
TODAY = date(2026, 11, 20)
START, END = date(2026, 10, 1), date(2026, 11, 1)  # 31 days asked for, all settled
ALPHABET = "aZ9_-é中文Ωж🧬\u0301\u200b\u00a0\t\x00\x07\x1b\x7f\ufeff\"\\'/{}[]:,$"
BAD_AMOUNTS = ["n/a", "NaN", "nan", "Infinity", "-Infinity", "12,5", "1.2.3", "0x10", "", " ", "ten", "1_000", "--1", "1e"]
GROUP_DEFECTS = {  # defect -> words the reason must hold
    "amount": "is not a number",
    "huge": "is out of range",
    "unit": "is not a currency",
    "currency": "not the warehouse's currency USD",
    "keys": "Keys",
    "metrics": "Metrics",
    "duplicate": "twice in one pull",
    "no-cost": "no UnblendedCost or NetAmortizedCost",
}
DAY_DEFECTS = {
    "no-period": "no TimePeriod.Start",
    "bad-date": "is not a date",
    "outside": "outside the range asked for",
    "estimated": "Estimated is",
    "groupless": "no Groups but a Total",
}


@dataclass
class Record:
    day: date | None
    group: dict | None
    defect: str | None = None  # None: it loads
    consumer: str | None = None
    unblended: Decimal | None = None
    net: Decimal | None = None


def _money(rng: random.Random) -> Decimal:
    return Decimal(rng.randint(-(10**9), 10**12 - 1)).scaleb(-rng.randint(0, 6)) if rng.random() < 0.9 else Decimal("0")


def _text(rng: random.Random, size: int = 10) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, size)))


def _group(rng: random.Random, n: int, day: date, defect: str | None, earlier: list[Record]) -> Record:
    consumer = _text(rng)
    unblended, net = _money(rng), _money(rng)
    unit = "USD"
    metrics = {
        "UnblendedCost": {"Amount": str(unblended), "Unit": unit},
        "AmortizedCost": {"Amount": str(unblended), "Unit": unit},
        "NetAmortizedCost": {"Amount": format(net, "f") if rng.random() < 0.5 else str(net), "Unit": unit},
        "UsageQuantity": {"Amount": str(rng.randint(0, 10**6) / 8), "Unit": rng.choice(["Hrs", "N/A", "GB-Mo", ""])},
    }
    keys = [f"consumer${consumer}", f"svc-{n}-{_text(rng, 6)}"]
    metric = rng.choice(["UnblendedCost", "AmortizedCost", "NetAmortizedCost"])
    if defect == "amount":
        metrics[rng.choice([metric, "UsageQuantity"])]["Amount"] = rng.choice(BAD_AMOUNTS)
    elif defect == "huge":
        metrics[metric]["Amount"] = rng.choice(["1e400", "1e15", "-1000000000000", "999999999999999999.5"])
    elif defect == "unit":
        metrics[metric]["Unit"] = rng.choice(["Hrs", "", "usd", None, 840, "US Dollar"])
    elif defect == "currency":
        other = rng.choice(["EUR", "GBP", "JPY"])
        for m in ("UnblendedCost", "AmortizedCost", "NetAmortizedCost"):
            metrics[m]["Unit"] = other
    elif defect == "keys":
        keys = rng.choice([None, [], "consumer$x", [1, "svc"], [None], {"k": "v"}])
    elif defect == "metrics":
        metrics = rng.choice([None, [], "12.5", 3])
    elif defect == "duplicate" and earlier:
        twin = rng.choice(earlier)
        keys, day = list(twin.group["Keys"]), twin.day
    elif defect == "duplicate":
        defect = None
    elif defect == "no-cost":
        del metrics["UnblendedCost"], metrics["NetAmortizedCost"]
    group = {"Keys": keys, "Metrics": metrics}
    return Record(day, group, defect, consumer or None, unblended, net)


def _day_result(rng: random.Random, day: date, records: list[Record], defect: str | None) -> dict:
    result = {
        "TimePeriod": {"Start": day.isoformat(), "End": (day + timedelta(days=1)).isoformat()},
        "Total": {},
        "Groups": [r.group for r in records],
        "Estimated": False,
    }
    if defect == "no-period":
        result.pop("TimePeriod") if rng.random() < 0.5 else result.update(TimePeriod={"End": "2026-10-02"})
    elif defect == "bad-date":
        result["TimePeriod"]["Start"] = rng.choice(["2026-02-30", "10/03/2026", "", "yesterday", "2026-13-01"])
    elif defect == "outside":
        result["TimePeriod"]["Start"] = rng.choice(["2026-09-30", "2026-11-01", "2025-01-01"])
    elif defect == "estimated":
        result["Estimated"] = rng.choice(["yes", "false", 1, None])
    elif defect == "groupless":
        result["Groups"] = [] if rng.random() < 0.5 else None
        result["Total"] = {"UnblendedCost": {"Amount": rng.choice(["12.5", "-3", "NaN"]), "Unit": "USD"}}
    return result


def generate(seeds: list[int]) -> tuple[list[dict], list[Record]]:
    """Pages (a few empty ones among them) and the records they hold, in the order a pull returns them."""
    rng = random.Random(seeds[0])
    records: list[Record] = []
    results: list[dict] = []
    days = [START + timedelta(days=n) for n in range((END - START).days)]
    n = 0
    while n < RECORDS:
        day = rng.choice(days)
        day_defect = rng.choice([None] * 30 + list(DAY_DEFECTS))
        size = 1 if day_defect == "groupless" else rng.randint(1, 6)
        group_records = []
        for _ in range(size):
            defect = rng.choice([None] * 10 + list(GROUP_DEFECTS)) if day_defect is None else None
            r = _group(random.Random(seeds[n % len(seeds)] + n), n, day, defect, [r for r in records if not r.defect])
            if r.day != day:  # a duplicate of a group of another day goes on that day
                results.append(_day_result(rng, r.day, [r], None))
            else:
                group_records.append(r)
            records.append(r)
            n += 1
        if day_defect is not None:
            for r in group_records:
                r.defect = day_defect
            if day_defect == "groupless":
                group_records[0].group = None
        if group_records:
            results.append(_day_result(rng, day, [r for r in group_records if r.group is not None], day_defect))
    pages, at = [], 0
    while at < len(results):
        if rng.random() < 0.15:
            pages.append({"ResultsByTime": [], "GroupDefinitions": [], "DimensionValueAttributes": []})
        take = rng.randint(1, 8)
        pages.append({"ResultsByTime": results[at : at + take], "DimensionValueAttributes": []})
        at += take
    for k, page in enumerate(pages[:-1]):
        page["NextPageToken"] = f"token-{k + 1}"
    return pages, records


class FakeCostExplorer:
    """Answers GetCostAndUsage with the generated pages in order, checking each request's NextPageToken."""

    def __init__(self, pages: list[dict]):
        self.pages, self.calls = pages, 0

    def get_cost_and_usage(self, **kwargs):
        expected = f"token-{self.calls}" if self.calls else None
        assert kwargs.get("NextPageToken") == expected, (kwargs.get("NextPageToken"), expected)
        assert kwargs["TimePeriod"] == {"Start": START.isoformat(), "End": END.isoformat()}
        page = self.pages[self.calls]
        self.calls += 1
        return page


class _Pages:  # hypothesis prints the example: keep it short
    def __init__(self, seeds):
        self.pages, self.records = generate(seeds)

    def __repr__(self):
        return f"<{len(self.records)} records on {len(self.pages)} pages>"


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.lists(st.integers(0, 2**40), min_size=RECORDS, max_size=RECORDS).map(_Pages))
def test_every_hostile_group_loads_exactly_or_is_quarantined_naming_its_defect(example):
    pages, records = example.pages, example.records
    fake = FakeCostExplorer(pages)
    with tempfile.TemporaryDirectory() as tmp, mock.patch.object(usage, "client", lambda cfg, session=None: fake):
        settings = load_settings(data_dir=Path(tmp))
        run = ingest_cost_explorer(settings, start=START, end=END, today=TODAY)
        con = connect(Path(tmp))
        rows = con.execute("SELECT consumer, unblended_cost, net_amortized_cost, currency FROM costs_daily").fetchall()
        quarantine = con.execute("SELECT record_key, reason FROM quarantine").fetchall()
    assert fake.calls == len(pages)
    bad = [r for r in records if r.defect is not None]
    # a day (readable, asked for) with any quarantined group keeps what was stored for it: here, nothing
    kept = {r.day for r in bad if r.defect not in ("no-period", "bad-date", "outside")}
    good = [r for r in records if r.defect is None and r.day not in kept]
    assert run.stats.records_read == len(records)
    assert any(f"{len(kept)} days kept as they were: a group was quarantined" in n for n in run.stats.notes) == bool(kept)
    assert len(rows) == len(good) and run.stats.records_loaded == len(good)
    assert sum((r[1] for r in rows), Decimal(0)) == sum((r.unblended for r in good), Decimal(0))
    assert sum((r[2] for r in rows), Decimal(0)) == sum((r.net for r in good), Decimal(0))
    assert sorted((r[0] or "") for r in rows) == sorted((r.consumer or "") for r in good)
    assert {r[3] for r in rows} <= {"USD"}
    assert len(quarantine) == len(bad) == run.stats.records_quarantined
    reasons = sorted(reason for _, reason in quarantine)
    for defect, words in {**GROUP_DEFECTS, **DAY_DEFECTS}.items():
        expected = sum(r.defect == defect for r in bad)
        assert sum(words in reason for reason in reasons) >= expected, (defect, words, reasons[:5])


def test_the_generator_reaches_every_defect():
    """The property above is not vacuous: the pages hold good groups, every defect and empty pages with a token."""
    defects, empty_with_token = set(), 0
    for seed in range(6):
        pages, records = generate([seed] * RECORDS)
        defects |= {r.defect for r in records}
        empty_with_token += sum(not p["ResultsByTime"] and "NextPageToken" in p for p in pages)
    assert defects == {None, *GROUP_DEFECTS, *DAY_DEFECTS}, defects ^ {None, *GROUP_DEFECTS, *DAY_DEFECTS}
    assert empty_with_token
