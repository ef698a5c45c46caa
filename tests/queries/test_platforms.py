"""Platforms: the same workflow type across compute platforms."""

from datetime import date

import pytest

import queries
from queries import Filters

ALL = Filters(date(2025, 1, 1), date(2025, 4, 30))


def test_per_workflow_type_and_platform(fixture_con, select_launches):
    result = queries.platforms(fixture_con, ALL)
    groups = dict(list(select_launches(ALL).groupby(["workflow_type", "compute_platform"])))
    assert set(zip(result["workflow_type"], result["compute_platform"], strict=True)) == set(groups)
    for line in result.to_dict("records"):
        group = groups[(line["workflow_type"], line["compute_platform"])]
        cost = group["total_cost"].dropna().map(float)
        ended = group[group["ended_at"].notna()]
        assert line["launches"] == len(group)
        assert line["ended_launches"] == len(ended)
        assert line["failed_launches"] == (group["status"] == "FAILED").sum()
        assert line["failure_rate"] == pytest.approx((ended["status"] == "FAILED").mean())
        for column, q in (("p25_cost_per_launch", 0.25), ("median_cost_per_launch", 0.5), ("p75_cost_per_launch", 0.75)):
            assert float(line[column]) == pytest.approx(cost.quantile(q), abs=1e-6)
        for column, q in (("p25_hours", 0.25), ("median_hours", 0.5), ("p75_hours", 0.75)):
            assert line[column] == pytest.approx(ended["total_hours"].quantile(q))


def test_failure_rate_example(fixture_con):
    result = queries.platforms(fixture_con, ALL).set_index(["workflow_type", "compute_platform"])
    batch = result.loc[("snakemake-variant-calling", "Batch")]
    assert (batch["launches"], batch["ended_launches"], batch["failed_launches"]) == (4, 4, 2)
    assert batch["failure_rate"] == 0.5
