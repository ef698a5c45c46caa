import json
from pathlib import Path

import pytest

ITEMS = Path(__file__).parents[1] / "fixtures" / "items" / "launches.jsonl"


@pytest.fixture
def fixture_items() -> list[dict]:
    """The hand-written items: 4 good (2 priced, 1 pending, 1 running) and 6 bad ones."""
    return [json.loads(line)["Item"] for line in ITEMS.read_text().splitlines() if line.strip()]


@pytest.fixture
def items_file() -> Path:
    return ITEMS


def create_launches_table(client, name: str, items: list[dict] = ()) -> None:
    """A DynamoDB launches table keyed by launch_id (moto), holding ``items``."""
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "launch_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "launch_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for item in items:
        client.put_item(TableName=name, Item=item)
