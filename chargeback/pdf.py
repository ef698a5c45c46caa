"""The statement as a PDF finance can forward: the summary, then each consumer on its own page with its own total.

A4 landscape, fpdf2's core Helvetica. Columns are sized from their text (the widest cell, and the longest
word of the header, which wraps onto more lines rather than running into its neighbour); the Line and
Rule columns take what is left and wrap. Every page's footer says the month, whether the statement is
open or closed, the rules' fingerprint and "page N of M". Uncompressed (statements are a few pages),
so the figures can be read back and checked.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from fpdf import FPDF, FontFace
from fpdf.enums import CellBordersLayout

from chargeback.exports import MONEY_COLUMNS, TOTAL, Header, _latin, _money, line_table, summary
from chargeback.statement import UNALLOCATED

FONT = "Helvetica"
SIZE = 8  # table text, pt
PADDING = 1.2  # mm each side of a cell's text
LINE_HEIGHT = 4.0  # mm per line of a table cell
FLEXIBLE = ("Consumer", "Line", "Rule")  # columns that wrap, and take the width the others leave
MIN_FLEXIBLE = 28.0  # mm: a wrapping column is never narrower
LINE_COLUMNS = ["Line", "Kind", "Rule", "Launches", "Amount", "Billed", "Cost per launch"]


class StatementPDF(FPDF):
    """An FPDF whose every page ends with the statement's footer."""

    def __init__(self, footer_text: str):
        super().__init__(orientation="L", format="A4")
        self.footer_text = footer_text
        self.compress = False
        self.set_auto_page_break(auto=True, margin=14)

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(FONT, "", 7.5)
        self.set_text_color(90)
        half = (self.w - self.l_margin - self.r_margin) / 2
        self.cell(half + 40, 5, _latin(self.footer_text), align="L")
        self.cell(half - 40, 5, f"page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(0)


def footer_text(header: Header) -> str:
    s = header.statement
    status = f"closed {s.closed_at:%Y-%m-%d}" if s.closed else "OPEN: computed now, may still change"
    return (
        f"Launch Ledger chargeback statement {s.label} ({s.currency}) - {status} - rules fingerprint {s.rules_fingerprint[:12]}"
    )


def _label(column: str, currency: str) -> str:
    return f"{column} ({currency})" if column in MONEY_COLUMNS else column


def _align(column: str) -> str:
    return "RIGHT" if column in MONEY_COLUMNS or column == "Launches" else "LEFT"


def _cell_text(column: str, value) -> str:
    if column in MONEY_COLUMNS:
        return _money(value)
    if column == "Launches":
        return "" if value is None or pd.isna(value) else f"{int(value):,}"
    return _latin(value)


def _heading_width(pdf: FPDF, heading: str) -> float:
    """The narrowest width that fits ``heading`` on at most two lines, split at a space."""
    words = heading.split()
    splits = [
        max(pdf.get_string_width(" ".join(words[:i])), pdf.get_string_width(" ".join(words[i:]))) for i in range(1, len(words))
    ]
    return min(splits, default=pdf.get_string_width(heading))


def column_widths(pdf: FPDF, headings: list[str], rows: list[list[str]], width: float) -> list[float]:
    """Widths (mm) adding up to ``width``: each column as wide as its widest cell and its header (on one line when
    every header fits so, else on two at most).

    When the natural widths do not fit, the wrapping columns (Consumer, Line, Rule) give way, down to
    ``MIN_FLEXIBLE``; when they fit, what is left over is shared equally by every column.
    """
    pdf.set_font(FONT, "", SIZE)
    cells = [max((pdf.get_string_width(row[i]) for row in rows), default=0.0) for i in range(len(headings))]
    pdf.set_font(FONT, "B", SIZE)
    for fit in (pdf.get_string_width, lambda heading: _heading_width(pdf, heading)):  # headers on one line if they fit
        need = [max(cell, fit(heading)) + 2 * PADDING + 0.5 for cell, heading in zip(cells, headings, strict=True)]
        if sum(need) <= width:
            return [n + (width - sum(need)) / len(need) for n in need]
    flexible = [i for i, h in enumerate(headings) if h.split(" (")[0] in FLEXIBLE]
    fixed = sum(n for i, n in enumerate(need) if i not in flexible)
    room = max(width - fixed, MIN_FLEXIBLE * len(flexible))
    wanted = sum(need[i] for i in flexible)
    out = [max(MIN_FLEXIBLE, room * n / wanted) if i in flexible else n for i, n in enumerate(need)]
    return [w * width / sum(out) for w in out]  # the same proportions, exactly ``width``


def draw_table(pdf: FPDF, table: pd.DataFrame, currency: str) -> None:
    """``table`` (its last row may be the Total, in bold under a rule) with headers that wrap, repeated on a new page."""
    headings = [_label(c, currency) for c in table.columns]
    rows = [[_cell_text(c, v) for c, v in zip(table.columns, row, strict=True)] for row in table.itertuples(index=False)]
    width = pdf.w - pdf.l_margin - pdf.r_margin
    widths = column_widths(pdf, headings, rows, width)
    aligns = tuple(_align(c) for c in table.columns)
    bold = FontFace(emphasis="BOLD")
    pdf.set_font(FONT, "", SIZE)
    with pdf.table(
        col_widths=widths,
        width=width,
        align="LEFT",
        text_align=aligns,
        line_height=LINE_HEIGHT,
        padding=(0.8, PADDING),
        borders_layout="SINGLE_TOP_LINE",
        headings_style=FontFace(emphasis="BOLD", fill_color=(236, 236, 236)),
        repeat_headings=1,
    ) as out:
        head = out.row()
        for heading in headings:
            head.cell(heading)
        for texts, values in zip(rows, table.itertuples(index=False), strict=True):
            total = values[0] == TOTAL
            row = out.row()
            for text in texts:
                row.cell(
                    text, style=bold if total else None, border=CellBordersLayout.TOP if total else CellBordersLayout.INHERIT
                )
    pdf.ln(2)


def _title(pdf: FPDF, text: str, size: float = 13) -> None:
    pdf.set_font(FONT, "B", size)
    pdf.multi_cell(0, size * 0.55, _latin(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


def _consumer_page(pdf: StatementPDF, title: str, rows: pd.DataFrame, header: Header) -> None:
    s = header.statement
    pdf.add_page()
    pdf.start_section(_latin(title.split(" - ")[0]))
    _title(pdf, title)
    amount, billed = sum(rows["amount"]), sum(rows["billed_amount"])
    launches = int(sum(int(n or 0) for n in rows["launches"]))
    pdf.set_font(FONT, "B", 10)
    pdf.cell(0, 6, _latin(f"Total: {_money(amount)} {s.currency}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 8.5)
    status = "closed: as sent, never recomputed" if s.closed else "open: computed now from the warehouse, may still change"
    facts = f"Billed {_money(billed)} {s.currency} - {launches:,} launch{'' if launches == 1 else 'es'} - {s.label}, {status}"
    pdf.cell(0, 5, _latin(facts), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    table = line_table(rows)[LINE_COLUMNS]
    table.iloc[-1, 0] = TOTAL
    draw_table(pdf, table, s.currency)


def statement_pdf(lines: pd.DataFrame, header: Header, consumers: Iterable[str] | None = None) -> bytes:
    """Page 1: what the statement is and the summary by consumer; then a page (or more) per consumer, then
    the lines for nobody (unallocated, rounding). ``consumers`` picks the consumer pages (default: all)."""
    s = header.statement
    pdf = StatementPDF(footer_text(header))
    pdf.set_title(f"Chargeback statement {s.label}")
    pdf.set_creator("Launch Ledger")
    pdf.add_page()
    pdf.start_section("Summary")
    _title(pdf, f"Chargeback statement - {s.label} ({s.currency})", 15)
    pdf.set_font(FONT, "", 8.5)
    for key, value in header.items():
        pdf.multi_cell(0, 4.3, _latin(f"{key}: {value}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    _title(pdf, "Summary by consumer", 11)
    draw_table(pdf, summary(lines), s.currency)
    wanted = sorted({c for c in lines["consumer"] if c is not None}) if consumers is None else list(consumers)
    for consumer in wanted:
        _consumer_page(pdf, f"{consumer} - statement {s.label}", lines[[c == consumer for c in lines["consumer"]]], header)
    nobody = lines[[c is None for c in lines["consumer"]]]
    if len(nobody):
        _consumer_page(pdf, f"{UNALLOCATED}, rounding and other lines - {s.label}", nobody, header)
    return bytes(pdf.output())
