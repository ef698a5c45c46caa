"""Budgets, pure: the file (parsed, errors that name the budget and the field, written back), periods, and the
chance of overrunning (50% at the forecast median, monotone in the budget, the interval's ends at 10% and 90%)."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from core.access import EVERYONE, Reader
from core.settings import BudgetsSettings
from estimates.budgets import Budget, BudgetError, parse_budgets, render_budgets, visible_to, with_budget
from estimates.budgets.forecast import MonthAhead, Sources, evaluate, overrun_chance, total_at
from estimates.forecast import complete_months, forecast_spend

GOOD = """
[[budget]]
name = "Onc monthly"
consumer = "oncology-research"
period = "month"
start = "2025-01"
amount = "1200.50"
currency = "usd"

[[budget]]
name = "Grant R01"
tag = { key = "grant", value = "R01-123" }
period = "year"
start = 2024-07-01
end = "2026-07"
amount = 150000
currency = "USD"
"""


def test_a_budgets_file_reads_into_budgets_and_writes_back_the_same():
    onc, grant = parse_budgets(GOOD, "budgets.toml")
    assert onc == Budget("Onc monthly", "month", date(2025, 1, 1), Decimal("1200.50"), "USD", consumer="oncology-research")
    assert grant.tag_key == "grant" and grant.tag_value == "R01-123" and grant.amount == Decimal(150000)
    assert grant.end == date(2026, 7, 1) and grant.covers == "tag grant = R01-123"
    assert parse_budgets(render_budgets((onc, grant))) == (onc, grant)


def test_periods_repeat_from_the_start_month():
    onc, grant = parse_budgets(GOOD)
    assert onc.period_of(date(2024, 12, 31)) is None  # before the first period
    assert onc.period_of(date(2025, 2, 14)) == (date(2025, 2, 1), date(2025, 2, 28))
    assert grant.period_of(date(2025, 3, 9)) == (date(2024, 7, 1), date(2025, 6, 30))  # a fiscal year from July
    assert grant.period_of(date(2026, 7, 1)) == (date(2026, 7, 1), date(2027, 6, 30))
    assert grant.period_of(date(2027, 7, 1)) is None  # after the last period's start (end = 2026-07)
    quarter = Budget("q", "quarter", date(2024, 11, 1), Decimal(1), "USD", consumer="x")
    assert quarter.period_of(date(2025, 4, 30)) == (date(2025, 2, 1), date(2025, 4, 30))


@pytest.mark.parametrize(
    "change, says",
    [
        ('amount = "-5"', 'budget "Onc monthly" in budgets.toml: amount must be more than zero'),
        ('amount = "12.345"', 'budget "Onc monthly" in budgets.toml: amount must be in whole cents'),
        ('amount = "lots"', 'budget "Onc monthly" in budgets.toml: amount must be a number'),
        ('period = "week"', "budget \"Onc monthly\" in budgets.toml: period must be month, quarter or year; found 'week'"),
        ('start = "January"', 'budget "Onc monthly" in budgets.toml: start must be a month, YYYY-MM'),
        ('currency = "dollars"', 'budget "Onc monthly" in budgets.toml: currency must be a three-letter currency code'),
        ('tag = { key = "grant", value = "R01" }', 'budget "Onc monthly" in budgets.toml: consumer/tag must be one of the two'),
        ('owner = "me"', 'budget "Onc monthly" in budgets.toml: owner is not a budget field'),
        ('name = ""', "budget 1 in budgets.toml: name must be a non-empty string"),
    ],
)
def test_a_bad_budget_is_one_line_naming_the_budget_and_the_field(change, says):
    key = change.split(" =")[0]
    lines = [line for line in GOOD.split("[[budget]]")[1].strip().splitlines() if not line.startswith(f"{key} =")]
    with pytest.raises(BudgetError) as raised:
        parse_budgets("[[budget]]\n" + "\n".join([*lines, change]), "budgets.toml")
    assert str(raised.value).startswith(says) and "\n" not in str(raised.value)


def test_two_budgets_of_one_name_and_bad_toml_are_refused():
    with pytest.raises(BudgetError, match='"Onc monthly" in b.toml: name is used twice'):
        parse_budgets(GOOD.replace("Grant R01", "Onc monthly"), "b.toml")
    with pytest.raises(BudgetError, match="b.toml is not valid TOML"):
        parse_budgets("[[budget]\nname=", "b.toml")


def test_setting_a_budget_replaces_it_by_name_or_adds_it():
    onc, grant = parse_budgets(GOOD)
    raised = Budget("Onc monthly", "month", date(2025, 1, 1), Decimal("1500.00"), "USD", consumer="oncology-research")
    assert with_budget((onc, grant), raised) == (raised, grant)
    renamed = Budget("Onc", "month", date(2025, 1, 1), Decimal("1.00"), "USD", consumer="oncology-research")
    assert with_budget((onc, grant), renamed, replacing="Onc monthly") == (renamed, grant)
    assert with_budget((grant,), onc) == (grant, onc)
    with pytest.raises(BudgetError, match="already used"):
        with_budget((onc, grant), Budget("Grant R01", "month", date(2025, 1, 1), Decimal(1), "USD", consumer="x"), "Onc monthly")


def test_a_viewer_sees_only_budgets_of_their_consumers():
    onc, grant = parse_budgets(GOOD)
    other = Budget("Neuro", "month", date(2025, 1, 1), Decimal(1), "USD", consumer="neuro-genomics")
    assert visible_to((onc, grant, other), EVERYONE) == (onc, grant, other)
    assert visible_to((onc, grant, other), Reader(consumers=("oncology-research",), admin=False)) == (onc,)


# --- the chance of overrunning -------------------------------------------------------------------------------

ONE = [MonthAhead(1.0, 100.0, 60.0, 180.0)]


def lognormal_chance(budget: float, median: float, low: float, high: float) -> float:
    """P(X > budget) for the two-piece lognormal through (10%: low, 50%: median, 90%: high), by hand."""
    z90 = NormalDist().inv_cdf(0.9)
    spread = math.log(high / median) / z90 if budget >= median else math.log(median / low) / z90
    return 1 - NormalDist().cdf(math.log(budget / median) / spread)


def test_the_chance_is_half_at_the_forecast_median_and_the_tail_at_the_intervals_ends():
    assert overrun_chance(0.0, ONE, 100.0) == pytest.approx(0.5, abs=1e-9)
    assert overrun_chance(0.0, ONE, 60.0) == pytest.approx(0.9, abs=1e-9)
    assert overrun_chance(0.0, ONE, 180.0) == pytest.approx(0.1, abs=1e-9)
    for budget in (70.0, 95.0, 130.0, 250.0):
        assert overrun_chance(0.0, ONE, budget) == pytest.approx(lognormal_chance(budget, 100, 60, 180), abs=1e-9)


def test_the_chance_falls_as_the_budget_rises():
    ahead = [MonthAhead(0.5, 100.0, 70.0, 160.0), MonthAhead(1.0, 110.0, 60.0, 210.0)]
    budgets = np.linspace(200, 900, 141)
    chances = [overrun_chance(250.0, ahead, b) for b in budgets]
    assert chances[0] == 1.0  # already spent more than the budget
    assert all(a >= b for a, b in zip(chances, chances[1:], strict=False))
    assert chances[-1] < 0.01
    median = 250.0 + 0.5 * 100 + 110  # spent + half of the current month's forecast + the next whole month
    assert total_at(250.0, ahead, 0.0) == pytest.approx(median)
    assert overrun_chance(250.0, ahead, median) == pytest.approx(0.5, abs=1e-9)
    # months move together: the total's 90th percentile is the sum of the months' 90th percentiles
    assert overrun_chance(250.0, ahead, 250.0 + 0.5 * 160 + 210) == pytest.approx(0.1, abs=1e-9)


def test_a_period_already_ended_has_no_chance_left_unless_it_is_over():
    assert overrun_chance(90.0, [], 100.0) == 0.0
    assert overrun_chance(101.0, [], 100.0) == 1.0


# --- a budget against a history --------------------------------------------------------------------------------


def launch_rows(as_of: date) -> pd.DataFrame:
    """24 months of launch spend for three consumers (growing, seasonal), the last month cut at ``as_of``."""
    rows = []
    months = pd.date_range("2023-01-01", as_of, freq="MS")
    for c, (consumer, level) in enumerate((("onc", 900), ("neuro", 500), ("pop", 1500))):
        for i, month in enumerate(months):
            days = month.days_in_month if month.month != as_of.month or month.year != as_of.year else as_of.day
            spend = level * (1.02**i) * (1 + 0.08 * math.sin(i + c)) * days / month.days_in_month
            last = month + pd.Timedelta(days=days - 1)
            rows.append((month.date(), consumer, "USD", Decimal(f"{spend:.6f}"), month.date(), last.date()))
    return pd.DataFrame(rows, columns=["launch_month", "consumer", "currency", "spend", "first_day", "last_day"])


NO_BILL = pd.DataFrame(columns=["usage_month", "tag_key", "consumer", "tags", "currency", "spend", "first_day", "last_day"])


def test_a_quarter_to_date_its_forecast_to_the_end_and_its_status():
    as_of = date(2024, 12, 15)
    launches = launch_rows(as_of)
    quarter = Budget("Onc Q", "quarter", date(2024, 1, 1), Decimal("6000.00"), "USD", consumer="onc")
    tight = Budget("Onc tight", "quarter", date(2024, 1, 1), Decimal("2000.00"), "USD", consumer="onc")
    rows = evaluate((quarter, tight), Sources(launches, NO_BILL, as_of), BudgetsSettings()).set_index("budget")
    mine = launches[(launches["consumer"] == "onc") & (launches["launch_month"] >= date(2024, 10, 1))]
    spent = sum(mine["spend"], Decimal(0))  # October, November and December up to the 15th
    assert rows.loc["Onc Q", "spent"] == spent.quantize(Decimal("0.01"))
    assert rows.loc["Onc Q", "period"] == "2024-10 – 2024-12"
    # the forecast: the spend forecast's December for onc, the 16 days of it still to come, on top of what is spent
    history = complete_months(launches.rename(columns={"launch_month": "month"}), date(2023, 1, 1), as_of)
    december = forecast_spend(history, [pd.Timestamp("2024-12-01")]).set_index("consumer").loc["onc"]
    expected = float(spent) + december["forecast"] * 16 / 31
    assert float(rows.loc["Onc Q", "forecast"]) == pytest.approx(expected, abs=0.01)
    assert float(rows.loc["Onc Q", "low"]) == pytest.approx(float(spent) + december["low"] * 16 / 31, abs=0.01)
    assert rows.loc["Onc Q", "low"] <= rows.loc["Onc Q", "forecast"] <= rows.loc["Onc Q", "high"]
    assert rows.loc["Onc Q", "status"] == "on track" and rows.loc["Onc Q", "chance_of_overrun"] < 0.2
    assert rows.loc["Onc tight", "status"] == "over" and rows.loc["Onc tight", "forecast_to_overrun"]
    at_median = Budget("Onc at median", "quarter", date(2024, 1, 1), rows.loc["Onc Q", "forecast"], "USD", consumer="onc")
    row = evaluate((at_median,), Sources(launches, NO_BILL, as_of)).iloc[0]
    assert row["chance_of_overrun"] == pytest.approx(0.5, abs=0.01)
    assert row["status"] == "at risk" and row["forecast_to_overrun"]  # 0.5 >= alert_chance 0.5


def test_too_little_history_gives_no_forecast_and_another_currency_is_refused():
    as_of = date(2024, 12, 15)
    short = launch_rows(as_of)
    short = short[short["launch_month"] >= date(2024, 10, 1)]
    budget = Budget("Onc", "month", date(2024, 1, 1), Decimal("5000.00"), "USD", consumer="onc")
    row = evaluate((budget,), Sources(short, NO_BILL, as_of)).iloc[0]
    assert row["forecast"] is None and row["chance_of_overrun"] is None and row["status"] == "no forecast"
    assert "2 months" in row["note"]
    with pytest.raises(BudgetError, match='budget "Onc": currency is EUR, but its spend is held in USD: set currency = "USD"'):
        evaluate((Budget("Onc", "month", date(2024, 1, 1), Decimal(1), "EUR", consumer="onc"),), Sources(short, NO_BILL, as_of))


def test_the_budgets_settings_resolve_the_file_and_refuse_a_chance_outside_0_1(tmp_path):
    from core.errors import ConfigError
    from core.settings import DEFAULT_BUDGETS_FILE, load_settings

    config = tmp_path / "launch-ledger.toml"
    config.write_text('[budgets]\nfile = "team/budgets.toml"\nat_risk_chance = 0.3\n')
    settings = load_settings(config)
    assert settings.budgets.budgets_file == tmp_path / "team" / "budgets.toml" and settings.budgets.at_risk_chance == 0.3
    config.write_text("")
    assert load_settings(config).budgets.budgets_file == DEFAULT_BUDGETS_FILE
    config.write_text("[budgets]\nalert_chance = 1.5\n")
    with pytest.raises(ConfigError, match="budgets.alert_chance must be a chance between 0 and 1"):
        load_settings(config)


def test_the_shipped_budgets_file_reads():
    from core.settings import DEFAULT_BUDGETS_FILE

    budgets = parse_budgets(DEFAULT_BUDGETS_FILE.read_text(), str(DEFAULT_BUDGETS_FILE))
    assert {b.period for b in budgets} == {"month", "quarter", "year"} and any(b.tag_key for b in budgets)
