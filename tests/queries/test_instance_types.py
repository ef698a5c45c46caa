"""Instance types and purchase options; Spot vs On-Demand side by side."""

from datetime import date
from decimal import Decimal

import pytest

import queries
from queries import Filters

ALL = Filters(date(2025, 1, 1), date(2025, 4, 30))
TOL = 1e-6


def floats(values):
    return values.dropna().map(float)


def test_per_instance_type_and_purchase_option(fixture_con, select_launches):
    result = queries.instance_types(fixture_con, ALL)
    rows = select_launches(ALL)
    rows = rows[rows["primary_instance_type"].notna()]
    groups = dict(list(rows.groupby(["primary_instance_type", "primary_purchase_option"])))
    assert set(zip(result["instance_type"], result["purchase_option"], strict=True)) == set(groups)
    for line in result.to_dict("records"):
        group = groups[(line["instance_type"], line["purchase_option"])]
        priced = group[group["total_cost"].notna()]
        cost = floats(priced["total_cost"])
        assert line["launches"] == len(group)
        assert line["priced_launches"] == len(priced)
        assert float(line["p25_cost_per_launch"]) == pytest.approx(cost.quantile(0.25), abs=TOL)
        assert float(line["median_cost_per_launch"]) == pytest.approx(cost.median(), abs=TOL)
        assert float(line["p75_cost_per_launch"]) == pytest.approx(cost.quantile(0.75), abs=TOL)
        assert line["median_hours"] == pytest.approx(group["total_hours"].median())
        assert line["instance_hours"] == pytest.approx(group["instance_hours"].sum())
        per_hour = sum(priced["instance_cost"], Decimal(0)) / Decimal(str(priced["instance_hours"].sum()))
        assert float(line["cost_per_instance_hour"]) == pytest.approx(float(per_hour), abs=TOL)


def test_launches_without_instances_are_left_out(fixture_con):
    # still-running launches have no resources yet, like a launch that failed while queued
    assert queries.instance_types(fixture_con, Filters(ALL.start, ALL.end, statuses=("RUNNING",))).empty
    everything = queries.instance_types(fixture_con, ALL)
    assert everything["launches"].sum() == 43 - 3


def test_on_premises_nodes_are_compared_at_their_rate_card(fixture_con):
    result = queries.instance_types(fixture_con, Filters(ALL.start, ALL.end, platforms=("OnPremHPC",)))
    assert list(zip(result["instance_type"], result["purchase_option"], strict=True)) == [("onprem-node", "Reserved")]
    assert result.loc[0, "cost_per_instance_hour"] == Decimal("1.500000")


def test_spot_vs_on_demand_lists_only_types_bought_both_ways(fixture_con, select_launches):
    result = queries.spot_vs_on_demand(fixture_con, ALL)
    rows = select_launches(ALL)
    options = rows.groupby("primary_instance_type")["primary_purchase_option"].agg(set)
    both = sorted(t for t, o in options.items() if {"Spot", "On-Demand"} <= o)
    assert list(result["instance_type"]) == both == ["c6i.8xlarge", "r6i.4xlarge", "r6i.8xlarge"]
    for line in result.to_dict("records"):
        of_type = rows[rows["primary_instance_type"] == line["instance_type"]]
        for option, prefix in (("Spot", "spot"), ("On-Demand", "on_demand")):
            group = of_type[of_type["primary_purchase_option"] == option]
            priced = group[group["total_cost"].notna()]
            assert line[f"{prefix}_launches"] == len(group)
            assert float(line[f"{prefix}_median_cost_per_launch"]) == pytest.approx(
                floats(priced["total_cost"]).median(), abs=TOL
            )
            assert line[f"{prefix}_median_hours"] == pytest.approx(group["total_hours"].median())
            per_hour = float(sum(priced["instance_cost"], Decimal(0))) / priced["instance_hours"].sum()
            assert float(line[f"{prefix}_cost_per_instance_hour"]) == pytest.approx(per_hour, abs=TOL)
        saving = 1 - float(line["spot_cost_per_instance_hour"]) / float(line["on_demand_cost_per_instance_hour"])
        assert line["spot_saving_per_instance_hour"] == pytest.approx(saving)


def test_a_filter_can_leave_no_type_bought_both_ways(fixture_con):
    assert queries.spot_vs_on_demand(fixture_con, Filters(ALL.start, ALL.end, platforms=("ParallelCluster",))).empty
