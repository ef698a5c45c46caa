"""``python -m ingest statements YYYY-MM --out DIR``: a file per consumer and format, the unallocated lines, the summary.

Every figure expected here is read back from the files themselves (csv, openpyxl, pypdf) and compared,
with Decimal, to sums of the statement's lines: the consumer files and the unallocated one add up to the
summary's total, which is the statement's total, to the cent.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import openpyxl
import pypdf

from chargeback.closing import close_month, statement_for
from chargeback.rules import load_rules
from core.settings import Settings
from ingest.__main__ import main
from tests.chargeback.test_closing import FEB, JAN, TODAY, restate
from warehouse.store import connect


def csv_total(path: Path) -> tuple[Decimal, list[dict]]:
    """The Total row's Amount, checked against the sum of the lines above it."""
    *lines, total = csv.DictReader(io.StringIO(path.read_text()))
    assert total["Consumer"] == "Total"
    assert sum(Decimal(r["Amount"]) for r in lines) == Decimal(total["Amount"])
    return Decimal(total["Amount"]), lines


def xlsx_total(path: Path) -> tuple[Decimal, dict]:
    book = openpyxl.load_workbook(path)
    header, *rows = book["Summary"].iter_rows(values_only=True)
    total = Decimal(str(rows[-1][header.index("Total")]))
    assert rows[-1][0] == "Total" and sum(Decimal(str(r[header.index("Total")])) for r in rows[:-1]) == total
    return total, dict(book["About"].iter_rows(values_only=True, max_col=2))


def pdf_pages(path: Path) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(path).pages]


def pdf_totals(path: Path) -> dict[str, Decimal]:
    """``Total: 1,234.56 USD`` of each consumer (or Unallocated) page, by its title."""
    out = {}
    for page in pdf_pages(path):
        found = re.match(
            r"(.+?)(?:, rounding and other lines)? - (?:statement )?\d{4}-\d{2}\n.*?Total: (-?[\d,]+\.\d\d) USD", page, re.S
        )
        if found:
            out[found.group(1)] = Decimal(found.group(2).replace(",", ""))
    return out


def expected(lines) -> dict:
    out: dict = defaultdict(Decimal)
    for line in lines.to_dict("records"):
        out[line["consumer"]] += line["amount"]
    return dict(out)


def written(out: Path, month: str, fmt: str) -> dict[str, Path]:
    prefix = f"chargeback_{month}_"
    return {p.name[len(prefix) : -len(fmt) - 1]: p for p in out.glob(f"{prefix}*.{fmt}")}


def check_files(out: Path, month: str, s, status_word: str) -> None:
    want = expected(s.lines)
    consumers = sorted(c for c in want if c is not None)
    for fmt in ("csv", "xlsx", "pdf"):
        files = written(out, month, fmt)
        assert sorted(files) == sorted([*consumers, "summary", "unallocated"]), fmt
    totals = {}
    for stem, path in written(out, month, "csv").items():
        total, lines = csv_total(path)
        totals[stem] = total
        assert {r["Status"].split(":")[0].split(" ")[0] for r in lines} == {status_word}
        if stem in consumers:
            assert {r["Consumer"] for r in lines} == {stem}  # only its own lines
    parts = sum(v for k, v in totals.items() if k != "summary")
    assert parts == totals["summary"] == s.total
    assert {c: totals[c] for c in consumers} == {c: want[c] for c in consumers} and totals["unallocated"] == want[None]
    for stem, path in written(out, month, "xlsx").items():
        total, about = xlsx_total(path)
        assert total == totals[stem]
        assert any(status_word in str(v) for k, v in about.items() if k in ("Status", "Note"))
    for stem, path in written(out, month, "pdf").items():
        pages = pdf_pages(path)
        assert all(f"page {n} of {len(pages)}" in p and month in p for n, p in enumerate(pages, start=1))
        assert all(("OPEN" in p) == (status_word == "open") for p in pages)
        found = pdf_totals(path)
        if stem == "summary":
            assert sum(found.values()) == s.total and {k: found[k] for k in consumers} == {c: want[c] for c in consumers}
        else:
            assert list(found.values()) == [totals[stem]]


def test_an_open_month_writes_every_consumer_and_says_it_was_computed_now(fresh_data_dir, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["statements", "2025-02", "--out", str(out), "--data-dir", str(fresh_data_dir)]) == 0
    printed = capsys.readouterr().out
    s = statement_for(connect(fresh_data_dir), FEB, load_rules())
    assert not s.closed and f"statement total {s.total:,} USD" in printed
    check_files(out, "2025-02", s, "open")
    assert "computed" in written(out, "2025-02", "csv")["summary"].read_text().splitlines()[1]


def test_a_closed_month_comes_from_its_snapshot_not_from_the_restated_bill(fresh_data_dir, tmp_path, capsys):
    rules = load_rules()
    frozen, _ = close_month(Settings(data_dir=fresh_data_dir), JAN, rules, today=TODAY, closed_by="test")
    restate(fresh_data_dir, JAN, "rare-disease", "Amazon FSx", "10")  # the bill moves; the closed statement must not
    out = tmp_path / "out"
    assert main(["statements", "2025-01", "--out", str(out), "--format", "csv,xlsx,pdf", "--data-dir", str(fresh_data_dir)]) == 0
    s = statement_for(connect(fresh_data_dir), JAN, rules)
    assert s.closed and s.total == frozen.total == Decimal("475.10")
    check_files(out, "2025-01", s, "closed")


def test_formats_can_be_picked_and_a_wrong_one_is_one_line(fresh_data_dir, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["statements", "2025-02", "--out", str(out), "--format", "pdf", "--data-dir", str(fresh_data_dir)]) == 0
    assert {p.suffix for p in out.iterdir()} == {".pdf"}
    capsys.readouterr()
    assert main(["statements", "2025-02", "--out", str(out), "--format", "pdf,docx", "--data-dir", str(fresh_data_dir)]) == 1
    assert capsys.readouterr().err.strip() == "error: --format takes pdf, xlsx, csv (comma-separated), not docx"


def test_a_month_with_nothing_to_charge_is_an_error(fresh_data_dir, tmp_path, capsys):
    assert main(["statements", "2031-01", "--out", str(tmp_path / "out"), "--data-dir", str(fresh_data_dir)]) == 1
    assert "nothing to send for 2031-01" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
