"""AWS price sources: Price List GetProducts (list prices) and EC2 DescribeSpotPriceHistory.

Request builders and response parsers are pure; the two ``fetch_*`` functions take a boto3 client
(``session.client("pricing", region_name="us-east-1")`` / ``session.client("ec2", region_name=...)``)
and return rows for the ``prices`` table plus the number of API requests made.

GetProducts returns each product as a JSON *string* in ``PriceList``; the price sits at
``terms.OnDemand.<offer>.priceDimensions.<rate>.pricePerUnit.USD`` with its ``unit`` (Hrs, GB-Mo,
IOPS-Mo, ...). Tiered dimensions (io2 IOPS) are read at their first tier (``beginRange`` "0").
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal

PRICING_ENDPOINT_REGION = "us-east-1"  # the Price List Query API answers in us-east-1 (and a few others)
SERVICE_CODES = {"instance": "AmazonEC2", "volume": "AmazonEC2", "filesystem": "AmazonFSx", "cluster": "AmazonEKS"}
CHARGE_BY_UNIT = {"hrs": "usage", "gb-mo": "storage", "iops-mo": "iops", "mibps-mo": "throughput", "gibps-mo": "throughput"}
# gp3 throughput is listed per GiBps-mo ($40.96 in us-east-1) and billed per MiB/s provisioned: stored per MiBps-Mo.
MIB_PER_GIB = Decimal(1024)
FSX_DEPLOYMENT = {
    "SCRATCH_1": "Scratch_1",
    "SCRATCH_2": "Scratch_2",
    "PERSISTENT_1": "Persistent_1",
    "PERSISTENT_2": "Persistent_2",
}
# Persistent FSx is priced per throughput tier (MB/s/TiB); launch items do not say which, so one is assumed.
FSX_THROUGHPUT_TIER = {"PERSISTENT_1": "50", "PERSISTENT_2": "250"}
EKS_USAGE_SUFFIX = "AmazonEKS-Hours:perCluster"
SPOT_PRODUCT = "Linux/UNIX"


def _term(field: str, value: str) -> dict:
    return {"Type": "TERM_MATCH", "Field": field, "Value": value}


def product_filters(kind: str, resource_type: str, region: str) -> tuple[str, list[dict]]:
    """(ServiceCode, Filters) for GetProducts of one resource type in one region."""
    service = SERVICE_CODES[kind]
    filters = [_term("regionCode", region)]
    if kind == "instance":
        filters += [
            _term("instanceType", resource_type),
            _term("operatingSystem", "Linux"),
            _term("tenancy", "Shared"),
            _term("preInstalledSw", "NA"),
            _term("capacitystatus", "Used"),
        ]
    elif kind == "volume":
        filters.append(_term("volumeApiName", resource_type))
    elif kind == "filesystem":
        filters += [
            _term("fileSystemType", "Lustre"),
            _term("deploymentOption", FSX_DEPLOYMENT.get(resource_type, resource_type)),
        ]
    return service, filters


def parse_price_list(
    price_list: Iterable[str], kind: str, resource_type: str, region: str, fetched_at: datetime | None = None
) -> list[dict]:
    """``prices`` rows from the PriceList strings of a GetProducts response (On-Demand terms only)."""
    rows = []
    for text in price_list:
        entry = json.loads(text) if isinstance(text, str) else text
        product = entry.get("product", {})
        attrs = product.get("attributes", {})
        if kind == "cluster" and not attrs.get("usagetype", "").endswith(EKS_USAGE_SUFFIX):
            continue
        tier = FSX_THROUGHPUT_TIER.get(resource_type)
        if kind == "filesystem" and tier and attrs.get("throughputCapacity") not in (None, tier):
            continue
        for offer in entry.get("terms", {}).get("OnDemand", {}).values():
            effective = _timestamp(offer.get("effectiveDate")) or _timestamp(entry.get("publicationDate"))
            for dim in offer.get("priceDimensions", {}).values():
                usd = dim.get("pricePerUnit", {}).get("USD")
                charge = CHARGE_BY_UNIT.get(dim.get("unit", "").lower())
                if usd is None or charge is None or dim.get("beginRange", "0") != "0":
                    continue
                unit = dim["unit"]
                if unit.lower() == "gibps-mo":
                    usd, unit = str((Decimal(usd) / MIB_PER_GIB).quantize(Decimal("1E-10"))), "MiBps-Mo"
                rows.append(
                    {
                        "service": entry.get("serviceCode") or SERVICE_CODES[kind],
                        "region": attrs.get("regionCode") or region,
                        "availability_zone": None,
                        "resource_kind": kind,
                        "resource_type": resource_type,
                        "purchase_option": "On-Demand",
                        "charge": charge,
                        "unit": unit,
                        "price": usd,
                        "currency": "USD",
                        "effective_from": effective,
                        "source": "price-list-api",
                        "sku": product.get("sku") or offer.get("sku"),
                        "fetched_at": fetched_at,
                    }
                )
    return rows


def fetch_list_prices(client, kind: str, resource_type: str, region: str) -> tuple[list[dict], int]:
    """GetProducts for one resource type in one region, every page. Returns (rows, requests)."""
    service, filters = product_filters(kind, resource_type, region)
    rows: list[dict] = []
    requests = 0
    token = None
    now = datetime.now(UTC).replace(tzinfo=None)
    while True:
        kwargs = {"ServiceCode": service, "Filters": filters, "FormatVersion": "aws_v1", "MaxResults": 100}
        if token:
            kwargs["NextToken"] = token
        page = client.get_products(**kwargs)
        requests += 1
        rows += parse_price_list(page.get("PriceList", []), kind, resource_type, region, now)
        token = page.get("NextToken")
        if not token:
            return rows, requests


def region_of_zone(zone: str) -> str:
    """us-east-1b -> us-east-1."""
    return re.sub(r"[a-z]+$", "", zone)


def parse_spot_history(response: dict, fetched_at: datetime | None = None) -> list[dict]:
    """``prices`` rows (purchase option Spot, one per price change) from DescribeSpotPriceHistory."""
    rows = []
    for point in response.get("SpotPriceHistory", []):
        zone = point["AvailabilityZone"]
        rows.append(
            {
                "service": "AmazonEC2",
                "region": region_of_zone(zone),
                "availability_zone": zone,
                "resource_kind": "instance",
                "resource_type": point["InstanceType"],
                "purchase_option": "Spot",
                "charge": "usage",
                "unit": "Hrs",
                "price": point["SpotPrice"],
                "currency": "USD",
                "effective_from": _timestamp(point["Timestamp"]),
                "source": "spot-price-history-api",
                "sku": None,
                "fetched_at": fetched_at,
            }
        )
    return rows


def fetch_spot_history(client, instance_type: str, zone: str, start: datetime, end: datetime) -> tuple[list[dict], int]:
    """Every Spot price change for one type in one zone over [start, end), every page. (rows, requests)."""
    rows: list[dict] = []
    requests = 0
    token = None
    now = datetime.now(UTC).replace(tzinfo=None)
    while True:
        kwargs = {
            "InstanceTypes": [instance_type],
            "AvailabilityZone": zone,
            "ProductDescriptions": [SPOT_PRODUCT],
            "StartTime": start,
            "EndTime": end,
            "MaxResults": 1000,
        }
        if token:
            kwargs["NextToken"] = token
        page = client.describe_spot_price_history(**kwargs)
        requests += 1
        rows += parse_spot_history(page, now)
        token = page.get("NextToken")
        if not token:
            return rows, requests


def _timestamp(value) -> datetime | None:
    """ISO text or a datetime -> naive UTC datetime."""
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment
