"""The demo generator writes a DynamoDB export and Cost Explorer pages that read like the real thing."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from boto3.dynamodb.types import TypeDeserializer

from ingest import demo
from pricing.pricelist import parse_spot_history
from pricing.snapshot import snapshot_rows

LAUNCHES = 2_000
SEED = 11
END = date(2025, 3, 31)
START = END - timedelta(days=demo.HISTORY_DAYS - 1)
IN_PROGRESS = {"PREPARING", "WAITING", "READY", "RUNNING"}


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> demo.DemoFiles:
    return demo.generate(tmp_path_factory.mktemp("demo"), launches=LAUNCHES, seed=SEED, end_date=END)


def _export_base(files: demo.DemoFiles) -> Path:
    (base,) = (files.export_dir / "AWSDynamoDB").iterdir()
    return base


def _manifest(files: demo.DemoFiles) -> list[dict]:
    return [json.loads(line) for line in (_export_base(files) / "manifest-files.json").read_text().splitlines()]


def _lines(path: Path) -> list[str]:
    return gzip.decompress(path.read_bytes()).decode().splitlines()


@pytest.fixture(scope="module")
def items(files) -> list[dict]:
    """The good items, as raw DynamoDB JSON (``{"launch_id": {"S": ...}, ...}``)."""
    out = []
    for entry in _manifest(files):
        if not entry["dataFileS3Key"].endswith(demo.BAD_ITEMS_FILE):
            out += [json.loads(line)["Item"] for line in _lines(files.export_dir / entry["dataFileS3Key"])]
    return out


@pytest.fixture(scope="module")
def pages(files) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(files.cost_explorer_dir.glob("page-*.json"))]


def _when(value: dict) -> datetime:
    if "N" in value:
        return datetime.fromtimestamp(int(value["N"]), UTC)
    return datetime.strptime(value["S"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _ended(item: dict) -> datetime | None:
    times = item["status_times"]["M"]
    end = times.get("COMPLETE") or times.get("FAILED")
    return _when(end) if end else None


# The offline snapshot's list prices: (region, kind, type, charge) -> $.
LIST = {(r["region"], r["resource_kind"], r["resource_type"], r["charge"]): Decimal(r["price"]) for r in snapshot_rows()}
HOURS_PER_MONTH = 730


@pytest.fixture(scope="module")
def spot_pages(files) -> dict[str, list[dict]]:
    """Each region's DescribeSpotPriceHistory responses, in NextToken order."""
    out = {}
    for region_dir in sorted(files.spot_history_dir.iterdir()):
        pages = [json.loads(p.read_text()) for p in sorted(region_dir.glob("page-*.json"))]
        out[region_dir.name] = pages
    return out


@pytest.fixture(scope="module")
def spot(spot_pages) -> dict[tuple[str, str], list[tuple[datetime, Decimal]]]:
    """(zone, instance type) -> [(from, $/h), ...] in time order, through the ingest's own parser."""
    series: dict[tuple[str, str], list] = defaultdict(list)
    for pages in spot_pages.values():
        for page in pages:
            for row in parse_spot_history(page):
                series[(row["availability_zone"], row["resource_type"])].append((row["effective_from"], Decimal(row["price"])))
    return {key: sorted(points) for key, points in series.items()}


def _hours(start: datetime, end: datetime) -> Decimal:
    return Decimal(int((end - start).total_seconds())) / 3600


def _spot_dollars(steps: list[tuple[datetime, Decimal]], start: datetime, end: datetime) -> Decimal:
    """One instance from start to end at the price in force: each price holds until the next one."""
    start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)
    total = Decimal(0)
    for k, (since, price) in enumerate(steps):
        until = steps[k + 1][0] if k + 1 < len(steps) else end
        lo, hi = max(start, since), min(end, until)
        if hi > lo:
            total += price * _hours(lo, hi)
    return total


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_inputs_give_byte_identical_files(files, tmp_path):
    again = demo.generate(tmp_path, launches=LAUNCHES, seed=SEED, end_date=END)
    assert _tree(again.export_dir) == _tree(files.export_dir)
    assert _tree(again.cost_explorer_dir) == _tree(files.cost_explorer_dir)
    assert _tree(again.spot_history_dir) == _tree(files.spot_history_dir)
    other_seed = demo.generate(tmp_path / "other", launches=LAUNCHES, seed=SEED + 1, end_date=END)
    assert _tree(other_seed.export_dir) != _tree(files.export_dir)


def test_export_has_the_layout_and_manifests_of_a_real_export(files):
    base = _export_base(files)
    assert files.export_dir.name == "dynamodb-export" and files.cost_explorer_dir.name == "cost-explorer"
    assert (base / "_started").is_file()
    summary = json.loads((base / "manifest-summary.json").read_text())
    assert summary["itemCount"] == files.launches + files.bad_items == LAUNCHES + files.bad_items
    assert summary["outputFormat"] == "DYNAMODB_JSON"
    assert summary["exportArn"].endswith(f"/export/{base.name}")
    assert summary["manifestFilesS3Key"] == f"AWSDynamoDB/{base.name}/manifest-files.json"
    manifest = _manifest(files)
    assert len(manifest) >= 5  # several data files plus the needs-review file
    assert {files.export_dir / m["dataFileS3Key"] for m in manifest} == set((base / "data").glob("*.json.gz"))
    for entry in manifest:
        path = files.export_dir / entry["dataFileS3Key"]
        assert len(_lines(path)) == entry["itemCount"]
        assert entry["md5Checksum"] == base64.b64encode(hashlib.md5(path.read_bytes()).digest()).decode()
    assert sum(m["itemCount"] for m in manifest) == summary["itemCount"]


def test_every_line_is_dynamodb_json_without_nulls(files, items):
    deserializer = TypeDeserializer()

    def no_nulls(value):
        assert value is not None
        if isinstance(value, dict):
            for v in value.values():
                no_nulls(v)
        elif isinstance(value, list):
            for v in value:
                no_nulls(v)

    assert len(items) == files.launches == LAUNCHES
    for item in items:
        no_nulls(item)
        plain = {name: deserializer.deserialize(value) for name, value in item.items()}
        assert plain["launch_id"].startswith("wl-")
        for cost in ("totalCost", "instance_cost", "volume_cost", "filesystem_cost"):
            assert cost not in item or item[cost]["S"] == f"{Decimal(item[cost]['S']):.4f}"


def test_launches_are_varied_and_uniquely_keyed(items):
    ids = [i["launch_id"]["S"] for i in items]
    assert len(set(ids)) == len(ids)
    assert {i["compute_platform"]["S"] for i in items} == set(demo.PLATFORMS)
    assert len({i["workflow_type"]["S"] for i in items}) >= 6
    assert len({i["consumer"]["S"] for i in items}) == 8
    purchase = defaultdict(int)
    for item in items:
        if item["compute_platform"]["S"] == "OnPremHPC":
            assert "region" not in item
            for inst in item.get("resources", {}).get("M", {}).get("instances", {}).get("L", []):
                assert inst["M"]["instance_type"]["S"] == demo.ONPREM_TYPE and "availability_zone" not in inst["M"]
            continue
        assert item["region"]["S"] in demo.REGIONS
        for inst in item.get("resources", {}).get("M", {}).get("instances", {}).get("L", []):
            purchase[inst["M"]["purchase_option"]["S"]] += 1
            assert (item["region"]["S"], "instance", inst["M"]["instance_type"]["S"], "usage") in LIST
            assert inst["M"]["availability_zone"]["S"].removeprefix(item["region"]["S"]) in "abcdf"  # a zone of its region
            assert _when(inst["M"]["end"]) > _when(inst["M"]["start"])
    assert purchase["Spot"] > purchase["On-Demand"] > purchase["Reserved"] > 0
    assert any("N" in i["status_times"]["M"]["PREPARING"] for i in items)  # the older manager's epoch seconds
    assert any("S" in i["status_times"]["M"]["PREPARING"] for i in items)


def test_status_times_are_in_order(items):
    order = ["PREPARING", "WAITING", "READY", "RUNNING", "COMPLETE", "FAILED"]
    for item in items:
        times = item["status_times"]["M"]
        passed = [s for s in order if s in times]
        assert passed[0] == "PREPARING" and item["status"]["S"] == passed[-1]
        moments = [_when(times[s]) for s in passed]
        assert moments == sorted(moments)


def test_cost_parts_add_up_exactly_to_total(items):
    eks_share = 0
    cluster_hour = {region: LIST[(region, "cluster", "eks", "usage")] for region in demo.REGIONS}
    for item in items:
        if "totalCost" not in item:
            continue
        total = Decimal(item["totalCost"]["S"])
        parts = sum(Decimal(item[p]["S"]) for p in ("instance_cost", "volume_cost", "filesystem_cost"))
        assert parts <= total
        share = total - parts
        if item["compute_platform"]["S"] == "EKS" and "resources" in item:
            hours = Decimal((_ended(item) - _when(item["status_times"]["M"]["RUNNING"])).total_seconds()) / 3600
            price = cluster_hour[item["region"]["S"]]
            assert share == (hours * price / 3).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
            eks_share += share > 0
        else:
            assert share == 0
    assert eks_share > 0


def test_some_launches_are_pending_and_some_still_in_progress(items):
    pending = [i for i in items if i["status"]["S"] == "COMPLETE" and "totalCost" not in i]
    in_progress = [i for i in items if i["status"]["S"] in IN_PROGRESS]
    assert pending and all("resources" in i and "instance_cost" not in i for i in pending)
    assert 0.005 < len(pending) / len(items) < 0.03
    assert in_progress
    for item in in_progress:
        assert _ended(item) is None and "totalCost" not in item and "resources" not in item
        assert _when(item["status_times"]["M"]["PREPARING"]).date() >= END - timedelta(days=7)
    failed = [i for i in items if i["status"]["S"] == "FAILED"]
    assert 0.04 < len(failed) / len(items) < 0.10
    assert any("RUNNING" not in i["status_times"]["M"] for i in failed)  # failed before it ran


def test_bad_items_file_holds_the_expected_mistakes(files, items):
    lines = _lines(_export_base(files) / "data" / demo.BAD_ITEMS_FILE)
    assert len(lines) == files.bad_items == 8
    bad = [json.loads(line)["Item"] for line in lines]
    for item in bad:
        {name: TypeDeserializer().deserialize(value) for name, value in item.items()}
    good_ids = {i["launch_id"]["S"] for i in items}
    assert sum("launch_id" not in i for i in bad) == 1
    assert not good_ids & {i["launch_id"]["S"] for i in bad if "launch_id" in i}
    assert any(i["status"]["S"] == "CANCELLED_BY_USER" for i in bad)
    assert any(i.get("totalCost", {}).get("S") == "n/a" for i in bad)
    assert any(i["status_times"]["M"]["PREPARING"]["S"] == "04/03/2025 10:00" for i in bad)


def test_cost_explorer_pages_chain_and_cover_every_day_once(pages):
    assert 6 <= len(pages) <= 15
    tokens = [p.get("NextPageToken") for p in pages]
    assert all(tokens[:-1]) and tokens[-1] is None and len(set(tokens[:-1])) == len(pages) - 1
    days = [r["TimePeriod"]["Start"] for p in pages for r in p["ResultsByTime"]]
    assert days == [(START + timedelta(days=d)).isoformat() for d in range(demo.HISTORY_DAYS)]
    for page in pages:
        assert page["GroupDefinitions"] == [{"Type": "TAG", "Key": "consumer"}, {"Type": "DIMENSION", "Key": "SERVICE"}]
        for result in page["ResultsByTime"]:
            start = date.fromisoformat(result["TimePeriod"]["Start"])
            assert result["TimePeriod"]["End"] == (start + timedelta(days=1)).isoformat()
            assert result["Estimated"] == (start > END - timedelta(days=3))
            day_total = sum(Decimal(g["Metrics"]["UnblendedCost"]["Amount"]) for g in result["Groups"])
            assert day_total > 0
            for g in result["Groups"]:
                m = g["Metrics"]
                assert m["AmortizedCost"] == m["UnblendedCost"]
                net = Decimal(m["UnblendedCost"]["Amount"]) * (1 - demo.CE_NET_AMORTIZED_DISCOUNT)
                assert abs(Decimal(m["NetAmortizedCost"]["Amount"]) - net) < Decimal("1e-8")
    services = {tuple(g["Keys"]) for p in pages for r in p["ResultsByTime"] for g in r["Groups"]}
    assert ("consumer$", demo.CE_SUPPORT) in services and ("consumer$", demo.CE_S3) in services
    assert ("consumer$oncology-research", demo.CE_COMPUTE_SERVICE) in services


def test_tagged_compute_bills_contain_the_launches_instance_costs(items, pages):
    listed: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    unpriced: set[tuple[str, str]] = set()
    for item in items:
        end = _ended(item)
        if end is None or item["compute_platform"]["S"] == "OnPremHPC":
            continue
        key = (end.date().isoformat(), item["consumer"]["S"])
        if "instance_cost" in item:
            listed[key] += Decimal(item["instance_cost"]["S"])
        else:
            unpriced.add(key)  # billed by AWS, not yet priced by the manager
    billed = {
        (r["TimePeriod"]["Start"], g["Keys"][0].removeprefix("consumer$")): Decimal(g["Metrics"]["UnblendedCost"]["Amount"])
        for p in pages
        for r in p["ResultsByTime"]
        for g in r["Groups"]
        if g["Keys"][1] == demo.CE_COMPUTE_SERVICE and g["Keys"][0] != "consumer$"
    }
    low, high = demo.CE_COMPUTE_BILLED_VS_LIST
    checked = 0
    for key, amount in billed.items():
        list_cost = listed.get(key, Decimal(0))
        outside = Decimal(demo.CE_OUTSIDE_COMPUTE_PER_DAY[key[1]]) * LAUNCHES / demo.CE_OUTSIDE_SCALE_LAUNCHES
        assert amount >= list_cost * low + outside * Decimal(str(demo.CE_OUTSIDE_NOISE[0])) - Decimal("1e-6")
        if key not in unpriced:
            assert amount <= list_cost * high + outside * Decimal(str(demo.CE_OUTSIDE_NOISE[1])) + Decimal("1e-6")
            checked += list_cost > 0
    assert checked > 1_000
    busiest = max((k for k in listed if k[1] == "oncology-research"), key=listed.__getitem__)
    assert billed[busiest] >= listed[busiest] > 0


def test_spot_history_is_describe_spot_price_history_pages_per_region(spot_pages, spot):
    assert set(spot_pages) <= set(demo.REGIONS) and "us-east-1" in spot_pages
    for region, pages in spot_pages.items():
        tokens = [p.get("NextToken") for p in pages]
        assert all(tokens[:-1]) and tokens[-1] is None and len(set(tokens[:-1])) == len(pages) - 1
        for page in pages:
            assert 0 < len(page["SpotPriceHistory"]) <= 1000 and page["ResponseMetadata"]["HTTPStatusCode"] == 200
            for point in page["SpotPriceHistory"]:
                assert set(point) == {"AvailabilityZone", "InstanceType", "ProductDescription", "SpotPrice", "Timestamp"}
                assert point["AvailabilityZone"].startswith(region) and point["ProductDescription"] == "Linux/UNIX"
                assert point["SpotPrice"] == f"{Decimal(point['SpotPrice']):.6f}"
        stamps = [p["Timestamp"] for page in pages for p in page["SpotPriceHistory"]]
        assert stamps == sorted(stamps, reverse=True)  # newest first, as the API answers
    history_start = datetime(START.year, START.month, START.day)
    history_end = datetime(END.year, END.month, END.day) + timedelta(days=1)
    for (zone, rtype), steps in spot.items():
        region = zone[:-1]
        on_demand = LIST[(region, "instance", rtype, "usage")]
        times = [t for t, _ in steps]
        assert times[0] <= history_start and times[-1] < history_end  # the whole history is covered
        assert len(set(times)) == len(times)
        weeks = Decimal(demo.HISTORY_DAYS) / 7
        assert 1 <= len(steps) / weeks <= 4.5, (zone, rtype)  # a few changes a week
        for _, price in steps:
            assert Decimal("0.25") * on_demand - Decimal("0.00005") <= price <= Decimal("0.45") * on_demand + Decimal("0.00005")


def test_instance_and_volume_strings_are_the_snapshot_and_spot_history_prices(items, spot):
    """Every priced launch's instance_cost, volume_cost and filesystem_cost, worked out again from the item's
    resources, the snapshot's list prices and the Spot history (the demo rounds each part to 4 decimals)."""
    half = Decimal("0.00005") + Decimal("1e-9")
    checked = defaultdict(int)
    for item in items:
        if "instance_cost" not in item or "resources" not in item:
            continue
        res = item["resources"]["M"]
        region = item.get("region", {}).get("S")
        instance = Decimal(0)
        for line in res["instances"]["L"]:
            m = line["M"]
            n, start, end = int(m["count"]["N"]), _when(m["start"]), _when(m["end"])
            option, rtype = m["purchase_option"]["S"], m["instance_type"]["S"]
            if region is None:  # on premises: $0.04 per core-hour x 32 cores
                instance += n * _hours(start, end) * Decimal("1.28")
            elif option == "Spot":
                instance += n * _spot_dollars(spot[(m["availability_zone"]["S"], rtype)], start, end)
            else:
                rate = Decimal("0.62") if option == "Reserved" else Decimal(1)
                instance += n * _hours(start, end) * LIST[(region, "instance", rtype, "usage")] * rate
            checked[option if region else "on premises"] += 1
        assert abs(Decimal(item["instance_cost"]["S"]) - instance) <= half, item["launch_id"]
        volume = Decimal(0)
        for line in res.get("volumes", {}).get("L", []):
            m = line["M"]
            vtype, gb, n = m["volume_type"]["S"], Decimal(m["size_gb"]["N"]), int(m["count"]["N"])
            iops, mibps = int(m.get("iops", {}).get("N", 0)), int(m.get("throughput", {}).get("N", 0))
            month = gb * LIST[(region, "volume", vtype, "storage")]
            if vtype == "gp3":
                month += max(iops - 3000, 0) * LIST[(region, "volume", "gp3", "iops")]
                month += max(mibps - 125, 0) * LIST[(region, "volume", "gp3", "throughput")]
                checked["gp3 above the baseline"] += iops > 3000 or mibps > 125
            elif vtype == "io2":
                month += iops * LIST[(region, "volume", "io2", "iops")]
                checked["io2"] += 1
            volume += n * month * _hours(_when(m["start"]), _when(m["end"])) / HOURS_PER_MONTH
        assert abs(Decimal(item["volume_cost"]["S"]) - volume) <= half, item["launch_id"]
        fs = res.get("filesystem", {}).get("M")
        filesystem = Decimal(0)
        if fs:
            price = LIST[(region, "filesystem", fs["deployment_type"]["S"], "storage")]
            filesystem = Decimal(fs["capacity_gb"]["N"]) * price * _hours(_when(fs["start"]), _when(fs["end"])) / HOURS_PER_MONTH
        assert abs(Decimal(item["filesystem_cost"]["S"]) - filesystem) <= half, item["launch_id"]
    assert checked["Spot"] > 500 and checked["On-Demand"] > 200 and checked["Reserved"] > 20
    assert checked["on premises"] > 100 and checked["gp3 above the baseline"] > 20 and checked["io2"] > 10


def test_volumes_record_provisioned_iops_and_throughput_like_a_manager_would(items):
    seen = defaultdict(list)
    for item in items:
        for line in item.get("resources", {}).get("M", {}).get("volumes", {}).get("L", []):
            m = line["M"]
            perf = (int(m["iops"]["N"]) if "iops" in m else None, int(m["throughput"]["N"]) if "throughput" in m else None)
            seen[m["volume_type"]["S"]].append(perf)
    assert all(p == (None, None) for t in ("gp2", "st1") for p in seen[t])
    assert all(iops and mibps is None for iops, mibps in seen["io2"])
    gp3 = seen["gp3"]
    recorded = [p for p in gp3 if p != (None, None)]
    assert 0.5 < len(recorded) / len(gp3) < 0.95  # older items leave them out
    baseline = sum(p == (3000, 125) for p in recorded)
    assert baseline / len(recorded) > 0.6  # most at the free baseline
    assert all(iops >= 3000 and mibps >= 125 for iops, mibps in recorded)
