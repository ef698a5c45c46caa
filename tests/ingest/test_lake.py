"""Publishing the warehouse to S3 + Glue for Athena (moto in process), and the [athena] settings."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from moto import mock_aws

from core.errors import ConfigError, WarehouseError
from core.settings import AthenaSettings, Settings, load_settings
from warehouse.lake import RECORD, column_comments, glue_columns, publish
from warehouse.runs import job_run
from warehouse.store import TABLES, WarehouseWriter, read_manifest, schema_columns, warehouse_dir

REGION = "us-east-1"
BUCKET = "ledger-lake"
LAKE = f"s3://{BUCKET}/warehouse/"
DATABASE = "launch_ledger"
# What each lake table is partitioned by: the column the named queries filter on, typed for Athena.
PARTITIONED_BY = {
    "launches": ("launch_month", "date"),
    "launch_resources": ("launch_month", "date"),
    "costs_daily": ("usage_month", "date"),
    "costs_monthly": ("usage_month", "date"),
    "job_runs": ("run_id", "string"),
    "quarantine": ("run_id", "string"),
    "launch_deletions": ("run_id", "string"),
    "closed_statements": ("statement_month", "date"),
    "prices": ("service", "string"),
    "launch_costs": ("launch_month", "date"),
    "backtest_results": ("run_id", "string"),
    "cost_forecasts": ("ingest_run_id", "string"),
    "launch_tasks": ("launch_month", "date"),
    "launch_billed_costs": ("usage_month", "date"),
    "audit_events": ("event_month", "date"),
    "anomalies": ("month", "date"),
}


def lake_settings(data_dir: Path, lake_path: str = LAKE) -> Settings:
    return Settings(
        data_dir=data_dir,
        athena=AthenaSettings(
            engine="athena",
            database=DATABASE,
            lake_path=lake_path,
            output_location=f"s3://{BUCKET}/athena-results/",
            region=REGION,
        ),
    )


@pytest.fixture
def lake(aws_env):
    """moto S3 + Glue with the lake bucket created."""
    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        yield


def objects(prefix: str = "warehouse/") -> dict[str, str]:
    """{key: ETag} of the lake's objects."""
    s3 = boto3.client("s3", region_name=REGION)
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return {o["Key"]: o["ETag"] for page in pages for o in page.get("Contents", [])}


def glue_partitions(table: str) -> list[str]:
    glue = boto3.client("glue", region_name=REGION)
    return sorted(p["Values"][0] for p in glue.get_partitions(DatabaseName=DATABASE, TableName=table)["Partitions"])


def read_object(key: str) -> pa.Table:
    body = boto3.client("s3", region_name=REGION).get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return pq.read_table(io.BytesIO(body))


def lake_value(table: str, partition: str) -> str:
    """The lake's value of a local partition: a month's first day for the month-partitioned tables."""
    return f"{partition}-01" if PARTITIONED_BY[table][1] == "date" else partition


def test_publish_partitions_each_glue_table_by_the_column_its_queries_filter_on(lake, fresh_data_dir):
    result = publish(lake_settings(fresh_data_dir), fresh_data_dir)
    manifest = read_manifest(fresh_data_dir)
    glue = boto3.client("glue", region_name=REGION)
    keys = objects()
    assert sorted(PARTITIONED_BY) == sorted(TABLES)
    for table in TABLES:
        column, kind = PARTITIONED_BY[table]
        parts = sorted(manifest["tables"][table])
        assert result.uploaded.get(table, []) == parts
        described = glue.get_table(DatabaseName=DATABASE, Name=table)["Table"]
        (key,) = described["PartitionKeys"]
        assert (key["Name"], key["Type"]) == (column, kind)
        assert key["Comment"].startswith(column_comments(table).get(column, "")) and "the partition column" in key["Comment"]
        # The partition column lives in the path only; the other columns keep schema order and types.
        columns = [(c["Name"], c["Type"]) for c in described["StorageDescriptor"]["Columns"]]
        assert columns == [(c, t) for c, t in glue_columns(table).items() if c != column]
        assert described["StorageDescriptor"]["Location"].rstrip("/") == f"{LAKE}{table}"
        assert glue_partitions(table) == sorted(lake_value(table, p) for p in parts)
        for part in parts:
            prefix = f"warehouse/{table}/{column}={lake_value(table, part)}/"
            assert any(k.startswith(prefix) and k.endswith(".parquet") for k in keys), prefix
    assert {k.split("/")[2] for k in keys if k.startswith("warehouse/launches/")} == {
        "launch_month=2025-01-01",
        "launch_month=2025-02-01",
        "launch_month=2025-03-01",
        "launch_month=2025-04-01",
    }
    assert glue_partitions("launches") == ["2025-01-01", "2025-02-01", "2025-03-01", "2025-04-01"]
    launches = dict(glue_columns("launches"))
    assert launches["total_cost"] == "decimal(18,6)" and launches["launch_month"] == "date"
    (month_key,) = glue.get_table(DatabaseName=DATABASE, Name="launches")["Table"]["PartitionKeys"]
    assert month_key["Comment"] == (
        "first day of the month of launched_at; the partition column: a filter on it limits the files Athena reads"
    )
    assert launches["launched_at"] == "timestamp" and launches["sample_count"] == "int"
    assert dict(glue_columns("job_runs"))["records_read"] == "bigint"
    assert dict(glue_columns("costs_daily"))["estimated"] == "boolean"
    assert {c for c, t in schema_columns()["launches"] if t.startswith("DECIMAL")} == {
        c for c, t in launches.items() if t == "decimal(18,6)"
    }


def test_published_parquet_keeps_decimals_and_every_row_under_its_month(lake, fresh_data_dir, fixture_tables):
    publish(lake_settings(fresh_data_dir), fresh_data_dir, tables=["launches"])
    by_month: dict[str, list[pa.Table]] = {}
    for key in objects("warehouse/launches/"):
        by_month.setdefault(key.split("/")[2].removeprefix("launch_month="), []).append(read_object(key))
    fixture = fixture_tables["launches"]
    for month, tables in by_month.items():
        rows = fixture[fixture["launch_month"] == date.fromisoformat(month)]
        assert sum(t.num_rows for t in tables) == len(rows) > 0, month
        published = sorted(v for t in tables for v in t.column("launch_id").to_pylist())
        assert published == sorted(rows["launch_id"]), month
    assert sorted(by_month) == ["2025-01-01", "2025-02-01", "2025-03-01", "2025-04-01"]
    tables = [t for ts in by_month.values() for t in ts]
    schema = tables[0].schema
    assert "launch_month" not in schema.names, "the partition column is in the path, not in the files"
    assert schema.field("total_cost").type == pa.decimal128(18, 6)
    assert schema.field("instance_cost").type == pa.decimal128(18, 6)
    assert pa.types.is_timestamp(schema.field("launched_at").type)
    assert schema.field("sample_count").type == pa.int32()
    published = sorted(v for t in tables for v in t.column("total_cost").to_pylist() if v is not None)
    expected = sorted(v for v in fixture["total_cost"] if v is not None)
    assert published == expected


def test_a_second_publish_with_nothing_changed_uploads_nothing(lake, fresh_data_dir):
    settings = lake_settings(fresh_data_dir)
    first = publish(settings, fresh_data_dir)
    before = objects()
    second = publish(settings, fresh_data_dir)
    assert second.uploaded == {} and second.removed == {}
    assert second.unchanged == sum(map(len, first.uploaded.values()))
    assert objects() == before
    record = json.loads((warehouse_dir(fresh_data_dir) / RECORD).read_text())
    assert record["lake_path"] == LAKE and record["database"] == DATABASE
    assert record["tables"] == read_manifest(fresh_data_dir)["tables"]


def test_only_changed_partitions_are_uploaded_and_dropped_ones_removed(lake, fresh_data_dir):
    settings = lake_settings(fresh_data_dir)
    publish(settings, fresh_data_dir)
    before = objects()
    with WarehouseWriter(fresh_data_dir, run_id="edit") as writer:
        writer.write_partitions(
            "launches", "SELECT * REPLACE (upper(consumer) AS consumer) FROM launches WHERE launch_month = DATE '2025-02-01'"
        )
        writer.drop_partitions("costs_daily", ["2025-03"])
        writer.commit()
    result = publish(settings, fresh_data_dir)
    assert result.uploaded == {"launches": ["2025-02"]}
    assert result.removed == {"costs_daily": ["2025-03"], "costs_monthly": ["2025-03"]}  # the rollup follows its source
    after = objects()
    old_feb = {k for k in before if k.startswith("warehouse/launches/launch_month=2025-02-01/")}
    new_feb = {k for k in after if k.startswith("warehouse/launches/launch_month=2025-02-01/")}
    assert old_feb and new_feb and not (old_feb & new_feb), "the rewritten partition replaced its old objects"
    assert all(c.isupper() for k in new_feb for c in read_object(k).column("consumer").to_pylist() if c)
    assert any(k.startswith("warehouse/costs_daily/usage_month=2025-03-01/") for k in before)
    assert not any(k.startswith("warehouse/costs_daily/usage_month=2025-03-01/") for k in after)
    assert glue_partitions("costs_daily") == ["2025-01-01", "2025-02-01", "2025-04-01"]
    untouched = {
        k: v for k, v in before.items() if "launches/launch_month=2025-02-01/" not in k and "/usage_month=2025-03-01/" not in k
    }
    assert {k: after[k] for k in untouched} == untouched


def test_an_empty_warehouse_still_gets_its_glue_tables(lake, empty_data_dir):
    result = publish(lake_settings(empty_data_dir), empty_data_dir)
    assert result.uploaded == {} and result.unchanged == 0
    glue = boto3.client("glue", region_name=REGION)
    assert sorted(t["Name"] for t in glue.get_tables(DatabaseName=DATABASE)["TableList"]) == sorted(TABLES)
    assert objects() == {}


def test_a_committed_ingest_run_publishes_when_the_engine_is_athena(lake, fresh_data_dir):
    settings = lake_settings(fresh_data_dir)
    with job_run(fresh_data_dir, "demo", "unit test", settings=settings) as run:
        pass
    run_id = run.writer.run_id
    assert any(n.startswith("lake: ") and "uploaded" in n for n in run.stats.notes)
    assert run_id in glue_partitions("job_runs")
    assert any(k.startswith(f"warehouse/job_runs/run_id={run_id}/") for k in objects())
    assert glue_partitions("launches") == [f"{m}-01" for m in sorted(read_manifest(fresh_data_dir)["tables"]["launches"])]


def test_a_lake_partitioned_by_the_old_month_column_is_published_again_by_launch_month(lake, fresh_data_dir):
    settings = lake_settings(fresh_data_dir)
    manifest = read_manifest(fresh_data_dir)
    # What the earlier layout left: Glue partitioned by a string `month`, objects under month=YYYY-MM/, and a
    # record saying every partition is published.
    glue = boto3.client("glue", region_name=REGION)
    glue.create_database(DatabaseInput={"Name": DATABASE})
    glue.create_table(
        DatabaseName=DATABASE,
        TableInput={
            "Name": "launches",
            "StorageDescriptor": {"Columns": [{"Name": "launch_id", "Type": "string"}], "Location": f"{LAKE}launches/"},
            "PartitionKeys": [{"Name": "month", "Type": "string"}],
        },
    )
    glue.create_partition(
        DatabaseName=DATABASE,
        TableName="launches",
        PartitionInput={"Values": ["2025-02"], "StorageDescriptor": {"Location": f"{LAKE}launches/month=2025-02/"}},
    )
    s3 = boto3.client("s3", region_name=REGION)
    s3.put_object(Bucket=BUCKET, Key="warehouse/launches/month=2025-02/old.parquet", Body=b"old")
    record = {"lake_path": LAKE, "database": DATABASE, "tables": {"launches": manifest["tables"]["launches"]}}
    (warehouse_dir(fresh_data_dir) / RECORD).write_text(json.dumps(record))

    result = publish(settings, fresh_data_dir, tables=["launches"])

    assert result.relaid == ["launches"] and "launches re-partitioned" in result.summary(LAKE)
    assert result.uploaded == {"launches": sorted(manifest["tables"]["launches"])} and result.unchanged == 0
    keys = objects("warehouse/launches/")
    assert "warehouse/launches/month=2025-02/old.parquet" not in keys
    assert {k.split("/")[2] for k in keys} == {f"launch_month={m}-01" for m in manifest["tables"]["launches"]}
    described = glue.get_table(DatabaseName=DATABASE, Name="launches")["Table"]
    assert [(k["Name"], k["Type"]) for k in described["PartitionKeys"]] == [("launch_month", "date")]
    assert [c["Name"] for c in described["StorageDescriptor"]["Columns"]] == [
        c for c in glue_columns("launches") if c != "launch_month"
    ]
    assert glue_partitions("launches") == [f"{m}-01" for m in sorted(manifest["tables"]["launches"])]
    assert publish(settings, fresh_data_dir, tables=["launches"]).relaid == []


def test_a_row_whose_month_is_not_its_partitions_first_day_stops_the_publish_on_one_line(lake, fresh_data_dir):
    with WarehouseWriter(fresh_data_dir, run_id="edit") as writer:
        writer.write_partitions(
            "launches",
            "SELECT * REPLACE (CASE WHEN launch_id = (SELECT min(launch_id) FROM launches "
            "WHERE launch_month = DATE '2025-02-01') THEN DATE '2025-02-15' ELSE launch_month END AS launch_month) "
            "FROM launches WHERE launch_month = DATE '2025-02-01'",
        )
        writer.commit()
    with pytest.raises(WarehouseError) as caught:
        publish(lake_settings(fresh_data_dir), fresh_data_dir, tables=["launches"])
    message = str(caught.value)
    assert "\n" not in message
    assert "launches partition 2025-02 holds rows with launch_month 2025-02-15 besides 2025-02-01" in message
    assert glue_partitions("launches") == ["2025-01-01"], "the months before the bad one were published; it was not"


def test_the_duckdb_engine_publishes_nothing(lake, fresh_data_dir):
    with job_run(fresh_data_dir, "demo", "unit test", settings=Settings(data_dir=fresh_data_dir)):
        pass
    with job_run(fresh_data_dir, "demo", "unit test"):
        pass
    assert not (warehouse_dir(fresh_data_dir) / RECORD).exists()
    assert objects() == {}


def test_a_publish_that_fails_says_so_on_one_line(lake, fresh_data_dir):
    settings = lake_settings(fresh_data_dir, lake_path="s3://no-such-bucket/warehouse/")
    with pytest.raises(WarehouseError) as caught:
        publish(settings, fresh_data_dir, tables=["launches"])
    message = str(caught.value)
    assert "\n" not in message
    assert "s3://no-such-bucket/warehouse/" in message and "NoSuchBucket" in message
    assert "the next run publishes what is missing" in message
    assert not (warehouse_dir(fresh_data_dir) / RECORD).exists() or not json.loads(
        (warehouse_dir(fresh_data_dir) / RECORD).read_text()
    )["tables"].get("launches")


# --- the [athena] settings ------------------------------------------------------------------------


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "launch-ledger.toml"
    path.write_text(text)
    return path


def test_athena_settings_load_from_the_config_file(tmp_path, monkeypatch):
    monkeypatch.delenv("LAUNCH_LEDGER_DATA_DIR", raising=False)
    path = write_config(
        tmp_path,
        '[athena]\nengine = "athena"\ndatabase = "launch_ledger"\nlake_path = "s3://lake/ledger"\n'
        'output_location = "s3://lake/athena-results/"\nworkgroup = "analysts"\nregion = "eu-west-1"\nprofile = "genomics"\n',
    )
    athena = load_settings(path).athena
    assert athena == AthenaSettings(
        engine="athena",
        database="launch_ledger",
        lake_path="s3://lake/ledger/",
        output_location="s3://lake/athena-results/",
        workgroup="analysts",
        region="eu-west-1",
        profile="genomics",
    )
    assert load_settings(write_config(tmp_path, "")).athena == AthenaSettings(engine="duckdb", workgroup="primary")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[athena]\nengine = "athena"\ndatabase = "d"\nlake_path = "s3://b/p/"\n', r"athena.output_location is not set"),
        ('[athena]\nengine = "athena"\nlake_path = "s3://b/p/"\noutput_location = "s3://b/r/"\n', r"athena.database is not set"),
        ('[athena]\nengine = "athena"\ndatabase = "d"\noutput_location = "s3://b/r/"\n', r"athena.lake_path is not set"),
        ('[athena]\nengine = "snowflake"\n', r"athena.engine must be one of duckdb, athena"),
        ('[athena]\nlake_path = "/mnt/lake"\n', r"athena.lake_path must be an s3:// location"),
        ('[athena]\ndatabse = "typo"\n', r"unknown setting athena.databse in the config file; known: .*database"),
    ],
)
def test_athena_settings_errors_are_one_line(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings(write_config(tmp_path, text))
    assert "\n" not in str(caught.value)
