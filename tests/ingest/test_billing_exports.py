"""FOCUS and CUR 2.0 exports as cost sources: hours to days, tags, amortization, split cost, quarantine,
a WHERE on the billing period that reaches the Parquet scan, and s3:// through awswrangler (moto)."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import boto3
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from moto import mock_aws

from chargeback.closing import statement_for
from chargeback.rules import parse_rules
from chargeback.statement import UNTAGGED_LINE
from core.settings import Settings
from ingest.__main__ import main
from ingest.billing_exports import find_files, ingest_export, load_export
from tests.conftest import FOCUS_SAMPLE
from warehouse.store import WarehouseWriter, connect

SAMPLE = FOCUS_SAMPLE
SEPT, OCT = datetime(2026, 9, 1), datetime(2026, 10, 1)
TAGS = pa.map_(pa.string(), pa.string())


def cur_row(kind, cost, hour=0, month=SEPT, tags=None, resource=None, **columns):
    row = {
        "bill_billing_period_start_date": month,
        "line_item_usage_start_date": None if hour is None else month + timedelta(days=2, hours=hour),
        "line_item_line_item_type": kind,
        "line_item_unblended_cost": cost,
        "line_item_usage_account_id": "111122223333",
        "line_item_product_code": "AmazonEC2",
        "product": [("product_name", "Amazon Elastic Compute Cloud")],
        "line_item_resource_id": resource,
        "resource_tags": [(f"user_{k}", v) for k, v in (tags or {}).items()],
        "line_item_currency_code": "USD",
        "pricing_public_on_demand_cost": columns.pop("list_cost", None),
    }
    for name in (
        "savings_plan_savings_plan_effective_cost",
        "savings_plan_total_commitment_to_date",
        "savings_plan_used_commitment",
        "reservation_effective_cost",
        "reservation_unused_amortized_upfront_fee_for_billing_period",
        "reservation_unused_recurring_fee",
        "split_line_item_parent_resource_id",
        "split_line_item_split_cost",
        "split_line_item_unused_cost",
    ):
        row[name] = columns.pop(name, None)
    assert not columns
    return row


def cur_rows():
    return [
        cur_row("Usage", 1.0, 0, tags={"team": "a"}, resource="i-1", list_cost=1.2),
        cur_row("Usage", 1.0, 1, tags={"team": "a"}, resource="i-1", list_cost=1.2),  # the same day: one daily row
        cur_row("SavingsPlanCoveredUsage", 3.0, tags={"team": "b"}, resource="i-2", savings_plan_savings_plan_effective_cost=2.1),
        cur_row("SavingsPlanNegation", -3.0, tags={"team": "b"}, resource="i-2"),
        cur_row("SavingsPlanRecurringFee", 5.0, savings_plan_total_commitment_to_date=5.0, savings_plan_used_commitment=4.0),
        cur_row("DiscountedUsage", 0.0, tags={"team": "a"}, resource="i-3", reservation_effective_cost=0.7),
        cur_row(
            "RIFee", 10.0, reservation_unused_amortized_upfront_fee_for_billing_period=0.5, reservation_unused_recurring_fee=0.25
        ),
        cur_row("Credit", -1.5),
        cur_row("Usage", 6.0, resource="i-4"),  # an EKS node, untagged ...
        cur_row(
            "Usage",
            0.0,
            tags={"team": "a"},
            resource="pod-a",
            split_line_item_parent_resource_id="i-4",
            split_line_item_split_cost=2.0,
            split_line_item_unused_cost=1.0,
        ),  # ... shared by two pods
        cur_row(
            "Usage",
            0.0,
            tags={"team": "b"},
            resource="pod-b",
            split_line_item_parent_resource_id="i-4",
            split_line_item_split_cost=2.0,
            split_line_item_unused_cost=1.0,
        ),
        cur_row("Usage", 9.0, hour=None, tags={"team": "a"}),  # no usage start: quarantined
        cur_row("Usage", 4.0, month=OCT, tags={"team": "a"}, resource="i-1"),
    ]


def write_cur(path: Path) -> Path:
    rows = cur_rows()

    def arrow_type(name: str) -> pa.DataType:
        if name in ("product", "resource_tags"):
            return TAGS
        if name.endswith(("_cost", "_commitment", "_commitment_to_date", "_fee", "_fee_for_billing_period")):
            return pa.float64()
        if name.endswith("_date"):
            return pa.timestamp("ms")
        return pa.string()

    schema = pa.schema([(name, arrow_type(name)) for name in rows[0]])
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path, row_group_size=4)
    return path


@pytest.fixture
def cur_file(tmp_path) -> Path:
    return write_cur(tmp_path / "cur-00001.snappy.parquet")


def test_cur_is_amortized_rolled_up_to_days_and_split_by_pod(cur_file, tmp_path, capsys):
    data = tmp_path / "data"
    assert main(["cur", str(cur_file), "--tag-key", "team", "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    assert "quarantined          1" in out and "the charge period start is missing or not a timestamp" in out
    con = connect(data)
    september = con.execute(
        "SELECT sum(effective_cost), sum(billed_cost), sum(list_cost), count(*) FROM costs_daily "
        "WHERE usage_month = DATE '2026-09-01'"
    ).fetchall()[0]
    # effective: 2.0 usage + 2.1 SP rate + 0 negation + 1.0 unused commitment + 0.7 RI rate + 0.75 unused RI
    # - 1.5 credit + 6.0 node
    assert september == (Decimal("11.050000"), Decimal("21.500000"), Decimal("2.400000"), 8)  # per day, resource, tags, category
    rows = dict(con.execute("SELECT resource_id, consumer FROM costs_daily WHERE resource_id IN ('i-1', 'pod-a')").fetchall())
    assert rows == {"i-1": "a", "pod-a": "a"}
    categories = dict(con.execute("SELECT charge_category, count(*) FROM costs_daily GROUP BY 1").fetchall())
    assert categories == {"Usage": 7, "Purchase": 1, "Credit": 1}
    assert con.execute("SELECT DISTINCT service, source FROM costs_daily").fetchall() == [("Amazon Elastic Compute Cloud", "cur")]
    assert con.execute("SELECT reason FROM quarantine").fetchall() == [("the charge period start is missing or not a timestamp",)]

    s = statement_for(con, date(2026, 9, 1), parse_rules('[consumer]\ntag = "team"\n'))
    got = {(line["consumer"], line["line"]): line["amount"] for line in s.lines.to_dict("records")}
    assert got[("a", "no launches recorded")] == Decimal("5.70")  # 2.0 + 0.7 + half of the node (its pod's 2.0 + 1.0 of 6.0)
    assert got[("b", "no launches recorded")] == Decimal("5.10")  # 2.1 + 0 + the other half
    assert got[(None, UNTAGGED_LINE)] == Decimal("0.25")  # 1.0 + 0.75 - 1.5
    assert s.bill_total == Decimal("11.05") == sum(s.lines["amount"]) and s.billed_total == Decimal("21.50")


def test_the_billing_period_filter_reaches_the_parquet_scan(cur_file, tmp_path):
    with WarehouseWriter(tmp_path / "data", "pushdown") as writer:
        found = find_files(str(cur_file), writer.tmp, [date(2026, 10, 1)])
        loaded = load_export(writer, found, "cur", str(cur_file), "team", [date(2026, 10, 1)])
        plan = writer.con.execute("EXPLAIN SELECT * FROM export_rows").fetchall()[0][1]
    assert loaded.months == ["2026-10"] and loaded.rows == 1 and loaded.quarantined == 0
    scan = plan[plan.index("READ_PARQUET") :]
    assert "Filters:" in scan and "bill_billing_period_start_date" in scan.split("Filters:", 1)[1]


def test_a_non_export_and_a_missing_path_are_one_line_errors(tmp_path, capsys):
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    assert main(["focus", str(other), "--data-dir", str(tmp_path / "d")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not a FOCUS 1.x export: column BillingPeriodStart is missing" in err
    assert main(["cur", str(tmp_path / "nope"), "--data-dir", str(tmp_path / "d")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_focus_rows_with_unreadable_costs_are_quarantined_with_the_reason(tmp_path, capsys):
    export = tmp_path / "focus.csv"
    export.write_text(
        "BillingPeriodStart,ChargePeriodStart,BilledCost,EffectiveCost,ListCost,ServiceName,ChargeCategory,Tags\n"
        '2026-09-01T00:00:00Z,2026-09-03T10:00:00Z,1.25,1.000000001,2,Amazon S3,Usage,"{""user:team"": ""a""}"\n'
        '2026-09-01T00:00:00Z,2026-09-03T11:00:00Z,1.25,1.000000001,2,Amazon S3,Usage,"{""user:team"": ""a""}"\n'
        "2026-09-01T00:00:00Z,2026-09-03T12:00:00Z,1.25,twelve,2,Amazon S3,Usage,\n"
        "2026-09-01T00:00:00Z,,1.25,1,2,Amazon S3,Usage,\n"
    )
    assert main(["focus", str(export), "--tag-key", "team", "--data-dir", str(tmp_path / "d")]) == 0
    con = connect(tmp_path / "d")
    assert con.execute("SELECT consumer, effective_cost, billed_cost, list_cost FROM costs_daily").fetchall() == [
        ("a", Decimal("2.000000"), Decimal("2.500000"), Decimal("4.000000"))
    ]
    reasons = sorted(r for (r,) in con.execute("SELECT reason FROM quarantine").fetchall())
    assert reasons == ["the charge period start is missing or not a timestamp", "the effective cost twelve is not a number"]


def test_focus_parquet_on_s3_downloads_only_the_months_asked_for(aws_env, tmp_path):
    local = tmp_path / "parts"
    local.mkdir()
    duck = duckdb.connect()
    for month in ("2024-09", "2024-10"):
        duck.execute(
            f"""COPY (SELECT * REPLACE (CAST(BilledCost AS DOUBLE) AS BilledCost, CAST(EffectiveCost AS DOUBLE) AS EffectiveCost,
                     TRY_CAST(CAST(Tags AS JSON) AS MAP(VARCHAR, VARCHAR)) AS Tags)
                 FROM read_csv('{SAMPLE}', nullstr = ['NULL', ''])
                 WHERE strftime(BillingPeriodStart, '%Y-%m') = '{month}') TO '{local / month}.parquet' (FORMAT parquet)"""
        )
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="billing")
        for month in ("2024-09", "2024-10"):
            s3.upload_file(str(local / f"{month}.parquet"), "billing", f"focus/data/BILLING_PERIOD={month}/part-0.parquet")
        run = ingest_export(
            Settings(data_dir=tmp_path / "d"), "focus", "s3://billing/focus/", [date(2024, 9, 1)], "business_unit"
        )
    assert run.stats.api_requests == 2  # one listing, one download: October's object is never fetched
    assert run.stats.records_read == 999 and run.stats.records_quarantined == 0
    con = connect(tmp_path / "d")
    total, tagged = con.execute("SELECT sum(effective_cost), count(consumer) FROM costs_daily").fetchall()[0]
    assert total.quantize(Decimal("0.01")) == Decimal("14.98") and tagged > 600
