"""The statement PDF as finance forwards it, read back with pypdf: a page per consumer carrying its name and its
total, "page N of M", the month and the rules' fingerprint on every page, and no two texts of a line overlapping."""

import io
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import pypdf
from fpdf import FPDF

from chargeback import exports
from chargeback.rules import parse_rules
from chargeback.statement import allocate
from tests.chargeback.conftest import bill, charge, launch_group, launches
from tests.chargeback.test_allocate import MONTH, RULES
from tests.chargeback.test_exports import statement


def pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def overlaps(data: bytes) -> list[tuple]:
    """Texts drawn on the same baseline of a page whose extents (Helvetica metrics, in points) overlap."""
    metrics = FPDF(unit="pt")
    found = []
    for number, page in enumerate(pypdf.PdfReader(io.BytesIO(data)).pages, start=1):
        lines: dict[float, list] = {}

        def visit(text, cm, tm, font, size, lines=lines):
            if not text.strip():
                return
            metrics.set_font("Helvetica", "B" if font and "Bold" in str(font.get("/BaseFont")) else "", size)
            x = tm[4] * cm[0] + cm[4]
            start = x + metrics.get_string_width(text[: len(text) - len(text.lstrip())])
            lines.setdefault(round(tm[5] * cm[3] + cm[5], 1), []).append(
                (start, x + metrics.get_string_width(text.rstrip()), text)
            )

        page.extract_text(visitor_text=visit)
        for y, texts in lines.items():
            texts.sort()
            found += [(number, y, a[2], b[2]) for a, b in zip(texts, texts[1:], strict=False) if a[1] > b[0] + 0.1]
    return found


def money(value: Decimal) -> str:
    return f"{value:,.2f}"


def test_each_consumer_has_its_own_page_with_its_name_and_total_and_every_page_is_numbered():
    s, rules = statement()
    text = pages(exports.to_pdf(s.lines, exports.Header(s, rules)))
    count = len(text)
    for number, page in enumerate(text, start=1):
        assert f"page {number} of {count}" in page
        assert "2026-10" in page and f"rules fingerprint {rules.fingerprint[:12]}" in page
        assert "OPEN: computed now, may still change" in page
    for consumer in ("a", "b", "c"):
        want = sum(s.lines.loc[[c == consumer for c in s.lines["consumer"]], "amount"])  # from the lines, with Decimal
        mine = [p for p in text if p.startswith(f"{consumer} - statement 2026-10")]
        assert len(mine) == 1, consumer
        assert f"Total: {money(want)} USD" in mine[0]
        assert not any(f"{other} - statement" in mine[0] for other in {"a", "b", "c"} - {consumer})
    nobody = sum(s.lines.loc[[c is None for c in s.lines["consumer"]], "amount"])
    assert any(p.startswith("Unallocated, rounding and other lines") and f"Total: {money(nobody)} USD" in p for p in text)
    # page 1: the summary, whose Total is the statement's
    assert "Summary by consumer" in text[0] and money(s.total) in text[0].split("Total")[-1]
    assert count == 1 + 3 + 1


def test_no_two_texts_overlap_even_with_long_names_and_large_amounts():
    rows = [
        charge("oncology-research-whole-genome-sequencing-core", "Amazon EC2", "1234567.89", tag_key="team"),
        charge("b", "Amazon EC2", "987654.32", tag_key="team"),
        charge(None, "Amazon FSx", "45678.90", tag_key="team"),
        charge(None, "Amazon Elastic Compute Cloud", "7.00", tag_key="team"),
    ]
    runs = [
        launch_group(
            "oncology-research-whole-genome-sequencing-core", "nextflow-sarek-somatic-tumour-normal", "Batch", "9", 1234
        ),
        launch_group("b", "snakemake-variant-calling", "ParallelCluster", "5", 56789, filesystem="5"),
    ]
    rules = parse_rules(RULES)
    s = allocate(MONTH, bill(rows), launches(runs), rules)
    data = exports.to_pdf(s.lines, exports.Header(s, rules))
    assert overlaps(data) == []
    text = "\n".join(pages(data))
    assert "1,234,567.89" in text and "Cost per" in text and "launch (USD)" in text  # headers wrap rather than overlap


def test_the_worked_month_has_no_overlapping_headers():
    s, rules = statement()
    assert overlaps(exports.to_pdf(s.lines, exports.Header(s, rules))) == []


def test_a_closed_statement_says_so_on_every_page():
    s, rules = statement()
    closed = replace(s, status="closed", closed_at=datetime(2026, 11, 2, 9, 30), closed_by_run_id="run-1")
    text = pages(exports.to_pdf(closed.lines, exports.Header(closed, rules)))
    assert all("closed 2026-11-02" in p and "OPEN" not in p for p in text)
