"""The prices and price-launches jobs: snapshot, AWS fetch (stubbed, real shapes) cached, demo priced end to end."""

import copy
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import boto3
import botocore
import pytest
from botocore.stub import ANY, Stubber

from ingest.__main__ import main
from ingest.config import Settings
from ingest.prices import Clients, fetch_prices, price_launches, rules_from
from ingest.warehouse import connect
from pricing.engine import price_launches as reference_price_launches
from pricing.inputs import read_inputs
from pricing.snapshot import snapshot_rows
from tests.conftest import load_fixture_warehouse

EXAMPLE = json.loads((Path(botocore.__file__).parent / "data/pricing/2017-10-15/examples-1.json").read_text())
TEMPLATE = json.loads(EXAMPLE["examples"]["GetProducts"][0]["output"]["PriceList"][0])


def product(region: str, unit: str, price: str, **attributes) -> str:
    """A PriceList entry in the real shape (the botocore example's), for another product."""
    entry = copy.deepcopy(TEMPLATE)
    entry["product"]["attributes"].update(regionCode=region, **attributes)
    (offer,) = entry["terms"]["OnDemand"].values()
    (dim,) = offer["priceDimensions"].values()
    dim.update(unit=unit, pricePerUnit={"USD": price})
    offer["effectiveDate"] = "2026-11-01T00:00:00Z"
    return json.dumps(entry)



@pytest.fixture
def warehouse(tmp_path) -> Settings:
    return Settings(data_dir=load_fixture_warehouse(tmp_path / "data"))


def test_offline_loads_the_snapshot_once(warehouse):
    first = fetch_prices(warehouse, offline=True, quiet=True)
    snapshot = len(snapshot_rows())
    assert first.stats.api_requests == 0
    again = fetch_prices(warehouse, offline=True, quiet=True)
    assert again.stats.records_loaded == 0 and again.stats.records_unchanged == snapshot
    con = connect(warehouse.data_dir)
    assert con.execute("SELECT count(*) FROM prices WHERE source LIKE 'snapshot:%'").fetchall()[0][0] >= snapshot
    runs = con.sql("SELECT command, outcome FROM ingest_runs WHERE command = 'prices'").fetchall()
    assert runs == [("prices", "succeeded")] * 2


def test_prices_fetches_what_the_launches_need_once(warehouse, aws_env):
    pricing = boto3.client("pricing", region_name="us-east-1")
    ec2 = boto3.client("ec2", region_name="us-east-1")
    # What the fixture launches used, in the order the job asks (region, kind, type):
    wanted = [
        ("AmazonEKS", product("us-east-1", "Hrs", "0.1000000000", usagetype="USE1-AmazonEKS-Hours:perCluster")),
        ("AmazonFSx", product("us-east-1", "GB-Mo", "0.2100000000", throughputCapacity="250")),
        ("AmazonEC2", product("us-east-1", "Hrs", "1.3600000000")),  # c6i.8xlarge
        ("AmazonEC2", product("us-east-1", "Hrs", "0.7680000000")),  # m6i.4xlarge
        ("AmazonEC2", product("us-east-1", "Hrs", "1.0080000000")),  # r6i.4xlarge
        ("AmazonEC2", product("us-east-1", "Hrs", "2.0160000000")),  # r6i.8xlarge
        ("AmazonEC2", product("us-east-1", "GB-Mo", "0.0800000000")),  # gp3
    ]
    # ... and one Spot window per (zone, instance type) the Spot launches ran in
    spot_windows = [("c6i.8xlarge", "us-east-1a"), ("r6i.4xlarge", "us-east-1a"), ("r6i.4xlarge", "us-east-1b"),
                    ("r6i.8xlarge", "us-east-1b"), ("c6i.8xlarge", "us-east-1c"), ("r6i.4xlarge", "us-east-1c")]  # fmt: skip
    with Stubber(pricing) as price_stub, Stubber(ec2) as ec2_stub:
        for service, entry in wanted:
            price_stub.add_response(
                "get_products",
                {"FormatVersion": "aws_v1", "PriceList": [entry]},
                {"ServiceCode": service, "Filters": ANY, "FormatVersion": "aws_v1", "MaxResults": 100},
            )
        for rtype, zone in spot_windows:
            point = {"AvailabilityZone": zone, "InstanceType": rtype, "ProductDescription": "Linux/UNIX",
                     "SpotPrice": "0.412300", "Timestamp": datetime(2025, 1, 2, 3, 4, 5)}  # fmt: skip
            ec2_stub.add_response(
                "describe_spot_price_history",
                {"SpotPriceHistory": [point]},
                {"InstanceTypes": [rtype], "AvailabilityZone": zone, "ProductDescriptions": ["Linux/UNIX"],
                 "StartTime": ANY, "EndTime": ANY, "MaxResults": 1000},
            )  # fmt: skip
        run = fetch_prices(warehouse, clients=Clients(pricing, {"us-east-1": ec2}), quiet=True)
        price_stub.assert_no_pending_responses()
        ec2_stub.assert_no_pending_responses()
    assert run.stats.api_requests == len(wanted) + len(spot_windows)
    con = connect(warehouse.data_dir)
    api = con.sql("SELECT resource_type, charge, price FROM prices WHERE source = 'price-list-api' ORDER BY 1").fetchall()
    assert ("r6i.4xlarge", "usage", Decimal("1.0080000000")) in api and ("eks", "usage", Decimal("0.1000000000")) in api
    assert con.execute("SELECT count(*) FROM prices WHERE source = 'spot-price-history-api'").fetchall()[0][0] == 8 + len(
        spot_windows
    )  # 8 in the fixture
    con.close()

    # A second run asks AWS for nothing: every price point is held (a stubbed client with no responses would fail).
    with Stubber(pricing), Stubber(ec2):
        again = fetch_prices(warehouse, clients=Clients(pricing, {"us-east-1": ec2}), quiet=True)
    assert again.stats.api_requests == 0
    ((requests,),) = (
        connect(warehouse.data_dir)
        .execute("SELECT api_requests FROM ingest_runs WHERE command = 'prices' ORDER BY started_at DESC LIMIT 1")
        .fetchall()
    )
    assert requests == 0


def test_price_launches_is_idempotent_and_matches_the_reference(warehouse):
    price_launches(warehouse, quiet=True)
    con = connect(warehouse.data_dir)
    first = con.sql("SELECT * EXCLUDE (priced_at, ingest_run_id) FROM launch_costs ORDER BY launch_id").fetchall()
    con.close()
    price_launches(warehouse, quiet=True)
    con = connect(warehouse.data_dir)
    assert con.sql("SELECT * EXCLUDE (priced_at, ingest_run_id) FROM launch_costs ORDER BY launch_id").fetchall() == first
    launches, resources, book = read_inputs(con)
    ref = reference_price_launches(launches, resources, book, rules_from(warehouse.pricing))
    for row in con.sql("SELECT launch_id, total_cost FROM launch_costs WHERE total_cost IS NOT NULL").fetchall():
        assert row[1] == ref[row[0]].total_cost


def test_demo_ends_with_every_ended_launch_priced(tmp_path, capsys):
    data = tmp_path / "demo"
    assert main(["demo", "--launches", "400", "--seed", "3", "--end-date", "2026-10-31", "--data-dir", str(data)]) == 0
    con = connect(data)
    # launches the workflow manager wrote no price strings for, but that ended with resources: priced by the engine
    unpriced_items = con.sql(
        """SELECT c.price_status, c.total_cost IS NOT NULL AS priced
           FROM launches l JOIN launch_costs c USING (launch_id)
           WHERE l.total_cost IS NULL AND l.ended_at IS NOT NULL"""
    ).fetchall()
    assert unpriced_items, "the demo writes some launches without price strings"
    assert all(priced and status in ("ESTIMATED", "FINAL") for status, priced in unpriced_items)
    # every launch has a row; running launches are PENDING with no cost; parts add up exactly everywhere
    assert con.execute("SELECT count(*) FROM launches").fetchall() == con.execute("SELECT count(*) FROM launch_costs").fetchall()
    assert con.execute(
        "SELECT count(*) FROM launch_costs c JOIN launches l USING (launch_id) WHERE l.ended_at IS NULL AND (c.price_status <> 'PENDING' OR c.total_cost IS NOT NULL)"
    ).fetchall() == [(0,)]
    assert con.execute(
        "SELECT count(*) FROM launch_costs WHERE instance_cost + volume_cost + filesystem_cost + control_plane_cost <> total_cost"
    ).fetchall() == [(0,)]
    assert {s for (s,) in con.sql("SELECT DISTINCT price_status FROM launch_costs").fetchall()} == {
        "PENDING",
        "ESTIMATED",
        "FINAL",
    }
    commands = [c for (c,) in con.sql("SELECT command FROM ingest_runs ORDER BY started_at").fetchall()]
    assert commands[-2:] == ["prices", "price-launches"]
