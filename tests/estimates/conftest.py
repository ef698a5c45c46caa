"""Fixtures for the estimate tests: a small demo warehouse and its history, fake AWS credentials."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.estimates.histories import build_demo_warehouse, read_history


@pytest.fixture(scope="session")
def demo_data_dir(tmp_path_factory) -> Path:
    return build_demo_warehouse(tmp_path_factory.mktemp("estimates-demo"))


@pytest.fixture(scope="session")
def demo_history(demo_data_dir) -> pd.DataFrame:
    return read_history(demo_data_dir)


@pytest.fixture
def aws_env(monkeypatch):
    """Fake credentials and region so nothing can reach a real account."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("LAUNCH_LEDGER_CONFIG", raising=False)
