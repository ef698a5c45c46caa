"""Chargeback page: the statement on screen, its totals, and exports that add up to the cent."""

import csv
import io
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

import openpyxl
import pandas as pd

import queries
from dashboard import statement
from queries import Filters

CENT = Decimal("0.01")


def rounded_lines(rows: pd.DataFrame) -> dict[tuple[str, str], Decimal]:
    """Independent statement: exact Decimal sum per consumer and month, then half-even to the cent."""
    out = {}
    for (consumer, month), group in rows.groupby(["consumer", "launch_month"]):
        out[(consumer, month.strftime("%Y-%m"))] = sum(group["total_cost"].dropna(), Decimal(0)).quantize(CENT, ROUND_HALF_EVEN)
    return out


def test_statement_matrix_has_rounded_cells_and_totals_of_the_rounded_cells(open_page, read_table, read_metrics, launches_csv):
    at = open_page("chargeback")
    matrix = read_table(at, "chargeback_matrix").set_index("Consumer")
    want = rounded_lines(launches_csv)
    for (consumer, month), amount in want.items():
        assert matrix.loc[consumer, month] == amount
    for consumer in {c for c, _ in want}:
        assert matrix.loc[consumer, "Total"] == sum(v for (c, _), v in want.items() if c == consumer)
    for month in {m for _, m in want}:
        assert matrix.loc["Total", month] == sum(v for (_, m), v in want.items() if m == month)
    grand = sum(want.values())
    assert matrix.loc["Total", "Total"] == grand == Decimal("1017.39")
    # rounding each line first differs from rounding the exact total (1017.3977 -> 1017.40): the statement says so
    assert sum(launches_csv["total_cost"].dropna(), Decimal(0)).quantize(CENT, ROUND_HALF_EVEN) == Decimal("1017.40")
    assert read_metrics(at)["Charged"][0] == "$1,017.39"
    assert any("half to even" in c.value and "sum of the rounded lines" in c.value for c in at.caption)


def test_half_even_rounding_of_a_line_that_ends_in_half_a_cent(open_page, read_table):
    matrix = read_table(open_page("chargeback"), "chargeback_matrix").set_index("Consumer")
    assert matrix.loc["oncology-research", "2025-01"] == Decimal("139.34")  # exact 139.3450
    assert matrix.loc["population-health", "2025-03"] == Decimal("44.62")  # exact 44.6250


def test_statement_lines_with_counts_and_a_totals_row(open_page, read_table, launches_csv):
    lines = read_table(open_page("chargeback"), "chargeback_lines")
    body, total = lines.iloc[:-1], lines.iloc[-1]
    assert total["Consumer"] == "Total"
    assert total["Launches"] == len(launches_csv) == body["Launches"].sum()
    assert total["Priced launches"] == launches_csv["total_cost"].notna().sum()
    assert total["Pending price"] == launches_csv["total_cost"].isna().sum() == 4
    assert total["Total cost"] == sum(rounded_lines(launches_csv).values())
    for column in ("Instances", "Volumes", "File systems", "Control plane", "Total cost"):
        assert total[column] == sum(body[column]), column


def test_consumer_filter_in_the_sidebar_narrows_the_statement(open_page, read_table, read_metrics, launches_csv):
    at = open_page("chargeback")
    at.multiselect(key="consumer").set_value(["rare-disease", "population-health"]).run()
    rows = launches_csv[launches_csv["consumer"].isin(["rare-disease", "population-health"])]
    want = rounded_lines(rows)
    matrix = read_table(at, "chargeback_matrix").set_index("Consumer")
    assert sorted(matrix.index) == ["Total", "population-health", "rare-disease"]
    assert matrix.loc["Total", "Total"] == sum(want.values())
    assert read_metrics(at)["Charged"][0] == f"${sum(want.values()):,.2f}"


def test_csv_and_xlsx_total_to_the_screen_total_to_the_cent(open_page, read_table, fixture_con):
    at = open_page("chargeback", query_params={"period": ["2025-01-01", "2025-03-31"], "platform": ["Batch", "EKS"]})
    screen_total = read_table(at, "chargeback_matrix").set_index("Consumer").loc["Total", "Total"]

    # the bytes the download buttons serve, from the page's own helpers over the same query
    lines = statement.statement_lines(
        queries.chargeback(fixture_con, Filters(date(2025, 1, 1), date(2025, 3, 31), platforms=("Batch", "EKS")))
    )
    rows = list(csv.DictReader(io.StringIO(statement.to_csv_bytes(lines).decode("utf-8"))))
    assert rows[-1]["Consumer"] == "Total"
    csv_lines = [Decimal(r["Total cost"]) for r in rows[:-1]]
    assert sum(csv_lines) == Decimal(rows[-1]["Total cost"]) == screen_total
    assert all(v == v.quantize(CENT) for v in csv_lines)

    book = openpyxl.load_workbook(io.BytesIO(statement.to_xlsx_bytes({"Statement": lines}, {"Currency": "USD"})))
    sheet = book["Statement"]
    header = [c.value for c in sheet[1]]
    column = header.index("Total cost")
    values = [row[column] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert all(isinstance(v, int | float) for v in values), "amounts are numbers, not text"
    *line_values, total_value = values
    assert sheet.cell(sheet.max_row, 1).value == "Total" and sheet.cell(sheet.max_row, 1).font.bold
    assert sum(Decimal(str(v)) for v in line_values) == Decimal(str(total_value)) == screen_total
