"""What a trace does not say about its run: from command-line options, or a small TOML file beside the trace.

For ``trace.txt`` the sidecar is ``trace.launch.toml``; ``launch-ledger-run.toml`` in the same folder holds
what every trace of that folder shares. An option beats the trace's own sidecar, which beats the folder's.
Keys (all optional in the file; consumer, workflow_type and platform are required in the end)::

    run_id = "nf-rnaseq-2025-03-04"      # default: derived from the file's path and its first submit
    consumer = "oncology-research"
    workflow_type = "nf-core/rnaseq"
    platform = "Batch"                   # EC2, Batch, ParallelCluster, EKS or OnPremHPC
    region = "us-east-1"                 # needed with instance_type on AWS; none on premises
    instance_type = "m5.2xlarge"         # what every task ran on: one priced instance line per task attempt
    purchase_option = "Spot"             # Spot, On-Demand (default) or Reserved
    availability_zone = "us-east-1a"
    input_path = "s3://bucket/run-123/"
    input_size_gb = 182.5
    sample_count = 24
    timezone = "Europe/Berlin"           # of the machine that ran Nextflow: human dates are its local time (default UTC)
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.errors import ConfigError
from core.vocabulary import ONPREM_PLATFORM, PLATFORMS, PURCHASE_OPTIONS

FOLDER_SIDECAR = "launch-ledger-run.toml"
SIDECAR_SUFFIX = ".launch.toml"
REQUIRED = ("consumer", "workflow_type", "platform")
_INSTANCE_TYPE = re.compile(r"[a-z][a-z0-9-]*\.[a-z0-9]+")


@dataclass(frozen=True)
class RunOptions:
    """A run's facts beyond its trace; None is "not given here"."""

    run_id: str | None = None
    consumer: str | None = None
    workflow_type: str | None = None
    platform: str | None = None
    region: str | None = None
    instance_type: str | None = None
    purchase_option: str | None = None
    availability_zone: str | None = None
    input_path: str | None = None
    input_size_gb: float | None = None
    sample_count: int | None = None
    timezone: str | None = None

    def over(self, other: RunOptions) -> RunOptions:
        """These options, with ``other``'s where these have none."""
        return replace(self, **{f.name: getattr(other, f.name) for f in fields(self) if getattr(self, f.name) is None})


KEYS = tuple(f.name for f in fields(RunOptions))
OPTION = {k: "--" + k.replace("_", "-") for k in KEYS}
_NUMBERS = {"input_size_gb": (int, float), "sample_count": (int,)}


def sidecar_of(trace: Path) -> Path:
    """``trace.txt`` -> ``trace.launch.toml``."""
    return trace.with_suffix(SIDECAR_SUFFIX) if trace.suffix else trace.with_name(trace.name + SIDECAR_SUFFIX)


def read_sidecar(path: Path) -> RunOptions:
    if not path.is_file():
        return RunOptions()
    try:
        raw = tomllib.loads(path.read_text())
    except (OSError, UnicodeError) as exc:
        raise ConfigError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        raise ConfigError(f"unknown key {unknown[0]} in {path}; known: {', '.join(KEYS)}")
    for key, value in raw.items():
        kinds = _NUMBERS.get(key, (str,))
        if isinstance(value, bool) or not isinstance(value, kinds):
            what = "a number" if key == "input_size_gb" else "a whole number" if key == "sample_count" else "a string"
            raise ConfigError(f"{key} in {path} must be {what}, not {value!r}")
    return RunOptions(**raw)


@dataclass(frozen=True)
class ResolvedRun:
    """A trace's options, checked: every required one set, names in the project's vocabulary."""

    options: RunOptions
    zone: ZoneInfo

    @property
    def onprem(self) -> bool:
        return self.options.platform == ONPREM_PLATFORM


def resolve(trace: Path, label: str, given: RunOptions, hint: Callable[[], str] = lambda: "") -> ResolvedRun:
    """The trace's options: ``given`` over its sidecar over its folder's; one clear error for what is missing or wrong."""
    own, folder = sidecar_of(trace), trace.parent / FOLDER_SIDECAR
    shared = read_sidecar(folder)
    if shared.run_id:
        raise ConfigError(f"run_id in {folder} would give every trace of its folder the same id: set it in {own.name}")
    options = given.over(read_sidecar(own)).over(shared)
    missing = [k for k in REQUIRED if not getattr(options, k)]
    if missing:
        names = " and ".join(", ".join(k.replace("_", " ") for k in missing).rsplit(", ", 1))
        flags = " ".join(OPTION[k] + " ..." for k in missing)
        keys = ", ".join(missing)
        raise ConfigError(
            f"{label}: no {names} for this run: pass {flags}, or set {keys} in {own.name} beside the trace "
            f"(or in {FOLDER_SIDECAR} in its folder){hint() if 'platform' in missing else ''}"
        )
    options = replace(
        options,
        platform=_one_of(options.platform, PLATFORMS, "platform", label),
        purchase_option=None if options.purchase_option is None else _purchase_option(options.purchase_option, label),
    )
    if options.instance_type and not _INSTANCE_TYPE.fullmatch(options.instance_type):
        raise ConfigError(f"{label}: instance type {options.instance_type!r} is not an EC2 instance type such as m5.2xlarge")
    if options.platform == ONPREM_PLATFORM and options.region:
        raise ConfigError(f"{label}: OnPremHPC runs have no AWS region; drop --region / region for this run")
    if options.platform != ONPREM_PLATFORM and options.instance_type and not options.region:
        raise ConfigError(
            f"{label}: pricing instance type {options.instance_type} needs the AWS region it ran in: "
            f"pass --region or set region in {own.name}"
        )
    if options.input_size_gb is not None and options.input_size_gb < 0:
        raise ConfigError(f"{label}: input size must not be negative, not {options.input_size_gb}")
    if options.sample_count is not None and options.sample_count < 0:
        raise ConfigError(f"{label}: sample count must not be negative, not {options.sample_count}")
    try:
        zone = ZoneInfo(options.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{label}: unknown time zone {options.timezone!r}; use an IANA name such as Europe/Berlin") from None
    return ResolvedRun(options, zone)


def _one_of(value: str, choices: tuple[str, ...], what: str, label: str) -> str:
    for choice in choices:
        if value.strip().lower() == choice.lower():
            return choice
    raise ConfigError(f"{label}: {what} {value!r} is not one of {', '.join(choices)}")


def _purchase_option(value: str, label: str) -> str:
    folded = re.sub(r"[\s_-]", "", value.lower())
    if folded in ("ondemand", "od"):
        return "On-Demand"
    if folded.startswith(("reserved", "savings")):
        return "Reserved"
    return _one_of(value, PURCHASE_OPTIONS, "purchase option", label)
