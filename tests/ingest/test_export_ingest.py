"""Loading launch items from DynamoDB export files: validation, quarantine, idempotence, atomicity."""

import gzip
import json
from decimal import Decimal

import pytest

from ingest.__main__ import main
from ingest.dynamodb import items as launches_module
from warehouse.store import connect, read_manifest


def _rows(data_dir, sql):
    return connect(data_dir).execute(sql).fetchall()


def test_good_items_load_with_exact_money_and_phases(tmp_path, items_file, capsys):
    assert main(["dynamodb-export", str(items_file), "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "records read         10" in out and "quarantined          6" in out

    rows = _rows(
        tmp_path,
        "SELECT launch_id, status, total_cost, instance_cost, volume_cost, filesystem_cost, "
        "control_plane_cost, price_source FROM launches ORDER BY launch_id",
    )
    assert [r[0] for r in rows] == ["wl-a1", "wl-a2", "wl-a3", "wl-a4"]
    a1, a2, a3, a4 = rows
    assert a1[2:] == (Decimal("12.3456"), Decimal("10"), Decimal("0.3456"), Decimal("2"), Decimal("0"), "item")
    # EKS: totalCost 2.05 minus the parts 1.90 leaves the control plane share
    assert a2[6] == Decimal("0.15") and a2[7] == "item"
    assert a3[2] is None and a3[7] == "pending"  # COMPLETE without a price yet
    assert a4[1] == "RUNNING" and a4[7] == "pending"

    (phases,) = _rows(
        tmp_path,
        "SELECT preparing_hours, waiting_hours, queued_hours, running_hours, total_hours, "
        "instance_count, instance_hours, primary_instance_type, primary_purchase_option "
        "FROM launches WHERE launch_id = 'wl-a1'",
    )
    # 10:00 → 10:06 → 10:30 → 11:00 → 15:00; 4 × r6i.4xlarge Spot for 4 h + 1 × c6i.2xlarge for 2 h
    assert phases == pytest.approx((0.1, 0.4, 0.5, 4.0, 5.0, 5, 18.0, "r6i.4xlarge", "Spot"))
    # epoch-second timestamps parse too: wl-a2 ran 1741086000 → 1741093200 = 2 h
    assert _rows(tmp_path, "SELECT running_hours, failed_at FROM launches WHERE launch_id = 'wl-a2'")[0][0] == 2.0


def test_resources_are_one_row_each(tmp_path, items_file):
    main(["dynamodb-export", str(items_file), "--data-dir", str(tmp_path)])
    rows = _rows(
        tmp_path,
        "SELECT kind, resource_type, family, size, purchase_option, count, size_gb, hours "
        "FROM launch_resources WHERE launch_id = 'wl-a1' ORDER BY resource_index",
    )
    assert rows == [
        ("instance", "r6i.4xlarge", "r6i", "4xlarge", "Spot", 4, None, 4.0),
        ("instance", "c6i.2xlarge", "c6i", "2xlarge", "On-Demand", 1, None, 2.0),
        ("volume", "gp3", "gp3", None, None, 4, 500.0, 4.0),
        ("filesystem", "PERSISTENT_2", "fsx-lustre", None, None, 1, 1200.0, 4.5),
    ]
    assert _rows(tmp_path, "SELECT kind, resource_id FROM launch_resources WHERE launch_id = 'wl-a2' AND kind = 'cluster'") == [
        ("cluster", "genomics-eks")
    ]


def test_bad_records_are_quarantined_with_reasons(tmp_path, items_file):
    main(["dynamodb-export", str(items_file), "--data-dir", str(tmp_path)])
    reasons = dict(_rows(tmp_path, "SELECT coalesce(record_key, '?'), reason FROM quarantine"))
    assert reasons["?"].startswith("missing launch_id")
    assert reasons["wl-bad-ts"].startswith("unparseable timestamp")
    assert reasons["wl-bad-cost"] == 'totalCost is not a number: "n/a"'
    assert reasons["wl-bad-status"].startswith('unknown status "CANCELLED_BY_USER"')
    assert reasons["wl-bad-order"].startswith("status times out of order")
    assert reasons["wl-bad-duration"].startswith("negative duration")
    raw = json.loads(_rows(tmp_path, "SELECT raw_record FROM quarantine WHERE record_key = 'wl-bad-cost'")[0][0])
    assert raw["totalCost"]["S"] == "n/a"


def test_same_input_twice_changes_nothing(tmp_path, items_file, capsys):
    main(["dynamodb-export", str(items_file), "--data-dir", str(tmp_path)])
    before = read_manifest(tmp_path)["tables"]
    capsys.readouterr()
    main(["dynamodb-export", str(items_file), "--data-dir", str(tmp_path)])
    out = capsys.readouterr().out  # the file is recognised by its fingerprint and not read at all
    assert "unchanged            10" in out and "1 export file(s) unchanged since they were loaded: skipped" in out
    main(["dynamodb-export", str(items_file), "--data-dir", str(tmp_path), "--full"])
    out = capsys.readouterr().out  # read again in full: every launch is recognised by its row fingerprint
    assert "loaded (new/changed) 0" in out and "unchanged            4" in out
    after = read_manifest(tmp_path)["tables"]
    assert after["launches"] == before["launches"] and after["launch_resources"] == before["launch_resources"]
    assert _rows(tmp_path, "SELECT count(*) FROM job_runs") == [(3,)]


def test_updated_item_replaces_its_row(tmp_path, items_file, fixture_items):
    main(["dynamodb-export", str(items_file), "--data-dir", str(tmp_path)])
    priced = dict(fixture_items[2])  # wl-a3 gets its price
    priced.update(totalCost={"S": "0.2000"}, instance_cost={"S": "0.2000"})
    update = tmp_path / "update.json.gz"
    with gzip.open(update, "wt") as fh:
        fh.write(json.dumps({"Item": priced}) + "\n")
    main(["dynamodb-export", str(update), "--data-dir", str(tmp_path)])
    assert _rows(tmp_path, "SELECT count(*), count(DISTINCT launch_id) FROM launches") == [(4, 4)]
    assert _rows(tmp_path, "SELECT total_cost, price_source FROM launches WHERE launch_id = 'wl-a3'") == [
        (Decimal("0.2"), "item")
    ]
    assert _rows(tmp_path, "SELECT count(*) FROM launch_resources WHERE launch_id = 'wl-a3'") == [(1,)]


def test_provisioned_iops_and_throughput_are_read_from_volumes(tmp_path, items_file, fixture_items):
    main(["dynamodb-export", str(items_file), "--data-dir", str(tmp_path)])
    item = dict(fixture_items[2])  # wl-a3, re-sent with two provisioned volumes
    start, end = {"S": "2026-10-01T10:00:00Z"}, {"S": "2026-10-01T12:00:00Z"}
    item["resources"] = {
        "M": {
            "volumes": {
                "L": [
                    {
                        "M": {
                            "volume_type": {"S": "gp3"},
                            "size_gb": {"N": "500"},
                            "count": {"N": "2"},
                            "iops": {"N": "6000"},
                            "throughput": {"N": "250"},
                            "start": start,
                            "end": end,
                        }
                    },
                    {
                        "M": {
                            "volume_type": {"S": "io2"},
                            "size_gb": {"N": "100"},
                            "iops": {"N": "16000"},
                            "start": start,
                            "end": end,
                        }
                    },
                ]
            }
        }
    }
    update = tmp_path / "update.json.gz"
    with gzip.open(update, "wt") as fh:
        fh.write(json.dumps({"Item": item}) + "\n")
    main(["dynamodb-export", str(update), "--data-dir", str(tmp_path)])
    rows = _rows(
        tmp_path,
        "SELECT resource_type, count, size_gb, iops, throughput_mibps FROM launch_resources "
        "WHERE launch_id = 'wl-a3' ORDER BY resource_index",
    )
    assert rows == [("gp3", 2, 500.0, 6000, 250), ("io2", 1, 100.0, 16000, None)]
    # volumes that do not say (the fixture's wl-a1 gp3) keep NULL: the free gp3 baseline applies
    assert _rows(
        tmp_path, "SELECT iops, throughput_mibps FROM launch_resources WHERE launch_id = 'wl-a1' AND kind = 'volume'"
    ) == [(None, None)]


def _running_version(item: dict) -> dict:
    """The same launch as the workflow manager saw it mid-run: RUNNING, one instance, no price."""
    running = {k: v for k, v in item.items() if k not in ("totalCost", "instance_cost", "volume_cost", "filesystem_cost")}
    times = dict(item["status_times"]["M"])
    times.pop("COMPLETE", None)
    running.update(status={"S": "RUNNING"}, status_times={"M": times})
    running["resources"] = {"M": {"instances": {"L": item["resources"]["M"]["instances"]["L"][:1]}}}
    return running


def test_a_launch_seen_twice_in_one_input_keeps_its_latest_state_and_only_its_resources(tmp_path, fixture_items):
    a1, a2 = fixture_items[0], fixture_items[1]
    export = tmp_path / "export"
    export.mkdir()
    files = {  # read two files at a time: wl-a1 twice in one batch, wl-a2 in two batches
        "0-first.json.gz": [_running_version(a1), a1, _running_version(a2)],
        "1-second.json.gz": [],
        "2-third.json.gz": [a2],
    }
    for name, items in files.items():
        with gzip.open(export / name, "wt") as fh:
            fh.writelines(json.dumps({"Item": item}) + "\n" for item in items)
    assert main(["dynamodb-export", str(export), "--data-dir", str(tmp_path / "data")]) == 0
    data = tmp_path / "data"
    assert _rows(data, "SELECT launch_id, status, total_cost FROM launches ORDER BY launch_id") == [
        ("wl-a1", "COMPLETE", Decimal("12.3456")),
        ("wl-a2", "FAILED", Decimal("2.05")),
    ]
    # the COMPLETE items' resources only: wl-a1 has 2 instances + volume + file system, wl-a2 instance + cluster
    assert _rows(data, "SELECT launch_id, count(*) FROM launch_resources GROUP BY 1 ORDER BY 1") == [("wl-a1", 4), ("wl-a2", 2)]


def test_malformed_lines_are_quarantined_and_the_rest_loads(tmp_path, items_file):
    broken = tmp_path / "broken.json"
    lines = items_file.read_text().splitlines()
    broken.write_text("\n".join([lines[0], "{not json", '{"Item": {"launch_id": {"L": "oops"}}}', lines[1]]) + "\n")
    assert main(["dynamodb-export", str(broken), "--data-dir", str(tmp_path / "wh")]) == 0
    assert _rows(tmp_path / "wh", "SELECT launch_id FROM launches ORDER BY 1") == [("wl-a1",), ("wl-a2",)]
    reasons = [r for (r,) in _rows(tmp_path / "wh", "SELECT reason FROM quarantine ORDER BY reason")]
    assert any("line 2 is not valid JSON" in r for r in reasons)


def test_a_file_the_fast_parser_refuses_is_read_again_whole(tmp_path, fixture_items):
    """pyarrow's JSON reader wants one JSON type per field; a number where DynamoDB JSON has a string
    sends the file to DuckDB's reader, which takes it as text: every item loads, nothing is lost."""
    odd = dict(fixture_items[0], sample_count={"N": 12}, notes={"BOOL": True})  # N as a JSON number; an unknown attribute
    path = tmp_path / "odd.json.gz"
    with gzip.open(path, "wt") as fh:
        fh.writelines(json.dumps({"Item": item}) + "\n" for item in (fixture_items[1], odd))
    assert main(["dynamodb-export", str(path), "--data-dir", str(tmp_path / "wh")]) == 0
    assert _rows(tmp_path / "wh", "SELECT launch_id, sample_count FROM launches ORDER BY 1") == [("wl-a1", 12), ("wl-a2", None)]
    assert _rows(tmp_path / "wh", "SELECT count(*) FROM quarantine") == [(0,)]


def test_the_arrow_and_duckdb_readers_load_the_same_rows(tmp_path, items_file, monkeypatch):
    """Small files are parsed by pyarrow, large ones by DuckDB's read_json: the warehouse cannot tell which."""
    everything = "SELECT * EXCLUDE (ingest_run_id) FROM {} ORDER BY ALL"
    main(["dynamodb-export", str(items_file), "--data-dir", str(tmp_path / "arrow")])
    monkeypatch.setattr(launches_module, "_ARROW_MAX_BYTES", 0)  # every file counts as large
    main(["dynamodb-export", str(items_file), "--data-dir", str(tmp_path / "duckdb")])
    for table in ("launches", "launch_resources"):
        rows = _rows(tmp_path / "arrow", everything.format(table))
        assert len(rows) > 3 and rows == _rows(tmp_path / "duckdb", everything.format(table))
    reasons = "SELECT record_key, reason, raw_record FROM quarantine ORDER BY ALL"
    assert _rows(tmp_path / "arrow", reasons) == _rows(tmp_path / "duckdb", reasons)


def test_a_run_that_dies_leaves_the_warehouse_whole(tmp_path, items_file, monkeypatch, capsys):
    main(["dynamodb-export", str(items_file), "--data-dir", str(tmp_path)])
    before = read_manifest(tmp_path)["tables"]["launches"]

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(launches_module, "merge_launches", explode)
    monkeypatch.setattr("ingest.dynamodb.jobs.merge_launches", explode)
    with pytest.raises(RuntimeError):
        main(["dynamodb-export", str(items_file), "--data-dir", str(tmp_path)])
    assert read_manifest(tmp_path)["tables"]["launches"] == before
    assert _rows(tmp_path, "SELECT outcome, message FROM job_runs ORDER BY started_at DESC LIMIT 1") == [("failed", "disk full")]
    assert _rows(tmp_path, "SELECT count(*) FROM launches") == [(4,)]


def test_missing_path_is_one_clear_line(tmp_path, capsys):
    assert main(["dynamodb-export", str(tmp_path / "nope"), "--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("error: export path") and "does not exist" in err


def test_attribute_names_come_from_the_config(tmp_path, items_file):
    renamed = tmp_path / "renamed.json"
    text = items_file.read_text().replace('"consumer"', '"team"').replace('"totalCost"', '"total_price"')
    renamed.write_text(text)
    config = tmp_path / "ll.toml"
    config.write_text('[dynamodb.attributes]\nconsumer = "team"\ntotal_cost = "total_price"\n')
    main(["dynamodb-export", str(renamed), "--data-dir", str(tmp_path / "wh"), "--config", str(config)])
    assert _rows(tmp_path / "wh", "SELECT consumer, total_cost FROM launches WHERE launch_id = 'wl-a1'") == [
        ("oncology", Decimal("12.3456"))
    ]


def test_unknown_config_setting_is_reported(tmp_path, items_file, capsys):
    config = tmp_path / "ll.toml"
    config.write_text('[dynamodb.attributes]\ncustomer = "team"\n')
    assert main(["dynamodb-export", str(items_file), "--data-dir", str(tmp_path), "--config", str(config)]) == 1
    assert "unknown setting dynamodb.attributes.customer" in capsys.readouterr().err


def test_every_schema_table_has_a_partition_key():
    from warehouse.store import TABLES, schema_columns

    assert set(TABLES) == set(schema_columns())


def test_files_are_read_in_batches_of_a_bounded_size(tmp_path):
    sizes = {"a": 10, "b": 10, "c": 25, "d": 3, "e": 40}
    for name, size in sizes.items():
        (tmp_path / name).write_bytes(b"x" * size)
    files = [tmp_path / n for n in sizes]
    batches = [[f.name for f in b] for b in launches_module._batches(files, 24)]
    # consecutive, never over the budget unless one file alone is (then it is a batch of its own)
    assert batches == [["a", "b"], ["c"], ["d"], ["e"]]


def test_a_gzip_file_cut_short_loads_its_whole_lines_and_says_so(tmp_path, fixture_items):
    whole = gzip.compress("".join(json.dumps({"Item": item}) + "\n" for item in fixture_items[:2] * 200).encode())
    cut = tmp_path / "export" / "part.json.gz"
    cut.parent.mkdir()
    cut.write_bytes(whole[: len(whole) * 2 // 3])  # a download that stopped early
    assert main(["dynamodb-export", str(cut.parent), "--data-dir", str(tmp_path / "wh")]) == 0
    assert {r for (r,) in _rows(tmp_path / "wh", "SELECT launch_id FROM launches")} == {"wl-a1", "wl-a2"}
    reasons = [r for (r,) in _rows(tmp_path / "wh", "SELECT reason FROM quarantine")]
    cut_short = [r for r in reasons if r.startswith("file cut short after line ")]
    assert len(cut_short) == 1 and "export or download it again" in cut_short[0]
    assert all("not valid JSON" in r for r in reasons if r not in cut_short)  # at most the half line before the cut


def test_a_file_that_is_not_gzip_is_quarantined_as_unreadable(tmp_path, items_file):
    export = tmp_path / "export"
    export.mkdir()
    (export / "a-good.json.gz").write_bytes(gzip.compress(items_file.read_bytes()))
    (export / "b-garbage.json.gz").write_bytes(b"this is not gzip at all\n" * 10)
    assert main(["dynamodb-export", str(export), "--data-dir", str(tmp_path / "wh")]) == 0
    assert _rows(tmp_path / "wh", "SELECT count(*) FROM launches") == [(4,)]  # the good file's 4 good items
    reasons = [r for (r,) in _rows(tmp_path / "wh", "SELECT reason FROM quarantine WHERE source LIKE '%b-garbage%'")]
    assert len(reasons) == 1 and reasons[0].startswith("file unreadable: not a gzip file")
