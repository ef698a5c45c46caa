"""What-if repricing: the same launches under another purchase option or instance family.

Frames in (``whatif_resources`` and ``price_points`` query results), figures out; both sides are
priced by the reference engine on the same set of launches, so only the change differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

from core.vocabulary import PURCHASE_OPTIONS  # noqa: F401  (the choices a what-if offers)
from pricing.engine import Rules, change, price_launches, what_if
from pricing.inputs import book_from, launches_from, resources_from

SCENARIOS = ("Spot to On-Demand", "Another instance family, same size", "Another purchase option")


@dataclass(frozen=True)
class WhatIf:
    launches: int  # launches priced on both sides
    unpriced: int  # launches left out: a price is missing on one side (e.g. the family is not in the price list)
    current: Decimal  # the launches as they ran, computed
    what_if: Decimal  # the same launches under the scenario
    difference: Decimal
    percent: Decimal | None  # difference in percent of current


def families(resources: pd.DataFrame) -> list[str]:
    types = resources.loc[resources["kind"] == "instance", "resource_type"].dropna()
    return sorted({t.split(".", 1)[0] for t in types if "." in t})


def price_families(prices: pd.DataFrame) -> list[str]:
    types = prices.loc[prices["resource_kind"] == "instance", "resource_type"].dropna()
    return sorted({t.split(".", 1)[0] for t in types if "." in t})


def reprice(
    resources: pd.DataFrame,
    prices: pd.DataFrame,
    rules: Rules,
    *,
    purchase_option: str | None = None,
    from_option: str | None = None,
    family: str | None = None,
    from_family: str | None = None,
) -> WhatIf:
    """Price the launches of ``resources`` as they ran and under the scenario; compare the totals."""
    launch_rows = resources.drop_duplicates("launch_id").rename(columns={"launch_ended_at": "ended_at_launch"})
    launch_rows = launch_rows.assign(ended_at=launch_rows["ended_at_launch"])
    launches = launches_from(launch_rows)
    res = resources_from(resources)
    changed = what_if(res, purchase_option=purchase_option, from_option=from_option, family=family, from_family=from_family)
    needed = {r.resource_type for r in res} | {r.resource_type for r in changed} | {"eks"}
    book = book_from(_prices_for(resources, prices, needed))
    now = price_launches(launches, res, book, rules)
    then = price_launches(launches, changed, book, rules)
    both = [lid for lid in now if now[lid].unpriced_resources == 0 and then[lid].unpriced_resources == 0]
    current = sum((now[lid].total_cost for lid in both), Decimal(0))
    after = sum((then[lid].total_cost for lid in both), Decimal(0))
    diff, pct = change(current, after)
    return WhatIf(len(both), len(now) - len(both), current, after, diff, pct)


_SPOT_KEY = ["region", "availability_zone", "resource_type"]


def _prices_for(resources: pd.DataFrame, prices: pd.DataFrame, types: set[str]) -> pd.DataFrame:
    """Only the prices these launches can use: a warehouse's Spot history can be long.

    Spot points are kept inside the launches' time window, plus the last one before it and the first
    after it per zone and type (the steps in force at its edges), so every interval prices the same.
    """
    wanted = prices[prices["resource_type"].isin(types) & prices["region"].isin(set(resources["region"].dropna()))]
    is_spot = wanted["purchase_option"] == "Spot"
    spot = wanted[is_spot & wanted["availability_zone"].isin(set(resources["availability_zone"].dropna()))]
    if spot.empty:
        return wanted[~is_spot]
    first, last = resources["started_at"].min(), resources["ended_at"].max()
    when = spot["effective_from"]
    inside = spot[(when >= first) & (when <= last)]
    before = spot[when < first].sort_values("effective_from").groupby(_SPOT_KEY, sort=False).tail(1)
    after = spot[when > last].sort_values("effective_from").groupby(_SPOT_KEY, sort=False).head(1)
    return pd.concat([wanted[~is_spot], before, inside, after], ignore_index=True)
