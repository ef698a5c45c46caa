import json
from pathlib import Path

import pytest

ITEMS = Path(__file__).parents[1] / "fixtures" / "items" / "launches.jsonl"


@pytest.fixture
def aws_env(monkeypatch):
    """Fake credentials and region so nothing can reach a real account."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("LAUNCH_LEDGER_CONFIG", raising=False)


@pytest.fixture
def fixture_items() -> list[dict]:
    """The hand-written items: 4 good (2 priced, 1 pending, 1 running) and 6 bad ones."""
    return [json.loads(line)["Item"] for line in ITEMS.read_text().splitlines() if line.strip()]


@pytest.fixture
def items_file() -> Path:
    return ITEMS
