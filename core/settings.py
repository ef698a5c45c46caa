"""Settings from a TOML file (``--config``, $LAUNCH_LEDGER_CONFIG or ./launch-ledger.toml).

Attribute names differ between teams' workflow managers, so every item attribute the ingest reads
is mapped here; the defaults are the names used in the Genomics workflows blog series (Part 3-5).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from core.errors import ConfigError
from core.vocabulary import STATUSES

DEFAULT_CONFIG_FILE = "launch-ledger.toml"
# The chargeback allocation rules shipped with Launch Ledger; ``[allocation] rules`` names another file.
DEFAULT_RULES_FILE = Path(__file__).resolve().parents[1] / "allocation-rules.toml"
DEFAULT_CONSUMER_TAG = "consumer"
DEFAULT_RUN_TAG = "unique_run_id"  # the resource label Nextflow and Seqera put on runs (CUR: user_unique_run_id)


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
    output_size_gb: str = "output_size_gb"  # optional: the run's output (or expected output) in GB
    resources: str = "resources"  # map: instances, volumes (lists), filesystem, cluster (maps)
    total_cost: str = "totalCost"
    instance_cost: str = "instance_cost"
    volume_cost: str = "volume_cost"
    filesystem_cost: str = "filesystem_cost"
    price_source: str = "price_source"  # where totalCost comes from: "item" (default) or "seqera" (Seqera Platform's)
    # The resource lists, as paths inside ``resources`` (resources = "" reads them from the item's top level).
    instances: str = "instances"  # list of maps: instance_type, purchase_option, count, availability_zone, start, end
    volumes: str = "volumes"  # list of maps: volume_type, size_gb, count, iops, throughput, start, end
    filesystem: str = "filesystem"  # map: file_system_id, deployment_type, capacity_gb, start, end
    cluster: str = "cluster"  # map: cluster_name, start, end
    # Any name may be a dotted path into nested maps: "meta.owner.team" reads Item.meta.M.owner.M.team.


STATUS_TIMES_SHAPES = ("map", "records", "attributes")
RECORD_STATUS_KEYS = ("status", "state", "name")  # a record's status key when record_status_key is not set
RECORD_TIME_KEYS = ("at", "time", "timestamp", "date", "ts")  # a record's time key when record_time_key is not set


@dataclass(frozen=True)
class ItemShapes:
    """``[dynamodb.shapes]``: how the launch item holds its status times.

    ``map`` (the default): ``status_times`` is a map of status -> time. ``records``: a list of records
    (maps), each naming a status and its time (``[{status: RUNNING, at: ...}, ...]``). ``attributes``: one
    attribute per status (``preparing_at``, ``RUNNING_TIME``): ``status_time_attributes`` names them, or
    ``status_time_pattern`` does (``{status}`` is replaced by the lower-case status, ``{STATUS}`` by the
    upper-case one, ``{Status}`` by the capitalised one). Times are ISO 8601 (with an offset, converted to
    UTC; without one, taken as UTC) or epoch numbers: below 1e11 seconds, below 1e14 milliseconds, else microseconds.
    """

    status_times_shape: str = "map"  # map | records | attributes
    record_status_key: str | None = None  # records: the key naming the status (default: status, state or name)
    record_time_key: str | None = None  # records: the key holding the time (default: at, time, timestamp, date or ts)
    status_time_pattern: str = "{status}_at"  # attributes: each status's attribute name
    status_time_attributes: dict = field(default_factory=dict)  # attributes: {PREPARING = "queued_on", ...}, beats the pattern

    def __post_init__(self) -> None:
        if self.status_times_shape not in STATUS_TIMES_SHAPES:
            raise ConfigError(
                f"dynamodb.shapes.status_times_shape must be one of {', '.join(STATUS_TIMES_SHAPES)}, "
                f"not {self.status_times_shape!r}"
            )
        unknown = sorted(set(self.status_time_attributes) - set(STATUSES))
        if unknown:
            raise ConfigError(
                f"dynamodb.shapes.status_time_attributes names {unknown[0]!r}, which is not a status; "
                f"the statuses are {', '.join(STATUSES)}"
            )
        if not any(p in self.status_time_pattern for p in ("{status}", "{STATUS}", "{Status}")):
            raise ConfigError(
                "dynamodb.shapes.status_time_pattern must hold {status}, {STATUS} or {Status}, "
                f'e.g. "{{status}}_at"; not {self.status_time_pattern!r}'
            )

    def status_time_attribute(self, status: str) -> str:
        """The attribute holding ``status``'s time in the ``attributes`` shape."""
        named = self.status_time_attributes.get(status)
        if named:
            return named
        return (
            self.status_time_pattern.replace("{status}", status.lower())
            .replace("{STATUS}", status)
            .replace("{Status}", status.capitalize())
        )


@dataclass(frozen=True)
class DynamoDBSettings:
    table: str = "workflow-launches"
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    segments: int = 4
    attributes: ItemAttributes = field(default_factory=ItemAttributes)
    shapes: ItemShapes = field(default_factory=ItemShapes)


@dataclass(frozen=True)
class CostExplorerSettings:
    # The tag is not a setting of this section: it is the consumer tag (``Settings.consumer_tag``),
    # filled in by ``Settings.cost_explorer_for`` or a command's --tag-key.
    tag_key: str | None = field(default=None, repr=False)
    group_by: str = "SERVICE"  # second grouping: a dimension (SERVICE, LINKED_ACCOUNT, ...)
    trailing_days: int = 14  # recent days are estimates that Cost Explorer restates
    account_id: str | None = None  # recorded on every row when not grouping by LINKED_ACCOUNT
    region: str = "us-east-1"  # Cost Explorer's endpoint lives in us-east-1
    profile: str | None = None
    endpoint_url: str | None = None


ENGINES = ("duckdb", "athena")


@dataclass(frozen=True)
class AthenaSettings:
    """``[athena]``: where the warehouse lives when one machine is not enough.

    ``engine = "duckdb"`` (the default) keeps everything on this machine. ``engine = "athena"`` makes
    every ingest also publish its Parquet partitions to ``lake_path`` (S3) with a Glue table per
    warehouse table in ``database``, and makes the dashboard run the named queries on Athena
    (results written under ``output_location``).
    """

    engine: str = "duckdb"  # "duckdb" (one machine) or "athena" (S3 + Glue + Athena)
    database: str | None = None  # the Glue database holding one table per warehouse table
    lake_path: str | None = None  # s3://bucket/prefix/ : <lake_path><table>/<column>=<value>/*.parquet
    output_location: str | None = None  # s3://bucket/athena-results/ : where Athena writes query results
    workgroup: str = "primary"
    region: str | None = None  # of the bucket, the Glue catalog and Athena; None: the profile's region
    profile: str | None = None  # named AWS profile; None: the default credential chain

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ConfigError(f"athena.engine must be one of {', '.join(ENGINES)}, not {self.engine!r}")
        for name in ("lake_path", "output_location"):
            value = getattr(self, name)
            if value and not value.startswith("s3://"):
                raise ConfigError(f"athena.{name} must be an s3:// location, not {value!r}")
            if value and not value.endswith("/"):
                object.__setattr__(self, name, value + "/")
        if self.engine == "athena":
            for name, example in (
                ("database", "launch_ledger"),
                ("lake_path", "s3://my-bucket/launch-ledger/"),
                ("output_location", "s3://my-bucket/athena-results/"),
            ):
                if not getattr(self, name):
                    raise ConfigError(
                        f'athena.engine is "athena" but athena.{name} is not set: add {name} = "{example}" under [athena]'
                    )


@dataclass(frozen=True)
class PricingSettings:
    """``[pricing]``: prices the price lists do not carry, and when a reconciliation line is flagged."""

    variance_threshold_percent: float = 10.0  # Reconciliation flags |billed - computed| / computed above this
    reserved_fraction_of_on_demand: float = 0.62  # effective Reserved rate (amortised upfront) x On-Demand list
    reserved_rates: dict = field(default_factory=dict)  # {"r6i.8xlarge" = 1.26}: $/h per type, beats the fraction
    spot_fallback_fraction: float = 0.35  # Spot estimate x On-Demand when no Spot history is held (offline)
    onprem_core_hour: float = 0.04  # on-premises rate card: per core-hour
    onprem_cores_per_node: int = 32
    onprem_gb_hour: float = 0.0  # per GB of memory per hour
    onprem_memory_gb_per_node: int = 256
    price_list_region: str = "us-east-1"  # where the Price List Query API is called
    profile: str | None = None


@dataclass(frozen=True)
class RightSizingSettings:
    """``[right_sizing]``: how the Right-sizing page turns task usage (%cpu, peak RSS) into a recommended request."""

    quantile: float = 0.95  # the share of a process' tasks the request must cover (0.95: p95 of use)
    headroom: float = 0.20  # added on top of that quantile (0.20: 20% more) before rounding up
    memory_step_gb: float = 1.0  # memory requests are rounded up to a multiple of this (GB as Nextflow counts them)

    def __post_init__(self) -> None:
        if not 0 < self.quantile <= 1:
            raise ConfigError(f"right_sizing.quantile must be above 0 and at most 1 (0.95 for p95), not {self.quantile!r}")
        if self.headroom < 0:
            raise ConfigError(f"right_sizing.headroom must be 0 or more (0.2 for 20%), not {self.headroom!r}")
        if self.memory_step_gb <= 0:
            raise ConfigError(f"right_sizing.memory_step_gb must be above 0 (1.0 or 0.5), not {self.memory_step_gb!r}")


@dataclass(frozen=True)
class AllocationSettings:
    """``[allocation]``: the chargeback allocation rules file (default: the shipped allocation-rules.toml)."""

    rules: str | None = None  # a TOML file; a relative path is read from the config file's folder

    @property
    def rules_file(self) -> Path:
        """The allocation rules in force: ``rules`` if set, else the shipped ``allocation-rules.toml``."""
        return Path(self.rules) if self.rules else DEFAULT_RULES_FILE


SEQERA_SLURM_PLATFORMS = ("ParallelCluster", "OnPremHPC")


@dataclass(frozen=True)
class SeqeraSettings:
    """``[seqera]``: how a Seqera Platform run becomes a launch (``python -m ingest seqera``)."""

    consumer_field: str = "userName"  # a workflow field (userName, ...), "workspace" (org/workspace) or "label:NAME"
    slurm_platform: str = "ParallelCluster"  # what a slurm run ran on: ParallelCluster (AWS) or OnPremHPC

    def __post_init__(self) -> None:
        if self.slurm_platform not in SEQERA_SLURM_PLATFORMS:
            raise ConfigError(f"seqera.slurm_platform must be ParallelCluster or OnPremHPC, not {self.slurm_platform!r}")
        if not isinstance(self.consumer_field, str) or not self.consumer_field.strip() or self.consumer_field == "label:":
            raise ConfigError('seqera.consumer_field must name a field, e.g. "userName", "workspace" or "label:team"')


@dataclass(frozen=True)
class AccessSettings:
    """``[access]``: the access file (who sees which consumers; core/access.py says its format).

    Unset (the default) with no ``[auth]`` in .streamlit/secrets.toml: no sign-in, one person sees everything.
    """

    file: str | None = None  # a TOML file; a relative path is read from the config file's folder


@dataclass(frozen=True)
class ComparisonSettings:
    """``[comparisons]``: like-for-like comparisons on the Platforms page (estimates/comparisons.py).

    Launches are compared within input-size bands split at ``size_bands_gb``; below ``min_launches``
    launches a side (in the bands both sides share) the page says "not enough launches" instead of a figure.
    """

    min_launches: int = 20  # per side
    size_bands_gb: tuple = (10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0)  # band edges, GB, increasing
    resamples: int = 1000  # bootstrap resamples behind each 90% interval
    seed: int = 15  # of the bootstrap, so a page shows the same interval on every run

    def __post_init__(self) -> None:
        for name in ("min_launches", "resamples"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"comparisons.{name} must be a whole number of at least 1, not {value!r}")
        edges = self.size_bands_gb
        numbers = isinstance(edges, list | tuple) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in edges)
        if not numbers or not edges or any(v <= 0 for v in edges) or list(edges) != sorted(set(edges)):
            raise ConfigError(
                f"comparisons.size_bands_gb must be increasing sizes in GB above 0, e.g. [10, 30, 100, 300], not {edges!r}"
            )
        object.__setattr__(self, "size_bands_gb", tuple(float(v) for v in edges))


DEFAULT_BUDGETS_FILE = Path(__file__).resolve().parents[1] / "budgets.toml"


@dataclass(frozen=True)
class BudgetsSettings:
    """``[budgets]``: the budgets file (estimates/budgets/__init__.py says its format) and when a budget is flagged.

    A budget is *at risk* when its chance of overrunning by the period's end is at least ``at_risk_chance``;
    ``budgets --check`` exits 1 when one is already over or its chance is at least ``alert_chance`` (0.5: the
    forecast's median exceeds the budget).
    """

    file: str | None = None  # a TOML file; a relative path is read from the config file's folder (default: budgets.toml)
    at_risk_chance: float = 0.2
    alert_chance: float = 0.5

    def __post_init__(self) -> None:
        for name in ("at_risk_chance", "alert_chance"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value < 1:
                raise ConfigError(f"budgets.{name} must be a chance between 0 and 1 (e.g. 0.2), not {value!r}")

    @property
    def budgets_file(self) -> Path:
        """The budgets file: ``file`` if set, else the shipped ``budgets.toml``."""
        return Path(self.file) if self.file else DEFAULT_BUDGETS_FILE


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")
    currency: str = "USD"
    dynamodb: DynamoDBSettings = field(default_factory=DynamoDBSettings)
    cost_explorer: CostExplorerSettings = field(default_factory=CostExplorerSettings)
    athena: AthenaSettings = field(default_factory=AthenaSettings)
    pricing: PricingSettings = field(default_factory=PricingSettings)
    right_sizing: RightSizingSettings = field(default_factory=RightSizingSettings)
    allocation: AllocationSettings = field(default_factory=AllocationSettings)
    seqera: SeqeraSettings = field(default_factory=SeqeraSettings)
    access: AccessSettings = field(default_factory=AccessSettings)
    comparisons: ComparisonSettings = field(default_factory=ComparisonSettings)
    budgets: BudgetsSettings = field(default_factory=BudgetsSettings)

    @property
    def consumer_tag(self) -> str:
        """The cost-allocation tag that names the consumer on the bill: ``[consumer] tag`` of the allocation rules.

        Set in that one place; every importer (Cost Explorer, its forecast, FOCUS, CUR) and the
        statements read it from there. A command's ``--tag-key`` overrides it for one run.
        """
        return consumer_tag_of(self.allocation.rules_file)

    @property
    def run_tag(self) -> str:
        """The tag whose value on a bill row (CUR, FOCUS) is a launch_id: ``[runs] tag`` of the allocation rules.

        Set in that one place, beside the consumer tag: the bill imports match runs by it
        (``launch_billed_costs``) and the statements charge runs by it.
        """
        return _rules_value(self.allocation.rules_file, "runs", "tag", DEFAULT_RUN_TAG)

    def cost_explorer_for(self, tag_key: str | None = None) -> CostExplorerSettings:
        """``[cost_explorer]`` with the tag it groups by: ``tag_key`` if given, else the consumer tag."""
        return replace(self.cost_explorer, tag_key=tag_key or self.cost_explorer.tag_key or self.consumer_tag)


def consumer_tag_of(rules_file: Path) -> str:
    """``[consumer] tag`` of an allocation rules file (the default tag when the file does not set it)."""
    return _rules_value(rules_file, "consumer", "tag", DEFAULT_CONSUMER_TAG)


def _rules_value(rules_file: Path, section: str, key: str, default: str) -> str:
    """A tag name the allocation rules set (``[section] key``), or ``default``."""
    try:
        raw = tomllib.loads(Path(rules_file).read_text())
    except OSError as exc:
        raise ConfigError(
            f"cannot read the allocation rules {rules_file}: {exc.strerror or exc}; check [allocation] rules in the config"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"the allocation rules {rules_file} are not valid TOML: {exc}") from None
    tag = (raw.get(section) or {}).get(key, default)
    if not isinstance(tag, str) or not tag.strip():
        raise ConfigError(f'[{section}] {key} in {rules_file} must name a cost-allocation tag, e.g. {key} = "{default}"')
    return tag.strip()


@dataclass(frozen=True)
class _Moved:
    """A section whose settings have all moved (``MOVED`` says where)."""


MOVED = {
    "cost_explorer.tag_key": (
        "the consumer tag is set once, as tag under [consumer] in the allocation rules (allocation-rules.toml)"
    ),
    "billing.run_tag": "the run tag is set once, as tag under [runs] in the allocation rules (allocation-rules.toml)",
}


def _build(cls, values: dict, where: str):
    for name in values:
        if f"{where}.{name}" in MOVED:
            raise ConfigError(f"{where}.{name} in the config file has moved: {MOVED[f'{where}.{name}']}; delete it here")
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
    shapes = _build(ItemShapes, ddb.pop("shapes", {}), "dynamodb.shapes")
    settings = Settings(
        dynamodb=replace(_build(DynamoDBSettings, ddb, "dynamodb"), attributes=attrs, shapes=shapes),
        cost_explorer=_build(CostExplorerSettings, raw.pop("cost_explorer", {}), "cost_explorer"),
        athena=_build(AthenaSettings, raw.pop("athena", {}), "athena"),
        pricing=_build(PricingSettings, raw.pop("pricing", {}), "pricing"),
        right_sizing=_build(RightSizingSettings, raw.pop("right_sizing", {}), "right_sizing"),
        allocation=_build(AllocationSettings, raw.pop("allocation", {}), "allocation"),
        seqera=_build(SeqeraSettings, raw.pop("seqera", {}), "seqera"),
        access=_build(AccessSettings, raw.pop("access", {}), "access"),
        comparisons=_build(ComparisonSettings, raw.pop("comparisons", {}), "comparisons"),
        budgets=_build(BudgetsSettings, raw.pop("budgets", {}), "budgets"),
        currency=warehouse.get("currency", "USD"),
    )
    if path and settings.allocation.rules and not Path(settings.allocation.rules).is_absolute():
        settings = replace(settings, allocation=AllocationSettings(str(Path(path).parent / settings.allocation.rules)))
    if path and settings.access.file and not Path(settings.access.file).is_absolute():
        settings = replace(settings, access=AccessSettings(str(Path(path).parent / settings.access.file)))
    if path and settings.budgets.file and not Path(settings.budgets.file).is_absolute():
        settings = replace(settings, budgets=replace(settings.budgets, file=str(Path(path).parent / settings.budgets.file)))
    _build(_Moved, raw.pop("billing", {}), "billing")  # [billing] held only the run tag, now in the rules
    if raw:
        raise ConfigError(f"unknown section [{next(iter(raw))}] in the config file {path}")
    chosen = data_dir or os.environ.get("LAUNCH_LEDGER_DATA_DIR") or warehouse.get("data_dir") or "data"
    return replace(settings, data_dir=Path(chosen))
