"""A statement cut to a reader's consumers: their lines only, no bill total, no other consumer in any export."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest
from pypdf import PdfReader

import chargeback
from chargeback import exports
from chargeback.closing import statement_for
from chargeback.rules import load_rules
from chargeback.statement import WITHHELD, withhold_amounts
from core.access import EVERYONE, Reader
from core.settings import DEFAULT_RULES_FILE

ONCOLOGY = "oncology-research"
OTHERS = ("neuro-genomics", "population-health", "rare-disease")
VIEWER = Reader(consumers=(ONCOLOGY,), admin=False)
MONTHS = [date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1), date(2025, 4, 1)]


@pytest.fixture(scope="module")
def rules():
    return load_rules(DEFAULT_RULES_FILE)


def as_viewer(con, month, rules):
    return chargeback.chargeback_statement(con, month, rules.text, str(rules.path), reader=VIEWER)


@pytest.mark.parametrize("month", MONTHS, ids=str)
def test_a_viewer_gets_exactly_their_lines_of_the_whole_months_allocation(fixture_con, rules, month):
    whole = statement_for(fixture_con, month, rules)
    mine = as_viewer(fixture_con, month, rules)
    expected = whole.lines[whole.lines["consumer"] == ONCOLOGY]
    assert set(mine.lines["consumer"]) == {ONCOLOGY}
    assert list(mine.lines["amount"]) == list(expected["amount"])  # the same cents: allocated from the whole bill
    assert "direct" in set(mine.lines["line_kind"])
    assert mine.total == sum(expected["amount"], Decimal("0.00")) == mine.bill_total
    assert mine.bill_total != whole.bill_total and mine.scope == (ONCOLOGY,)
    assert set(mine.charges["consumer"]) == {ONCOLOGY}
    mine.check()  # still adds up: to the lines it keeps
    everyone = chargeback.chargeback_statement(fixture_con, month, rules.text, str(rules.path), reader=EVERYONE)
    assert everyone.scope is None and everyone.bill_total == whole.bill_total


def test_amounts_of_the_whole_month_are_withheld_from_notes(fixture_con, rules):
    mine = as_viewer(fixture_con, date(2025, 3, 1), rules)
    shared = mine.lines[mine.lines["line_kind"] == "shared"]
    assert len(shared), "FSx is a shared cost: the viewer's share of it is a line of theirs"
    assert all(WITHHELD in note for note in shared["note"])
    assert not any(re.search(r"\d\.\d\d", n) for n in [*shared["note"], *mine.notes])
    assert withhold_amounts("bill 2025-03: 1,017.39 USD at close; Support +12.50") == (
        f"bill 2025-03: {WITHHELD} USD at close; Support {WITHHELD}"
    )


def exports_of(statement, rules):
    header = exports.Header(statement, rules, "none: the whole month")
    lines = statement.lines
    return {
        "csv": exports.to_csv(lines, statement).decode(),
        "xlsx": exports.to_xlsx(lines, header),
        "pdf": exports.to_pdf(lines, header),
        "focus": exports.to_focus_csv(statement, rules).decode(),
    }


def xlsx_text(data: bytes) -> str:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return "\n".join(
        f"{sheet.title}\t" + "\t".join("" if v is None else str(v) for v in row)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
    )


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.mark.parametrize("month", MONTHS, ids=str)
def test_no_export_of_a_viewers_statement_holds_another_consumer_or_the_bill(fixture_con, rules, month):
    whole = statement_for(fixture_con, month, rules)
    mine = as_viewer(fixture_con, month, rules)
    files = exports_of(mine, rules)
    texts = {"csv": files["csv"], "xlsx": xlsx_text(files["xlsx"]), "pdf": pdf_text(files["pdf"]), "focus": files["focus"]}
    bill = f"{whole.bill_total:,}"
    # the only consumer in the rules is the viewer's own alias target; others never appear
    for name, text in texts.items():
        for other in OTHERS:
            assert other not in text, f"{other} in the {name} export"
        assert bill not in text and str(whole.bill_total) not in text, f"the month's bill in the {name} export"
        assert "Unallocated" not in text and "Rounding" not in text, name
    focus = pd.read_csv(io.StringIO(files["focus"]))
    assert set(focus["x_Consumer"]) == {ONCOLOGY}
    assert Decimal(str(round(focus["EffectiveCost"].sum(), 2))) == mine.total
    csv = pd.read_csv(io.StringIO(files["csv"]), dtype=str)
    assert set(csv["Consumer"]) == {ONCOLOGY, "Total"}
    assert Decimal(csv.loc[csv["Consumer"] == "Total", "Amount"].iloc[0]) == mine.total
    about = dict(exports.Header(mine, rules).items())
    assert about["Bill"].startswith("not shown: only the lines of oncology-research")
    assert "not part of it" in about["Reconciliation"]


def test_a_filter_on_a_viewers_statement_folds_only_their_own_lines_outside(fixture_con, rules):
    mine = as_viewer(fixture_con, date(2025, 2, 1), rules)
    view = mine.view(workflow_types=("nextflow-rnaseq",))
    outside = view[view["line_kind"] == "outside"]["amount"].iloc[0]
    assert sum(view["amount"], Decimal("0.00")) == mine.total  # the "outside" line is of their own lines
    assert outside == mine.total - sum(view[view["line_kind"] != "outside"]["amount"], Decimal("0.00"))


def test_a_reader_of_no_consumer_gets_an_empty_statement(fixture_con, rules):
    nothing = chargeback.chargeback_statement(
        fixture_con, date(2025, 1, 1), rules.text, str(rules.path), reader=Reader(consumers=(), admin=False)
    )
    assert nothing.lines.empty and nothing.charges.empty and nothing.total == 0
    assert exports.summary(nothing.lines)["Consumer"].tolist() == ["Total"]
