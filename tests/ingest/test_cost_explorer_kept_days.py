"""A Cost Explorer day with a quarantined group keeps the rows stored for it, and is asked for again.

Before: the good groups of such a day replaced its stored rows, so its stored total dropped by the bad
groups until the day was pulled again. The pulls go through the real ``cost-explorer`` job with a fake client.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from unittest import mock

from core.settings import load_settings
from ingest.cost_explorer import usage
from ingest.cost_explorer.jobs import ingest_cost_explorer
from warehouse.store import connect, read_manifest

START, END = date(2026, 10, 1), date(2026, 10, 4)  # three days
DAYS = [START + timedelta(days=n) for n in range(3)]
BAD_DAY = DAYS[1]


def _group(consumer: str, amount: str) -> dict:
    metrics = {m: {"Amount": amount, "Unit": "USD"} for m in ("UnblendedCost", "AmortizedCost", "NetAmortizedCost")}
    return {"Keys": [f"consumer${consumer}", "Amazon Elastic Compute Cloud - Compute"], "Metrics": metrics}


def _page(groups_by_day: dict[date, list[dict]]) -> dict:
    results = [
        {
            "TimePeriod": {"Start": d.isoformat(), "End": (d + timedelta(days=1)).isoformat()},
            "Total": {},
            "Groups": groups,
            "Estimated": False,
        }
        for d, groups in groups_by_day.items()
    ]
    return {"ResultsByTime": results, "DimensionValueAttributes": []}


class _Fake:
    def __init__(self, page: dict):
        self.page, self.asked = page, []

    def get_cost_and_usage(self, **kwargs):
        self.asked.append(kwargs["TimePeriod"])
        return self.page


def _pull(data_dir: Path, page: dict, today: date):
    fake = _Fake(page)
    with mock.patch.object(usage, "client", lambda cfg, session=None: fake):
        run = ingest_cost_explorer(load_settings(data_dir=data_dir), start=START, end=END, today=today)
    return run, fake


def _day_totals(data_dir: Path) -> dict[date, Decimal]:
    rows = connect(data_dir).execute("SELECT usage_date, sum(unblended_cost) FROM costs_daily GROUP BY ALL").fetchall()
    return dict(rows)


def test_a_day_with_a_quarantined_group_keeps_its_stored_rows_and_is_not_final(tmp_path):
    first = {d: [_group("oncology", "12.345678"), _group("genomics-core", "7.5")] for d in DAYS}
    # inside the trailing window: nothing is final, so the second pull asks for the same days again
    _pull(tmp_path, _page(first), today=date(2026, 10, 10))
    before = _day_totals(tmp_path)
    assert before == {d: Decimal("12.345678") + Decimal("7.5") for d in DAYS}

    # restated: every group costs more; on BAD_DAY one group's amount is garbage
    second = {d: [_group("oncology", "20.000001"), _group("genomics-core", "9.25")] for d in DAYS}
    second[BAD_DAY][1] = _group("genomics-core", "n/a")
    run, fake = _pull(tmp_path, _page(second), today=date(2026, 11, 20))  # now settled
    after = _day_totals(tmp_path)

    assert after[BAD_DAY] == before[BAD_DAY] == Decimal("19.845678")  # unchanged, not 20.000001 alone
    for d in (DAYS[0], DAYS[2]):
        assert after[d] == Decimal("20.000001") + Decimal("9.25")  # the good days were replaced
    assert run.stats.records_quarantined == 1
    assert run.stats.records_loaded == 4 and run.stats.records_read == 6
    assert "1 days kept as they were: a group was quarantined" in " ".join(run.stats.notes)

    cursor = read_manifest(tmp_path)["cursors"]["cost-explorer"]
    final = usage.final_from_cursor(cursor)
    assert BAD_DAY not in set(final.days())
    asked = usage.ranges_to_request(START, END, final, 14, date(2026, 11, 21))
    assert any(r.start <= BAD_DAY < r.end for r in asked)  # asked for again


def test_a_kept_day_never_pulled_before_loads_nothing(tmp_path):
    page = {d: [_group("oncology", "1.25"), _group("genomics-core", "2.5")] for d in DAYS}
    page[BAD_DAY][0] = _group("oncology", "NaN")
    run, _ = _pull(tmp_path, _page(page), today=date(2026, 11, 20))
    totals = _day_totals(tmp_path)
    assert BAD_DAY not in totals
    assert totals == {DAYS[0]: Decimal("3.75"), DAYS[2]: Decimal("3.75")}
    assert run.stats.records_loaded == 4 and run.stats.records_quarantined == 1
