"""Chargeback lines: exact amounts per consumer and launch month, and every filter."""

from datetime import date
from decimal import Decimal

import pytest

import queries
from queries import Filters

ALL = Filters(date(2025, 1, 1), date(2025, 4, 30))
PARTS = ("instance_cost", "volume_cost", "filesystem_cost", "control_plane_cost")


def expected_lines(rows):
    out = {}
    for (consumer, month), group in rows.groupby(["consumer", "launch_month"]):
        priced = group[group["total_cost"].notna()]
        line = {
            "launches": len(group),
            "priced_launches": len(priced),
            "pending_launches": len(group) - len(priced),
            **{part: sum(priced[part], Decimal(0)) for part in (*PARTS, "total_cost")},
        }
        out[(consumer, month)] = line
    return out


def as_dict(result):
    return {(r["consumer"], r["launch_month"]): r for r in result.to_dict("records")}


def test_lines_match_the_launches_to_the_micro_cent(fixture_con, select_launches):
    result = queries.launch_cost_by_consumer_month(fixture_con, ALL)
    want = expected_lines(select_launches(ALL))
    got = as_dict(result)
    assert got.keys() == want.keys()
    assert len(result) == 16  # 4 consumers x 4 months
    for key, line in want.items():
        for column, value in line.items():
            assert got[key][column] == value, (key, column)


def test_parts_add_up_to_the_total_on_every_line(fixture_con):
    for line in queries.launch_cost_by_consumer_month(fixture_con, ALL).to_dict("records"):
        assert sum(line[p] for p in PARTS) == line["total_cost"]


def test_grand_total_is_exact(fixture_con, launches_csv):
    result = queries.launch_cost_by_consumer_month(fixture_con, ALL)
    assert sum(result["total_cost"], Decimal(0)) == sum(launches_csv["total_cost"].dropna(), Decimal(0)) == Decimal("1017.3977")


def test_cost_per_launch_is_over_priced_launches(fixture_con):
    line = as_dict(queries.launch_cost_by_consumer_month(fixture_con, ALL))[("neuro-genomics", date(2025, 4, 1))]
    assert line["launches"] == 3 and line["priced_launches"] == 2 and line["pending_launches"] == 1
    assert line["cost_per_launch"] == (line["total_cost"] / 2).quantize(Decimal("0.000001"))


@pytest.mark.parametrize(
    "filters",
    [
        Filters(date(2025, 1, 1), date(2025, 4, 30), consumers=("rare-disease",)),
        Filters(date(2025, 1, 1), date(2025, 4, 30), consumers=("rare-disease", "neuro-genomics")),
        Filters(date(2025, 1, 1), date(2025, 4, 30), workflow_types=("wdl-wgs-germline",)),
        Filters(date(2025, 1, 1), date(2025, 4, 30), platforms=("EKS", "OnPremHPC")),
        Filters(date(2025, 1, 1), date(2025, 4, 30), statuses=("FAILED",)),
        Filters(date(2025, 2, 1), date(2025, 3, 31), platforms=("Batch",), statuses=("COMPLETE",)),
    ],
    ids=["one-consumer", "two-consumers", "workflow-type", "platforms", "status", "combined"],
)
def test_each_filter_narrows_to_exactly_its_launches(fixture_con, select_launches, filters):
    rows = select_launches(filters)
    assert 0 < len(rows) < 43
    result = queries.launch_cost_by_consumer_month(fixture_con, filters)
    assert int(result["launches"].sum()) == len(rows)
    assert sum(result["total_cost"], Decimal(0)) == sum(rows["total_cost"].dropna(), Decimal(0))
    got = as_dict(result)
    for key, line in expected_lines(rows).items():
        assert got[key]["total_cost"] == line["total_cost"]


def test_the_period_includes_both_end_days_by_launch_start(fixture_con):
    march = as_dict(queries.launch_cost_by_consumer_month(fixture_con, Filters(date(2025, 3, 31), date(2025, 3, 31))))
    # wl-2025-0031 started 2025-03-31 23:45 UTC and ran into April: it belongs to March 31
    assert march == {("population-health", date(2025, 3, 1)): march[("population-health", date(2025, 3, 1))]}
    assert march[("population-health", date(2025, 3, 1))]["launches"] == 1
    april_first = queries.launch_cost_by_consumer_month(fixture_con, Filters(date(2025, 4, 1), date(2025, 4, 1)))
    assert list(april_first["consumer"]) == ["oncology-research"]


def test_an_empty_list_means_every_value(fixture_con):
    everything = queries.launch_cost_by_consumer_month(fixture_con, ALL)
    all_listed = queries.launch_cost_by_consumer_month(
        fixture_con,
        Filters(
            ALL.start,
            ALL.end,
            consumers=("neuro-genomics", "oncology-research", "population-health", "rare-disease"),
            platforms=("Batch", "EC2", "EKS", "OnPremHPC", "ParallelCluster"),
        ),
    )
    assert everything.equals(all_listed)


def test_a_value_no_launch_has_matches_nothing(fixture_con):
    assert queries.launch_cost_by_consumer_month(fixture_con, Filters(ALL.start, ALL.end, consumers=("nobody",))).empty
