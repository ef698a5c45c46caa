"""The audit trail: events appended without the warehouse lock, merged into audit_events by month, never lost."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pandas as pd
import pytest

import queries
from core.access import EVERYONE, Reader
from warehouse import audit
from warehouse.store import WarehouseWriter, connect, read_manifest


def events_in_table(data_dir) -> pd.DataFrame:
    con = connect(data_dir)
    try:
        return queries.audit_events(con, limit=10_000)
    finally:
        con.close()


def test_an_event_waits_in_its_own_file_until_merged_then_lives_in_its_months_partition(fresh_data_dir):
    march = audit.record(fresh_data_dir, actor="fin@example.org", role="finance", action="close-month", subject="2025-03",
                         at=datetime(2025, 4, 2, 9, 30, tzinfo=UTC))  # fmt: skip
    april = audit.record(fresh_data_dir, actor="ana@example.org", role="viewer", action="download",
                         subject="chargeback_2025-03.pdf", consumers="oncology-research",
                         at=datetime(2025, 5, 1, 8, 0, tzinfo=UTC))  # fmt: skip
    assert [e["event_id"] for e in audit.pending_events(fresh_data_dir)] == [march["event_id"], april["event_id"]]
    assert events_in_table(fresh_data_dir).empty
    assert audit.merge(fresh_data_dir) == 2
    assert audit.pending_events(fresh_data_dir) == []
    table = events_in_table(fresh_data_dir)
    assert list(table["event_id"]) == [april["event_id"], march["event_id"]]  # newest first
    assert list(table["action"]) == ["download", "close-month"] and table.loc[0, "consumers"] == "oncology-research"
    assert sorted(read_manifest(fresh_data_dir)["tables"]["audit_events"]) == ["2025-04", "2025-05"]
    con = connect(fresh_data_dir)
    runs = con.sql("SELECT command, records_loaded FROM job_runs WHERE command = 'audit-merge'").fetchall()
    con.close()
    assert runs == [("audit-merge", 2)]  # the merge is a recorded run like any other writer


def test_a_busy_warehouse_leaves_the_events_pending_and_nobody_waits(fresh_data_dir):
    event = audit.record(fresh_data_dir, actor="fin@example.org", action="sign-in")
    with WarehouseWriter(fresh_data_dir, "a-long-ingest"):
        started = time.monotonic()
        assert audit.merge(fresh_data_dir) == 0
        assert time.monotonic() - started < 5  # a short retry, then it gives up
        audit.record(fresh_data_dir, actor="ana@example.org", action="sign-in")  # appending never needs the lock
    assert [e["event_id"] for e in audit.pending_events(fresh_data_dir)][0] == event["event_id"]
    assert audit.merge(fresh_data_dir) == 2
    assert len(events_in_table(fresh_data_dir)) == 2


def test_merging_twice_never_duplicates_an_event(fresh_data_dir):
    audit.record(fresh_data_dir, actor="fin@example.org", action="sign-in")
    (left,) = list(audit.pending_dir(fresh_data_dir).glob("*.json"))
    saved = left.read_text()
    assert audit.merge(fresh_data_dir) == 1
    left.write_text(saved)  # as if the merge died after its commit, before deleting the file
    assert audit.merge(fresh_data_dir) == 0
    assert len(events_in_table(fresh_data_dir)) == 1 and not audit.pending_events(fresh_data_dir)


def test_many_sessions_append_at_once_and_every_event_arrives(fresh_data_dir):
    def session(n: int) -> None:
        for i in range(25):
            audit.record(fresh_data_dir, actor=f"user{n}@example.org", action="download", subject=f"file-{n}-{i}.csv")

    threads = [threading.Thread(target=session, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(audit.pending_events(fresh_data_dir)) == 200
    assert audit.merge_due(fresh_data_dir)  # 200 waiting: worth a commit
    assert audit.merge(fresh_data_dir) == 200
    table = events_in_table(fresh_data_dir)
    assert table["event_id"].is_unique and len(table) == 200


def test_a_merge_is_due_by_age_or_number_only(fresh_data_dir):
    assert not audit.merge_due(fresh_data_dir)
    audit.record(fresh_data_dir, actor="a@example.org", action="sign-in")
    assert not audit.merge_due(fresh_data_dir)
    assert audit.merge_due(fresh_data_dir, now=time.time() + audit.MERGE_AFTER_SECONDS + 1)


def test_an_unknown_action_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record(tmp_path, actor="a", action="drop-table")


def test_the_trail_is_for_readers_of_every_consumer_only(fresh_data_dir):
    audit.record(fresh_data_dir, actor="fin@example.org", action="sign-in")
    audit.merge(fresh_data_dir)
    con = connect(fresh_data_dir)
    assert len(queries.audit_events(con, reader=EVERYONE)) == 1
    assert len(queries.audit_events(con, reader=Reader(consumers=None, admin=False))) == 1
    assert queries.audit_events(con, reader=Reader(consumers=("oncology-research",), admin=False)).empty
    con.close()


def test_the_dashboard_shows_merged_and_waiting_events_together(fresh_data_dir, monkeypatch):
    from dashboard import data

    monkeypatch.setenv("LAUNCH_LEDGER_DATA_DIR", str(fresh_data_dir))
    monkeypatch.delenv("LAUNCH_LEDGER_CONFIG", raising=False)
    first = audit.record(fresh_data_dir, actor="fin@example.org", action="sign-in", at=datetime(2025, 4, 1, tzinfo=UTC))
    audit.merge(fresh_data_dir)
    second = audit.record(fresh_data_dir, actor="ana@example.org", action="sign-in")
    data._fetch.clear()
    trail = data.audit_trail()
    assert list(trail["event_id"]) == [second["event_id"], first["event_id"]]


def test_every_cli_job_that_commits_merges_the_waiting_events(fresh_data_dir, capsys):
    from ingest.__main__ import main

    march = audit.record(fresh_data_dir, actor="fin@example.org", action="close-month", subject="2025-03",
                         at=datetime(2025, 4, 2, 9, 30, tzinfo=UTC))  # fmt: skip
    may = audit.record(fresh_data_dir, actor="ana@example.org", action="sign-in", at=datetime(2025, 5, 1, 8, 0, tzinfo=UTC))
    assert main(["price-launches", "--data-dir", str(fresh_data_dir)]) == 0
    assert audit.pending_events(fresh_data_dir) == [] and not list(audit.pending_dir(fresh_data_dir).glob("*.json"))
    assert sorted(events_in_table(fresh_data_dir)["event_id"]) == sorted([march["event_id"], may["event_id"]])
    con = connect(fresh_data_dir)
    commands = [c for (c,) in con.sql("SELECT command FROM job_runs ORDER BY started_at").fetchall()]
    con.close()
    assert "audit-merge" not in commands and commands[-1] == "price-launches"  # merged in the job's own commit
    # a second job finds nothing waiting and merges nothing twice
    assert main(["price-launches", "--data-dir", str(fresh_data_dir)]) == 0
    assert len(events_in_table(fresh_data_dir)) == 2


def test_a_job_that_fails_leaves_the_events_waiting(fresh_data_dir):
    from warehouse.runs import job_run

    event = audit.record(fresh_data_dir, actor="fin@example.org", action="sign-in")
    with pytest.raises(RuntimeError, match="disk full"), job_run(fresh_data_dir, "prices", "price-list-api"):
        raise RuntimeError("disk full")
    assert [e["event_id"] for e in audit.pending_events(fresh_data_dir)] == [event["event_id"]]
    assert events_in_table(fresh_data_dir).empty
    assert audit.merge(fresh_data_dir) == 1 and audit.pending_events(fresh_data_dir) == []
