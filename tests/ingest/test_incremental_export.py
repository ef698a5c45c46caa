"""DynamoDB incremental exports, in the shape AWS writes them: manifest-summary.json (exportType
INCREMENTAL_EXPORT, outputView), manifest-files.json naming data files in the shared AWSDynamoDB/data/
folder, and gzip lines of {Metadata: {WriteTimestampMicros}, Keys, NewImage, OldImage}, applied in write order."""

import copy
import gzip
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from ingest.__main__ import main
from tests.ingest.conftest import create_launches_table
from warehouse.store import connect

WHEN = "2025-05-01T00:00:00.000Z"
T0 = int(datetime.fromisoformat(WHEN.replace("Z", "+00:00")).timestamp() * 1_000_000)  # the full export's time


def write_export(
    root: Path, export_id: str, lines: list[dict], incremental: bool, when: str = WHEN, view: str = "NEW_AND_OLD_IMAGES"
):
    """One export as AWS lays it out under <prefix>/AWSDynamoDB/: its manifests and its gzip data file(s)."""
    base = root / "AWSDynamoDB" / export_id
    data = root / "AWSDynamoDB" / "data" if incremental else base / "data"
    base.mkdir(parents=True)
    data.mkdir(parents=True, exist_ok=True)
    name = f"{export_id.split('-')[1]}abcdefghijklmno.json.gz"
    (data / name).write_bytes(gzip.compress("".join(json.dumps(line) + "\n" for line in lines).encode()))
    key = f"AWSDynamoDB/data/{name}" if incremental else f"AWSDynamoDB/{export_id}/data/{name}"
    entry = {"itemCount": len(lines), "md5Checksum": "sQMSpEILNgoQmarvDFonGQ==", "etag": "af83d6f2-1", "dataFileS3Key": key}
    (base / "manifest-files.json").write_text(json.dumps(entry) + "\n")
    summary = {
        "version": "2023-08-01" if incremental else "2020-06-30",
        "exportArn": f"arn:aws:dynamodb:us-east-1:123456789012:table/workflow-launches/export/{export_id}",
        "startTime": when,
        "endTime": when,
        "tableArn": "arn:aws:dynamodb:us-east-1:123456789012:table/workflow-launches",
        "tableId": "12345a12-abcd-123a-ab12-1234abc12345",
        "s3Bucket": "launch-exports",
        "s3Prefix": None,
        "s3SseAlgorithm": "AES256",
        "s3SseKmsKeyId": None,
        "manifestFilesS3Key": f"AWSDynamoDB/{export_id}/manifest-files.json",
        "billedSizeBytes": 0,
        "itemCount": len(lines),
        "outputFormat": "DYNAMODB_JSON",
    }
    if incremental:
        summary |= {"exportFromTime": when, "exportToTime": when, "outputView": view, "exportType": "INCREMENTAL_EXPORT"}
    else:
        summary |= {"exportTime": when, "exportType": "FULL_EXPORT"}
    (base / "manifest-summary.json").write_text(json.dumps(summary))
    (base / "_started").write_text("")
    return base


def change(item: dict | None, written_us: int, key: str, old: dict | None = None) -> dict:
    line = {"Metadata": {"WriteTimestampMicros": {"N": str(written_us)}}, "Keys": {"launch_id": {"S": key}}}
    if old is not None:
        line["OldImage"] = old
    if item is not None:
        line["NewImage"] = item
    return line


def _run(data: Path, location: Path, *extra: str) -> int:
    return main(["dynamodb-export", str(location), "--data-dir", str(data), *extra])


def _good(fixture_items) -> list[dict]:
    return fixture_items[:4]  # wl-a1 (EKS-free Batch, priced), wl-a2 (EKS), wl-a3 (pending), wl-a4 (running)


def test_updates_replace_rows_and_deletes_remove_launches(tmp_path, fixture_items, capsys):
    a1, a2, a3, a4 = _good(fixture_items)
    data = tmp_path / "data"
    full = write_export(tmp_path / "exports", "01746057600000-full0001", [{"Item": i} for i in (a1, a2, a3, a4)], False)
    assert _run(data, full) == 0
    main(["price-launches", "--data-dir", str(data)])
    assert connect(data).execute("SELECT count(*) FROM launch_costs WHERE launch_id = 'wl-a2'").fetchone() == (1,)

    priced = dict(a3, totalCost={"S": "0.2000"}, instance_cost={"S": "0.2000"})
    new = dict(copy.deepcopy(a1), launch_id={"S": "wl-new"})
    lines = [
        change(priced, T0 + 10, "wl-a3", old=a3),  # an update (NEW_AND_OLD_IMAGES: both images)
        change(None, T0 + 20, "wl-a2", old=a2),  # a delete: the old image only
        change(None, T0 + 30, "wl-never-held"),  # a delete of a launch never loaded (NEW_IMAGE view: keys only)
        change(new, T0 + 40, "wl-new"),  # an insert: the new image only
    ]
    incr = write_export(tmp_path / "exports", "01746100000000-incr0001", lines, True, "2025-05-01T12:00:00.000Z")
    capsys.readouterr()
    assert _run(data, incr) == 0
    out = capsys.readouterr().out
    assert (
        "deleted              1" in out and "(wl-a2)" in out and "1 delete(s) were for launches the warehouse did not hold" in out
    )
    con = connect(data)
    # job_runs counts the rows the deletes removed: wl-a2 (held); the delete of wl-never-held removed nothing
    assert con.execute("SELECT command, records_deleted FROM job_runs ORDER BY started_at").fetchall() == [
        ("dynamodb-export", 0),
        ("price-launches", 0),
        ("dynamodb-export", 1),
    ]
    assert con.execute("SELECT launch_id, total_cost FROM launches ORDER BY 1").fetchall() == [
        ("wl-a1", Decimal("12.3456")),
        ("wl-a3", Decimal("0.2")),
        ("wl-a4", None),
        ("wl-new", Decimal("12.3456")),
    ]
    assert con.execute("SELECT count(*) FROM launch_resources WHERE launch_id = 'wl-a2'").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM launch_costs WHERE launch_id = 'wl-a2'").fetchone() == (0,)  # charged no more
    deletions = con.execute(
        "SELECT launch_id, epoch_us(deleted_at), launch_month, consumer, total_cost, currency FROM launch_deletions ORDER BY 1"
    ).fetchall()
    assert deletions == [
        ("wl-a2", T0 + 20, datetime(2025, 3, 1).date(), "rare-disease", Decimal("2.05"), "USD"),
        ("wl-never-held", T0 + 30, None, None, None, None),
    ]

    # the same incremental export again changes nothing; an older full export read again cannot bring wl-a2 back
    capsys.readouterr()
    assert _run(data, full, "--full") == 0
    out = capsys.readouterr().out
    reasons = dict(connect(data).execute("SELECT record_key, reason FROM quarantine WHERE record_key = 'wl-a2'").fetchall())
    assert reasons["wl-a2"].startswith("launch deleted from the table at 2025-05-01 00:00:00 UTC")
    assert "this item is from before that (2025-05-01 00:00:00 UTC): not loaded again" in reasons["wl-a2"]
    assert connect(data).execute("SELECT count(*) FROM launches WHERE launch_id = 'wl-a2'").fetchone() == (0,)
    # and that full export does not hold wl-new: the summary says so
    assert "1 launch(es) in the warehouse are not in this full export (deleted from the table?): wl-new;" in out


def test_a_launch_deleted_and_created_again_in_write_order(tmp_path, fixture_items):
    a1 = _good(fixture_items)[0]
    again = dict(a1, totalCost={"S": "20.0000"}, instance_cost={"S": "17.6544"})
    root = tmp_path / "exports"
    write_export(root, "01746057600000-full0001", [{"Item": a1}], False)
    write_export(root, "01746100000000-incr0001", [change(None, T0 + 100, "wl-a1", old=a1)], True)
    write_export(root, "01746200000000-incr0002", [change(again, T0 + 200, "wl-a1")], True, view="NEW_IMAGE")
    assert _run(tmp_path / "data", root) == 0  # all three in one run: applied by their write times
    con = connect(tmp_path / "data")
    assert con.execute("SELECT launch_id, total_cost FROM launches").fetchall() == [("wl-a1", Decimal("20"))]
    assert con.execute("SELECT count(*) FROM launch_deletions").fetchone() == (0,)  # the delete was overtaken


def test_a_delete_after_every_state_read_wins_within_one_run(tmp_path, fixture_items):
    a1, a2 = _good(fixture_items)[:2]
    root = tmp_path / "exports"
    write_export(root, "01746057600000-full0001", [{"Item": a1}, {"Item": a2}], False)
    write_export(root, "01746100000000-incr0001", [change(None, T0 + 5, "wl-a1", old=a1)], True)
    assert _run(tmp_path / "data", root) == 0
    con = connect(tmp_path / "data")
    assert con.execute("SELECT launch_id FROM launches").fetchall() == [("wl-a2",)]
    assert con.execute("SELECT launch_id, launch_month FROM launch_deletions").fetchall() == [("wl-a1", None)]


def test_an_invalid_new_image_is_quarantined_and_the_old_row_stays(tmp_path, fixture_items):
    a1 = _good(fixture_items)[0]
    data = tmp_path / "data"
    _run(data, write_export(tmp_path / "e", "01746057600000-full0001", [{"Item": a1}], False))
    broken = dict(a1, totalCost={"L": [{"S": "1"}]})
    bad_lines = [change(broken, T0 + 5, "wl-a1", old=a1), {"Metadata": {"WriteTimestampMicros": {"N": "1"}}, "Keys": {}}]
    assert _run(data, write_export(tmp_path / "e", "01746100000000-incr0001", bad_lines, True)) == 2
    con = connect(data)
    assert con.execute("SELECT total_cost FROM launches").fetchall() == [(Decimal("12.3456"),)]
    reasons = sorted(r for (r,) in con.execute("SELECT reason FROM quarantine").fetchall())
    assert reasons == [
        "an incremental export delete (a line with no NewImage) whose Keys have no launch_id: nothing to apply",
        "totalCost is a list (L), expected a number (N) or a numeric string (S)",
    ]


def test_a_loose_copy_of_a_deleted_item_is_not_charged_again(tmp_path, fixture_items):
    a1 = _good(fixture_items)[0]
    data = tmp_path / "data"
    _run(data, write_export(tmp_path / "e", "01746057600000-full0001", [{"Item": a1}], False))
    _run(data, write_export(tmp_path / "e", "01746100000000-incr0001", [change(None, T0 + 5, "wl-a1")], True))
    loose = tmp_path / "loose.json"
    loose.write_text(json.dumps({"Item": a1}) + "\n")
    assert _run(data, loose) == 2
    (reason,) = connect(data).execute("SELECT reason FROM quarantine").fetchone()
    assert "carries no time to show it is newer" in reason


def test_a_scan_that_no_longer_holds_a_launch_says_so(aws_env, fixture_items, tmp_path, capsys):
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_launches_table(client, "workflow-launches", _good(fixture_items))
        assert main(["dynamodb", "--data-dir", str(tmp_path)]) == 0
        client.delete_item(TableName="workflow-launches", Key={"launch_id": {"S": "wl-a3"}})
        capsys.readouterr()
        assert main(["dynamodb", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "1 launch(es) in the warehouse are not in this scan of the table (deleted from the table?): wl-a3;" in out
    assert connect(tmp_path).execute("SELECT count(*) FROM launches").fetchone() == (4,)  # reported, not removed


def test_an_older_full_export_loaded_again_brings_back_no_older_state(tmp_path, fixture_items, capsys):
    a1, a2, _, a4 = _good(fixture_items)
    data, root = tmp_path / "data", tmp_path / "exports"
    full = write_export(root, "01746057600000-full0001", [{"Item": i} for i in (a1, a2, a4)], False)  # T1: a4 RUNNING
    assert _run(data, full) == 0
    done = copy.deepcopy(a4)
    done["status"] = {"S": "COMPLETE"}
    done["status_times"]["M"]["COMPLETE"] = {"S": "2025-04-02T12:00:00Z"}
    t2 = T0 + 3_600_000_000  # an hour after the full export
    lines = [change(done, t2, "wl-a4", old=a4), change(None, t2 + 1, "wl-a2", old=a2)]
    assert _run(data, write_export(root, "01746100000000-incr0001", lines, True, "2025-05-01T01:00:00.000Z")) == 0
    as_of = "SELECT launch_id, status, epoch_us(as_of) FROM launches ORDER BY 1"
    assert connect(data).execute(as_of).fetchall() == [("wl-a1", "COMPLETE", T0), ("wl-a4", "COMPLETE", t2)]

    capsys.readouterr()
    assert _run(data, full, "--full") == 0  # the T1 export again: a4 RUNNING, a2 still there
    out = capsys.readouterr().out
    assert connect(data).execute(as_of).fetchall() == [("wl-a1", "COMPLETE", T0), ("wl-a4", "COMPLETE", t2)]
    assert "1 launch(es) were read in a state older than the one the warehouse holds (wl-a4): kept the newer state" in out
    con = connect(data)
    run = "SELECT records_read, records_loaded, records_unchanged, records_quarantined FROM job_runs ORDER BY started_at DESC"
    assert con.execute(run).fetchone() == (3, 0, 2, 1)  # a1 the same, a4 older; a2 deleted after T1: quarantined
    assert con.execute("SELECT count(*) FROM launches WHERE launch_id = 'wl-a2'").fetchone() == (0,)

    loose = tmp_path / "loose.json"  # a copy with no time at all is not taken as newer either
    loose.write_text(json.dumps({"Item": a4}) + "\n")
    assert _run(data, loose) == 0
    assert connect(data).execute("SELECT status FROM launches WHERE launch_id = 'wl-a4'").fetchone() == ("COMPLETE",)

    # a newer full export (T3) does replace it
    failed = copy.deepcopy(a4)
    failed["status"] = {"S": "FAILED"}
    failed["status_times"]["M"]["FAILED"] = {"S": "2025-04-02T13:00:00Z"}
    newer = write_export(root, "01746200000000-full0002", [{"Item": a1}, {"Item": failed}], False, "2025-05-02T00:00:00.000Z")
    assert _run(data, newer) == 0
    t3 = T0 + 86_400_000_000
    assert connect(data).execute(as_of).fetchall() == [("wl-a1", "COMPLETE", T0), ("wl-a4", "FAILED", t3)]
