"""Overview: headline figures for a period and for the previous period of equal length."""

from datetime import date
from decimal import Decimal

import pandas as pd

import queries
from queries import Filters

TOLERANCE = Decimal("0.000001")


def expected(rows: pd.DataFrame) -> dict:
    priced = rows[rows["total_cost"].notna()]
    ended = rows[rows["ended_at"].notna()]
    spend = sum(priced["total_cost"], Decimal(0))
    return {
        "total_spend": spend,
        "launches": len(rows),
        "priced_launches": len(priced),
        "pending_price_launches": len(rows) - len(priced),
        "computed_price_launches": int((priced["price_source"] == "computed").sum()),
        "cost_per_launch": spend / len(priced) if len(priced) else None,
        "ended_launches": len(ended),
        "median_hours": ended["total_hours"].median(),
        "failed_spend": sum(priced.loc[priced["status"] == "FAILED", "total_cost"], Decimal(0)),
    }


def assert_matches(row, want):
    assert row["total_spend"] == want["total_spend"]
    assert row["failed_spend"] == want["failed_spend"]
    for key in ("launches", "priced_launches", "pending_price_launches", "computed_price_launches", "ended_launches"):
        assert row[key] == want[key], key
    if want["cost_per_launch"] is None:
        assert row["cost_per_launch"] is None
    else:
        assert abs(row["cost_per_launch"] - want["cost_per_launch"]) <= TOLERANCE
    if pd.isna(want["median_hours"]):
        assert pd.isna(row["median_hours"])
    else:
        assert abs(row["median_hours"] - want["median_hours"]) < 1e-9


def test_all_launches(fixture_con, select_launches):
    filters = Filters(date(2025, 1, 1), date(2025, 4, 30))
    result = queries.overview(fixture_con, filters)
    assert_matches(result.loc["current"], expected(select_launches(filters)))
    assert result.loc["current", "total_spend"] == Decimal("1017.3977")
    assert result.loc["current", "launches"] == 43
    assert result.loc["current", "pending_price_launches"] == 4


def test_previous_period_is_the_same_length_just_before(fixture_con, select_launches):
    filters = Filters(date(2025, 2, 1), date(2025, 3, 31), consumers=("oncology-research", "rare-disease"))
    result = queries.overview(fixture_con, filters)
    previous = filters.previous_period()
    assert (result.loc["previous", "start"], result.loc["previous", "end"]) == (date(2024, 12, 4), date(2025, 1, 31))
    assert_matches(result.loc["current"], expected(select_launches(filters)))
    assert_matches(result.loc["previous"], expected(select_launches(previous)))
    # the launch started at 23:30 on the last day of the previous period counts there
    assert "wl-2025-0009" in set(select_launches(previous)["launch_id"])


def test_a_period_without_launches_has_zero_spend_and_no_cost_per_launch(fixture_con):
    result = queries.overview(fixture_con, Filters(date(2024, 1, 1), date(2024, 1, 31)))
    row = result.loc["current"]
    assert row["launches"] == 0 and row["total_spend"] == 0 and row["failed_spend"] == 0
    assert row["cost_per_launch"] is None
    assert pd.isna(row["median_hours"])
