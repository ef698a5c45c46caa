"""Chargeback page: a month's statement on screen, checked against sums made straight from the fixture CSVs."""

import io
import re
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

import openpyxl

from chargeback import exports
from chargeback.closing import statement_for
from chargeback.rules import load_rules
from dashboard import statement
from tests.conftest import FOCUS_SAMPLE
from tests.dashboard.conftest import EVERY_LAUNCH
from warehouse.store import connect

CENT = Decimal("0.01")
FSX = "Amazon FSx"


def cents(value) -> Decimal:
    return Decimal(value).quantize(CENT, ROUND_HALF_EVEN)


def bill_of(costs, month: date):
    return costs[costs["usage_month"] == month]


def largest_remainder(total: Decimal, weights: dict) -> dict:
    """An independent Hamilton split of ``total`` (in cents) by ``weights``, ties by name."""
    units = int(total * 100)
    whole = sum(Fraction(w) for w in weights.values())
    exact = {k: units * Fraction(w) / whole for k, w in weights.items()}
    floors = {k: v.numerator // v.denominator for k, v in exact.items()}
    left = units - sum(floors.values())
    for k in sorted(exact, key=lambda k: (-(exact[k] - floors[k]), k))[:left]:
        floors[k] += 1
    return {k: Decimal(v) / 100 for k, v in floors.items()}


def test_the_latest_month_adds_up_to_its_bill(open_page, read_metrics, read_table, fixture_tables):
    at = open_page("chargeback")
    assert at.selectbox(key="statement_month").value == date(2025, 4, 1)
    april = bill_of(fixture_tables["costs_daily"], date(2025, 4, 1))
    bill = cents(sum(april["net_amortized_cost"]))
    metrics = read_metrics(at)
    assert metrics["Bill 2025-04"][0] == f"${bill:,}" == metrics["Statement total"][0]
    summary = read_table(at, "statement_summary").set_index("Consumer")
    assert summary.loc["Total", "Total"] == bill == sum(summary["Total"].iloc[:-1])
    captions = " ".join(c.value for c in at.caption)
    assert "USD · bill for 2025-04 from cost-explorer · effective cost" in captions
    assert f"= the 2025-04 bill {bill:,} USD" in captions
    # April is still an estimate in Cost Explorer: the page says the bill may move
    assert any("still estimates in Cost Explorer" in w.value for w in at.warning)


def test_january_by_consumer_against_an_independent_allocation(open_page, read_table, fixture_tables, launches_csv):
    at = open_page("chargeback", query_params=EVERY_LAUNCH)
    at.selectbox(key="statement_month").set_value(date(2025, 1, 1)).run()
    summary = read_table(at, "statement_summary").set_index("Consumer")
    january = bill_of(fixture_tables["costs_daily"], date(2025, 1, 1))
    tagged = january[january["consumer"].notna()]
    for consumer, rows in tagged.groupby("consumer"):  # tagged spend is the consumer's direct cost
        assert summary.loc[consumer, "Direct"] == cents(sum(rows["net_amortized_cost"])), consumer
    # untagged FSx is shared by each team's file-system time on its January launches
    untagged_fsx = cents(sum(january.loc[january["consumer"].isna() & (january["service"] == FSX), "net_amortized_cost"]))
    runs = launches_csv[(launches_csv["launch_month"] == date(2025, 1, 1)) & launches_csv["total_cost"].notna()]
    weights = {c: sum(g["filesystem_cost"]) for c, g in runs.groupby("consumer") if sum(g["filesystem_cost"]) > 0}
    for consumer, share in largest_remainder(untagged_fsx, weights).items():
        assert summary.loc[consumer, "Shared"] == share
    # untagged compute has no rule: it is the Unallocated line, never dropped
    untagged_ec2 = january.loc[january["consumer"].isna() & (january["service"] != FSX), "net_amortized_cost"]
    assert summary.loc["Unallocated", "Total"] == cents(sum(untagged_ec2))
    assert summary.loc["Total", "Total"] == cents(sum(january["net_amortized_cost"])) == Decimal("475.10")
    in_january = launches_csv[launches_csv["launch_month"] == date(2025, 1, 1)]
    for consumer, launched in in_january.groupby("consumer"):  # every launch of the month, priced or not
        assert summary.loc[consumer, "Launches"] == len(launched)


def test_a_consumer_filter_shows_its_lines_and_folds_the_rest_into_one_line(open_page, read_table, read_metrics):
    at = open_page("chargeback", query_params={"consumer": ["rare-disease"]})
    summary = read_table(at, "statement_summary").set_index("Consumer")
    assert list(summary.index) == ["rare-disease", "Unallocated", "Rounding", "Outside the filters", "Total"]
    assert f"${summary.loc['Total', 'Total']:,}" == read_metrics(at)["Bill 2025-04"][0]
    lines = read_table(at, "statement_lines")
    assert set(lines["Consumer"]) == {"rare-disease", "Unallocated", "Rounding", "Outside the filters", "Total"}
    at.selectbox(key="statement_consumer").set_value("rare-disease").run()
    mine = read_table(at, "statement_lines")
    assert set(mine["Consumer"]) == {"rare-disease", "Total"}
    assert mine["Amount"].iloc[-1] == summary.loc["rare-disease", "Total"] == sum(mine["Amount"].iloc[:-1])


def test_xlsx_and_pdf_total_to_the_screen_total(open_page, read_table, fixture_con):
    at = open_page("chargeback", query_params={"platform": ["Batch", "EKS"]})
    at.selectbox(key="statement_month").set_value(date(2025, 3, 1)).run()
    screen = read_table(at, "statement_summary").set_index("Consumer").loc["Total", "Total"]
    # the bytes the download buttons serve, from the page's own helpers over the same statement
    rules = load_rules()
    s = statement_for(fixture_con, date(2025, 3, 1), rules)
    lines = s.view((), (), ("Batch", "EKS"))
    made = {d.label: d.data for d in statement.downloads(s, lines, rules, "platforms: Batch, EKS", None)}
    book = openpyxl.load_workbook(io.BytesIO(made["XLSX"]))
    rows = list(book["Summary"].iter_rows(values_only=True))
    assert rows[-1][0] == "Total" and Decimal(str(rows[-1][rows[0].index("Total")])) == screen == s.bill_total
    assert "Outside the filters" in [r[0] for r in rows]
    text = [re.sub(rb"\\(.)", rb"\1", t).decode("latin-1") for t in re.findall(rb"\(((?:\\.|[^\\)])*)\) Tj", made["PDF"])]
    first_total = text.index("Total")
    assert text[first_total + 5] == f"{screen:,.2f}"
    csv_total = made["CSV"].decode().strip().splitlines()[-1].split(",")
    assert Decimal(csv_total[exports.line_table(lines).columns.get_loc("Amount") + 1]) == screen
    assert made["FOCUS"].startswith(b"BilledCost,BillingAccountId")


def test_closing_a_month_freezes_it_behind_a_confirmation(open_page, fresh_data_dir, read_table):
    at = open_page("chargeback", data_dir=fresh_data_dir, query_params=EVERY_LAUNCH)
    at.selectbox(key="statement_month").set_value(date(2025, 1, 1)).run()
    assert at.button(key="close_month").disabled, "closing needs the confirmation first"
    at.checkbox(key="close_confirm").check().run()
    at.button(key="close_month").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any(s.value.startswith("2025-01 closed by run") for s in at.success)
    assert any(s.value.startswith("Closed ") and "frozen" in s.value for s in at.success)
    assert connect(fresh_data_dir).execute("SELECT count(*) FROM closed_statements").fetchall()[0][0] > 0
    # March is not next: the page says why and offers no button
    at.selectbox(key="statement_month").set_value(date(2025, 3, 1)).run()
    assert at.button(key="close_month").disabled
    assert any("months close in order; close 2025-02 first" in c.value for c in at.caption)


def test_the_rules_are_shown_read_only(open_page, read_table):
    at = open_page("chargeback")
    rules = read_table(at, "statement_rules")
    assert "FSx for Lustre file systems" in set(rules["Shared cost"])
    assert rules["Split"].iloc[-1] == "not split: unallocated"
    assert any("[[shared]]" in c.value for c in at.code)


def test_a_warehouse_with_only_a_focus_bill_still_has_statements(open_page, tmp_path, read_metrics):
    from ingest.__main__ import main

    assert main(["focus", str(FOCUS_SAMPLE), "--data-dir", str(tmp_path)]) == 0
    at = open_page("chargeback", data_dir=tmp_path)
    assert not at.info or "No launches" not in at.info[0].value
    at.selectbox(key="statement_month").set_value(date(2024, 9, 1)).run()
    assert read_metrics(at)["Bill 2024-09"][0] == "$14.98"
