"""The FinOps Foundation's FOCUS 1.0 sample (1,000 real-format rows, tests/data/focus): imported with
``python -m ingest focus``, its statement by ``business_unit`` is checked against a plain, independent sum
of EffectiveCost by that tag, to the cent; what carries no business_unit is its own line."""

import csv
import io
import json
from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

import openpyxl
import pytest

from chargeback import exports
from chargeback.closing import statement_for
from chargeback.rules import parse_rules
from chargeback.statement import UNTAGGED_LINE
from ingest.__main__ import main
from tests.conftest import FOCUS_SAMPLE
from warehouse.store import connect

SAMPLE = FOCUS_SAMPLE
SEPTEMBER = date(2024, 9, 1)
CENT = Decimal("0.01")
RULES = parse_rules('[consumer]\ntag = "business_unit"\n')


def independent_sums() -> dict:
    """EffectiveCost of the September billing period by business_unit, with csv + json + Decimal only."""
    sums: dict = defaultdict(Decimal)
    with SAMPLE.open(newline="") as fh:
        for row in csv.DictReader(fh):
            if not row["BillingPeriodStart"].startswith("2024-09"):
                continue
            tags = json.loads(row["Tags"]) if row["Tags"] not in ("", "NULL") else {}
            sums[tags.get("business_unit")] += Decimal(row["EffectiveCost"])
    return dict(sums)


@pytest.fixture(scope="module")
def focus_dir(tmp_path_factory):
    data = tmp_path_factory.mktemp("focus")
    assert main(["focus", str(SAMPLE), "--tag-key", "business_unit", "--data-dir", str(data)]) == 0
    return data


def test_the_statement_by_business_unit_is_the_plain_sum_of_effective_cost(focus_dir):
    s = statement_for(connect(focus_dir), SEPTEMBER, RULES)
    want = independent_sums()
    per_consumer = defaultdict(Decimal)
    for line in s.lines.to_dict("records"):
        if line["consumer"] is not None:
            per_consumer[line["consumer"]] += line["amount"]
    named = {k: v.quantize(CENT, ROUND_HALF_EVEN) for k, v in want.items() if k is not None}
    assert len(named) > 250 and per_consumer == named
    untagged = s.lines[s.lines["line"] == UNTAGGED_LINE].iloc[0]
    assert untagged["consumer"] is None and untagged["amount"] == want[None].quantize(CENT, ROUND_HALF_EVEN) == Decimal("-1.02")
    total = sum(want.values())
    # the warehouse keeps each day's sum to the micro-dollar (DECIMAL(18,6)); the cents are exact
    assert abs(s.bill_exact - total) < Decimal("0.0001")
    assert s.bill_total == total.quantize(CENT, ROUND_HALF_EVEN) == Decimal("14.98")
    assert sum(s.lines["amount"]) == s.bill_total and s.bill_source == "focus"
    # the untagged remainder holds the AWS credit (-3.00) and no shared rule: it is never dropped
    assert any(c == "Credit" for c in s.charges.loc[s.charges["line"] == UNTAGGED_LINE, "charge_category"])


def test_exports_total_to_the_screen_and_focus_rows_to_each_consumer(focus_dir):
    s = statement_for(connect(focus_dir), SEPTEMBER, RULES)
    header = exports.Header(s, RULES)
    book = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx(s.lines, header)))
    summary = list(book["Summary"].iter_rows(values_only=True))
    total_column = summary[0].index("Total")
    assert summary[-1][0] == "Total" and Decimal(str(summary[-1][total_column])) == s.total
    focus = list(csv.DictReader(io.StringIO(exports.to_focus_csv(s, RULES).decode())))
    assert sum(Decimal(r["EffectiveCost"]) for r in focus) == s.total
    by_tag = defaultdict(Decimal)
    for r in focus:
        by_tag[json.loads(r["Tags"] or "{}").get("business_unit")] += Decimal(r["EffectiveCost"])  # no tags: null
    assert by_tag["PeoriaData"] == sum(s.lines.loc[s.lines["consumer"] == "PeoriaData", "amount"])
    providers = {r["ProviderName"] for r in focus}
    assert {"Microsoft", "Oracle"} <= providers


def test_importing_the_same_export_again_changes_nothing_and_a_month_can_be_picked(focus_dir, tmp_path, capsys):
    before = connect(focus_dir).execute("SELECT count(*), sum(effective_cost) FROM costs_daily").fetchall()
    assert main(["focus", str(SAMPLE), "--tag-key", "business_unit", "--data-dir", str(focus_dir)]) == 0
    assert "unchanged            995" in capsys.readouterr().out
    assert connect(focus_dir).execute("SELECT count(*), sum(effective_cost) FROM costs_daily").fetchall() == before
    # one billing period only: the October row (an Oracle charge billed a month later) stays out
    assert main(["focus", str(SAMPLE), "--month", "2024-10", "--data-dir", str(tmp_path)]) == 0
    months = (
        connect(tmp_path)
        .execute("SELECT DISTINCT strftime(usage_month, '%Y-%m'), count(*) FROM costs_daily GROUP BY 1")
        .fetchall()
    )
    assert months == [("2024-10", 1)]
