"""Trends: spend and launches per month and consumer; cost per launch per month."""

from datetime import date
from decimal import Decimal

import pytest

import queries
from queries import Filters

ALL = Filters(date(2025, 1, 1), date(2025, 4, 30))


def test_monthly_spend_by_consumer(fixture_con, select_launches):
    result = queries.monthly_spend_by_consumer(fixture_con, ALL)
    groups = dict(list(select_launches(ALL).groupby(["launch_month", "consumer"])))
    assert len(result) == len(groups) == 16
    for line in result.to_dict("records"):
        group = groups[(line["launch_month"], line["consumer"])]
        assert line["launches"] == len(group)
        assert line["priced_launches"] == group["total_cost"].notna().sum()
        assert line["spend"] == sum(group["total_cost"].dropna(), Decimal(0))


def test_monthly_cost_per_launch_and_failure_waste(fixture_con, select_launches):
    result = queries.monthly_cost_per_launch(fixture_con, ALL)
    months = dict(list(select_launches(ALL).groupby("launch_month")))
    assert list(result["launch_month"]) == sorted(months)
    for line in result.to_dict("records"):
        group = months[line["launch_month"]]
        priced = group["total_cost"].dropna()
        spend = sum(priced, Decimal(0))
        assert line["spend"] == spend
        assert float(line["median_cost_per_launch"]) == pytest.approx(priced.map(float).median(), abs=1e-6)
        assert abs(line["mean_cost_per_launch"] - spend / len(priced)) <= Decimal("0.000001")
        failed = group[group["status"] == "FAILED"]
        assert line["failed_launches"] == len(failed)
        assert line["failed_spend"] == sum(failed["total_cost"].dropna(), Decimal(0))


def test_trends_follow_the_filters(fixture_con, select_launches):
    filters = Filters(date(2025, 2, 1), date(2025, 3, 31), consumers=("neuro-genomics",))
    result = queries.monthly_cost_per_launch(fixture_con, filters)
    assert [m.month for m in result["launch_month"]] == [2, 3]
    assert sum(result["spend"], Decimal(0)) == sum(select_launches(filters)["total_cost"].dropna(), Decimal(0))
