"""Settings from a TOML file (``--config``, $LAUNCH_LEDGER_CONFIG or ./launch-ledger.toml).

Attribute names differ between teams' workflow managers, so every item attribute the ingest reads
is mapped here; the defaults are the names used in the Genomics workflows blog series (Part 3-5).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from ingest.errors import ConfigError

DEFAULT_CONFIG_FILE = "launch-ledger.toml"


@dataclass(frozen=True)
class ItemAttributes:
    """DynamoDB attribute name for each launch field."""

    launch_id: str = "launch_id"
    consumer: str = "consumer"
    workflow_type: str = "workflow_type"
    compute_platform: str = "compute_platform"
    region: str = "region"
    status: str = "status"
    status_times: str = "status_times"  # map: status name -> ISO 8601 time (or epoch seconds)
    input_path: str = "input_path"
    input_size_gb: str = "input_size_gb"
    sample_count: str = "sample_count"
    resources: str = "resources"  # map: instances, volumes (lists), filesystem, cluster (maps)
    total_cost: str = "totalCost"
    instance_cost: str = "instance_cost"
    volume_cost: str = "volume_cost"
    filesystem_cost: str = "filesystem_cost"


@dataclass(frozen=True)
class DynamoDBSettings:
    table: str = "workflow-launches"
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    segments: int = 4
    attributes: ItemAttributes = field(default_factory=ItemAttributes)


@dataclass(frozen=True)
class CostExplorerSettings:
    tag_key: str = "consumer"  # the cost-allocation tag that names the consumer
    group_by: str = "SERVICE"  # second grouping: a dimension (SERVICE, LINKED_ACCOUNT, ...)
    trailing_days: int = 14  # recent days are estimates that Cost Explorer restates
    account_id: str | None = None  # recorded on every row when not grouping by LINKED_ACCOUNT
    region: str = "us-east-1"  # Cost Explorer's endpoint lives in us-east-1
    profile: str | None = None
    endpoint_url: str | None = None


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")
    currency: str = "USD"
    dynamodb: DynamoDBSettings = field(default_factory=DynamoDBSettings)
    cost_explorer: CostExplorerSettings = field(default_factory=CostExplorerSettings)


def _build(cls, values: dict, where: str):
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"unknown setting {where}.{unknown[0]} in the config file; known: {', '.join(sorted(known))}")
    return cls(**values)


def load_settings(config_path: str | os.PathLike | None = None, data_dir: str | os.PathLike | None = None) -> Settings:
    """Read settings; an explicit ``data_dir`` beats $LAUNCH_LEDGER_DATA_DIR beats the file."""
    path = config_path or os.environ.get("LAUNCH_LEDGER_CONFIG")
    raw: dict = {}
    if path:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist")
    elif Path(DEFAULT_CONFIG_FILE).is_file():
        path = Path(DEFAULT_CONFIG_FILE)
    if path:
        try:
            raw = tomllib.loads(Path(path).read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None

    warehouse = raw.pop("warehouse", {})
    ddb = dict(raw.pop("dynamodb", {}))
    attrs = _build(ItemAttributes, ddb.pop("attributes", {}), "dynamodb.attributes")
    settings = Settings(
        dynamodb=replace(_build(DynamoDBSettings, ddb, "dynamodb"), attributes=attrs),
        cost_explorer=_build(CostExplorerSettings, raw.pop("cost_explorer", {}), "cost_explorer"),
        currency=warehouse.get("currency", "USD"),
    )
    if raw:
        raise ConfigError(f"unknown section [{next(iter(raw))}] in the config file {path}")
    chosen = data_dir or os.environ.get("LAUNCH_LEDGER_DATA_DIR") or warehouse.get("data_dir") or "data"
    return replace(settings, data_dir=Path(chosen))
