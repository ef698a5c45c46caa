"""The allocation rules: a TOML file that says how a month's bill becomes one statement per consumer.

The shipped default is ``allocation-rules.toml`` at the repository root; ``[allocation] rules = "..."``
in the main config points elsewhere (a relative path is read from the config file's folder). The
README has a commented example. The rules are:

- ``[consumer]``: the cost-allocation ``tag`` that names the consumer on the bill, the launches column
  (``launch_attribute``) that names it on launches, ``aliases`` (other spellings of one consumer) and
  ``untagged_values`` (tag values that mean "nobody", e.g. "unknown").
- ``[bill]``: ``sources`` in order of preference; per month, the first source with rows is the bill,
  so a month loaded from Cost Explorer *and* a CUR export is never counted twice.
- ``[[shared]]``: shared costs, matched by service, account, resource, charge category and tag value
  (shell-style patterns; ``""`` is untagged; the first matching rule takes a charge), split by
  ``PROPORTIONAL`` (to a basis: each consumer's direct cost, or its launches' cost), ``EVEN`` or
  ``FIXED`` percentages: the three methods of Cost Explorer cost categories' split charge rules.
- ``[runs]`` (optional): ``charge = "split_cost"`` charges each workflow run the bill matched by its run
  tag (``launch_billed_costs``) to its launch's consumer at its split cost, and shares the instances'
  unused capacity by ``unused`` (``UNUSED_RULES``). Without it, runs are charged by the consumer tag.
- Everything else that names no consumer stays unallocated: one line on the statement, never dropped.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from fnmatch import fnmatchcase
from pathlib import Path

from core.errors import ChargebackError
from core.settings import DEFAULT_RUN_TAG
from core.vocabulary import BILL_SOURCES

DEFAULT_RULES_FILE = Path(__file__).resolve().parents[1] / "allocation-rules.toml"
METHODS = ("PROPORTIONAL", "EVEN", "FIXED")
SOURCES = BILL_SOURCES
# PROPORTIONAL bases: the consumer's direct cost on the bill, or what its launches of the month cost
# (the workflow manager's price of each launch: usage evidence, e.g. FSx time for a shared file system).
BASES = {
    "direct": "each consumer's direct cost this month",
    "launch_cost": "each consumer's launch cost this month",
    "launch_instance_cost": "each consumer's launch instance cost this month",
    "launch_volume_cost": "each consumer's launch volume cost this month",
    "launch_filesystem_cost": "each consumer's launch file-system cost this month",
    "launch_control_plane_cost": "each consumer's launch control-plane cost this month",
    "launches": "each consumer's number of launches this month",
}
LAUNCH_ATTRIBUTES = ("consumer", "workflow_type", "compute_platform", "region")
CREDIT_CATEGORIES = ("Credit", "Refund")
# [runs] unused: who pays the unused capacity of the instances runs shared (CUR split_unused_cost).
UNUSED_RULES = {
    "proportional": "PROPORTIONAL to each consumer's run split cost this month",
    "as_billed": "each run's own share of the unused capacity, as the bill computed it (CUR split_unused_cost)",
    "to_consumer:NAME": "all to one consumer (e.g. the platform team that runs the compute environments)",
    "not_charged": "charged to nobody: an unallocated line",
}
RUN_CHARGES = ("split_cost",)


@dataclass(frozen=True)
class SharedCost:
    """One ``[[shared]]`` rule: which charges it takes and how it splits them."""

    name: str
    method: str = "PROPORTIONAL"
    basis: str = "direct"
    percentages: dict[str, Decimal] = field(default_factory=dict)
    targets: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    resource_ids: tuple[str, ...] = ()
    charge_categories: tuple[str, ...] = ()
    consumers: tuple[str, ...] = ("",)  # tag values (after aliases); "" is untagged

    def matches(
        self, service: str | None, account: str | None, resource: str | None, category: str | None, consumer: str | None
    ) -> bool:
        def any_of(patterns: tuple[str, ...], value: str | None) -> bool:
            return not patterns or any(fnmatchcase(value or "", p) for p in patterns)

        return (
            any_of(self.services, service)
            and any_of(self.accounts, account)
            and any_of(self.resource_ids, resource)
            and any_of(self.charge_categories, category)
            and any(fnmatchcase(consumer or "", p) for p in self.consumers)
        )

    @property
    def rule_text(self) -> str:
        """How a share of this cost was arrived at, in words for the statement."""
        if self.method == "FIXED":
            return "FIXED " + ", ".join(f"{c} {p.normalize():f}%" for c, p in self.percentages.items())
        if self.method == "EVEN":
            return "EVEN across " + (", ".join(self.targets) if self.targets else "every consumer of the month")
        return f"PROPORTIONAL to {BASES[self.basis]}"

    @property
    def matches_text(self) -> str:
        parts = []
        for label, values in (
            ("service", self.services),
            ("account", self.accounts),
            ("resource", self.resource_ids),
            ("charge category", self.charge_categories),
        ):
            if values:
                parts.append(f"{label} {' or '.join(values)}")
        tagged = ["untagged" if c == "" else f"tag {c}" for c in self.consumers]
        parts.append(" or ".join(tagged))
        return "; ".join(parts)


@dataclass(frozen=True)
class RunCharges:
    """``[runs]``: runs matched on the bill by their run tag are charged their split cost; the unused share by rule."""

    charge: str = "split_cost"
    unused: str = "proportional"  # a key of UNUSED_RULES ("to_consumer" with unused_consumer)
    unused_consumer: str | None = None

    @property
    def unused_text(self) -> str:
        """The rule for the unused capacity, in words for the statement."""
        if self.unused == "to_consumer":
            return f"all to {self.unused_consumer}"
        return UNUSED_RULES[self.unused]


def _run_tag(raw, where: str) -> str:
    """``[runs] tag``: the run tag on the bill, the one place it is set (``Settings.run_tag`` reads it here)."""
    if not isinstance(raw, dict):
        raise ChargebackError(f'{where}: [runs] is a table, e.g. [runs] charge = "split_cost"')
    unknown = sorted(set(raw) - {"charge", "unused", "tag"})
    if unknown:
        raise ChargebackError(f"{where}: unknown setting runs.{unknown[0]}; known: charge, unused, tag")
    tag = raw.get("tag", DEFAULT_RUN_TAG)
    if not isinstance(tag, str) or not tag.strip():
        raise ChargebackError(f'{where}: runs.tag names the run tag on the bill, e.g. tag = "{DEFAULT_RUN_TAG}"')
    return tag.strip()


def _runs(raw: dict, where: str) -> RunCharges | None:
    """``[runs] charge``: None when the section only names the run tag (runs are then charged like any charge)."""
    if "charge" not in raw:
        if "unused" in raw:
            raise ChargebackError(f'{where}: runs.unused applies with charge = "split_cost": add it, or drop unused')
        return None
    charge = raw.get("charge")
    if charge not in RUN_CHARGES:
        raise ChargebackError(
            f'{where}: runs.charge must be "split_cost" (drop [runs] to charge runs by the consumer tag), not {charge!r}'
        )
    unused = raw.get("unused", "proportional")
    consumer = None
    if isinstance(unused, str) and unused.startswith("to_consumer:"):
        consumer = unused.split(":", 1)[1].strip()
        if not consumer:
            raise ChargebackError(f'{where}: runs.unused = "to_consumer:NAME" needs the consumer, e.g. "to_consumer:platform"')
        unused = "to_consumer"
    elif unused not in UNUSED_RULES or unused == "to_consumer:NAME":
        raise ChargebackError(f"{where}: runs.unused must be one of {', '.join(UNUSED_RULES)}, not {unused!r}")
    return RunCharges(charge=charge, unused=unused, unused_consumer=consumer)


@dataclass(frozen=True)
class Rules:
    tag: str = "consumer"
    launch_attribute: str = "consumer"
    aliases: dict[str, str] = field(default_factory=dict)
    untagged_values: tuple[str, ...] = ("",)
    sources: tuple[str, ...] = SOURCES
    shared: tuple[SharedCost, ...] = ()
    runs: RunCharges | None = None  # [runs] charge: None charges runs by the consumer tag like any charge
    run_tag: str = DEFAULT_RUN_TAG  # [runs] tag: the tag whose value on a bill row is a launch_id
    path: str | None = field(default=None, compare=False)
    text: str = field(default="", compare=False)

    def consumer_of(self, value: str | None) -> str | None:
        """The consumer a tag value or launch attribute names (aliases applied); None when untagged."""
        if value is None:
            return None
        value = self.aliases.get(value, value)
        if value.strip().lower() in self.untagged_values:
            return None
        return value

    def shared_cost_for(self, service, account, resource, category, consumer) -> SharedCost | None:
        return next((s for s in self.shared if s.matches(service, account, resource, category, consumer)), None)

    @property
    def fingerprint(self) -> str:
        """sha256 of the rules' meaning (not of comments or layout): stored with every closed month."""
        payload = asdict(self)
        payload.pop("path"), payload.pop("text")
        if payload["runs"] is None:  # rules without [runs] keep the fingerprint they had before [runs] existed
            payload.pop("runs"), payload.pop("run_tag")
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _strings(value, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ChargebackError(f"{where} must be a string or a list of strings")
    return tuple(value)


def _shared(raw: dict, index: int, where: str) -> SharedCost:
    known = {
        "name",
        "rule",
        "basis",
        "percentages",
        "targets",
        "services",
        "accounts",
        "resource_ids",
        "charge_categories",
        "consumers",
    }
    name = raw.get("name")
    label = f"{where}: shared[{index}]" + (f" ({name})" if name else "")
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ChargebackError(f"{label}: unknown setting {unknown[0]!r}; known: {', '.join(sorted(known))}")
    if not isinstance(name, str) or not name.strip():
        raise ChargebackError(f'{label}: every shared cost needs a name (name = "FSx scratch")')
    method = str(raw.get("rule", "PROPORTIONAL")).upper()
    if method not in METHODS:
        raise ChargebackError(f"{label}: rule must be PROPORTIONAL, EVEN or FIXED, not {raw.get('rule')!r}")
    basis = raw.get("basis", "direct")
    if basis not in BASES:
        raise ChargebackError(f"{label}: basis must be one of {', '.join(BASES)}, not {basis!r}")
    if "basis" in raw and method != "PROPORTIONAL":
        raise ChargebackError(f"{label}: basis applies to PROPORTIONAL only; {method} does not use it")
    percentages: dict[str, Decimal] = {}
    if method == "FIXED":
        table = raw.get("percentages")
        if not isinstance(table, dict) or not table:
            raise ChargebackError(f'{label}: FIXED needs percentages = {{ "team-a" = 60, "team-b" = 40 }}')
        for consumer, value in table.items():
            try:
                pct = Decimal(str(value))
            except InvalidOperation:
                raise ChargebackError(f"{label}: percentage for {consumer!r} is not a number: {value!r}") from None
            if pct < 0 or isinstance(value, bool):
                raise ChargebackError(f"{label}: percentage for {consumer!r} must be zero or more, not {value!r}")
            percentages[consumer] = pct
        if sum(percentages.values()) != 100:
            raise ChargebackError(f"{label}: FIXED percentages must add up to 100, not {sum(percentages.values()).normalize():f}")
        if "targets" in raw:
            raise ChargebackError(f"{label}: FIXED splits among the consumers of its percentages; drop targets")
    elif "percentages" in raw:
        raise ChargebackError(f"{label}: percentages apply to FIXED only; {method} does not use them")
    fields = {
        k: _strings(raw[k], f"{label}.{k}")
        for k in ("targets", "services", "accounts", "resource_ids", "charge_categories", "consumers")
        if k in raw
    }
    if fields.get("consumers") == ():
        raise ChargebackError(f'{label}: consumers must name at least one tag value ("" for untagged)')
    return SharedCost(name=name.strip(), method=method, basis=basis, percentages=percentages, **fields)


def parse_rules(text: str, where: str = "allocation rules") -> Rules:
    """Rules from TOML text; any mistake is an ChargebackError naming the setting."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ChargebackError(f"{where} is not valid TOML: {exc}") from None
    unknown = sorted(set(raw) - {"consumer", "bill", "shared", "runs", "unallocated"})
    if unknown:
        raise ChargebackError(
            f"{where}: unknown section [{unknown[0]}]; known: [consumer], [bill], [[shared]], [runs], [unallocated]"
        )
    consumer = dict(raw.get("consumer", {}))
    extra = sorted(set(consumer) - {"tag", "launch_attribute", "aliases", "untagged_values"})
    if extra:
        raise ChargebackError(
            f"{where}: unknown setting consumer.{extra[0]}; known: tag, launch_attribute, aliases, untagged_values"
        )
    tag = consumer.get("tag", "consumer")
    if not isinstance(tag, str) or not tag:
        raise ChargebackError(f'{where}: consumer.tag must name the cost-allocation tag, e.g. tag = "consumer"')
    attribute = consumer.get("launch_attribute", "consumer")
    if attribute not in LAUNCH_ATTRIBUTES:
        raise ChargebackError(
            f"{where}: consumer.launch_attribute must be one of {', '.join(LAUNCH_ATTRIBUTES)}, not {attribute!r}"
        )
    aliases = consumer.get("aliases", {})
    if not isinstance(aliases, dict) or not all(isinstance(k, str) and isinstance(v, str) and v for k, v in aliases.items()):
        raise ChargebackError(f'{where}: consumer.aliases maps spellings to names, e.g. "Oncology" = "oncology-research"')
    chained = sorted(k for k, v in aliases.items() if v in aliases and aliases[v] != v)
    if chained:
        raise ChargebackError(
            f"{where}: alias {chained[0]!r} points at {aliases[chained[0]]!r}, itself an alias: point it at the final name"
        )
    untagged = tuple(
        v.strip().lower() for v in _strings(consumer.get("untagged_values", []), f"{where}: consumer.untagged_values")
    )
    bill = dict(raw.get("bill", {}))
    if sorted(set(bill) - {"sources"}):
        raise ChargebackError(f"{where}: unknown setting bill.{sorted(set(bill) - {'sources'})[0]}; known: sources")
    sources = _strings(bill.get("sources", list(SOURCES)), f"{where}: bill.sources")
    wrong = [s for s in sources if s not in SOURCES]
    if wrong or not sources:
        raise ChargebackError(f"{where}: bill.sources lists {', '.join(SOURCES)} in order of preference, not {wrong or sources}")
    if raw.get("unallocated"):
        raise ChargebackError(f"{where}: [unallocated] takes no settings: what no rule covers is unallocated")
    shared_raw = raw.get("shared", [])
    if not isinstance(shared_raw, list):
        raise ChargebackError(f"{where}: shared costs are [[shared]] tables (double brackets)")
    shared = tuple(_shared(dict(s), i, where) for i, s in enumerate(shared_raw))
    names = [s.name for s in shared]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ChargebackError(f"{where}: two shared costs are called {twice[0]!r}: give each its own name")
    return Rules(
        tag=tag,
        launch_attribute=attribute,
        aliases=dict(aliases),
        untagged_values=tuple(dict.fromkeys(("", *untagged))),
        sources=tuple(sources),
        shared=shared,
        run_tag=_run_tag(raw.get("runs", {}), where),  # first: it checks [runs] is a table
        runs=_runs(raw["runs"], where) if "runs" in raw else None,
        text=text,
    )


def load_rules(path: str | Path | None = None) -> Rules:
    """The rules in ``path`` (default: the shipped ``allocation-rules.toml``)."""
    path = Path(path) if path else DEFAULT_RULES_FILE
    try:
        text = path.read_text()
    except OSError as exc:
        raise ChargebackError(
            f"cannot read the allocation rules {path}: {exc.strerror or exc}; check [allocation] rules in the config"
        ) from None
    rules = parse_rules(text, str(path))
    return Rules(**{**{f: getattr(rules, f) for f in rules.__dataclass_fields__}, "path": str(path)})


def rules_for(settings) -> Rules:
    """The rules the settings name (``settings.allocation.rules``), or the shipped default."""
    allocation = getattr(settings, "allocation", None)
    return load_rules(getattr(allocation, "rules", None))
