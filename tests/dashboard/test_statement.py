"""The statement's rounding rule and its CSV/XLSX exports, without Streamlit."""

import csv
import io
from datetime import date
from decimal import Decimal

import openpyxl
import pandas as pd

from dashboard import statement


def chargeback_frame() -> pd.DataFrame:
    def line(consumer, month, total, launches=1, priced=1):
        return {
            "consumer": consumer,
            "launch_month": month,
            "launches": launches,
            "priced_launches": priced,
            "pending_launches": launches - priced,
            "instance_cost": total,
            "volume_cost": Decimal("0"),
            "filesystem_cost": Decimal("0"),
            "control_plane_cost": Decimal("0"),
            "total_cost": total,
            "cost_per_launch": total / priced if priced else None,
        }

    return pd.DataFrame(
        [
            line("a", date(2025, 1, 1), Decimal("0.125000")),  # half a cent: rounds to even, 0.12
            line("a", date(2025, 2, 1), Decimal("0.135000")),  # rounds to even, 0.14
            line("b", date(2025, 1, 1), Decimal("10.004999"), launches=3, priced=2),
            line(None, date(2025, 2, 1), Decimal("1.004000")),
        ]
    )


def test_lines_round_half_even_and_the_total_sums_the_rounded_lines():
    lines = statement.statement_lines(chargeback_frame())
    assert list(lines["Total cost"]) == [Decimal("0.12"), Decimal("0.14"), Decimal("10.00"), Decimal("1.00"), Decimal("11.26")]
    assert lines.iloc[-1]["Consumer"] == "Total" and lines.iloc[-1]["Launches"] == 6
    assert lines.iloc[2]["Pending price"] == 1
    assert lines.iloc[3]["Consumer"] == statement.NO_CONSUMER
    # the exact sum (11.268999) would round to 11.27: the statement charges what its lines say
    assert sum(chargeback_frame()["total_cost"]).quantize(Decimal("0.01")) == Decimal("11.27")
    assert statement.statement_total(chargeback_frame()) == Decimal("11.26")


def test_matrix_has_a_totals_row_and_column_of_rounded_cells():
    matrix = statement.statement_matrix(chargeback_frame()).set_index("Consumer")
    assert list(matrix.columns) == ["2025-01", "2025-02", "Total"]
    assert matrix.loc["a", "Total"] == Decimal("0.26")
    assert matrix.loc["b", "2025-02"] == Decimal("0.00")
    assert matrix.loc["Total", "2025-01"] == Decimal("10.12")
    assert matrix.loc["Total", "Total"] == Decimal("11.26") == matrix["Total"].iloc[:-1].sum()


def test_csv_has_plain_numbers_and_the_totals_row():
    rows = list(csv.reader(io.StringIO(statement.to_csv_bytes(statement.statement_lines(chargeback_frame())).decode())))
    assert rows[0][:3] == ["Consumer", "Month", "Launches"]
    assert rows[1][rows[0].index("Total cost")] == "0.12"
    assert rows[-1][0] == "Total" and rows[-1][rows[0].index("Total cost")] == "11.26"


def test_xlsx_has_numeric_amounts_formatted_to_cents_and_an_about_sheet():
    lines = statement.statement_lines(chargeback_frame())
    data = statement.to_xlsx_bytes({"Statement": lines}, {"Currency": "USD", "Rounding": statement.ROUNDING_NOTE})
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Statement", "About"]
    sheet = book["Statement"]
    total_cell = sheet.cell(sheet.max_row, [c.value for c in sheet[1]].index("Total cost") + 1)
    assert total_cell.value == 11.26 and total_cell.number_format == "#,##0.00"
    assert book["About"]["A1"].value == "Currency" and book["About"]["B1"].value == "USD"
