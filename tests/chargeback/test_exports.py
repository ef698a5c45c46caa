"""Downloads: CSV, XLSX, PDF and FOCUS made from the statement's lines, totalling exactly what it says."""

import csv
import io
import json
import re
from decimal import Decimal

import openpyxl

from chargeback import exports
from chargeback.rules import parse_rules
from chargeback.statement import allocate
from tests.chargeback.test_allocate import MONTH, RULES, worked_month


def statement():
    rows, runs = worked_month()
    rules = parse_rules(RULES)
    return allocate(MONTH, rows, runs, rules), rules


def pdf_text(data: bytes) -> list[str]:
    """The strings an uncompressed PDF draws (``(text) Tj``), unescaped."""
    found = re.findall(rb"\(((?:\\.|[^\\)])*)\) Tj", data)
    return [re.sub(rb"\\(.)", rb"\1", s).decode("latin-1") for s in found]


def test_summary_has_a_row_per_consumer_then_unallocated_rounding_and_the_total():
    s, _ = statement()
    summary = exports.summary(s.lines).set_index("Consumer")
    assert list(summary.index) == ["a", "b", "c", "Unallocated", "Rounding", "Total"]
    assert summary.loc["a", "Total"] == Decimal("146.34") and summary.loc["a", "Launches"] == 4
    assert summary.loc["a", "Cost per launch"] == Decimal("36.58")  # 146.34 / 4, half to even
    assert summary.loc["c", "Credits"] == Decimal("-10.00")
    assert summary.loc["Unallocated", "Total"] == Decimal("15.00") and summary.loc["Rounding", "Total"] == Decimal("0.01")
    assert summary.loc["Total", "Total"] == s.bill_total == Decimal("226.01")
    assert summary.loc["Total", "Direct"] == Decimal("180.00")


def test_csv_lines_add_up_to_the_total_row_and_the_statement():
    s, _ = statement()
    rows = list(csv.DictReader(io.StringIO(exports.to_csv(s.lines, s).decode())))
    *lines, total = rows
    assert total["Consumer"] == "Total" and Decimal(total["Amount"]) == s.total
    assert sum(Decimal(r["Amount"]) for r in lines) == s.total and sum(Decimal(r["Billed"]) for r in lines) == s.billed_total
    assert {r["Month"] for r in lines} == {"2026-10"} and lines[0]["Currency"] == "USD"
    assert [r["Consumer"] for r in lines][-2:] == ["Unallocated", "Rounding"]


def test_xlsx_has_a_summary_with_totals_and_a_sheet_per_consumer():
    s, rules = statement()
    book = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx(s.lines, exports.Header(s, rules))))
    assert book.sheetnames == ["Summary", "a", "b", "c", "Unallocated", "Rules", "About"]
    summary = list(book["Summary"].iter_rows(values_only=True))
    header, *body, total = summary
    col = header.index("Total")
    assert total[0] == "Total" and book["Summary"].cell(len(summary), 1).font.bold
    assert sum(Decimal(str(r[col])) for r in body) == Decimal(str(total[col])) == s.total
    assert book["Summary"].cell(2, col + 1).number_format == "#,##0.00"
    for consumer in ("a", "b", "c"):
        sheet = list(book[consumer].iter_rows(values_only=True))
        amount = sheet[0].index("Amount")
        want = sum(s.lines.loc[s.lines["consumer"] == consumer, "amount"])
        assert sheet[-1][0] == "Total" and Decimal(str(sheet[-1][amount])) == want
    about = dict(book["About"].iter_rows(values_only=True, max_col=2))
    assert about["Statement total"] == "226.01 USD" and "effective cost" in about["Measure"]


def test_pdf_shows_the_same_totals_as_the_screen():
    s, rules = statement()
    text = pdf_text(exports.to_pdf(s.lines, exports.Header(s, rules)))
    assert "Chargeback statement - 2026-10 (USD)" in text
    assert "Statement total: 226.01 USD" in text
    summary_total = text.index("Total")  # the summary table's Total row: Direct, Shared, Credits, Adjustments, Total
    assert text[summary_total + 1 : summary_total + 6] == ["180.00", "41.00", "-10.00", "0.00", "226.01"]
    # one section per consumer, each ending with its total
    a = text.index("a - statement 2026-10")
    assert text[text.index("Total", a) + 3] == "146.34"
    one = pdf_text(exports.to_pdf(s.lines, exports.Header(s, rules), consumers=["b"]))
    assert "b - statement 2026-10" in one and "a - statement 2026-10" not in one


def test_focus_rows_carry_the_consumer_in_tags_and_add_up_to_each_line():
    s, rules = statement()
    rows = list(csv.DictReader(io.StringIO(exports.to_focus_csv(s, rules).decode())))
    assert set(exports.FOCUS_COLUMNS) == set(rows[0])
    assert sum(Decimal(r["EffectiveCost"]) for r in rows) == s.total
    for line in s.lines.to_dict("records"):
        mine = [r for r in rows if r["x_AllocationLine"] == line["line"] and (r["x_Consumer"] or None) == line["consumer"]]
        assert sum(Decimal(r["EffectiveCost"]) for r in mine) == line["amount"], line["line"]
        assert sum(Decimal(r["BilledCost"]) for r in mine) == line["billed_amount"]
    fsx = [r for r in rows if r["x_AllocationLine"] == "FSx"]
    assert {json.loads(r["Tags"])["team"] for r in fsx} == {"a", "b"} and {r["ServiceName"] for r in fsx} == {"Amazon FSx"}
    assert {r["ChargePeriodStart"] for r in rows} == {"2026-10-01T00:00:00Z"} and {r["ChargePeriodEnd"] for r in rows} == {
        "2026-11-01T00:00:00Z"
    }
    assert {r["ChargeCategory"] for r in rows if r["x_AllocationKind"] == "credit"} == {"Credit"}
