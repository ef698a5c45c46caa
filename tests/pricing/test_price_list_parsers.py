"""Price List GetProducts and DescribeSpotPriceHistory: the real response shapes botocore ships as examples."""

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import boto3
import botocore
from botocore.stub import Stubber

from pricing import pricelist
from pricing.snapshot import latest_snapshot, snapshot_rows

DATA = Path(botocore.__file__).parent / "data"


def example(service_dir: str, operation: str) -> dict:
    for path in sorted((DATA / service_dir).glob("*/examples-1.json"), reverse=True):
        found = json.loads(path.read_text())["examples"].get(operation)
        if found:
            return found[0]
    raise LookupError(operation)


def test_get_products_example_parses_to_its_price():
    output = example("pricing", "GetProducts")["output"]
    rows = pricelist.parse_price_list(output["PriceList"], "volume", "io1", "ca-central-1")
    assert len(rows) == 1
    row = rows[0]
    # "$0.138 per GB-month of Provisioned IOPS SSD (io1) provisioned storage - Canada (Central)"
    assert Decimal(row["price"]) == Decimal("0.138")
    assert (row["charge"], row["unit"], row["region"], row["service"]) == ("storage", "GB-Mo", "ca-central-1", "AmazonEC2")
    assert row["effective_from"] == datetime(2017, 8, 1)
    assert row["sku"] == "WQGC34PB2AWS8R4U"
    assert row["source"] == "price-list-api" and row["purchase_option"] == "On-Demand"


def test_fetch_list_prices_follows_next_token_through_a_stubbed_client(aws_env):
    ex = example("pricing", "GetProducts")
    client = boto3.client("pricing", region_name="us-east-1")
    service, filters = pricelist.product_filters("volume", "io1", "ca-central-1")
    first = {"ServiceCode": service, "Filters": filters, "FormatVersion": "aws_v1", "MaxResults": 100}
    with Stubber(client) as stub:
        stub.add_response("get_products", ex["output"], first)
        stub.add_response(
            "get_products", {"FormatVersion": "aws_v1", "PriceList": []}, {**first, "NextToken": ex["output"]["NextToken"]}
        )
        rows, requests = pricelist.fetch_list_prices(client, "volume", "io1", "ca-central-1")
        stub.assert_no_pending_responses()
    assert requests == 2
    assert [Decimal(r["price"]) for r in rows] == [Decimal("0.138")]


def test_instance_filters_ask_for_linux_shared_tenancy_in_the_region():
    service, filters = pricelist.product_filters("instance", "r6i.4xlarge", "eu-west-1")
    assert service == "AmazonEC2"
    asked = {f["Field"]: f["Value"] for f in filters}
    assert asked == {
        "regionCode": "eu-west-1",
        "instanceType": "r6i.4xlarge",
        "operatingSystem": "Linux",
        "tenancy": "Shared",
        "preInstalledSw": "NA",
        "capacitystatus": "Used",
    }
    assert all(f["Type"] == "TERM_MATCH" for f in filters)


def test_tiered_and_unknown_dimensions_are_skipped():
    entry = json.loads(example("pricing", "GetProducts")["output"]["PriceList"][0])
    dims = next(iter(entry["terms"]["OnDemand"].values()))["priceDimensions"]
    (dim,) = dims.values()
    dims["second-tier"] = {**dim, "beginRange": "32000", "unit": "IOPS-Mo", "pricePerUnit": {"USD": "0.0455"}}
    dims["odd-unit"] = {**dim, "unit": "Quantity", "pricePerUnit": {"USD": "9"}}
    rows = pricelist.parse_price_list([json.dumps(entry)], "volume", "io2", "ca-central-1")
    assert [r["unit"] for r in rows] == ["GB-Mo"]


def test_gp3_throughput_listed_per_gibps_month_is_stored_per_mibps_month():
    entry = json.loads(example("pricing", "GetProducts")["output"]["PriceList"][0])
    dims = next(iter(entry["terms"]["OnDemand"].values()))["priceDimensions"]
    (dim,) = dims.values()
    dim.update(unit="GiBps-mo", pricePerUnit={"USD": "40.9600000000"})  # the Price List's gp3 throughput line, us-east-1
    (row,) = pricelist.parse_price_list([json.dumps(entry)], "volume", "gp3", "us-east-1")
    assert (row["charge"], row["unit"], Decimal(row["price"])) == ("throughput", "MiBps-Mo", Decimal("0.04"))
    # the same figure the snapshot carries for us-east-1
    snap = [r for r in snapshot_rows() if (r["region"], r["resource_type"], r["charge"]) == ("us-east-1", "gp3", "throughput")]
    assert [(r["unit"], Decimal(r["price"])) for r in snap] == [("MiBps-Mo", Decimal("0.04"))]


def test_spot_price_history_example_parses_one_row_per_zone_and_time():
    output = example("ec2", "DescribeSpotPriceHistory")["output"]
    rows = pricelist.parse_spot_history(output)
    assert [
        (r["region"], r["availability_zone"], r["resource_type"], Decimal(r["price"]), r["effective_from"]) for r in rows
    ] == [
        ("us-west-1", "us-west-1a", "m1.xlarge", Decimal("0.08"), datetime(2014, 1, 6, 4, 32, 53)),
        ("us-west-1", "us-west-1c", "m1.xlarge", Decimal("0.08"), datetime(2014, 1, 5, 11, 28, 26)),
    ]
    assert {r["purchase_option"] for r in rows} == {"Spot"}


def test_fetch_spot_history_through_a_stubbed_ec2_client(aws_env):
    ex = example("ec2", "DescribeSpotPriceHistory")
    client = boto3.client("ec2", region_name="us-west-1")
    start, end = datetime(2014, 1, 6, 7, 8, 9), datetime(2014, 1, 6, 8, 9, 10)
    with Stubber(client) as stub:
        stub.add_response(
            "describe_spot_price_history",
            ex["output"],
            {
                "InstanceTypes": ["m1.xlarge"],
                "AvailabilityZone": "us-west-1a",
                "ProductDescriptions": ["Linux/UNIX"],
                "StartTime": start,
                "EndTime": end,
                "MaxResults": 1000,
            },
        )
        rows, requests = pricelist.fetch_spot_history(client, "m1.xlarge", "us-west-1a", start, end)
    assert requests == 1 and len(rows) == 2


def test_snapshot_covers_the_common_genomics_families_in_three_regions_and_says_where_each_figure_came_from():
    rows = snapshot_rows()
    doc = json.loads(latest_snapshot().read_text())
    assert doc["snapshot_date"] == latest_snapshot().stem.removeprefix("prices-")
    have = {(r["region"], r["resource_type"]) for r in rows}
    for region in ("us-east-1", "us-west-2", "eu-west-1"):
        for t in (
            "c5.4xlarge",
            "c6i.4xlarge",
            "c7i.4xlarge",
            "m5.4xlarge",
            "m6i.4xlarge",
            "m7i.4xlarge",
            "r5.4xlarge",
            "r6i.4xlarge",
            "r7i.4xlarge",
            "x2idn.16xlarge",
            "i4i.4xlarge",
            "g5.xlarge",
            "p4d.24xlarge",
            "gp3",
            "gp2",
            "io2",
            "st1",
            "SCRATCH_2",
            "PERSISTENT_1",
            "PERSISTENT_2",
            "eks",
        ):
            assert (region, t) in have, (region, t)
    assert all(p["source"] for p in doc["prices"])
    # every figure says how well it is sourced (tests/pricing/test_snapshot.py checks the rest)
    assert all(p["source"].startswith(("verified, ", "one source: ", "estimate, not a list price: ")) for p in doc["prices"])
    assert (latest_snapshot().parent / "README.md").read_text().count("2026-11-26") >= 1
