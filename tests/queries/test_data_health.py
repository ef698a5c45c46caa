"""Data health: ingest runs, quarantined records and launches pending a price."""

from datetime import date

import queries
from queries import Filters

ALL = Filters(date(2025, 1, 1), date(2025, 4, 30))


def test_ingest_runs_latest_first(fixture_con, fixture_tables):
    runs = queries.job_runs(fixture_con)
    expected = fixture_tables["job_runs"].sort_values("started_at", ascending=False)
    assert list(runs["run_id"]) == list(expected["run_id"]) == ["ingest-2025-04-30", "ingest-2025-04-15"]
    assert list(runs["records_quarantined"]) == [2, 0]
    assert list(runs["duration_seconds"]) == [105, 150]
    assert list(queries.job_runs(fixture_con, limit=1)["run_id"]) == ["ingest-2025-04-30"]


def test_quarantine_reasons_with_counts(fixture_con, fixture_tables):
    reasons = queries.quarantine_reasons(fixture_con)
    expected = fixture_tables["quarantine"]["reason"].value_counts()
    assert dict(zip(reasons["reason"], reasons["records"], strict=True)) == expected.to_dict()
    assert reasons["records"].sum() == 2


def test_latest_quarantined_records_first(fixture_con):
    records = queries.quarantined_records(fixture_con)
    assert list(records["record_key"]) == ["wl-2025-9002", "wl-2025-9001"]
    assert records["raw_record"].str.startswith("{").all()
    assert list(queries.quarantined_records(fixture_con, limit=1)["record_key"]) == ["wl-2025-9002"]


def test_pending_prices_oldest_first_with_the_full_count(fixture_con, select_launches):
    pending = queries.pending_prices(fixture_con, ALL)
    rows = select_launches(ALL)
    expected = rows[rows["total_cost"].isna()].sort_values("launched_at")
    assert list(pending["launch_id"]) == list(expected["launch_id"])
    assert set(pending["pending_launches"]) == {len(expected)} == {4}
    oldest = queries.pending_prices(fixture_con, ALL, limit=2)
    assert list(oldest["launch_id"]) == list(expected["launch_id"][:2])
    assert set(oldest["pending_launches"]) == {4}, "the count covers every pending launch, not just those listed"


def test_pending_prices_follow_the_filters(fixture_con):
    ended_only = queries.pending_prices(fixture_con, Filters(ALL.start, ALL.end, statuses=("COMPLETE",)))
    assert list(ended_only["launch_id"]) == ["wl-2025-0038", "wl-2025-0039"]
    assert queries.pending_prices(fixture_con, Filters(date(2025, 1, 1), date(2025, 3, 31))).empty
