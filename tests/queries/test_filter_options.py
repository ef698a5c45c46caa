"""Filter options: what the sidebar offers, from the whole warehouse."""

from datetime import date

import queries
from warehouse.store import connect


def test_options_list_every_value_once(fixture_con, launches_csv):
    options = queries.filter_options(fixture_con)
    assert options.consumers == tuple(sorted(launches_csv["consumer"].unique()))
    assert options.workflow_types == tuple(sorted(launches_csv["workflow_type"].unique()))
    assert options.platforms == ("Batch", "EC2", "EKS", "OnPremHPC", "ParallelCluster")
    assert options.statuses == ("RUNNING", "COMPLETE", "FAILED")  # lifecycle order, not alphabetical
    assert options.currencies == ("USD",)
    assert (options.first_day, options.last_day) == (date(2025, 1, 6), date(2025, 4, 28))
    assert options.launches == len(launches_csv) == 43


def test_all_time_covers_every_launch(fixture_con):
    everything = queries.filter_options(fixture_con).all_time()
    assert queries.overview(fixture_con, everything).loc["current", "launches"] == 43


def test_an_empty_warehouse(empty_data_dir):
    con = connect(empty_data_dir)
    options = queries.filter_options(con)
    assert options.is_empty and options.consumers == () and options.first_day is None
    assert queries.launch_cost_by_consumer_month(con, options.all_time()).empty
