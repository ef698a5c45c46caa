"""The bulk SQL engine agrees with the reference engine to the micro-dollar, and sets the price status."""

import random
from datetime import date, datetime, timedelta
from decimal import Decimal as D

import duckdb
import pytest

from core.settings import PricingSettings
from pricing import bulk
from pricing.engine import Rules, price_launches
from pricing.inputs import read_inputs
from warehouse.store import SCHEMA_FILE

T0 = datetime(2025, 3, 1)
RULES = Rules.from_settings(PricingSettings(reserved_rates={"r6i.8xlarge": 1.1}))


def compare(con, rules: Rules = RULES) -> dict:
    rows = bulk.launch_costs(con, rules, "run-1", datetime(2025, 4, 1)).fetchall()
    cols = [d[0] for d in bulk.launch_costs(con, rules, "run-1", datetime(2025, 4, 1)).description]
    got = {r[0]: dict(zip(cols, r, strict=True)) for r in rows}
    launches, resources, book = read_inputs(con)
    ref = price_launches(launches, resources, book, rules)
    for lid, row in got.items():
        if lid not in ref or ref[lid].unpriced_resources:
            assert row["price_status"] == "PENDING" and row["total_cost"] is None, lid
            continue
        r = ref[lid]
        assert (
            row["instance_cost"],
            row["volume_cost"],
            row["filesystem_cost"],
            row["control_plane_cost"],
            row["total_cost"],
        ) == (
            r.instance_cost,
            r.volume_cost,
            r.filesystem_cost,
            r.control_plane_cost,
            r.total_cost,
        ), lid
        assert row["instance_cost"] + row["volume_cost"] + row["filesystem_cost"] + row["control_plane_cost"] == row["total_cost"]
    return got


def test_bulk_agrees_with_the_reference_on_the_fixture_warehouse(fixture_con):
    got = compare(fixture_con)
    assert len(got) == 43
    assert sum(1 for r in got.values() if r["price_status"] == "PENDING") == 2  # the two running launches


@pytest.fixture
def synthetic():
    """Many overlapping launches on two EKS clusters, Spot with a busy price history, every purchase option."""
    rng = random.Random(11)
    con = duckdb.connect()
    con.execute(SCHEMA_FILE.read_text())
    zones = ("us-east-1a", "us-east-1b")
    for zone in zones:
        t = T0 - timedelta(days=1)
        while t < T0 + timedelta(days=12):
            con.execute(
                "INSERT INTO prices (service, region, availability_zone, resource_kind, resource_type, purchase_option, "
                "charge, unit, price, effective_from, source) "
                "VALUES ('AmazonEC2', 'us-east-1', ?, 'instance', 'r6i.4xlarge', 'Spot', 'usage', 'Hrs', ?, ?, "
                "'spot-price-history-api')",
                [zone, str(D(rng.randint(2800, 3900)) / 10000), t],
            )
            t += timedelta(seconds=rng.randint(600, 4 * 3600))
    for kind, rtype, charge, price in (
        ("instance", "r6i.4xlarge", "usage", "1.008"),
        ("instance", "r6i.8xlarge", "usage", "2.016"),
        ("instance", "c6i.8xlarge", "usage", "1.36"),
        ("volume", "gp3", "storage", "0.08"),
        ("volume", "gp3", "iops", "0.005"),
        ("volume", "gp3", "throughput", "0.04"),
        ("volume", "io2", "storage", "0.125"),
        ("volume", "io2", "iops", "0.065"),
        ("filesystem", "SCRATCH_2", "storage", "0.14"),
        ("cluster", "eks", "usage", "0.10"),
    ):
        con.execute(
            "INSERT INTO prices (service, region, resource_kind, resource_type, purchase_option, charge, unit, price, "
            "effective_from, source) "
            "VALUES ('x', 'us-east-1', ?, ?, 'On-Demand', ?, 'u', ?, '2025-01-01', 'snapshot:test')",
            [kind, rtype, charge, price],
        )
    for i in range(150):
        lid = f"L{i:03d}"
        start = T0 + timedelta(seconds=rng.randint(0, 10 * 86400))
        end = start + timedelta(seconds=rng.choice([5, 59, 61, rng.randint(60, 2 * 86400)]))
        ended = None if i % 37 == 0 else end
        platform = "EKS" if i % 3 == 0 else "Batch"
        con.execute(
            "INSERT INTO launches (launch_id, region, compute_platform, ended_at, launch_month) "
            "VALUES (?, 'us-east-1', ?, ?, '2025-03-01')",
            [lid, platform, ended],
        )
        option = rng.choice(["Spot", "Spot", "On-Demand", "Reserved"])
        rtype = rng.choice(["r6i.4xlarge", "r6i.8xlarge", "c6i.8xlarge"]) if option != "Spot" else "r6i.4xlarge"
        zone = rng.choice([*zones, "us-east-1c"])  # 1c has no Spot history: estimated from On-Demand
        # volumes: no IOPS recorded, gp3 at / above its free baseline, io2 (every IOPS paid)
        vtype, iops, mibps = rng.choice(
            [
                ("gp3", None, None),
                ("gp3", 3000, 125),
                ("gp3", 3001, 125),
                ("gp3", 3000, 126),
                ("gp3", 16000, 1000),
                ("io2", 2500, None),
                ("io2", None, None),
            ]
        )
        rows = [
            ("instance", rtype, option, rng.randint(1, 9), None, zone, None, None, None),
            ("volume", vtype, None, rng.randint(1, 9), rng.choice([100, 500, 750.5]), zone, None, iops, mibps),
        ]
        if i % 4 == 0:
            rows.append(("filesystem", "SCRATCH_2", None, 1, 1200, zone, "fs-1", None, None))
        if platform == "EKS":
            rows.append(("cluster", "eks", None, 1, None, None, rng.choice(["prod", "dev"]), None, None))
        if i % 29 == 0:
            rows.append(("instance", "z9.huge", "On-Demand", 1, None, zone, None, None, None))  # no price: PENDING
        for k, (kind, rt, opt, n, size, az, rid, iops, mibps) in enumerate(rows):
            con.execute(
                "INSERT INTO launch_resources (launch_id, resource_index, kind, resource_type, purchase_option, count, size_gb, "
                "availability_zone, resource_id, started_at, ended_at, iops, throughput_mibps, launch_month) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '2025-03-01')",
                [lid, k, kind, rt, opt, n, size, az, rid, start, end, iops, mibps],
            )
    return con


def test_bulk_agrees_with_the_reference_on_spot_history_and_shared_clusters(synthetic):
    got = compare(synthetic)
    statuses = [r["price_status"] for r in got.values()]
    assert statuses.count("PENDING") >= 5 and statuses.count("ESTIMATED") > 100
    # the shared clusters' fees are handed out in full: the sum of the shares is the fee for the busy time
    shares = sum(r["control_plane_cost"] for r in got.values() if r["control_plane_cost"] is not None)
    assert shares > 0


def test_volumes_pay_for_provisioned_iops_and_throughput_as_worked_by_hand(synthetic):
    """Four launches of one volume line each, 73 h (a tenth of a 730-hour month), checked against the engine too."""
    end = T0 + timedelta(hours=73)
    lines = {
        # 2 x (500 x 0.08 + (6,000 - 3,000) x 0.005 + (250 - 125) x 0.04) / 10 = 2 x 60 / 10 = 12
        "V1": ("gp3", 2, 500, 6000, 250, D("12.000000")),
        # at the free baseline: storage only, 500 x 0.08 / 10 = 4
        "V2": ("gp3", 1, 500, 3000, 125, D("4.000000")),
        # io2 pays every IOPS: (100 x 0.125 + 10,000 x 0.065) / 10 = 662.5 / 10 = 66.25
        "V3": ("io2", 1, 100, 10_000, None, D("66.250000")),
        # 1 IOPS over the baseline for 1 s: 0.005 / 730 / 3600 = 0.0000000019 -> rounds to 0 with no storage
        "V4": ("gp3", 1, 0, 3001, None, D("0.000000")),
    }
    for lid, (vtype, n, gb, iops, mibps, _) in lines.items():
        stop = T0 + timedelta(seconds=1) if lid == "V4" else end
        synthetic.execute(
            "INSERT INTO launches (launch_id, region, compute_platform, ended_at, launch_month) "
            "VALUES (?, 'us-east-1', 'Batch', ?, '2025-03-01')",
            [lid, stop],
        )
        synthetic.execute(
            "INSERT INTO launch_resources (launch_id, resource_index, kind, resource_type, count, size_gb, iops, "
            "throughput_mibps, started_at, ended_at, launch_month) VALUES (?, 1, 'volume', ?, ?, ?, ?, ?, ?, ?, '2025-03-01')",
            [lid, vtype, n, gb, iops, mibps, T0, stop],
        )
    got = compare(synthetic)
    for lid, (*_, expected) in lines.items():
        assert got[lid]["volume_cost"] == expected == got[lid]["total_cost"], lid
    # without a throughput price the gp3 line above 125 MiB/s cannot be priced: PENDING, never storage-only
    synthetic.execute("DELETE FROM prices WHERE charge = 'throughput'")
    got = compare(synthetic)
    assert got["V1"]["price_status"] == "PENDING" and got["V1"]["total_cost"] is None
    assert got["V2"]["volume_cost"] == D("4.000000")


def test_a_month_is_final_when_every_day_is_in_cost_explorer_and_none_is_estimated(synthetic):
    def add_days(month: date, days: int, estimated_last: bool):
        for d in range(days):
            synthetic.execute(
                "INSERT INTO costs_daily (usage_date, usage_month, unblended_cost, estimated) VALUES (?, ?, 1, ?)",
                [month + timedelta(days=d), month, estimated_last and d == days - 1],
            )

    add_days(date(2025, 3, 1), 31, estimated_last=True)
    assert {r["price_status"] for r in compare(synthetic).values()} == {"ESTIMATED", "PENDING"}
    synthetic.execute("UPDATE costs_daily SET estimated = false")
    assert {r["price_status"] for r in compare(synthetic).values()} == {"FINAL", "PENDING"}
    synthetic.execute("DELETE FROM costs_daily WHERE usage_date = '2025-03-31'")  # a day missing: not final
    assert {r["price_status"] for r in compare(synthetic).values()} == {"ESTIMATED", "PENDING"}


def test_the_committed_fixture_launch_costs_are_what_the_engine_computes(fixture_con, fixture_tables):
    got = compare(fixture_con, Rules.from_settings(PricingSettings()))  # the default [pricing] settings
    for row in fixture_tables["launch_costs"].to_dict("records"):
        mine = got[row["launch_id"]]
        assert (mine["total_cost"], mine["price_status"]) == (row["total_cost"], row["price_status"]), row["launch_id"]
