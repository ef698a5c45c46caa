"""Instance types page: cost per launch by type and purchase option; Spot vs On-Demand."""

from decimal import ROUND_HALF_EVEN, Decimal

from tests.dashboard.conftest import EVERY_LAUNCH


def test_key_figures_and_tables(open_page, read_metrics, read_table, launches_csv):
    at = open_page("instance_types", query_params=EVERY_LAUNCH)
    with_instances = launches_csv[launches_csv["primary_instance_type"].notna()]
    shown = read_metrics(at)
    assert shown["Instance types"][0] == str(with_instances["primary_instance_type"].nunique())
    assert shown["Launches on EC2 instances"][0] == str(len(with_instances))
    assert shown["Instance-hours"][0] == f"{with_instances['instance_hours'].sum():,.2f} h"

    table = read_table(at, "instance_table").set_index(["instance_type", "purchase_option"])
    group = with_instances[
        (with_instances["primary_instance_type"] == "r6i.4xlarge") & (with_instances["primary_purchase_option"] == "On-Demand")
    ]
    median = Decimal(str(group["total_cost"].dropna().map(float).median()))
    assert table.loc[("r6i.4xlarge", "On-Demand"), "median_cost_per_launch"] == median.quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    assert table.loc[("r6i.4xlarge", "On-Demand"), "launches"] == len(group)

    spot = read_table(at, "spot_table")
    assert list(spot["instance_type"]) == ["c6i.8xlarge", "r6i.4xlarge", "r6i.8xlarge"]


def test_no_type_bought_both_ways_says_so(open_page):
    at = open_page("instance_types", query_params={"platform": "ParallelCluster"})
    assert [i.value for i in at.info] == ["No instance type in this selection was launched both as Spot and as On-Demand."]
