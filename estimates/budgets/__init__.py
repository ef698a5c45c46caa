"""Budgets: what a consumer, or the spend carrying a tag (a grant, a project), may spend per month, quarter or year.

**The file** (TOML, ``[budgets] file`` in the config; default the shipped ``budgets.toml``)::

    [[budget]]
    name = "Oncology research, monthly"
    consumer = "oncology-research"        # or: tag = { key = "grant", value = "R01-123" }
    period = "month"                      # month, quarter or year
    start = "2025-01"                     # the first period's first month; it repeats every period after
    # end = "2026-06"                     # optional: the last month a period may start in
    amount = "12000.00"                   # per period; a string (or an integer) keeps the cents exact
    currency = "USD"

A budget recurs: a quarterly budget starting 2024-11 covers Nov-Jan, Feb-Apr, ... (fiscal quarters and
years start where the budget does). Bad input is one line naming the budget and the field
(``BudgetError``). ``render_budgets`` writes the same format back (the Budgets page's form).

**Spend to date** of a consumer is what chargeback attributes to it directly: its launches' ``total_cost``
(priced launches, by the day they started), the period's first day up to the as-of day. Of a tag: the bill
lines (``costs_daily``, at effective cost, as statements charge) whose tags carry ``key = value`` (as
written, ``user:key`` or ``user_key``) or that were grouped on that tag (Cost Explorer's ``tag_key``).

The forecast, chance and status are ``estimates.budgets.forecast``. Pure: no Streamlit, no I/O.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

import pandas as pd

from core.access import Reader
from core.errors import ConfigError
from core.months import add_months, month_end, month_label, parse_month

PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}
FIELDS = ("name", "consumer", "tag", "period", "start", "end", "amount", "currency")


class BudgetError(ConfigError):
    """The budgets file (or a budget set on the page) is wrong: one line naming the budget and the field."""


@dataclass(frozen=True)
class Budget:
    name: str
    period: str  # month, quarter or year
    start: date  # first day of the first period
    amount: Decimal  # per period
    currency: str
    consumer: str | None = None
    tag_key: str | None = None
    tag_value: str | None = None
    end: date | None = None  # the last month a period may start in (None: no end)

    @property
    def covers(self) -> str:
        """What it covers, in words: ``consumer oncology-research`` or ``tag grant = R01-123``."""
        return f"consumer {self.consumer}" if self.consumer is not None else f"tag {self.tag_key} = {self.tag_value}"

    @property
    def series(self) -> str:
        """The key of its monthly spend series (a consumer's name, or ``tag:key=value``)."""
        return self.consumer if self.consumer is not None else f"tag:{self.tag_key}={self.tag_value}"

    def period_of(self, day: date) -> tuple[date, date] | None:
        """(first day, last day) of the period ``day`` falls in; None before the first or after the last."""
        if day < self.start:
            return None
        months = PERIOD_MONTHS[self.period]
        elapsed = (day.year - self.start.year) * 12 + day.month - self.start.month
        first = add_months(self.start, elapsed // months * months)
        if self.end is not None and first > self.end:
            return None
        return first, month_end(add_months(first, months - 1))


def period_label(first: date, last: date) -> str:
    """``2025-04`` for a month, ``2025-02 – 2025-04`` for a longer period."""
    return month_label(first) if month_label(first) == month_label(last) else f"{month_label(first)} – {month_label(last)}"


def _fail(where: str, field: str, problem: str) -> BudgetError:
    return BudgetError(f"{where}: {field} {problem}")


def _text(raw: dict, field: str, where: str, example: str) -> str:
    value = raw.get(field)
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, field, f'must be a non-empty string, e.g. {field} = "{example}"; found {value!r}')
    return value.strip()


def _month(raw: dict, field: str, where: str) -> date:
    value = raw.get(field)
    if isinstance(value, date):
        if value.day != 1:
            raise _fail(where, field, f"must be a month's first day or YYYY-MM; found {value}")
        return value
    try:
        if not isinstance(value, str) or len(value.strip()) != 7:
            raise ValueError
        return parse_month(value.strip())
    except ValueError:
        raise _fail(where, field, f'must be a month, YYYY-MM, e.g. {field} = "2025-01"; found {value!r}') from None


def _amount(raw: dict, where: str) -> Decimal:
    value = raw.get("amount")
    try:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise InvalidOperation
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise _fail(where, "amount", f'must be a number, e.g. amount = "12000.00"; found {value!r}') from None
    if not amount.is_finite() or amount <= 0:
        raise _fail(where, "amount", f"must be more than zero; found {value!r}")
    if amount != amount.quantize(Decimal("0.01")):
        raise _fail(where, "amount", f"must be in whole cents (two decimals at most); found {value!r}")
    return amount


def _covers(raw: dict, where: str) -> dict:
    if ("consumer" in raw) == ("tag" in raw):
        raise _fail(where, "consumer/tag", 'must be one of the two: consumer = "X" or tag = { key = "grant", value = "R01-123" }')
    if "consumer" in raw:
        return {"consumer": _text(raw, "consumer", where, "oncology-research")}
    tag = raw["tag"]
    if not isinstance(tag, dict) or set(tag) != {"key", "value"}:
        raise _fail(where, "tag", f'must be {{ key = "grant", value = "R01-123" }}; found {tag!r}')
    return {"tag_key": _text(tag, "key", f"{where} tag", "grant"), "tag_value": _text(tag, "value", f"{where} tag", "R01-123")}


def budget_from(raw: object, path: str = "the budgets file", number: int = 1) -> Budget:
    """One ``[[budget]]`` table as a Budget; a BudgetError names the budget (its name, else its number) and the field."""
    where = f"budget {number} in {path}"
    if not isinstance(raw, dict):
        raise BudgetError(f"{where} must be a table ([[budget]] with name, consumer or tag, period, start, amount, currency)")
    if isinstance(raw.get("name"), str) and raw["name"].strip():
        where = f'budget "{raw["name"].strip()}" in {path}'
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        raise _fail(where, unknown[0], f"is not a budget field; the fields are {', '.join(FIELDS)}")
    name = _text(raw, "name", where, "Oncology research, monthly")
    period = raw.get("period")
    if period not in PERIOD_MONTHS:
        raise _fail(where, "period", f"must be month, quarter or year; found {period!r}")
    start = _month(raw, "start", where)
    end = _month(raw, "end", where) if "end" in raw else None
    if end is not None and end < start:
        raise _fail(where, "end", f"{month_label(end)} is before start {month_label(start)}")
    currency = _text(raw, "currency", where, "USD").upper()
    if len(currency) != 3 or not currency.isalpha():
        raise _fail(where, "currency", f'must be a three-letter currency code, e.g. currency = "USD"; found {raw["currency"]!r}')
    return Budget(name, period, start, _amount(raw, where), currency, end=end, **_covers(raw, where))


def parse_budgets(text: str, path: str = "the budgets file") -> tuple[Budget, ...]:
    """Every budget of a budgets file, in file order; a BudgetError (one line) on the first problem."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BudgetError(f"{path} is not valid TOML: {exc}") from None
    unknown = sorted(set(raw) - {"budget"})
    if unknown:
        raise BudgetError(f"{path} has an unknown key {unknown[0]!r}: it holds only [[budget]] tables")
    entries = raw.get("budget", [])
    if not isinstance(entries, list):
        raise BudgetError(f"{path}: budget must be an array of tables: write each one under [[budget]]")
    budgets = tuple(budget_from(entry, path, i) for i, entry in enumerate(entries, start=1))
    seen: set[str] = set()
    for budget in budgets:
        if budget.name in seen:
            raise BudgetError(f'budget "{budget.name}" in {path}: name is used twice; give each budget its own name')
        seen.add(budget.name)
    return budgets


HEADER = """# Launch Ledger budgets: per consumer or per tag (a grant, a project), per month, quarter or year.
# Each [[budget]]: name; consumer = "X" or tag = { key = "grant", value = "R01-123" }; period (month, quarter,
# year); start (YYYY-MM: the first period, repeated every period after); optional end (YYYY-MM: the last month a
# period may start in); amount per period (a string keeps the cents exact); currency.
# See README "Budgets". The Budgets page's form rewrites this file (these comments included).
"""


def _quoted(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def render_budgets(budgets: tuple[Budget, ...] | list[Budget]) -> str:
    """The budgets as a budgets file (what ``parse_budgets`` reads back to the same budgets)."""
    out = [HEADER]
    for b in budgets:
        out.append("[[budget]]")
        out.append(f"name = {_quoted(b.name)}")
        if b.consumer is not None:
            out.append(f"consumer = {_quoted(b.consumer)}")
        else:
            out.append(f"tag = {{ key = {_quoted(b.tag_key)}, value = {_quoted(b.tag_value)} }}")
        out.append(f"period = {_quoted(b.period)}")
        out.append(f"start = {_quoted(month_label(b.start))}")
        if b.end is not None:
            out.append(f"end = {_quoted(month_label(b.end))}")
        out.append(f"amount = {_quoted(str(b.amount))}")
        out.append(f"currency = {_quoted(b.currency)}")
        out.append("")
    return "\n".join(out)


def with_budget(budgets: tuple[Budget, ...], budget: Budget, replacing: str | None = None) -> tuple[Budget, ...]:
    """The budgets with ``budget`` in place of the one named ``replacing`` (or its own name), else added at the end."""
    target = replacing or budget.name
    if budget.name != target and any(b.name == budget.name for b in budgets):
        raise BudgetError(f'budget "{budget.name}": name is already used by another budget; pick another name')
    if any(b.name == target for b in budgets):
        return tuple(budget if b.name == target else b for b in budgets)
    return (*budgets, budget)


def visible_to(budgets: tuple[Budget, ...], reader: Reader) -> tuple[Budget, ...]:
    """The budgets ``reader`` may see: every one for a reader of every consumer; a viewer's consumers' only.

    A tag's spend spans consumers (a grant pays for several teams' runs), so tag budgets are for readers of
    every consumer (finance, admin).
    """
    if reader.every_consumer:
        return tuple(budgets)
    return tuple(b for b in budgets if b.consumer is not None and reader.sees(b.consumer))


def _tag_values(tags: str | None) -> dict[str, str]:
    if not tags:
        return {}
    try:
        parsed = json.loads(tags)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in parsed.items()} if isinstance(parsed, dict) else {}


def carries_tag(bill: pd.DataFrame, key: str, value: str) -> pd.Series:
    """Which bill rows carry the tag ``key = value``: grouped on it (tag_key, consumer) or in their tags."""
    names = (key, f"user:{key}", f"user_{key}")
    parsed = {t: _tag_values(t) for t in bill["tags"].dropna().unique()}
    in_tags = bill["tags"].map(lambda t: t is not None and any(parsed.get(t, {}).get(n) == value for n in names))
    grouped = (bill["tag_key"] == key) & (bill["consumer"] == value)
    return (grouped | in_tags.astype(bool)).astype(bool)


def monthly_spend(budget: Budget, launches: pd.DataFrame, bill: pd.DataFrame) -> pd.DataFrame:
    """The budget's spend per month (``month``, ``currency``, ``spend`` as Decimal) from the rows it covers."""
    if budget.consumer is not None:
        rows = launches[launches["consumer"] == budget.consumer].rename(columns={"launch_month": "month"})
    else:
        rows = bill[carries_tag(bill, budget.tag_key, budget.tag_value)].rename(columns={"usage_month": "month"})
    if rows.empty:
        return pd.DataFrame(columns=["month", "currency", "spend"])
    grouped = rows.groupby(["month", "currency"], as_index=False)["spend"].agg(lambda s: sum(s, Decimal(0)))
    return grouped.assign(month=[pd.Timestamp(m).date() for m in grouped["month"]])


def spent_to_date(budget: Budget, monthly: pd.DataFrame, first: date, through: date) -> Decimal:
    """Exact spend in the budget's currency from ``first`` (a period's first day) up to ``through``'s month.

    ``monthly`` is ``monthly_spend`` over rows already cut at the as-of day (the queries' ``$end``). Spend held
    in another currency only is a BudgetError: amounts in different currencies are never added up.
    """
    rows = monthly[[first <= m <= through for m in monthly["month"]]] if len(monthly) else monthly
    other = sorted(set(rows["currency"].dropna()) - {budget.currency}) if len(rows) else []
    if other and not (rows["currency"] == budget.currency).any():
        raise BudgetError(
            f'budget "{budget.name}": currency is {budget.currency}, but its spend is held in {other[0]}: '
            f'set currency = "{other[0]}"'
        )
    mine = rows[rows["currency"] == budget.currency] if len(rows) else rows
    return sum(mine["spend"], Decimal(0)) if len(mine) else Decimal(0)
