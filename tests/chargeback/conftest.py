"""Small builders for bill lines and launches, in the shape the named queries return them."""

from decimal import Decimal

import pandas as pd
import pytest

BILL_COLUMNS = (
    "source",
    "tag_key",
    "tag_value",
    "tags",
    "service",
    "account_id",
    "resource_id",
    "split_parent_resource_id",
    "charge_category",
    "currency",
    "provider",
    "charges",
    "estimated_charges",
    "effective_cost",
    "billed_cost",
    "list_cost",
    "split_cost",
    "split_unused_cost",
)
LAUNCH_COLUMNS = (
    "consumer",
    "workflow_type",
    "compute_platform",
    "region",
    "launches",
    "priced_launches",
    "total_cost",
    "instance_cost",
    "volume_cost",
    "filesystem_cost",
    "control_plane_cost",
)


def charge(
    consumer, service, effective, billed=None, *, category="Usage", source="cost-explorer", tag_key="consumer", **extra
) -> dict:
    row = dict.fromkeys(BILL_COLUMNS)
    row.update(
        source=source,
        tag_key=tag_key,
        tag_value=consumer,
        service=service,
        account_id="123456789012",
        charge_category=category,
        currency="USD",
        charges=1,
        estimated_charges=0,
        effective_cost=Decimal(str(effective)),
        billed_cost=Decimal(str(billed if billed is not None else effective)),
        split_cost=Decimal(0),
    )
    row.update(extra)
    return row


def launch_group(consumer, workflow_type, platform, total, launches=1, filesystem=0, control_plane=0) -> dict:
    total, filesystem, control_plane = Decimal(str(total)), Decimal(str(filesystem)), Decimal(str(control_plane))
    return {
        "consumer": consumer,
        "workflow_type": workflow_type,
        "compute_platform": platform,
        "region": "us-east-1",
        "launches": launches,
        "priced_launches": launches,
        "total_cost": total,
        "instance_cost": total - filesystem - control_plane,
        "volume_cost": Decimal(0),
        "filesystem_cost": filesystem,
        "control_plane_cost": control_plane,
    }


def bill(rows) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=list(BILL_COLUMNS))


def launches(rows) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=list(LAUNCH_COLUMNS))


@pytest.fixture
def make_bill():
    return bill


@pytest.fixture
def make_launches():
    return launches
