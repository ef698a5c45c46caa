"""Budgets against the warehouse: the budgets file read and written, the figures computed, the check printed.

``budget_report`` reads the two named queries (``budget_launch_spend``, ``budget_bill_spend``) for a reader and
hands them to ``estimates.budgets.forecast.evaluate``; the Budgets page (through ``dashboard.data``) and
``python -m ingest budgets`` both call it. ``save_budgets`` writes the file atomically (a temporary file in
the same folder, flushed, renamed over the old one), so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

import queries
from core.access import EVERYONE, Reader
from core.months import add_months, month_end, month_start
from core.settings import BudgetsSettings, Settings
from estimates.budgets import Budget, BudgetError, parse_budgets, render_budgets, visible_to
from estimates.budgets.forecast import Sources, evaluate
from queries import Filters

HISTORY_MONTHS = 36  # of spend read before the as-of month: the forecast's 12-month trend window and its replay


def read_budgets(path: os.PathLike | str) -> tuple[str, tuple[Budget, ...]]:
    """(the file's text, its budgets); no file is no budgets; a BudgetError says what is wrong."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        return "", ()
    except OSError as exc:
        raise BudgetError(f"cannot read the budgets file {path}: {exc.strerror or exc}; check [budgets] file") from None
    return text, parse_budgets(text, str(path))


def save_budgets(path: os.PathLike | str, budgets: tuple[Budget, ...]) -> str:
    """Write the budgets file atomically; returns the text written (read back to check it parses the same)."""
    text = render_budgets(budgets)
    if parse_budgets(text, str(path)) != tuple(budgets):
        raise BudgetError(f"the budgets would not read back the same from {path}; nothing was written")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return text


@dataclass(frozen=True)
class Report:
    """The budgets a reader may see at the as-of day, with their figures (``estimates.budgets.forecast.COLUMNS``)."""

    as_of: date
    rows: pd.DataFrame
    budgets: tuple[Budget, ...] = ()
    hidden: int = 0  # budgets the reader may not see (tag budgets, other consumers')
    inactive: tuple[str, ...] = field(default=())  # visible budgets with no period at the as-of day

    @property
    def at_risk(self) -> pd.DataFrame:
        return self.rows[self.rows["status"].isin(("over", "at risk")) | self.rows["forecast_to_overrun"].astype(bool)]

    @property
    def overrun(self) -> bool:
        return bool(self.rows["forecast_to_overrun"].astype(bool).any())


def default_as_of(con, reader: Reader = EVERYONE) -> date:
    """The last day the warehouse holds launches for (what the data is as of); today when it holds none."""
    options = queries.filter_options(con, reader)
    return options.last_day if options.last_day is not None else date.today()


def budget_report(
    con,
    budgets_text: str,
    budgets_path: str = "the budgets file",
    as_of: date | None = None,
    at_risk_chance: float = 0.2,
    alert_chance: float = 0.5,
    reader: Reader = EVERYONE,
) -> Report:
    """The budgets of ``budgets_text`` that ``reader`` may see, evaluated at ``as_of`` (default: ``default_as_of``)."""
    every = parse_budgets(budgets_text, budgets_path)
    budgets = visible_to(every, reader)
    as_of = as_of or default_as_of(con, reader)
    active = tuple(b for b in budgets if b.period_of(as_of) is not None)
    inactive = tuple(b.name for b in budgets if b.period_of(as_of) is None)
    settings = BudgetsSettings(at_risk_chance=at_risk_chance, alert_chance=alert_chance)
    if not active:
        return Report(
            as_of, evaluate((), Sources(pd.DataFrame(), pd.DataFrame(), as_of)), budgets, len(every) - len(budgets), inactive
        )
    history = Filters(add_months(month_start(as_of), -HISTORY_MONTHS), as_of, reader=reader)
    launches = queries.budgets.budget_launch_spend(con, history)
    bill = queries.budgets.budget_bill_spend(con, history) if any(b.consumer is None for b in active) else None
    if bill is None:
        bill = pd.DataFrame(columns=["usage_month", "tag_key", "consumer", "tags", "currency", "spend", "first_day", "last_day"])
    rows = evaluate(active, Sources(launches, bill, as_of), settings)
    return Report(as_of, rows, budgets, len(every) - len(budgets), inactive)


def _money(value) -> str | None:
    return None if value is None or pd.isna(value) else f"{value:.2f}"


def _chance(value) -> str:
    return "—" if value is None or pd.isna(value) else f"{value * 100:.0f}%"


def check_line(row) -> str:
    """One budget on one line: name, period, spent, forecast with interval, budget, chance, currency, status."""
    cur = row["currency"]
    if row["forecast"] is None or pd.isna(row["forecast"]):
        forecast = f"no forecast ({row['note']})" if row["note"] else "no forecast"
    elif row["low"] is None or pd.isna(row["low"]):
        forecast = f"forecast {cur} {_money(row['forecast'])} (no interval: {row['note']})"
    else:
        forecast = f"forecast {cur} {_money(row['forecast'])} (80%: {_money(row['low'])} – {_money(row['high'])})"
    return (
        f"{row['status'].upper():<11} {row['budget']} · {row['covers']} · {row['period']} · spent {cur} {_money(row['spent'])} "
        f"· {forecast} · budget {cur} {_money(row['amount'])} · chance of overrun {_chance(row['chance_of_overrun'])}"
    )


def check_text(report: Report, only_at_risk: bool) -> str:
    """The report as lines: a header with the as-of day, then one line per budget (at risk only for --check)."""
    shown = report.at_risk if only_at_risk else report.rows
    head = f"Budgets as of {report.as_of} (UTC; spend to date from launch costs for consumers, the bill for tags)"
    if report.rows.empty:
        return f"{head}\nno budget has a period running on {report.as_of}"
    lines = [head, *(check_line(row) for _, row in shown.iterrows())]
    if only_at_risk and shown.empty:
        lines.append(f"no budget is at risk or over ({len(report.rows)} with a period running)")
    return "\n".join(lines)


def check_json(report: Report) -> str:
    """A JSON document for a webhook: money as strings (exact cents), chances as numbers from 0 to 1."""
    by_name = {b.name: b for b in report.budgets}
    items = []
    for _, row in report.rows.iterrows():
        budget = by_name[row["budget"]]
        covers = (
            {"consumer": budget.consumer}
            if budget.consumer is not None
            else {"tag": {"key": budget.tag_key, "value": budget.tag_value}}
        )
        chance = row["chance_of_overrun"]
        items.append(
            {
                "name": row["budget"],
                "covers": covers,
                "period": {"kind": budget.period, "start": str(row["period_start"]), "end": str(row["period_end"])},
                "currency": row["currency"],
                "budget": _money(row["amount"]),
                "spent": _money(row["spent"]),
                "forecast": {
                    "median": _money(row["forecast"]),
                    "low": _money(row["low"]),
                    "high": _money(row["high"]),
                    "level": 0.8,
                },
                "chance_of_overrun": None if chance is None or pd.isna(chance) else round(float(chance), 4),
                "status": row["status"],
                "forecast_to_overrun": bool(row["forecast_to_overrun"]),
                "note": row["note"] or None,
            }
        )
    document = {
        "as_of": str(report.as_of),
        "budgets": items,
        "at_risk": int(len(report.at_risk)),
        "forecast_to_overrun": int(report.rows["forecast_to_overrun"].astype(bool).sum()),
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


@dataclass(frozen=True)
class CheckResult:
    """What ``python -m ingest budgets`` did: its exit code (0 fine, 1 a budget forecast to overrun, 2 a bad file)."""

    exit_code: int
    report: Report | None = None


def as_of_for(month: date | None, as_of: date | None) -> date | None:
    """The as-of day of ``--month`` (its last day) or ``--as-of``; None for the default."""
    return month_end(month) if month is not None else as_of


def run_check(settings: Settings, con, check: bool, as_json: bool, as_of: date | None, out=None) -> CheckResult:
    """Print the budgets (``check``: only those at risk, exit code 1 when one is forecast to overrun); 2 on a bad file."""
    out = out or sys.stdout
    path = settings.budgets.budgets_file
    try:
        text, _ = read_budgets(path)
        report = budget_report(con, text, str(path), as_of, settings.budgets.at_risk_chance, settings.budgets.alert_chance)
    except BudgetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return CheckResult(2)
    print(check_json(report) if as_json else check_text(report, only_at_risk=check), file=out)
    return CheckResult(1 if check and report.overrun else 0, report)
