"""A new ingest shows up on the next page run, without restarting the dashboard."""

from tests.dashboard.conftest import EVERY_LAUNCH
from warehouse.store import WarehouseWriter, warehouse_version


def test_the_next_run_after_an_ingest_commit_reads_the_new_data(open_page, read_metrics, fresh_data_dir):
    at = open_page("overview", data_dir=fresh_data_dir, query_params=EVERY_LAUNCH)
    assert read_metrics(at)["Launches"][0] == "43"
    before = warehouse_version(fresh_data_dir)

    # a later ingest rewrites April without rare-disease's three launches
    with WarehouseWriter(fresh_data_dir, run_id="later") as writer:
        writer.write_partitions(
            "launches", "SELECT * FROM launches WHERE launch_month = DATE '2025-04-01' AND consumer <> 'rare-disease'"
        )
        writer.commit()
    assert warehouse_version(fresh_data_dir) != before

    at.run()
    assert read_metrics(at)["Launches"][0] == "40"
