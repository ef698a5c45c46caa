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


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_inputs_give_byte_identical_files(files, tmp_path):
    again = demo.generate(tmp_path, launches=LAUNCHES, seed=SEED, end_date=END)
    assert _tree(again.export_dir) == _tree(files.export_dir)
    assert _tree(again.cost_explorer_dir) == _tree(files.cost_explorer_dir)
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
            assert inst["M"]["instance_type"]["S"] in demo.INSTANCE_PRICES
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
    for item in items:
        if "totalCost" not in item:
            continue
        total = Decimal(item["totalCost"]["S"])
        parts = sum(Decimal(item[p]["S"]) for p in ("instance_cost", "volume_cost", "filesystem_cost"))
        assert parts <= total
        share = total - parts
        if item["compute_platform"]["S"] == "EKS" and "resources" in item:
            hours = Decimal((_ended(item) - _when(item["status_times"]["M"]["RUNNING"])).total_seconds()) / 3600
            assert share == (hours * Decimal("0.10") / 3).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
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
