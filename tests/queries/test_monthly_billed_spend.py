"""monthly_billed_spend: the bill per consumer and month, whole months from costs_monthly, cut ones day by day."""

from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

import queries
from queries import Filters


def expected(daily: pd.DataFrame, start: date, end: date, consumers=()) -> dict:
    days = pd.to_datetime(daily["usage_date"]).dt.date
    rows = daily[(days >= start) & (days <= end)]
    if consumers:
        rows = rows[rows["consumer"].isin(consumers)]
    tagged = rows[rows["consumer"].notna() & (rows["consumer"] != "")]
    out = {}
    for (month, consumer), group in tagged.groupby([pd.to_datetime(tagged["usage_month"]).dt.date, "consumer"]):
        out[(month, consumer)] = sum(group["unblended_cost"], Decimal(0))
    return out


@pytest.mark.parametrize(
    "start, end, consumers",
    [
        (date(2025, 1, 1), date(2025, 4, 30), ()),  # whole months only: all from costs_monthly
        (date(2025, 1, 10), date(2025, 3, 14), ()),  # January cut (its 15th inside), February whole, March cut (15th outside)
        (date(2025, 2, 15), date(2025, 2, 15), ("oncology-research",)),  # one day, one consumer
    ],
)
def test_billed_spend_per_month_matches_the_daily_rows(fixture_con, fixture_tables, start, end, consumers):
    result = queries.monthly_billed_spend(fixture_con, Filters(start, end, consumers=consumers))
    got = {(r["month"], r["consumer"]): r["unblended_cost"] for r in result.to_dict("records")}
    want = expected(fixture_tables["costs_daily"], start, end, consumers)
    assert got == want and len(want) > 0
    days = pd.to_datetime(fixture_tables["costs_daily"]["usage_date"]).dt.date
    inside = days[(days >= start) & (days <= end)]
    assert (result["first_day"].iloc[0], result["last_day"].iloc[0]) == (inside.min(), inside.max())
