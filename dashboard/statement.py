"""The chargeback statement and its exports (CSV, XLSX): pure functions, no Streamlit.

Rounding rule, so that screen and exports agree to the cent: every statement line (consumer x month)
is rounded to the cent, half to even; every total is the sum of the rounded lines it covers.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from decimal import Decimal

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from dashboard.formatting import cents, month

TOTAL = "Total"
NO_CONSUMER = "(no consumer)"
AMOUNTS = {
    "instance_cost": "Instances",
    "volume_cost": "Volumes",
    "filesystem_cost": "File systems",
    "control_plane_cost": "Control plane",
    "total_cost": "Total cost",
}
COUNTS = {"launches": "Launches", "priced_launches": "Priced launches", "pending_launches": "Pending price"}
ROUNDING_NOTE = (
    "Each line is rounded to the cent (half to even); every total is the sum of the rounded lines above it, "
    "so the CSV and XLSX add up to exactly what is on screen. The parts (instances, volumes, ...) are rounded on their own "
    "and may differ from a line's total cost by a cent. Launches pending a price are counted, not charged."
)


def _cost_per_launch(total: Decimal, priced: int) -> Decimal | None:
    return cents(total / priced) if priced else None


def statement_lines(chargeback: pd.DataFrame) -> pd.DataFrame:
    """One row per consumer x launch month with amounts in cents, then a ``Total`` row."""
    lines = pd.DataFrame(
        {
            "Consumer": chargeback["consumer"].fillna(NO_CONSUMER).astype(object),
            "Month": [month(m) for m in chargeback["launch_month"]],
            **{label: chargeback[col].astype(int).tolist() for col, label in COUNTS.items()},
            **{label: [cents(v) for v in chargeback[col]] for col, label in AMOUNTS.items()},
        }
    )
    lines["Cost per launch"] = [
        _cost_per_launch(t, p) for t, p in zip(lines["Total cost"], lines["Priced launches"], strict=True)
    ]
    total: dict[str, object] = {"Consumer": TOTAL, "Month": ""}
    total.update({label: int(lines[label].sum()) for label in COUNTS.values()})
    total.update({label: sum(lines[label], Decimal("0.00")) for label in AMOUNTS.values()})
    total["Cost per launch"] = _cost_per_launch(total["Total cost"], total["Priced launches"])
    return pd.concat([lines, pd.DataFrame([total])], ignore_index=True)


def statement_matrix(chargeback: pd.DataFrame) -> pd.DataFrame:
    """Consumers down, launch months across, total cost in cents, a ``Total`` column and row."""
    lines = statement_lines(chargeback).iloc[:-1]
    months = sorted(set(lines["Month"]))
    consumers = sorted(set(lines["Consumer"]))
    cell = {(c, m): v for c, m, v in zip(lines["Consumer"], lines["Month"], lines["Total cost"], strict=True)}
    rows = []
    for consumer in consumers:
        values = [cell.get((consumer, m), Decimal("0.00")) for m in months]
        rows.append([consumer, *values, sum(values, Decimal("0.00"))])
    column_totals = [sum((row[i] for row in rows), Decimal("0.00")) for i in range(1, len(months) + 2)]
    rows.append([TOTAL, *column_totals])
    return pd.DataFrame(rows, columns=["Consumer", *months, TOTAL])


def statement_total(chargeback: pd.DataFrame) -> Decimal:
    """The amount the statement charges: the sum of its rounded lines."""
    return statement_lines(chargeback)["Total cost"].iloc[-1]


def to_csv_bytes(lines: pd.DataFrame) -> bytes:
    """The statement lines (with the Total row) as UTF-8 CSV, amounts as plain numbers like 1234.50."""
    out = lines.copy()
    for column in out.columns:
        out[column] = ["" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v) for v in out[column]]
    return out.to_csv(index=False, lineterminator="\n").encode("utf-8")


def to_xlsx_bytes(sheets: Mapping[str, pd.DataFrame], about: Mapping[str, str]) -> bytes:
    """A workbook with one sheet per frame (amounts as numbers, Total row in bold) and an About sheet."""
    book = Workbook()
    book.remove(book.active)
    for title, frame in sheets.items():
        sheet = book.create_sheet(title)
        sheet.append(list(frame.columns))
        for row in frame.itertuples(index=False):
            sheet.append([None if v is None or (isinstance(v, float) and pd.isna(v)) else v for v in row])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for cell in sheet[sheet.max_row]:
            if frame.iloc[-1, 0] == TOTAL:
                cell.font = Font(bold=True)
        for index, column in enumerate(frame.columns, start=1):
            values = [v for v in frame[column] if v is not None]
            if values and all(isinstance(v, Decimal) for v in values):
                for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.number_format = "#,##0.00"
            width = max(len(str(column)), *(len(str(v)) for v in frame[column])) if len(frame) else len(str(column))
            sheet.column_dimensions[get_column_letter(index)].width = min(width + 2, 60)
        sheet.freeze_panes = "B2"
    info = book.create_sheet("About")
    for key, value in about.items():
        info.append([key, value])
    info.column_dimensions["A"].width = 18
    info.column_dimensions["B"].width = 100
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
