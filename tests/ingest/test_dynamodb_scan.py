"""Scanning the launches table: moto in process and a moto server on 127.0.0.1."""

import copy
from decimal import Decimal

import boto3
import pytest
from moto import mock_aws
from moto.server import ThreadedMotoServer

from ingest.__main__ import main
from tests.ingest.conftest import create_launches_table
from warehouse.store import connect

TABLE = "workflow-launches"


def _create_table(client, items, copies=1):
    create_launches_table(client, TABLE)
    good = [i for i in items if "launch_id" in i]
    for n in range(copies):
        for item in good:
            item = copy.deepcopy(item)
            item["launch_id"] = {"S": f"{item['launch_id']['S']}-{n:04d}"}
            item["input_path"] = {"S": "s3://genomics-raw/" + "x" * 2000}  # ~2 KB items: several 1 MB pages
            client.put_item(TableName=TABLE, Item=item)


@mock_aws
def test_parallel_paginated_scan_loads_every_item(aws_env, fixture_items, tmp_path, capsys):
    client = boto3.client("dynamodb", region_name="us-east-1")
    _create_table(client, fixture_items, copies=200)  # 9 items with a key × 200 = 1,800 items, ~3.6 MB
    assert main(["dynamodb", "--table", TABLE, "--segments", "3", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    con = connect(tmp_path)
    assert con.execute("SELECT count(*) FROM launches").fetchone()[0] == 4 * 200
    assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 5 * 200
    # describe_table + at least one page per segment, and more than one page in all (1 MB cap)
    requests = con.execute("SELECT api_requests FROM job_runs").fetchone()[0]
    assert requests >= 1 + 3 + 1
    assert f"API requests         {requests}" in out
    total = con.execute("SELECT sum(total_cost) FROM launches").fetchone()[0]
    assert total == (Decimal("12.3456") + Decimal("2.05")) * 200


@mock_aws
def test_rescan_with_nothing_changed_writes_nothing(aws_env, fixture_items, tmp_path, capsys):
    client = boto3.client("dynamodb", region_name="us-east-1")
    _create_table(client, fixture_items, copies=3)
    main(["dynamodb", "--table", TABLE, "--data-dir", str(tmp_path)])
    client.update_item(
        TableName=TABLE,
        Key={"launch_id": {"S": "wl-a3-0001"}},
        UpdateExpression="SET totalCost = :t, instance_cost = :t",
        ExpressionAttributeValues={":t": {"S": "0.4100"}},
    )
    capsys.readouterr()
    main(["dynamodb", "--table", TABLE, "--data-dir", str(tmp_path)])
    out = capsys.readouterr().out
    # every page is fetched again; only the page holding the changed item is parsed again
    assert "records read         27" in out and "loaded (new/changed) 1" in out
    assert "items on pages unchanged since the last scan were not re-parsed" in out
    con = connect(tmp_path)
    assert con.execute("SELECT total_cost FROM launches WHERE launch_id = 'wl-a3-0001'").fetchone()[0] == Decimal("0.41")


@mock_aws
def test_unknown_table_is_one_line(aws_env, tmp_path, capsys):
    assert main(["dynamodb", "--table", "nope", "--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: DynamoDB table nope not found") and "\n" not in err
    assert connect(tmp_path).execute("SELECT outcome FROM job_runs").fetchall() == [("failed",)]


def test_missing_credentials_is_one_line(tmp_path, monkeypatch, capsys):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    code = main(["dynamodb", "--endpoint-url", "http://127.0.0.1:9", "--data-dir", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.startswith("error: no AWS credentials found") and "\n" not in err


def test_access_denied_is_one_line(aws_env, tmp_path, capsys):
    from botocore.stub import Stubber

    session = boto3.Session(region_name="us-east-1")
    real_client = session.client

    def stubbed_client(*args, **kwargs):
        c = real_client(*args, **kwargs)
        stub = Stubber(c)
        stub.add_client_error(
            "describe_table", "AccessDeniedException", "User is not authorized to perform: dynamodb:DescribeTable"
        )
        stub.activate()
        return c

    session.client = stubbed_client
    from dataclasses import replace

    from core.settings import load_settings
    from ingest.dynamodb import jobs

    settings = load_settings(data_dir=tmp_path)
    with pytest.raises(Exception) as info:
        jobs.ingest_dynamodb(replace(settings, dynamodb=replace(settings.dynamodb, region="us-east-1")), session=session)
    from core.aws import user_message

    message = user_message(info.value, table=TABLE)
    assert message.startswith("access denied for DescribeTable") and "README" in message


@pytest.fixture
def moto_server():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_scan_through_a_local_endpoint(aws_env, fixture_items, tmp_path, moto_server):
    client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=moto_server)
    _create_table(client, fixture_items, copies=2)
    assert (
        main(["dynamodb", "--table", TABLE, "--endpoint-url", moto_server, "--segments", "2", "--data-dir", str(tmp_path)]) == 0
    )
    assert connect(tmp_path).execute("SELECT count(*) FROM launches").fetchone()[0] == 8
