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
