"""``dynamodb-check``: how the configured attributes map onto a sample of items, from an export or the table."""

import gzip
import json

import boto3
import pytest
from moto import mock_aws

from ingest.__main__ import main
from tests.ingest.conftest import create_launches_table
from tests.ingest.test_incremental_export import T0, change, write_export

RECORDS = {
    "L": [
        {"M": {"state": {"S": s}, "timestamp": {"S": t}}}
        for s, t in (("PREPARING", "2025-03-04T10:00:00Z"), ("RUNNING", "2025-03-04T11:00:00Z"), ("COMPLETE", "1741100400"))
    ]
}


def _items(n: int = 5) -> list[dict]:
    return [
        {
            "launch_id": {"S": f"wl-c{k}"},
            "Consumer": {"S": "oncology"},
            "status": {"S": "COMPLETE"},
            "status_times": RECORDS,
            "totalCost": {"L": [{"N": "1"}]} if k == 0 else {"S": "2.5"},
        }
        for k in range(n)
    ]


def _export(tmp_path, items) -> str:
    path = tmp_path / "items.json.gz"
    path.write_bytes(gzip.compress("".join(json.dumps({"Item": i}) + "\n" for i in items).encode()))
    return str(path)


def test_it_names_what_is_missing_and_the_shape_found(tmp_path, capsys):
    assert main(["dynamodb-check", _export(tmp_path, _items()), "--data-dir", str(tmp_path / "wh")]) == 2
    out = capsys.readouterr().out
    assert out.startswith(f"dynamodb-check · {tmp_path / 'items.json.gz'} · 5 item(s) sampled")
    lines = out.splitlines()
    consumer = next(i for i, line in enumerate(lines) if line.startswith("consumer "))
    assert "0/5" in lines[consumer]
    assert (
        'set consumer = "<the attribute>" under [dynamodb.attributes] (similar attributes: Consumer (in 5))'
        in lines[consumer + 1]
    )
    total = next(line for line in lines if line.startswith("total_cost "))
    assert "5/5" in total and "S x4, L x1" in total
    times = next(i for i, line in enumerate(lines) if line.startswith("status_times "))
    assert "L of up to 3 records with keys state, timestamp" in lines[times]
    assert 'status_times is a list (L) of 3 records, not a map: set status_times_shape = "records" under' in lines[times + 1]
    assert "if loaded now: 0 of 5 would load" in out
    assert not (tmp_path / "wh").exists()  # nothing written


def test_with_the_settings_it_suggests_the_sample_loads(tmp_path, capsys):
    config = tmp_path / "ll.toml"
    config.write_text('[dynamodb.attributes]\nconsumer = "Consumer"\n[dynamodb.shapes]\nstatus_times_shape = "records"\n')
    assert main(["dynamodb-check", _export(tmp_path, _items()), "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "if loaded now: 4 of 5 would load" in out
    assert "1 quarantined: totalCost is a list (L), expected a number (N) or a numeric string (S)" in out
    assert "ISO 8601 with Z x10, epoch seconds x5" in out


def test_one_attribute_per_status_is_recognised(tmp_path, capsys):
    items = [
        {
            "launch_id": {"S": "wl-p"},
            "status": {"S": "RUNNING"},
            "PREPARING_TIME": {"S": "2025-03-04T10:00:00Z"},
            "RUNNING_TIME": {"N": "1741086000000"},
        }
    ]
    main(["dynamodb-check", _export(tmp_path, items)])
    out = capsys.readouterr().out
    assert 'set status_times_shape = "attributes" and status_time_pattern = "{STATUS}_TIME" under [dynamodb.shapes]' in out


def test_it_samples_the_table(aws_env, fixture_items, tmp_path, capsys):
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_launches_table(client, "launches-check", [i for i in fixture_items if "launch_id" in i])
        assert main(["dynamodb-check", "--table", "launches-check", "--sample", "3", "--region", "us-east-1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("dynamodb-check · dynamodb://launches-check · 3 item(s) sampled")


def test_it_reads_the_new_images_of_an_incremental_export(tmp_path, fixture_items, capsys):
    lines = [change(fixture_items[0], T0, "wl-a1"), change(None, T0 + 1, "wl-a2")]
    export = write_export(tmp_path, "01746100000000-incr0001", lines, True)
    assert main(["dynamodb-check", str(export)]) == 0
    out = capsys.readouterr().out
    assert "1 item(s) sampled (and 1 delete(s) of an incremental export)" in out and "if loaded now: 1 of 1 would load" in out


@pytest.mark.parametrize("args, message", [(["x", "--table", "t"], "not both"), (["x", "--sample", "0"], "at least 1")])
def test_wrong_options_are_one_line(args, message, capsys):
    assert main(["dynamodb-check", *args]) == 1
    assert message in capsys.readouterr().err


def test_an_incremental_export_on_s3_is_read_from_its_shared_data_folder(aws_env, tmp_path, fixture_items):
    """dataFileS3Key points into <prefix>/AWSDynamoDB/data/, outside the export's own folder."""
    a1, a2 = fixture_items[:2]
    local = tmp_path / "exports"
    write_export(local, "01746057600000-full0001", [{"Item": a1}, {"Item": a2}], False)
    write_export(local, "01746100000000-incr0001", [change(None, T0 + 5, "wl-a2", old=a2)], True)
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="launch-exports")
        for f in local.rglob("*"):
            if f.is_file():
                s3.upload_file(str(f), "launch-exports", f"launches/{f.relative_to(local)}")
        fix_keys = s3.get_object(Bucket="launch-exports", Key="launches/AWSDynamoDB/01746100000000-incr0001/manifest-files.json")
        entry = json.loads(fix_keys["Body"].read())
        entry["dataFileS3Key"] = "launches/" + entry["dataFileS3Key"]  # AWS writes the key with the prefix
        s3.put_object(
            Bucket="launch-exports",
            Key="launches/AWSDynamoDB/01746100000000-incr0001/manifest-files.json",
            Body=json.dumps(entry).encode(),
        )
        data = str(tmp_path / "data")
        assert (
            main(["dynamodb-export", "s3://launch-exports/launches/AWSDynamoDB/01746057600000-full0001/", "--data-dir", data])
            == 0
        )
        assert (
            main(["dynamodb-export", "s3://launch-exports/launches/AWSDynamoDB/01746100000000-incr0001/", "--data-dir", data])
            == 0
        )
    from warehouse.store import connect

    con = connect(data)
    assert con.execute("SELECT launch_id FROM launches").fetchall() == [("wl-a1",)]
    assert con.execute("SELECT launch_id FROM launch_deletions").fetchall() == [("wl-a2",)]


def test_records_under_other_key_names_are_named_in_the_hint():
    from collections import Counter

    from ingest.dynamodb.check import _other_shape_hint

    values = [{"L": [{"M": {"phase": {"S": "RUNNING"}, "entered": {"N": "1741086000"}}}]}]
    assert _other_shape_hint(values, Counter({"L": 1}), "map", "history") == (
        'history is a list (L) of 1 records, not a map: set status_times_shape = "records"; record_status_key = "phase"; '
        'record_time_key = "entered" under [dynamodb.shapes]'
    )


def test_the_exit_codes_are_in_the_help(capsys):
    from cli import parser

    text = " ".join(parser().format_help().split())  # argparse wraps the epilog
    assert "Exit codes: 0 done; 1 the run failed" in text and "2 records were read but none loaded" in text
    with pytest.raises(SystemExit):
        main(["dynamodb-check", "--help"])
    assert "2 records were read but none loaded" in " ".join(capsys.readouterr().out.split())
