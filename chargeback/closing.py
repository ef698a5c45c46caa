"""Closed months: frozen statements, and restatements charged as adjustments in the first open month.

Closing a month (``python -m ingest close-month 2026-10``, or the button on the Chargeback page)
writes its statement, line by line, to ``closed_statements``: an append-only table (a month is one
partition, written once; closing it again is an error). A closed statement is always shown from
that snapshot, never recomputed, so a later restatement by Cost Explorer (or a corrected CUR) can
never change what finance sent out.

The difference still has to be charged, once: the statement of the **first open month** (the month
after the last closed one) carries an ``adjustment`` line per consumer and restated month, equal to

    today's recomputation of the closed month  -  its frozen statement  -  adjustments already charged for it

(the last term counts the adjustment lines of later months that were closed since). The lines say what
changed: the bill then and now, and the statement lines that moved. Months close in order: after the
first, only the month after the last closed one can be closed, and never a month that has not ended.
"""

from __future__ import annotations

import getpass
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa

from chargeback.rules import Rules
from chargeback.statement import LINE_COLUMNS, Statement, allocate, lines_frame
from core.errors import ChargebackError
from core.months import month_label, next_month
from queries import billing

ALL_TIME = date(2999, 12, 1)  # "every closed month" for closed_statements(con, through)
ADJUSTMENT_RULE = "the closed statement stays as sent; the difference to today's recomputation is charged here"


def _closed_lines(con, through: date) -> pd.DataFrame:
    frame = billing.closed_statements(con, through)
    return frame.astype(object).where(frame.notna(), None)


def closed_months(closed: pd.DataFrame) -> list[date]:
    return sorted({_as_date(m) for m in closed["statement_month"]})


def _as_date(value) -> date:
    return value.date() if isinstance(value, datetime | pd.Timestamp) else value


def first_open_month(closed: pd.DataFrame) -> date | None:
    """The month after the last closed one (where restatements are charged); None before the first close."""
    months = closed_months(closed)
    return next_month(months[-1]) if months else None


def compute(con, month: date, rules: Rules) -> Statement:
    """The month's statement as the bill and launches are today (no adjustments)."""
    month = month.replace(day=1)
    runs = billing.statement_runs(con, month) if rules.runs else None
    return allocate(month, billing.bill_lines(con, month), billing.statement_launches(con, month), rules, runs)


def frozen_statement(closed: pd.DataFrame, month: date) -> Statement:
    """A closed month's statement, exactly as it was closed."""
    rows = closed[[_as_date(m) == month for m in closed["statement_month"]]]
    if rows.empty:
        raise ChargebackError(f"{month_label(month)} is not closed")
    first = rows.iloc[0]
    lines = []
    for row in rows.to_dict("records"):
        line = {c: row.get(c) for c in LINE_COLUMNS}
        line["amount"] = Decimal(row["amount"]).quantize(Decimal("0.01"))
        line["billed_amount"] = Decimal(row["billed_amount"]).quantize(Decimal("0.01"))
        line["launches"] = None if row["launches"] is None else int(row["launches"])
        line["adjusts_month"] = _as_date(row["adjusts_month"]) if row["adjusts_month"] is not None else None
        line["note"] = None
        lines.append(line)
    frame = lines_frame(lines)
    body = frame[frame["line_kind"] != "adjustment"]
    return Statement(
        month=month,
        currency=first["currency"] or "USD",
        lines=frame,
        bill_total=Decimal(first["bill_total"]).quantize(Decimal("0.01")),
        billed_total=sum(body["billed_amount"], Decimal("0.00")),
        bill_exact=Decimal(first["bill_total"]),
        bill_source=first["bill_source"],
        bill_tag_key=None,
        rules_fingerprint=first["rules_fingerprint"],
        status="closed",
        closed_at=first["closed_at"],
        closed_by_run_id=first["closed_by_run_id"],
    )


def _totals(lines: pd.DataFrame) -> dict[tuple, tuple[Decimal, Decimal]]:
    out: dict[tuple, list[Decimal]] = defaultdict(lambda: [Decimal("0.00"), Decimal("0.00")])
    for row in lines.to_dict("records"):
        key = (row["consumer"],)
        out[key][0] += row["amount"]
        out[key][1] += row["billed_amount"]
    return {k: (v[0], v[1]) for k, v in out.items()}


def _by_line(lines: pd.DataFrame, consumer) -> dict[str, Decimal]:
    out: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for row in lines.to_dict("records"):
        if row["consumer"] == consumer:
            out[row["line"]] += row["amount"]
    return out


def adjustment_lines(closed: pd.DataFrame, recomputed: dict[date, Statement], rules: Rules) -> list[dict]:
    """One line per restated closed month and consumer (None: unallocated) whose amount changed."""
    out: list[dict] = []
    for month in closed_months(closed):
        frozen = frozen_statement(closed, month)
        now = recomputed[month]
        frozen_body = frozen.lines[frozen.lines["line_kind"] != "adjustment"]
        charged = closed[
            [
                k == "adjustment" and a is not None and _as_date(a) == month
                for k, a in zip(closed["line_kind"], closed["adjusts_month"], strict=True)
            ]
        ]
        charged = charged.assign(
            amount=[Decimal(v) for v in charged["amount"]], billed_amount=[Decimal(v) for v in charged["billed_amount"]]
        )
        before, after, already = _totals(frozen_body), _totals(now.lines), _totals(charged)
        zero = (Decimal("0.00"), Decimal("0.00"))
        for key in sorted(set(before) | set(after) | set(already), key=lambda k: (k[0] is None, k[0] or "")):
            amount = after.get(key, zero)[0] - before.get(key, zero)[0] - already.get(key, zero)[0]
            billed = after.get(key, zero)[1] - before.get(key, zero)[1] - already.get(key, zero)[1]
            if not amount and not billed:
                continue
            out.append(
                {
                    "consumer": key[0],
                    "line_kind": "adjustment",
                    "line": f"Restatement of {month_label(month)}",
                    "workflow_type": None,
                    "compute_platform": None,
                    "rule": ADJUSTMENT_RULE,
                    "adjusts_month": month,
                    "amount": amount.quantize(Decimal("0.01")),
                    "billed_amount": billed.quantize(Decimal("0.01")),
                    "launches": None,
                    "note": _what_changed(frozen, now, frozen_body, key[0], rules),
                }
            )
    return out


def _what_changed(frozen: Statement, now: Statement, frozen_body: pd.DataFrame, consumer, rules: Rules) -> str:
    currency = now.currency
    parts = [
        f"bill {frozen.label}: {frozen.bill_total:,} {currency} at close ({frozen.bill_source}), "
        f"{now.bill_total:,} {currency} now ({now.bill_source or 'no bill'})"
    ]
    before, after = _by_line(frozen_body, consumer), _by_line(now.lines, consumer)
    moved = sorted(
        ((line, after.get(line, Decimal(0)) - before.get(line, Decimal(0))) for line in set(before) | set(after)),
        key=lambda item: (-abs(item[1]), item[0]),
    )
    parts += [f"{line} {diff:+,}" for line, diff in moved[:4] if diff]
    if frozen.rules_fingerprint != rules.fingerprint:
        parts.append("the allocation rules changed since the month was closed")
    return "; ".join(parts)


def statement_for(con, month: date, rules: Rules) -> Statement:
    """The statement a person sees for ``month``: frozen if closed, else computed, with adjustments in the first open month."""
    month = month.replace(day=1)
    closed = _closed_lines(con, ALL_TIME)
    months = closed_months(closed)
    if month in months:
        frozen = frozen_statement(closed, month)
        today = compute(con, month, rules)
        opened = first_open_month(closed)
        notes = []
        if today.bill_total != frozen.bill_total or _totals(today.lines) != _totals(
            frozen.lines[frozen.lines["line_kind"] != "adjustment"]
        ):
            notes.append(
                f"{frozen.label} has been restated since it was closed (bill now {today.bill_total:,} {today.currency}): "
                f"the closed statement stays as sent; the differences are charged in {month_label(opened)}, the first open month"
            )
        return replace(frozen, restated=today.bill_total - frozen.bill_total, notes=tuple(notes))
    statement = compute(con, month, rules)
    opened = first_open_month(closed)
    notes = list(statement.notes)
    if opened is not None and month == opened:
        recomputed = {m: compute(con, m, rules) for m in months}
        adjustments = adjustment_lines(closed, recomputed, rules)
        if adjustments:
            lines = lines_frame([*statement.lines.to_dict("records"), *adjustments])
            restated = sum((a["amount"] for a in adjustments), Decimal("0.00"))
            notes.append(
                f"restatements of closed months since they were closed: {restated:+,} "
                f"{statement.currency}, charged here as adjustment lines"
            )
            statement = replace(statement, lines=lines, charges=_with_adjustment_charges(statement.charges, adjustments))
    elif opened is not None and month < opened:
        notes.append(f"{statement.label} was never closed and comes before the last closed month: it can no longer be closed")
    elif opened is not None:
        notes.append(f"restatements of closed months are charged in {month_label(opened)}, the first open month")
    return replace(statement, notes=tuple(notes))


def _with_adjustment_charges(charges: pd.DataFrame, adjustments: list[dict]) -> pd.DataFrame:
    rows = [
        {
            "consumer": a["consumer"],
            "line_kind": "adjustment",
            "line": a["line"],
            "rule": a["rule"],
            "provider": None,
            "service": None,
            "account_id": None,
            "resource_id": None,
            "charge_category": "Adjustment",
            "effective_cost": a["amount"],
            "billed_cost": a["billed_amount"],
            "list_cost": None,
        }
        for a in adjustments
    ]
    return pd.concat([charges, pd.DataFrame(rows, columns=charges.columns, dtype=object)], ignore_index=True)


def check_closable(closed: pd.DataFrame, month: date, today: date) -> None:
    """Raise (one line) unless ``month`` can be closed now."""
    months = closed_months(closed)
    label = month_label(month)
    if month in months:
        row = closed[[_as_date(m) == month for m in closed["statement_month"]]].iloc[0]
        raise ChargebackError(
            f"{label} is already closed (at {row['closed_at']:%Y-%m-%d %H:%M} UTC, run {row['closed_by_run_id']}): "
            "a closed statement never changes; restatements are charged as adjustments in the first open month"
        )
    if next_month(month) > today:
        raise ChargebackError(
            f"{label} has not ended yet (today is {today.isoformat()} UTC): close it from {next_month(month).isoformat()} on"
        )
    if months and month != next_month(months[-1]):
        wanted = month_label(next_month(months[-1]))
        if month < months[-1]:
            raise ChargebackError(
                f"{label} comes before {month_label(months[-1])}, which is closed: months close in order, next is {wanted}"
            )
        raise ChargebackError(f"{label} cannot be closed before {wanted}: months close in order; close {wanted} first")


def close_month(settings, month: date, rules: Rules, today: date | None = None, closed_by: str | None = None):
    """Freeze ``month``'s statement in ``closed_statements`` as one recorded run (command close-month).

    The statement is computed from the warehouse as it is under the write lock, with the adjustments
    for restated closed months, checked to add up to the bill, and appended; the run is recorded in
    ``job_runs``. Returns (the frozen statement, the run).
    """
    from warehouse.runs import job_run, print_summary

    month = month.replace(day=1)
    today = today or datetime.now(UTC).date()
    who = closed_by or getpass.getuser()
    with job_run(Path(settings.data_dir), "close-month", f"statement {month_label(month)} by {who}", settings=settings) as run:
        con = run.writer.con
        closed = _closed_lines(con, ALL_TIME)
        check_closable(closed, month, today)
        statement = statement_for(con, month, rules)
        if statement.bill_source is None and not any(statement.lines["launches"].fillna(0)):
            raise ChargebackError(
                f"there is no bill for {month_label(month)}: load Cost Explorer, a FOCUS or a CUR export before closing it"
            )
        statement.check()
        closed_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        rows = [
            {
                **{c: line[c] for c in LINE_COLUMNS if c != "note"},
                "statement_month": month,
                "currency": statement.currency,
                "bill_source": statement.bill_source,
                "bill_total": statement.bill_total,
                "rules_fingerprint": rules.fingerprint,
                "closed_at": closed_at,
                "closed_by_run_id": run.writer.run_id,
            }
            for line in statement.lines.to_dict("records")
        ]
        for row in rows:
            row["amount"], row["billed_amount"], row["bill_total"] = (
                str(row["amount"]),
                str(row["billed_amount"]),
                str(row["bill_total"]),
            )
            row["launches"] = None if row["launches"] is None else int(row["launches"])
        table = pa.Table.from_pylist(rows)
        run.writer.con.register("closing_lines", table)
        try:
            run.writer.write_partitions("closed_statements", "SELECT * FROM closing_lines")
        finally:
            run.writer.con.unregister("closing_lines")
        run.stats.records_read = len(rows)
        run.stats.records_loaded = len(rows)
        run.stats.notes.append(
            f"{month_label(month)} closed: {len(rows)} statement lines, bill {statement.bill_total:,} {statement.currency} "
            f"({statement.bill_source or 'no bill'}), statement total {statement.total:,} {statement.currency}, "
            f"rules {rules.fingerprint[:12]}"
        )
        run.stats.notes += list(statement.notes)
    print_summary(run)
    return replace(statement, status="closed", closed_at=closed_at, closed_by_run_id=run.writer.run_id), run
