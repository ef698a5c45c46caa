"""Data health page: ingest runs, launches pending a price, quarantined records."""


def test_runs_pending_prices_and_quarantine(open_page, read_metrics, read_table, fixture_tables):
    at = open_page("data_health")
    shown = read_metrics(at)
    assert shown["Last ingest"] == ("succeeded", "ended 2025-04-30 06:01 UTC")
    assert shown["Failed runs"][0] == "0"
    launches = fixture_tables["launches"]
    assert shown["Launches pending a price"][0] == str(launches["total_cost"].isna().sum()) == "4"
    assert shown["Quarantined records"][0] == str(len(fixture_tables["quarantine"])) == "2"

    runs = read_table(at, "health_runs")
    assert list(runs["run_id"]) == ["ingest-2025-04-30", "ingest-2025-04-15"]
    pending = read_table(at, "health_pending")
    oldest_first = launches[launches["total_cost"].isna()].sort_values("launched_at")["launch_id"]
    assert list(pending["launch_id"]) == list(oldest_first)
    reasons = read_table(at, "health_reasons")
    assert set(reasons["reason"]) == set(fixture_tables["quarantine"]["reason"])
    records = read_table(at, "health_records")
    assert list(records["record_key"]) == ["wl-2025-9002", "wl-2025-9001"]


def test_pending_prices_follow_the_sidebar(open_page, read_metrics, read_table):
    at = open_page("data_health", query_params={"status": "COMPLETE"})
    assert read_metrics(at)["Launches pending a price"][0] == "2"
    assert list(read_table(at, "health_pending")["launch_id"]) == ["wl-2025-0038", "wl-2025-0039"]


def test_failed_runs_count_runs_that_died_and_the_runs_show_rows_deleted(open_page, read_metrics, read_table, fresh_data_dir):
    from warehouse.store import WarehouseWriter

    later = [  # (run_id, outcome, records_deleted) written after the fixture's two succeeded runs
        ("ingest-2025-05-01", "failed", 0),
        ("ingest-2025-05-02", "died", None),  # found killed by the next run: its counts are unknown
        ("ingest-2025-05-03", "succeeded", 3),  # an incremental export that deleted 3 launches
    ]
    with WarehouseWriter(fresh_data_dir, run_id="later-runs") as w:
        for day, (run_id, outcome, deleted) in enumerate(later, start=1):
            w.write_partitions(
                "job_runs",
                "SELECT $id AS run_id, 'dynamodb-export' AS command, 's3://exports/' AS source, "
                "$at::TIMESTAMP AS started_at, $at::TIMESTAMP AS ended_at, 5 AS records_read, 0 AS records_loaded, "
                "0 AS records_unchanged, 0 AS records_quarantined, $deleted::BIGINT AS records_deleted, 0 AS api_requests, "
                "$outcome AS outcome, NULL AS message",
                {"id": run_id, "at": f"2025-05-0{day} 06:00:00", "deleted": deleted, "outcome": outcome},
            )
        w.commit()
    at = open_page("data_health", data_dir=fresh_data_dir)
    expected_failed = sum(outcome in ("failed", "died") for _, outcome, _ in later)
    assert read_metrics(at)["Failed runs"][0] == str(expected_failed) == "2"
    runs = read_table(at, "health_runs").set_index("run_id")
    assert runs.loc["ingest-2025-05-03", "records_deleted"] == 3
    assert runs.loc["ingest-2025-05-01", "records_deleted"] == 0
    assert runs.loc["ingest-2025-05-02", "outcome"] == "died"
