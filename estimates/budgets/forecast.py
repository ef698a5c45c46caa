"""A budget's period end: spend to date, the forecast to the period's end with its 80% interval, the chance of overrunning.

**The forecast** is the spend forecast of ``estimates.forecast`` (``forecast_spend``): per series (a consumer's
launch spend, or the bill spend carrying a tag) and month, a median with an 80% interval earned by its own
backtest. The series' complete months are those wholly on or before the day the spend is known through
(the as-of day, or the last day the source holds if earlier). The period's end total is

    spent to date + (the rest of the current month: its forecast x days left / days in the month)
                  + the forecast of each later month of the period.

**The predictive distribution** of each month is a two-piece lognormal through its three figures: median =
the forecast, 10th percentile = the interval's low, 90th = its high (below the median the log-spread is
ln(forecast / low) / 1.2816, above it ln(high / forecast) / 1.2816). The months of one period are taken as
moving together (the forecast carries one level forward, so a month above its median makes the next one
above too): the total's p-quantile is spent + the sum of each month's p-quantile (x its share left). That
is the widest honest assumption: it never makes a budget look safer than independence would. The chance of
overrunning a budget B is 1 - p where the total's p-quantile equals B (bisection on the normal score): 50%
exactly at the forecast median, rising as B falls. Without an interval (too few past forecasts) there is a
median but no chance; without a forecast (under three whole months of history) there is neither.

**Status**: ``over`` when spent to date already exceeds the budget; ``at risk`` when the chance of
overrunning is at least ``[budgets] at_risk_chance`` (or, without an interval, the median exceeds it);
``on track`` otherwise; ``no forecast`` when there is none and it is not over. **Forecast to overrun** (what
``budgets --check`` exits 1 on): over, or the chance is at least ``[budgets] alert_chance`` (default 0.5: the
forecast's median exceeds the budget). Pure: no Streamlit, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from statistics import NormalDist

import numpy as np
import pandas as pd

from core.months import add_months, month_end, month_start
from core.settings import BudgetsSettings
from estimates.budgets import Budget, monthly_spend, period_label, spent_to_date
from estimates.forecast import complete_months, forecast_spend

Z90 = NormalDist().inv_cdf(0.9)  # 1.2816: the normal score of the 80% interval's high end
CENT = Decimal("0.01")
STATUSES = ("over", "at risk", "on track", "no forecast")


@dataclass(frozen=True)
class MonthAhead:
    """One month still to come in a period: its forecast (median, 80%) and the share of it still to be spent."""

    share: float  # 1 for a whole month ahead; days left / days in the month for the current one
    forecast: float
    low: float | None = None
    high: float | None = None

    def median(self) -> float:
        """The forecast; the interval's geometric middle when the forecast lies outside its own interval."""
        if self.low is not None and self.high is not None and not self.low <= self.forecast <= self.high:
            return float(np.sqrt(self.low * self.high))
        return self.forecast

    def spreads(self) -> tuple[float, float]:
        """(log-spread below the median, above it) of its two-piece lognormal; (0, 0) without an interval."""
        median = self.median()
        if self.low is None or self.high is None or median <= 0:
            return 0.0, 0.0
        below = np.log(median / self.low) / Z90 if self.low > 0 else 0.0
        return max(float(below), 0.0), max(float(np.log(self.high / median) / Z90), 0.0)


def total_at(spent: float, ahead: list[MonthAhead], z: float) -> float:
    """The period-end total at normal score ``z`` (0: the median; Z90: the 80% interval's high end)."""
    total = spent
    for m in ahead:
        below, above = m.spreads()
        total += m.share * m.median() * float(np.exp(z * (above if z >= 0 else below)))
    return total


def overrun_chance(spent: float, ahead: list[MonthAhead], budget: float) -> float:
    """P(period-end total > budget) under the distribution above (months with intervals only)."""
    if spent > budget:
        return 1.0
    if not ahead or all(m.share * m.median() <= 0 for m in ahead):
        return 0.0
    low, high = -12.0, 12.0  # normal scores: chances below 1e-32 are zero here
    if total_at(spent, ahead, low) > budget:
        return 1.0
    if total_at(spent, ahead, high) <= budget:
        return 0.0
    for _ in range(80):
        mid = (low + high) / 2
        if total_at(spent, ahead, mid) > budget:
            high = mid
        else:
            low = mid
    return 1.0 - NormalDist().cdf((low + high) / 2)


def money(value: float) -> Decimal:
    return Decimal(repr(float(value))).quantize(CENT)


@dataclass(frozen=True)
class Sources:
    """What the figures come from: the spend rows (already cut at the as-of day) and the day each is known through."""

    launches: pd.DataFrame  # budget_launch_spend: launch_month, consumer, currency, spend, first_day, last_day
    bill: pd.DataFrame  # budget_bill_spend: usage_month, tag_key, consumer, tags, currency, spend, first_day, last_day
    as_of: date

    def through(self, rows: pd.DataFrame) -> date | None:
        """The last day ``rows`` hold spend for, at most the as-of day (None: no rows)."""
        return min(pd.Timestamp(rows["last_day"].max()).date(), self.as_of) if len(rows) else None

    def first(self, rows: pd.DataFrame) -> date | None:
        return pd.Timestamp(rows["first_day"].min()).date() if len(rows) else None


def _forecasts(series: dict[str, pd.DataFrame], first: date | None, through: date | None, last_month: date) -> pd.DataFrame:
    """``forecast_spend`` of every series (pooled: the interval's errors come from all of them) up to ``last_month``."""
    frames = [s.assign(consumer=key)[["month", "consumer", "spend"]] for key, s in series.items() if len(s)]
    empty = pd.DataFrame(columns=["consumer", "month", "forecast", "low", "high", "note"])
    if not frames or first is None or through is None:
        return empty
    history = complete_months(pd.concat(frames, ignore_index=True), first, through)
    if history.empty:
        return empty
    start = (pd.Timestamp(history["month"].max()) + pd.offsets.MonthBegin(1)).date()
    if start > last_month:
        return empty
    months = list(pd.date_range(start, last_month, freq="MS"))
    table = forecast_spend(history, months)
    return table.assign(month=[pd.Timestamp(m).date() for m in table["month"]])


def months_ahead(
    forecasts: pd.DataFrame, key: str, first: date, through: date, last: date
) -> tuple[list[MonthAhead] | None, str]:
    """The months of the period [first, last] still to come after ``through``, each with its forecast.

    None (and why) when a month has no forecast; a note when a month has a forecast but no interval.
    """
    ahead, note = [], ""
    rows = forecasts[forecasts["consumer"] == key].set_index("month") if len(forecasts) else forecasts
    month = max(month_start(through), first)
    while month <= last:
        days = (month_end(month) - month).days + 1
        share = (days - through.day) / days if month == month_start(through) else 1.0
        if share > 0:
            if month not in rows.index or pd.isna(rows.loc[month, "forecast"]):
                found = rows.loc[month, "note"] if month in rows.index else ""
                return None, found or "under 3 whole months of spend to learn from"
            row = rows.loc[month]
            if pd.isna(row["low"]) or pd.isna(row["high"]):
                ahead.append(MonthAhead(share, float(row["forecast"])))
                note = note or row["note"]
            else:
                ahead.append(MonthAhead(share, float(row["forecast"]), float(row["low"]), float(row["high"])))
        month = add_months(month, 1)
    return ahead, note


def _status(spent: Decimal, amount: Decimal, median: float | None, chance: float | None, settings: BudgetsSettings):
    """(status, forecast to overrun) as documented above."""
    if spent > amount:
        return "over", True
    if median is None:
        return "no forecast", False
    if chance is None:
        return ("at risk" if median > amount else "on track"), median > amount
    return ("at risk" if chance >= settings.at_risk_chance else "on track"), chance >= settings.alert_chance


def figures(budget: Budget, spent: Decimal, ahead: list[MonthAhead] | None, note: str, settings: BudgetsSettings) -> dict:
    """One budget's figures: forecast to the period end (median, 80%), chance of overrunning, status."""
    median = low = high = chance = None
    if ahead is not None:
        median = total_at(float(spent), ahead, 0.0)
        if all(m.low is not None for m in ahead):
            low, high = total_at(float(spent), ahead, -Z90), total_at(float(spent), ahead, Z90)
            chance = overrun_chance(float(spent), ahead, float(budget.amount))
    status, alert = _status(spent, budget.amount, median, chance, settings)
    return {
        "forecast": None if median is None else money(median),
        "low": None if low is None else money(low),
        "high": None if high is None else money(high),
        "chance_of_overrun": chance,
        "status": status,
        "forecast_to_overrun": alert,
        "note": note,
    }


COLUMNS = (
    "budget",
    "covers",
    "period",
    "period_start",
    "period_end",
    "as_of",
    "spent",
    "forecast",
    "low",
    "high",
    "amount",
    "currency",
    "chance_of_overrun",
    "status",
    "forecast_to_overrun",
    "note",
)


def consumer_months(launches: pd.DataFrame, currency: str) -> dict[str, pd.DataFrame]:
    """Every consumer's launch spend per month in ``currency``: the series whose errors the forecast pools."""
    rows = launches[launches["currency"] == currency]
    return {
        consumer: part.groupby("launch_month", as_index=False)["spend"]
        .agg(lambda s: sum(s, Decimal(0)))
        .rename(columns={"launch_month": "month"})
        for consumer, part in rows.groupby("consumer")
    }


class _Pools:
    """The forecasts of one kind of series (consumers' launch spend, or tags' bill spend) per currency, made once."""

    def __init__(self, budgets: list[Budget], monthly: dict[str, pd.DataFrame], sources: Sources, last_month: date):
        self.budgets, self.monthly, self.sources, self.last_month = budgets, monthly, sources, last_month
        self.made: dict[tuple[bool, str], tuple[pd.DataFrame, date]] = {}

    def of(self, budget: Budget) -> tuple[pd.DataFrame, date]:
        """(forecasts of the budget's kind and currency, the day its source is known through)."""
        key = (budget.consumer is not None, budget.currency)
        if key not in self.made:
            rows = self.sources.launches if key[0] else self.sources.bill
            same = [b for b in self.budgets if (b.consumer is not None, b.currency) == key]
            series = consumer_months(rows, budget.currency) if key[0] else {}
            series |= {b.series: self.monthly[b.name] for b in same}
            series = {k: v[v["currency"] == budget.currency] if "currency" in v else v for k, v in series.items()}
            through = self.sources.through(rows) or self.sources.as_of
            self.made[key] = (_forecasts(series, self.sources.first(rows), through, self.last_month), through)
        return self.made[key]


def evaluate(budgets: tuple[Budget, ...], sources: Sources, settings: BudgetsSettings | None = None) -> pd.DataFrame:
    """One row per budget with a period at the as-of day: spent to date, forecast to the period end, chance, status."""
    settings = settings or BudgetsSettings()
    active = [(b, p) for b in budgets if (p := b.period_of(sources.as_of)) is not None]
    if not active:
        return pd.DataFrame(columns=list(COLUMNS))
    monthly = {b.name: monthly_spend(b, sources.launches, sources.bill) for b, _ in active}
    pools = _Pools([b for b, _ in active], monthly, sources, max(month_start(p[1]) for _, p in active))
    out = []
    for budget, (first, last) in active:
        spent = spent_to_date(budget, monthly[budget.name], first, sources.as_of)
        forecasts, through = pools.of(budget)
        ahead, note = months_ahead(forecasts, budget.series, first, through, last)
        if ahead is None and monthly[budget.name].empty:
            note = "no launch of this consumer yet" if budget.consumer is not None else "no bill line carries this tag yet"
        out.append(
            {
                "budget": budget.name,
                "covers": budget.covers,
                "period": period_label(first, last),
                "period_start": first,
                "period_end": last,
                "as_of": sources.as_of,
                "spent": spent.quantize(CENT),
                "amount": budget.amount,
                "currency": budget.currency,
                **figures(budget, spent, ahead, note, settings),
            }
        )
    return pd.DataFrame(out, columns=list(COLUMNS))
