"""Every consumer's statement of a month as files (``python -m ingest statements 2026-10 --out DIR``).

One file per consumer and format (PDF, XLSX, CSV) holding only that consumer's lines
(``Statement.visible_to``), one for the lines charged to nobody (unallocated spend, rounding), and the
summary: the whole statement. The consumer files and the nobody file add up to the summary's total,
which is the statement's total, to the cent. A closed month comes from its frozen snapshot
(``closed_statements``), never recomputed; an open month is computed now, and every file says so (the
PDF on every page, the XLSX in its About sheet, the CSV in a Status column).
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd

from chargeback import exports
from chargeback.closing import statement_for
from chargeback.rules import Rules
from chargeback.statement import UNALLOCATED, Statement
from core.errors import ChargebackError
from core.months import month_label

FORMATS = ("pdf", "xlsx", "csv")
SUMMARY, NOBODY = "summary", "unallocated"


@dataclass(frozen=True)
class StatementFile:
    path: Path
    kind: str  # summary, consumer or unallocated
    consumer: str | None  # the consumer (kind consumer), else None
    format: str  # pdf, xlsx or csv
    total: Decimal  # what the file's Total says: the sum of its lines


@dataclass(frozen=True)
class StatementFiles:
    month: date
    status: str  # open or closed
    total: Decimal  # the statement's total
    currency: str
    files: tuple[StatementFile, ...]

    def text(self) -> str:
        """What the command prints: one line per file, then how they add up."""
        label = month_label(self.month)
        head = f"statements {label} ({self.status}): {len(self.files)} files, statement total {self.total:,} {self.currency}"
        width = max(len(str(f.path)) for f in self.files)
        rows = [f"  {str(f.path):<{width}}  {f.consumer or f.kind:<24} {f.total:>14,}" for f in self.files]
        parts = sum(f.total for f in self.files if f.kind != SUMMARY and f.format == self.files[0].format)
        foot = f"consumer files + unallocated = {parts:,} = summary = statement total {self.total:,} {self.currency}"
        return "\n".join([head, *rows, foot])


def parse_formats(text: str | None) -> tuple[str, ...]:
    """``pdf,xlsx,csv`` (any of them, any order; default all three) as a tuple; an unknown one is an error."""
    wanted = tuple(dict.fromkeys(f.strip().lower() for f in (text or ",".join(FORMATS)).split(",") if f.strip()))
    wrong = [f for f in wanted if f not in FORMATS]
    if wrong or not wanted:
        raise ChargebackError(f"--format takes {', '.join(FORMATS)} (comma-separated), not {','.join(wrong) or repr(text)}")
    return wanted


def slug(name: str) -> str:
    """A file-name-safe form of a consumer's name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "consumer"


def _names(consumers: list[str]) -> dict[str | None, str]:
    """The file stem of the summary (key ''), the nobody file (None) and each consumer: distinct, even ignoring case."""
    taken: set[str] = set()
    out: dict[str | None, str] = {}
    for key, base in [("", SUMMARY), (None, NOBODY), *((c, slug(c)) for c in consumers)]:
        name, n = base, 2
        while name.lower() in taken:
            name, n = f"{base}-{n}", n + 1
        taken.add(name.lower())
        out[key] = name
    return out


def status_text(statement: Statement, now: datetime) -> str:
    if statement.closed:
        return (
            f"closed {statement.closed_at:%Y-%m-%d %H:%M} UTC (run {statement.closed_by_run_id}): "
            "from its frozen snapshot in closed_statements, as sent"
        )
    return f"open: computed {now:%Y-%m-%d %H:%M} UTC from the warehouse as it is now; it may still change until it is closed"


def _csv(lines: pd.DataFrame, statement: Statement, status: str) -> bytes:
    """``exports.to_csv`` with a Status column: whether the month is closed, or open and computed when."""
    rows = list(csv.reader(io.StringIO(exports.to_csv(lines, statement).decode("utf-8"))))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*rows[0], "Status"])
    writer.writerows([*row, status] for row in rows[1:])
    return out.getvalue().encode("utf-8")


def _render(fmt: str, lines: pd.DataFrame, header: exports.Header, status: str) -> bytes:
    if fmt == "pdf":
        return exports.to_pdf(lines, header)
    if fmt == "xlsx":
        return exports.to_xlsx(lines, header)
    return _csv(lines, header.statement, status)


def _write(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.partial")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _parts(statement: Statement, rules: Rules) -> list[tuple[str, str | None, pd.DataFrame, exports.Header]]:
    """(kind, consumer, lines, header) of the summary, each consumer, and the lines for nobody."""
    parts = [(SUMMARY, None, statement.lines, exports.Header(statement, rules))]
    for consumer in statement.consumers:
        mine = statement.visible_to([consumer])
        parts.append(("consumer", consumer, mine.lines, exports.Header(mine, rules, f"consumer {consumer}: its lines only")))
    nobody = statement.lines[[c is None for c in statement.lines["consumer"]]]
    if len(nobody):
        header = exports.Header(statement, rules, f"the lines charged to nobody only ({UNALLOCATED}, rounding)")
        parts.append((NOBODY, None, nobody, header))
    return parts


def write_statements(
    con, month: date, rules: Rules, out_dir: Path, formats: tuple[str, ...] = FORMATS, now: datetime | None = None
) -> StatementFiles:
    """Write ``month``'s statements into ``out_dir`` (created; files of the same name replaced) and say what was written.

    Files are ``chargeback_YYYY-MM_<stem>.<format>``: stem ``summary``, ``unallocated`` or the consumer's
    name made file-safe. Raises when the month has nothing to charge (no bill and no launches).
    """
    month = month.replace(day=1)
    now = now or datetime.now(UTC)
    statement = statement_for(con, month, rules)
    if statement.bill_source is None and not statement.closed and not any(statement.lines["launches"].fillna(0)):
        raise ChargebackError(
            f"there is nothing to send for {month_label(month)}: no bill and no launches; load the month's bill first"
        )
    status = status_text(statement, now)
    statement = replace(statement, notes=(*statement.notes, status))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = _names(statement.consumers)
    files = []
    for kind, consumer, lines, header in _parts(statement, rules):
        stem = names["" if kind == SUMMARY else consumer]
        total = sum(lines["amount"], Decimal("0.00"))
        for fmt in formats:
            path = out_dir / f"chargeback_{month_label(month)}_{stem}.{fmt}"
            _write(path, _render(fmt, lines, header, status))
            files.append(StatementFile(path, kind, consumer, fmt, total))
    return StatementFiles(month, statement.status, statement.total, statement.currency, tuple(files))
