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
