"""The prices and price-launches jobs: snapshot, AWS fetch (stubbed, real shapes) cached, demo priced end to end."""

import copy
import json
import shutil
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import boto3
import botocore
import pytest
from botocore.stub import ANY, Stubber

from core.errors import SourceError
from core.settings import Settings
from ingest.__main__ import main
from ingest.prices import Clients, fetch_prices
from pricing import bulk
from pricing.engine import Rules
from pricing.engine import price_launches as reference_price_launches
from pricing.inputs import read_inputs
from pricing.jobs import price_launches
from pricing.snapshot import snapshot_rows
from tests.conftest import load_fixture_warehouse
from warehouse.store import connect

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
    runs = con.sql("SELECT command, outcome FROM job_runs WHERE command = 'prices'").fetchall()
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
    spot_windows = [
        ("c6i.8xlarge", "us-east-1a"),
        ("r6i.4xlarge", "us-east-1a"),
        ("r6i.4xlarge", "us-east-1b"),
        ("r6i.8xlarge", "us-east-1b"),
        ("c6i.8xlarge", "us-east-1c"),
        ("r6i.4xlarge", "us-east-1c"),
    ]
    with Stubber(pricing) as price_stub, Stubber(ec2) as ec2_stub:
        for service, entry in wanted:
            price_stub.add_response(
                "get_products",
                {"FormatVersion": "aws_v1", "PriceList": [entry]},
                {"ServiceCode": service, "Filters": ANY, "FormatVersion": "aws_v1", "MaxResults": 100},
            )
        for rtype, zone in spot_windows:
            point = {
                "AvailabilityZone": zone,
                "InstanceType": rtype,
                "ProductDescription": "Linux/UNIX",
                "SpotPrice": "0.412300",
                "Timestamp": datetime(2025, 1, 2, 3, 4, 5),
            }
            ec2_stub.add_response(
                "describe_spot_price_history",
                {"SpotPriceHistory": [point]},
                {
                    "InstanceTypes": [rtype],
                    "AvailabilityZone": zone,
                    "ProductDescriptions": ["Linux/UNIX"],
                    "StartTime": ANY,
                    "EndTime": ANY,
                    "MaxResults": 1000,
                },
            )
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
        .execute("SELECT api_requests FROM job_runs WHERE command = 'prices' ORDER BY started_at DESC LIMIT 1")
        .fetchall()
    )
    assert requests == 0


def task_prices(con) -> dict[str, Decimal]:
    """{launch: the sum of the engine costs of its tasks} for runs with tasks that ran (pricing.tasks)."""
    rows = con.sql(
        """SELECT launch_id, list(engine_cost) FROM launch_tasks
           WHERE status IS DISTINCT FROM 'CACHED' AND started_at IS NOT NULL GROUP BY 1"""
    ).fetchall()
    return {lid: sum(costs, Decimal(0)) for lid, costs in rows if None not in costs}


def expected_total(reference, tasks_total: Decimal | None) -> Decimal:
    """The reference engine's total; for a run with tasks, its instance part is the sum of its tasks' engine costs."""
    if tasks_total is None:
        return reference.total_cost
    return reference.total_cost - reference.instance_cost + tasks_total


def test_price_launches_is_idempotent_and_matches_the_reference(warehouse):
    price_launches(warehouse, quiet=True)
    con = connect(warehouse.data_dir)
    first = con.sql("SELECT * EXCLUDE (priced_at, ingest_run_id) FROM launch_costs ORDER BY launch_id").fetchall()
    con.close()
    price_launches(warehouse, quiet=True)
    con = connect(warehouse.data_dir)
    assert con.sql("SELECT * EXCLUDE (priced_at, ingest_run_id) FROM launch_costs ORDER BY launch_id").fetchall() == first
    launches, resources, book = read_inputs(con)
    ref = reference_price_launches(launches, resources, book, Rules.from_settings(warehouse.pricing))
    tasks = task_prices(con)
    assert tasks  # the fixture has runs with tasks: priced as the sum of their tasks
    for row in con.sql("SELECT launch_id, total_cost FROM launch_costs WHERE total_cost IS NOT NULL").fetchall():
        assert row[1] == expected_total(ref[row[0]], tasks.get(row[0]))


def test_saved_spot_history_responses_load_once_and_bad_ones_fail_clearly(warehouse, tmp_path):
    saved = tmp_path / "spot" / "us-west-2"
    saved.mkdir(parents=True)
    points = [
        {
            "AvailabilityZone": "us-west-2a",
            "InstanceType": "r6i.4xlarge",
            "ProductDescription": "Linux/UNIX",
            "SpotPrice": "0.301200",
            "Timestamp": "2025-03-01T10:00:00.000Z",
        },
        {
            "AvailabilityZone": "us-west-2a",
            "InstanceType": "r6i.4xlarge",
            "ProductDescription": "Linux/UNIX",
            "SpotPrice": "0.322900",
            "Timestamp": "2025-03-03T07:12:40.000Z",
        },
    ]
    (saved / "page-0001.json").write_text(json.dumps({"SpotPriceHistory": points}))
    run = fetch_prices(warehouse, offline=True, quiet=True, spot_responses=tmp_path / "spot")
    assert "Spot price history from 1 saved response(s): 2 new price point(s)" in run.stats.notes
    con = connect(warehouse.data_dir)
    got = con.sql(
        "SELECT region, availability_zone, price, effective_from FROM prices "
        "WHERE region = 'us-west-2' AND purchase_option = 'Spot' ORDER BY 4"
    ).fetchall()
    assert got == [
        ("us-west-2", "us-west-2a", Decimal("0.3012000000"), datetime(2025, 3, 1, 10)),
        ("us-west-2", "us-west-2a", Decimal("0.3229000000"), datetime(2025, 3, 3, 7, 12, 40)),
    ]
    snapshot = con.execute("SELECT count(*) FROM prices WHERE source LIKE 'snapshot:%'").fetchall()[0][0]
    assert snapshot >= len(snapshot_rows())  # written in the same run, not lost to the Spot rows' partition
    con.close()
    # again from the command line: nothing new to load, the two Spot points stay two
    assert main(["prices", "--offline", "--spot-responses", str(tmp_path / "spot"), "--data-dir", str(warehouse.data_dir)]) == 0
    con = connect(warehouse.data_dir)
    assert con.sql("SELECT count(*) FROM prices WHERE purchase_option = 'Spot' AND region = 'us-west-2'").fetchall() == [(2,)]
    assert con.sql("SELECT records_loaded FROM job_runs ORDER BY started_at DESC LIMIT 1").fetchall() == [(0,)]
    con.close()
    (saved / "page-0002.json").write_text(json.dumps({"ResultsByTime": []}))  # a Cost Explorer page, by mistake
    with pytest.raises(SourceError, match=r"page-0002.json is not a DescribeSpotPriceHistory response"):
        fetch_prices(warehouse, offline=True, quiet=True, spot_responses=tmp_path / "spot")
    with pytest.raises(SourceError, match="no DescribeSpotPriceHistory responses"):
        fetch_prices(warehouse, offline=True, quiet=True, spot_responses=tmp_path / "empty")


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("demo") / "data"
    assert main(["demo", "--launches", "400", "--seed", "3", "--end-date", "2026-10-31", "--data-dir", str(data)]) == 0
    return data


def test_demo_ends_with_every_ended_launch_priced(demo_data):
    con = connect(demo_data)
    # launches the workflow manager wrote no price strings for, but that ended with resources: priced by the engine
    unpriced_items = con.sql(
        """SELECT c.price_status, c.total_cost IS NOT NULL AS priced
           FROM launches l JOIN launch_costs c USING (launch_id)
           WHERE l.price_source <> 'item' AND l.ended_at IS NOT NULL"""
    ).fetchall()
    assert unpriced_items, "the demo writes some launches without price strings"
    assert all(priced and status in ("ESTIMATED", "FINAL") for status, priced in unpriced_items)
    # ... and they carry the engine's price in launches itself, part by part, so no page leaves them out
    assert con.sql(
        """SELECT count(*) FILTER (WHERE l.price_source = 'computed'), count(*) FILTER (WHERE l.price_source = 'pending'),
                  count(*) FILTER (WHERE l.price_source = 'computed' AND (l.instance_cost, l.volume_cost, l.filesystem_cost,
                      l.control_plane_cost, l.total_cost) IS DISTINCT FROM (c.instance_cost, c.volume_cost, c.filesystem_cost,
                      c.control_plane_cost, c.total_cost))
           FROM launches l JOIN launch_costs c USING (launch_id) WHERE l.ended_at IS NOT NULL AND l.price_source <> 'item'"""
    ).fetchall() == [(len(unpriced_items), 0, 0)]
    # every launch has a row; running launches are PENDING with no cost; parts add up exactly everywhere
    assert con.execute("SELECT count(*) FROM launches").fetchall() == con.execute("SELECT count(*) FROM launch_costs").fetchall()
    assert con.execute(
        "SELECT count(*) FROM launch_costs c JOIN launches l USING (launch_id) "
        "WHERE l.ended_at IS NULL AND (c.price_status <> 'PENDING' OR c.total_cost IS NOT NULL)"
    ).fetchall() == [(0,)]
    assert con.execute(
        "SELECT count(*) FROM launch_costs WHERE instance_cost + volume_cost + filesystem_cost + control_plane_cost <> total_cost"
    ).fetchall() == [(0,)]
    assert {s for (s,) in con.sql("SELECT DISTINCT price_status FROM launch_costs").fetchall()} == {
        "PENDING",
        "ESTIMATED",
        "FINAL",
    }
    commands = [c for (c,) in con.sql("SELECT command FROM job_runs ORDER BY started_at").fetchall()]
    assert commands[-2:] == ["prices", "price-launches"]


def test_demo_spot_launches_are_priced_from_the_demo_spot_history(demo_data):
    con = connect(demo_data)
    points = sum(
        len(json.loads(p.read_text())["SpotPriceHistory"])
        for p in (demo_data / "demo-source" / "spot-price-history").rglob("*.json")
    )
    assert con.execute("SELECT count(*) FROM prices WHERE purchase_option = 'Spot'").fetchall() == [(points,)]
    # every Spot line of an ended launch has a history for its region, zone and type
    spot_lines, without_history = con.execute(
        """SELECT count(*), count(*) FILTER (WHERE NOT EXISTS (
               SELECT 1 FROM prices p WHERE p.purchase_option = 'Spot' AND p.region = l.region
                 AND p.availability_zone = r.availability_zone AND p.resource_type = r.resource_type))
           FROM launch_resources r JOIN launches l USING (launch_id)
           WHERE r.kind = 'instance' AND r.purchase_option = 'Spot' AND l.ended_at IS NOT NULL"""
    ).fetchall()[0]
    assert spot_lines > 100 and without_history == 0
    # so the fallback (x On-Demand) is never used: pricing with another fallback fraction changes nothing
    rules = Rules.from_settings(Settings().pricing)
    at = datetime(2026, 11, 1)
    default = sorted(bulk.launch_costs(con, rules, "r", at).fetchall())
    other = sorted(bulk.launch_costs(con, replace(rules, spot_fallback_fraction=Decimal("0.9")), "r", at).fetchall())
    assert default == other
    statuses = con.sql(
        """SELECT DISTINCT c.price_status FROM launch_costs c JOIN launches l USING (launch_id)
           WHERE l.primary_purchase_option = 'Spot' AND l.ended_at IS NOT NULL AND l.running_at >= '2026-10-01'"""
    ).fetchall()
    assert statuses == [("ESTIMATED",)]  # October's bill is not final on 2026-10-31


def test_demo_strings_and_the_engine_agree_except_the_eks_control_plane(demo_data):
    """Same list prices (the snapshot) and the same Spot history on both sides: the only differences are the
    demo's rounding to 4 decimals per part and its fixed 1/3 share of an EKS cluster."""
    con = connect(demo_data)
    rows = con.sql(
        """SELECT l.compute_platform, l.primary_purchase_option,
                  l.instance_cost - c.instance_cost, l.volume_cost - c.volume_cost, l.filesystem_cost - c.filesystem_cost,
                  l.control_plane_cost, c.control_plane_cost
           FROM launches l JOIN launch_costs c USING (launch_id)
           WHERE l.price_source = 'item' AND c.total_cost IS NOT NULL"""
    ).fetchall()
    assert len(rows) > 300
    rounding = Decimal("0.0001")
    options = set()
    for platform, option, d_inst, d_vol, d_fs, demo_cp, engine_cp in rows:
        assert abs(d_inst) <= rounding and abs(d_vol) <= rounding and abs(d_fs) <= rounding
        options.add(option)
        if platform != "EKS":
            assert demo_cp == engine_cp == 0
    assert {"Spot", "On-Demand", "Reserved"} <= options
    differing = [r for r in rows if r[0] == "EKS" and abs(r[5] - r[6]) > Decimal("0.01")]
    assert differing  # the demo's fixed share, against the engine's split over concurrent launches
    # and the bulk statement is still the reference engine, to the micro-dollar, on the demo's prices
    launches, resources, book = read_inputs(con)
    ref = reference_price_launches(launches, resources, book, Rules.from_settings(Settings().pricing))
    tasks = task_prices(con)
    for lid, total in con.sql("SELECT launch_id, total_cost FROM launch_costs WHERE total_cost IS NOT NULL").fetchall():
        assert total == expected_total(ref[lid], tasks.get(lid)), lid


def test_computed_prices_survive_a_re_ingest_of_the_same_items(demo_data, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(demo_data, data)
    con = connect(data)
    before = con.sql("SELECT launch_id, total_cost FROM launches WHERE price_source = 'computed' ORDER BY 1").fetchall()
    con.close()
    assert before and all(total is not None for _, total in before)
    export = data / "demo-source" / "dynamodb-export"
    assert main(["dynamodb-export", str(export), "--full", "--data-dir", str(data)]) == 0
    con = connect(data)
    after = con.sql("SELECT launch_id, total_cost FROM launches WHERE price_source = 'computed' ORDER BY 1").fetchall()
    assert after == before  # same items, same row_hash: the rows (and their computed prices) are kept
    assert con.sql("SELECT count(*) FROM launches WHERE price_source = 'pending' AND ended_at IS NOT NULL").fetchall() == [(0,)]


def test_the_overview_counts_the_launches_the_engine_priced(demo_data):
    import queries
    from queries import Filters

    con = connect(demo_data)
    rows = con.sql("SELECT launched_at, price_source, total_cost FROM launches").fetchall()
    in_period = [(source, cost) for at, source, cost in rows if datetime(2026, 1, 1) <= at < datetime(2026, 11, 1)]
    row = queries.overview(con, Filters(date(2026, 1, 1), date(2026, 10, 31))).loc["current"]
    assert row["computed_price_launches"] == sum(source == "computed" for source, _ in in_period) > 0
    # their prices are in the spend
    assert row["total_spend"] == sum((cost for _, cost in in_period if cost is not None), Decimal(0))
