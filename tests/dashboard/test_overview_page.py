"""Overview page: the KPIs shown equal the fixture's launches, with changes vs the previous period."""

from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import pandas as pd

from tests.dashboard.conftest import EVERY_LAUNCH


def usd(amount: Decimal) -> str:
    cents = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    return f"-${abs(cents):,.2f}" if cents < 0 else f"${cents:,.2f}"


def figures(rows: pd.DataFrame) -> dict:
    priced = rows[rows["total_cost"].notna()]
    spend = sum(priced["total_cost"], Decimal(0))
    return {
        "spend": spend,
        "launches": len(rows),
        "cost_per_launch": (spend / len(priced)).quantize(Decimal("0.000001")),
        "median_hours": rows.loc[rows["ended_at"].notna(), "total_hours"].median(),
        "failed": sum(priced.loc[priced["status"] == "FAILED", "total_cost"], Decimal(0)),
    }


def money_delta(now: Decimal, before: Decimal) -> str:
    diff = Decimal(now).quantize(Decimal("0.01"), ROUND_HALF_EVEN) - Decimal(before).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    sign = "+" if diff >= 0 else "-"
    return f"{sign}${abs(diff):,.2f} ({(float(now) - float(before)) / float(before) * 100:+.1f}%)"


def in_period(launches: pd.DataFrame, start: date, end: date, **where) -> pd.DataFrame:
    day = launches["launched_at"].dt.date
    rows = launches[(day >= start) & (day <= end)]
    for column, values in where.items():
        rows = rows[rows[column].isin(values)]
    return rows


def test_every_launch_over_the_whole_fixture_period(open_page, read_metrics, launches_csv):
    at = open_page("overview", query_params=EVERY_LAUNCH)
    want = figures(launches_csv)
    shown = read_metrics(at)
    assert shown["Spend"][0] == usd(want["spend"]) == "$1,017.40"
    assert shown["Launches"][0] == "43"
    assert shown["Cost per launch"][0] == usd(want["cost_per_launch"])
    assert shown["Median duration"][0] == f"{want['median_hours']:.2f} h"
    assert shown["Spend on failed launches"][0] == usd(want["failed"])
    # the period starts with the first launch: nothing before it to compare with
    assert all(delta == "" for _, delta in shown.values())
    assert any("no change to show" in c.value for c in at.caption)
    assert "4 of 43 launches have no price yet" in at.warning[0].value


def test_period_set_in_the_sidebar_compares_with_the_previous_period(open_page, read_metrics, launches_csv):
    at = open_page("overview")
    at.date_input(key="period").set_value((date(2025, 3, 1), date(2025, 4, 30))).run()
    length = (date(2025, 4, 30) - date(2025, 3, 1)).days + 1
    previous_end = date(2025, 3, 1) - timedelta(days=1)
    now = figures(in_period(launches_csv, date(2025, 3, 1), date(2025, 4, 30)))
    before = figures(in_period(launches_csv, previous_end - timedelta(days=length - 1), previous_end))
    shown = read_metrics(at)
    assert shown["Spend"] == (usd(now["spend"]), money_delta(now["spend"], before["spend"]))
    launches_change = now["launches"] - before["launches"]
    pct = launches_change / before["launches"] * 100
    assert shown["Launches"] == (str(now["launches"]), f"{launches_change:+d} ({pct:+.1f}%)")
    assert shown["Cost per launch"] == (
        usd(now["cost_per_launch"]),
        money_delta(now["cost_per_launch"], before["cost_per_launch"]),
    )
    assert shown["Spend on failed launches"] == (usd(now["failed"]), money_delta(now["failed"], before["failed"]))
    hours_change = now["median_hours"] - before["median_hours"]
    assert shown["Median duration"][1] == f"{hours_change:+,.2f} h ({hours_change / before['median_hours'] * 100:+.1f}%)"
    assert f"previous {length} days (2024-12-30 – 2025-02-28)" in at.caption[0].value


def test_a_link_reproduces_the_view(open_page, read_metrics, launches_csv):
    at = open_page(
        "overview",
        query_params={
            "period": ["2025-02-01", "2025-03-31"],
            "consumer": ["rare-disease", "neuro-genomics"],
            "status": "COMPLETE",
        },
    )
    assert at.sidebar.get_by_key("consumer").value == ["rare-disease", "neuro-genomics"]
    rows = in_period(
        launches_csv, date(2025, 2, 1), date(2025, 3, 31), consumer=["rare-disease", "neuro-genomics"], status=["COMPLETE"]
    )
    shown = read_metrics(at)
    assert shown["Launches"][0] == str(len(rows))
    assert shown["Spend"][0] == usd(figures(rows)["spend"])


def test_spend_by_consumer_table(open_page, read_table, launches_csv):
    at = open_page("overview", query_params=EVERY_LAUNCH)
    shown = read_table(at, "overview_consumers").set_index("consumer")
    total = sum(launches_csv["total_cost"].dropna(), Decimal(0))
    for consumer, rows in launches_csv.groupby("consumer"):
        spend = sum(rows["total_cost"].dropna(), Decimal(0))
        assert shown.loc[consumer, "spend"] == spend.quantize(Decimal("0.01"), ROUND_HALF_EVEN)
        assert shown.loc[consumer, "launches"] == len(rows)
        assert abs(shown.loc[consumer, "share_of_spend"] - float(spend / total)) < 1e-9
