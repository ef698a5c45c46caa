"""What-if repricing keeps only the Spot points it needs, and prices exactly as with every point."""

from datetime import date, datetime, timedelta
from decimal import Decimal as D

import pandas as pd

from pricing import whatif
from pricing.engine import Rules, price_launches
from pricing.inputs import book_from, launches_from, resources_from
from queries import pricing as pricing_queries
from queries.filters import Filters

ALL = Filters(date(2025, 1, 1), date(2025, 4, 30))


def _engine_total(consumed: pd.DataFrame, prices: pd.DataFrame, rules: Rules) -> D:
    rows = consumed.drop_duplicates("launch_id").assign(ended_at=lambda f: f["launch_ended_at"])
    priced = price_launches(launches_from(rows), resources_from(consumed), book_from(prices), rules)
    return sum((c.total_cost for c in priced.values()), D(0))


def test_repricing_with_no_change_is_the_engine_with_every_price_point(fixture_con):
    consumed = pricing_queries.whatif_resources(fixture_con, ALL, limit=2000)
    prices = pricing_queries.price_points(fixture_con)
    assert (prices["purchase_option"] == "Spot").sum() >= 4 and (consumed["purchase_option"] == "Spot").any()
    same = whatif.reprice(consumed, prices, Rules(), purchase_option=None)
    assert same.unpriced == 0 and same.difference == 0
    assert same.current == _engine_total(consumed, prices, Rules())


def test_spot_points_outside_the_window_are_dropped_but_the_edges_kept():
    t0 = datetime(2025, 3, 1)
    resources = pd.DataFrame(
        {
            "region": ["us-east-1"],
            "availability_zone": ["us-east-1a"],
            "started_at": [t0 + timedelta(days=2)],
            "ended_at": [t0 + timedelta(days=3)],
        }
    )
    days = [0, 1, 2.5, 4, 5]  # two before the run, one inside, two after
    prices = pd.DataFrame(
        {
            "region": "us-east-1",
            "availability_zone": "us-east-1a",
            "resource_kind": "instance",
            "resource_type": "r6i.4xlarge",
            "purchase_option": "Spot",
            "charge": "usage",
            "price": [D("0.30"), D("0.31"), D("0.32"), D("0.33"), D("0.34")],
            "effective_from": [t0 + timedelta(days=d) for d in days],
        }
    )
    kept = whatif._prices_for(resources, prices, {"r6i.4xlarge"})
    assert sorted(kept["price"]) == [D("0.31"), D("0.32"), D("0.33")]
