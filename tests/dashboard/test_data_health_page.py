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
