"""A month's chargeback statement: every cent of the bill on exactly one line, by stated rules.

**What is charged.** The bill of a month is ``costs_daily`` for that month from one source (the first
of ``[bill] sources`` that has rows, so Cost Explorer and a CUR export of the same month are never
added up), at **effective cost**: amortized, after discounts and credits (FOCUS EffectiveCost, CUR net
amortized cost, Cost Explorer NetAmortizedCost): what the spend really costs. **Billed cost** (what
the invoice says) is carried beside every line with the same shares. Launch prices
(``launches.total_cost``) are never charged: they are the usage evidence that attributes a
consumer's direct cost to workflow types and platforms and that PROPORTIONAL rules can split by.

**Lines**, per consumer: ``direct`` (charges tagged with the consumer, by workflow type and platform
in proportion to the month's launch cost), ``credit`` (credits and refunds tagged to it, and its
share of shared credits), ``shared`` (its share of each shared cost, with the rule), ``adjustment``
(restatements of closed months, in the first open month). Then, for nobody: ``unallocated``
(untagged spend no rule shares; a shared cost no consumer had a basis for) and ``rounding``.

**Runs** (``[runs] charge = "split_cost"``): a bill row carrying the run tag of a run matched to a launch
(``launch_billed_costs``, the ``statement_runs`` query) is charged to that launch's consumer, whatever
its consumer tag says. On a shared instance (CUR split cost allocation) the run takes the instance's
cost in proportion to its split cost (exactly its split cost when, as usual, the instance's cost is the
sum of its split and unused costs), and its share of the unused capacity goes to one pool, "Unused
capacity of shared instances", split by ``[runs] unused``: proportional to each consumer's run split
cost, as billed (each run's own ``split_unused_cost``), all to one consumer, or not charged (unallocated).

**Cents.** Exact arithmetic (``Fraction``) until each line is rounded half to even; a shared cost is
rounded once and split by the largest-remainder method, so its shares add up to it exactly and none
is negative (for a positive cost); a consumer's direct cost is split over its workflow types the
same way. The bill is rounded half to even too, and what the rounded lines miss of it, a cent or a
few, is the ``rounding`` line: direct + credits + shared + unallocated + rounding = the bill, to the
cent, for every month and every filter (a filter folds what it hides into one "outside" line).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from fnmatch import fnmatchcase
from fractions import Fraction
from functools import lru_cache

import pandas as pd

from chargeback.rules import BASES, CREDIT_CATEGORIES, Rules, SharedCost
from core.errors import ChargebackError
from core.money import as_money, exact, split_cents, to_cents
from core.months import month_label

KINDS = ("direct", "credit", "shared", "adjustment", "unallocated", "rounding", "outside")
UNALLOCATED = "Unallocated"
ROUNDING = "Rounding"
OUTSIDE = "Outside the filters"
UNTAGGED_LINE = "Untagged spend no shared rule takes"
ROUNDING_RULE = (
    "each line is rounded half to even; this line is the rounded bill minus the sum of the rounded lines, "
    "so the statement adds up to the bill to the cent"
)
MEASURE = "effective cost (amortized, after discounts and credits); billed cost beside it"
LINE_COLUMNS = (
    "consumer",
    "line_kind",
    "line",
    "workflow_type",
    "compute_platform",
    "rule",
    "adjusts_month",
    "amount",
    "billed_amount",
    "launches",
    "note",
)
CHARGE_COLUMNS = (
    "consumer",
    "line_kind",
    "line",
    "rule",
    "provider",
    "service",
    "account_id",
    "resource_id",
    "charge_category",
    "effective_cost",
    "billed_cost",
    "list_cost",
)


def _text(value) -> str | None:
    """A warehouse string, with pandas' missing markers as None."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return str(value)


@lru_cache(maxsize=4096)
def _tag_object(tags: str) -> dict:
    try:
        parsed = json.loads(tags)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def tag_value(tags: str | None, key: str) -> str | None:
    """The value of tag ``key`` in a tags JSON object (also as AWS writes user tags: ``user:key``, ``user_key``)."""
    if not tags:
        return None
    found = _tag_object(tags)
    for name in (key, f"user:{key}", f"user_{key}"):
        value = found.get(name)
        if value is not None:
            return str(value)
    return None


@dataclass(frozen=True)
class Charge:
    """One charge of the month's bill (summed over days), with the consumer its tag names."""

    service: str | None
    account_id: str | None
    resource_id: str | None
    charge_category: str
    consumer: str | None
    effective: Fraction
    billed: Fraction
    listed: Fraction | None
    provider: str | None = None
    via_split: bool = False
    via_run: bool = False  # charged to a run's launch by the run tag ([runs])
    unused: bool = False  # a run's share of its instance's unused capacity ([runs]): the unused pool

    @property
    def is_credit(self) -> bool:
        return self.charge_category in CREDIT_CATEGORIES


@dataclass
class Statement:
    """A month's statement. ``lines`` has LINE_COLUMNS with amounts in cents (Decimal, 2 places)."""

    month: date
    currency: str
    lines: pd.DataFrame
    bill_total: Decimal
    billed_total: Decimal
    bill_exact: Decimal
    bill_source: str | None
    bill_tag_key: str | None
    rules_fingerprint: str
    charges: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(CHARGE_COLUMNS)))
    estimated_charges: int = 0
    status: str = "open"
    closed_at: datetime | None = None
    closed_by_run_id: str | None = None
    restated: Decimal | None = None
    notes: tuple[str, ...] = ()
    scope: tuple[str, ...] | None = None  # the consumers whose lines it holds (``visible_to``); None: the whole month

    @property
    def label(self) -> str:
        return month_label(self.month)

    @property
    def closed(self) -> bool:
        return self.status == "closed"

    def amounts(self, kinds: Iterable[str], column: str = "amount") -> Decimal:
        rows = self.lines[self.lines["line_kind"].isin(tuple(kinds))]
        return sum(rows[column], Decimal("0.00"))

    @property
    def adjustments_total(self) -> Decimal:
        return self.amounts(("adjustment",))

    @property
    def total(self) -> Decimal:
        """What the statement charges in all: the bill plus the adjustments for closed months."""
        return sum(self.lines["amount"], Decimal("0.00"))

    @property
    def consumers(self) -> list[str]:
        return sorted({c for c in self.lines["consumer"] if c is not None})

    def check(self) -> Statement:
        """Raise unless the lines add up to the bill (without adjustments), for both measures."""
        for column, bill in (("amount", self.bill_total), ("billed_amount", self.billed_total)):
            body = self.lines[self.lines["line_kind"] != "adjustment"]
            got = sum(body[column], Decimal("0.00"))
            if got != bill:
                raise ChargebackError(
                    f"the {self.label} statement does not add up: lines {got} vs bill {bill} ({column}); "
                    "report this with the month"
                )
        return self

    def visible_to(self, consumers: Iterable[str] | None, names: Iterable[str] = ()) -> Statement:
        """The statement as a reader of ``consumers`` only may see it (None: every consumer, unchanged).

        The month is always allocated whole (a shared cost's split depends on every consumer's usage);
        this keeps the lines charged to ``consumers`` (direct, shared, credit, adjustment) and the charges
        behind them, and nothing else: no other consumer's line, no line for nobody (untagged spend,
        rounding), no bill total (its "bill" is the sum of the lines it keeps), every amount in a note
        (the size of a shared pool, a restated bill) withheld, and every other consumer named in a rule
        or note (the statement's own, and ``names``: those the allocation rules name) read as "another consumer".
        """
        if consumers is None:
            return self
        allowed = set(consumers)
        hidden = (set(self.consumers) | set(names)) - allowed

        def clean(text):
            return mask_names(withhold_amounts(text), hidden)

        kept = [
            {**line, "rule": mask_names(line["rule"], hidden), "note": clean(line["note"])}
            for line in self.lines.to_dict("records")
            if line["consumer"] is not None and line["consumer"] in allowed
        ]
        lines = lines_frame(kept)
        body = lines[lines["line_kind"] != "adjustment"]
        mask = pd.Series([c is not None and c in allowed for c in self.charges["consumer"]], index=self.charges.index, dtype=bool)
        charges = self.charges[mask].reset_index(drop=True)
        charges["rule"] = [mask_names(r, hidden) for r in charges["rule"]]
        total = sum(body["amount"], Decimal("0.00"))
        return replace(
            self,
            lines=lines,
            charges=charges,
            bill_total=total,
            billed_total=sum(body["billed_amount"], Decimal("0.00")),
            bill_exact=total,
            restated=None,
            notes=tuple(clean(n) for n in self.notes),
            scope=tuple(sorted(allowed)),
        )

    def view(
        self, consumers: Iterable[str] = (), workflow_types: Iterable[str] = (), platforms: Iterable[str] = ()
    ) -> pd.DataFrame:
        """The lines the filters select, and one ``outside`` line with all the rest: still adds up to the total.

        Filters never change an amount: the allocation is always of the whole month. Lines for nobody
        (unallocated, rounding) are always shown; workflow type and platform filters select direct lines.
        """
        consumers, workflow_types, platforms = set(consumers), set(workflow_types), set(platforms)
        if not (consumers or workflow_types or platforms):
            return self.lines.copy()
        lines = self.lines

        def shown(row) -> bool:
            if row["consumer"] is None:
                return True
            if consumers and row["consumer"] not in consumers:
                return False
            if row["line_kind"] == "direct":
                if workflow_types and row["workflow_type"] not in workflow_types:
                    return False
                if platforms and row["compute_platform"] not in platforms:
                    return False
            return True

        mask = lines.apply(shown, axis=1) if len(lines) else pd.Series([], dtype=bool)
        hidden = lines[~mask]
        outside = _line(
            None,
            "outside",
            OUTSIDE,
            rule="other consumers, and direct lines of other workflow types or platforms",
            amount=sum(hidden["amount"], Decimal("0.00")),
            billed=sum(hidden["billed_amount"], Decimal("0.00")),
            launches=int(sum(v for v in hidden["launches"] if v is not None and not pd.isna(v))) or None,
        )
        return lines_frame([*lines[mask].to_dict("records"), outside])


_AMOUNT = re.compile(r"[-+]?\d[\d,]*\.\d+")
WITHHELD = "(amount withheld)"


ANOTHER = "another consumer"


def withhold_amounts(text: str | None) -> str | None:
    """``text`` with every decimal amount replaced: a viewer's notes never state a figure of the whole month."""
    return None if text is None else _AMOUNT.sub(WITHHELD, text)


def mask_names(text: str | None, names: Iterable[str]) -> str | None:
    """``text`` with each of ``names`` (as a whole word) read as "another consumer"."""
    if text is None:
        return None
    for name in sorted((n for n in names if n), key=len, reverse=True):
        text = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w-])", ANOTHER, text)
    return text


def _line(
    consumer, kind, line, *, rule, amount, billed, workflow_type=None, platform=None, adjusts=None, launches=None, note=None
) -> dict:
    return {
        "consumer": consumer,
        "line_kind": kind,
        "line": line,
        "workflow_type": workflow_type,
        "compute_platform": platform,
        "rule": rule,
        "adjusts_month": adjusts,
        "amount": amount if isinstance(amount, Decimal) else as_money(amount),
        "billed_amount": billed if isinstance(billed, Decimal) else as_money(billed),
        "launches": launches,
        "note": note,
    }


def _sort_key(line: dict) -> tuple:
    return (
        line["consumer"] is None,
        line["consumer"] or "",
        KINDS.index(line["line_kind"]),
        str(line["adjusts_month"] or ""),
        line["workflow_type"] is None,
        line["workflow_type"] or "",
        line["compute_platform"] or "",
        line["line"],
    )


def lines_frame(lines: list[dict]) -> pd.DataFrame:
    """Statement lines in statement order; object columns, so cents stay Decimal and gaps stay None."""
    return pd.DataFrame(
        [[line[c] for c in LINE_COLUMNS] for line in sorted(lines, key=_sort_key)], columns=list(LINE_COLUMNS), dtype=object
    )


# --- the bill ---------------------------------------------------------------------------------------


_ORDER = (
    "tag_key",
    "tag_value",
    "tags",
    "service",
    "account_id",
    "resource_id",
    "split_parent_resource_id",
    "charge_category",
    "currency",
)


@dataclass
class Bill:
    source: str | None
    tag_key: str | None
    currency: str
    charges: list[Charge]
    estimated: int
    notes: list[str]

    @property
    def effective(self) -> Fraction:
        return sum((c.effective for c in self.charges), Fraction(0))

    @property
    def billed(self) -> Fraction:
        return sum((c.billed for c in self.charges), Fraction(0))


def run_consumers(runs: pd.DataFrame | None, rules: Rules, source: str | None) -> dict[str, str | None]:
    """{run tag value: the consumer of its launch} for the month's runs on ``source``'s bill ([runs] only)."""
    if rules.runs is None or runs is None or runs.empty:
        return {}
    rows = [r for r in runs.to_dict("records") if _text(r.get("source")) in (None, source)]
    return {str(r["run_tag"]): rules.consumer_of(_text(r[rules.launch_attribute])) for r in rows if _text(r["run_tag"])}


def read_bill(bill_lines: pd.DataFrame, rules: Rules, month: date, runs: pd.DataFrame | None = None) -> Bill:
    """The month's charges from the preferred source, consumers resolved, split cost allocation applied.

    ``runs`` (the ``statement_runs`` frame) names the launch of each run tag, for ``[runs]``.
    """
    notes: list[str] = []
    rows = bill_lines.to_dict("records")
    present = sorted({r["source"] for r in rows})
    source = next((s for s in rules.sources if s in present), None)
    ignored = [s for s in present if s != source]
    if ignored and source:
        notes.append(f"{', '.join(ignored)} rows for {month_label(month)} are not counted: the bill is {source} ([bill] sources)")
    # one order for the charges, whatever order the rows came in: the same cents every time
    rows = sorted(
        (r for r in rows if r["source"] == source),
        key=lambda r: tuple(_text(r[c]) or "" for c in _ORDER) + (str(r["effective_cost"]), str(r["billed_cost"])),
    )
    tag_keys = sorted({_text(r["tag_key"]) or "" for r in rows})
    tag_key = rules.tag if rules.tag in tag_keys else (tag_keys[0] if tag_keys else None)
    if len(tag_keys) > 1:
        notes.append(
            f"{source} holds {month_label(month)} grouped by several tags ({', '.join(tag_keys)}): "
            f"counting the {tag_key!r} rows once"
        )
        rows = [r for r in rows if (_text(r["tag_key"]) or "") == tag_key]
    if tag_key and tag_key != rules.tag:
        notes.append(
            f"the {source} bill was loaded by tag {tag_key!r}, the rules name consumers by {rules.tag!r}: "
            f"{rules.tag!r} where a charge's tags have it, else {tag_key!r}"
        )
    currencies = sorted({_text(r["currency"]) or "USD" for r in rows})
    if len(currencies) > 1:
        raise ChargebackError(f"the {month_label(month)} bill mixes currencies ({', '.join(currencies)}): a statement needs one")
    currency = currencies[0] if currencies else "USD"

    def consumer_of(row) -> str | None:
        tags = _text(row["tags"])
        value = tag_value(tags, rules.tag) if tags else None
        if value is None and (not tags or (_text(row["tag_key"]) or "") != rules.tag):
            value = _text(row["tag_value"])  # the tag the source was grouped or imported by
        return rules.consumer_of(value)

    by_run = run_consumers(runs, rules, source)
    charges, split_weights, estimated, matched = _bill_charges(rows, consumer_of, by_run, rules)
    if matched:
        notes.append(
            f"{len(matched)} run(s) matched by the run tag {rules.run_tag} charged to their launches' consumers "
            f"at their split cost ([runs]); unused capacity: {rules.runs.unused_text}"
        )
    if split_weights:
        charges = _apply_split_cost(charges, split_weights, notes)
    return Bill(source, tag_key, currency, charges, estimated, notes)


def _exact_or_zero(value) -> Fraction:
    """A money cell as a Fraction; a missing one (None, pandas' NaN) is zero."""
    return Fraction(0) if value is None or (not isinstance(value, Decimal | int) and pd.isna(value)) else exact(value)


def _bill_charges(rows: list[dict], consumer_of, by_run: dict, rules: Rules) -> tuple[list, dict, int, set]:
    """The charges of the bill rows, the split weights of each shared instance, estimated charges, runs matched.

    Split weights are keyed (consumer, kind): ``split`` (a task's or pod's split + unused cost, by its tag),
    ``run`` (a run's split cost, to its launch's consumer) and ``unused`` (that run's unused share).
    """
    split_weights: dict[str, dict[tuple, Fraction]] = defaultdict(lambda: defaultdict(Fraction))
    charges: list[Charge] = []
    estimated, matched = 0, set()
    for row in rows:
        estimated += int(row["estimated_charges"] or 0)
        run_tag = tag_value(_text(row["tags"]), rules.run_tag) if by_run else None
        on_run = run_tag in by_run
        consumer = by_run[run_tag] if on_run else consumer_of(row)
        if on_run:
            matched.add(run_tag)
        parent = _text(row["split_parent_resource_id"])
        if parent and on_run:
            unused = max(_exact_or_zero(row.get("split_unused_cost")), Fraction(0))
            split_weights[parent][(consumer, "run")] += max(exact(row["split_cost"]) - unused, Fraction(0))
            split_weights[parent][(consumer, "unused")] += unused
        elif parent:
            split_weights[parent][(consumer, "split")] += max(exact(row["split_cost"]), Fraction(0))
        listed = None if row["list_cost"] is None or pd.isna(row["list_cost"]) else exact(row["list_cost"])
        charge = Charge(
            _text(row["service"]),
            _text(row["account_id"]),
            _text(row["resource_id"]),
            _text(row["charge_category"]) or "Usage",
            consumer_of(row),
            exact(row["effective_cost"]),
            exact(row["billed_cost"]),
            listed,
            _text(row.get("provider")),
            via_run=on_run,
        )
        charges.append(charge)
    return charges, split_weights, estimated, matched


def _apply_split_cost(charges: list[Charge], weights: dict, notes: list[str]) -> list[Charge]:
    """CUR split cost allocation: an instance's cost goes to the consumers of the tasks/pods that ran on it.

    In proportion to each one's split cost plus its share of the unused capacity, as AWS computed them;
    exact fractions, so the bill is unchanged. Credits on the instance are left where they are.
    """
    out: list[Charge] = []
    moved = 0
    for charge in charges:
        shares = weights.get(charge.resource_id or "")
        whole = sum(shares.values(), Fraction(0)) if shares else 0
        if not shares or not whole or charge.is_credit:
            out.append(charge)
            continue
        moved += 1
        for consumer, kind in sorted(shares, key=lambda k: (k[0] is None, k[0] or "", k[1])):
            part = shares[(consumer, kind)] / whole
            if not part:
                continue
            out.append(
                replace(
                    charge,
                    consumer=consumer,
                    effective=charge.effective * part,
                    billed=charge.billed * part,
                    listed=None if charge.listed is None else charge.listed * part,
                    via_split=True,
                    via_run=kind == "run",
                    unused=kind == "unused",
                )
            )
    if moved:
        notes.append(f"{moved} instance charge(s) attributed to the tasks and pods that ran on them (CUR split cost allocation)")
    return out


# --- the allocation -----------------------------------------------------------------------------------


@dataclass
class _Source:
    """The charges behind a line and the fraction of each that the line carries (for the FOCUS export)."""

    charges: list[Charge]
    fraction: Fraction = Fraction(1)


def _launch_groups(launches: pd.DataFrame, rules: Rules) -> dict[str, dict[tuple, dict]]:
    groups: dict[str, dict[tuple, dict]] = defaultdict(dict)
    for row in launches.to_dict("records"):
        consumer = rules.consumer_of(_text(row[rules.launch_attribute]))
        if consumer is None:
            continue
        key = (_text(row["workflow_type"]), _text(row["compute_platform"]))
        group = groups[consumer].setdefault(key, defaultdict(Fraction))
        for column in ("launches", "priced_launches"):
            group[column] += int(row[column] or 0)
        for column in ("total_cost", "instance_cost", "volume_cost", "filesystem_cost", "control_plane_cost"):
            group[column] += exact(row[column])
    return groups


def _basis(name: str, consumer: str, direct: dict[str, Fraction], launch_groups: dict) -> Fraction:
    if name == "direct":
        return max(direct.get(consumer, Fraction(0)), Fraction(0))
    groups = launch_groups.get(consumer, {}).values()
    column = "launches" if name == "launches" else ("total_cost" if name == "launch_cost" else name.removeprefix("launch_"))
    return max(sum((g[column] for g in groups), Fraction(0)), Fraction(0))


@dataclass
class _Sorted:
    """The month's charges by where they go: consumers' direct costs and credits, shared costs, untagged spend."""

    direct: dict[str, list[Charge]] = field(default_factory=lambda: defaultdict(list))
    credits: dict[str, list[Charge]] = field(default_factory=lambda: defaultdict(list))
    pools: dict[str, list[Charge]] = field(default_factory=dict)
    untagged: list[Charge] = field(default_factory=list)
    unused: list[Charge] = field(default_factory=list)  # runs' shares of their instances' unused capacity ([runs])


@dataclass
class _Lines:
    """The statement's lines so far, each with the charges behind it."""

    lines: list[dict] = field(default_factory=list)
    sources: list[_Source] = field(default_factory=list)

    def add(self, line: dict, source: _Source | None) -> None:
        self.lines.append(line)
        self.sources.append(source or _Source([]))


def _cents(charges: list[Charge]) -> tuple[int, int]:
    """The effective and billed cost of some charges, each rounded to cents."""
    return (
        to_cents(sum((c.effective for c in charges), Fraction(0))),
        to_cents(sum((c.billed for c in charges), Fraction(0))),
    )


def _sort_charges(bill: Bill, rules: Rules) -> _Sorted:
    """Each charge of the bill to a shared cost, the untagged spend, or its consumer's credits or direct cost."""
    found = _Sorted(pools={s.name: [] for s in rules.shared})
    for charge in bill.charges:
        if charge.unused:
            found.unused.append(charge)
            continue
        pool = rules.shared_cost_for(
            charge.service, charge.account_id, charge.resource_id, charge.charge_category, charge.consumer
        )
        if pool is not None:
            found.pools[pool.name].append(charge)
        elif charge.consumer is None:
            found.untagged.append(charge)
        elif charge.is_credit:
            found.credits[charge.consumer].append(charge)
        else:
            found.direct[charge.consumer].append(charge)
    return found


def _direct_lines(out: _Lines, consumer: str, charges: list[Charge], groups: dict, tag: str) -> None:
    """A consumer's direct cost: by workflow type and platform, in proportion to the month's launch cost."""
    eff, billed = _cents(charges)
    via = f"tag {tag}" + (" + CUR split cost allocation" if any(c.via_split for c in charges) else "")
    if any(c.via_run for c in charges):
        via += " + runs at their split cost ([runs])"
    if not groups:
        if charges:
            out.add(
                _line(consumer, "direct", "no launches recorded", rule=via, amount=eff, billed=billed, launches=0),
                _Source(charges),
            )
        return
    weights = {k: g["total_cost"] for k, g in groups.items()}
    if not any(weights.values()):
        weights = {k: Fraction(g["launches"]) for k, g in groups.items()}
    whole = sum(weights.values(), Fraction(0))
    eff_split, billed_split = split_cents(eff, weights), split_cents(billed, weights)
    for key in sorted(groups, key=lambda k: (k[0] or "", k[1] or "")):
        workflow_type, platform = key
        rule = f"{via}; by launch cost" if charges else "no direct cost on the bill"
        out.add(
            _line(
                consumer,
                "direct",
                f"{workflow_type or '(no workflow type)'} · {platform or '(no platform)'}",
                rule=rule,
                amount=eff_split[key],
                billed=billed_split[key],
                workflow_type=workflow_type,
                platform=platform,
                launches=int(groups[key]["launches"]),
            ),
            _Source(charges, weights[key] / whole),
        )


def _credit_lines(out: _Lines, credits: dict[str, list[Charge]], tag: str) -> None:
    """The credits and refunds tagged to each consumer, one line per consumer."""
    for consumer in sorted(credits):
        charges = credits[consumer]
        eff, billed = _cents(charges)
        out.add(
            _line(consumer, "credit", "Credits and refunds", rule=f"tag {tag}", amount=eff, billed=billed),
            _Source(charges),
        )


def _shared_lines(out: _Lines, shared: SharedCost, charges: list[Charge], weights: dict, currency: str) -> None:
    """One shared cost split among consumers by its rule, or one unallocated line when nobody can take it."""
    eff, billed = _cents(charges)
    eff_split, billed_split = split_cents(eff, weights), split_cents(billed, weights)
    if eff_split is None or billed_split is None:
        out.add(
            _line(
                None,
                "unallocated",
                f"{shared.name}: not split",
                rule=_unsplit_reason(shared),
                amount=eff,
                billed=billed,
                note=shared.matches_text,
            ),
            _Source(charges),
        )
        return
    kind = "credit" if all(c.is_credit for c in charges) else "shared"
    whole = sum(weights.values(), Fraction(0))
    for consumer in sorted(weights):
        if weights[consumer] == 0 and not eff_split[consumer] and not billed_split[consumer]:
            continue
        out.add(
            _line(
                consumer,
                kind,
                shared.name,
                rule=shared.rule_text,
                amount=eff_split[consumer],
                billed=billed_split[consumer],
                note=f"share of {as_money(eff)} {currency}: {shared.matches_text}",
            ),
            _Source(charges, weights[consumer] / whole),
        )


def _closing_lines(out: _Lines, untagged: list[Charge], bill: Bill) -> tuple[int, int]:
    """The untagged spend nobody takes, then the rounding line; returns the bill's effective and billed cents."""
    eff, billed = _cents(untagged)
    out.add(
        _line(
            None,
            "unallocated",
            UNTAGGED_LINE,
            rule="no consumer tag, and no shared rule takes it",
            amount=eff,
            billed=billed,
        ),
        _Source(untagged),
    )
    bill_cents, billed_cents = to_cents(bill.effective), to_cents(bill.billed)
    residue = bill_cents - sum(to_cents(line["amount"]) for line in out.lines)
    billed_residue = billed_cents - sum(to_cents(line["billed_amount"]) for line in out.lines)
    out.add(_line(None, "rounding", ROUNDING, rule=ROUNDING_RULE, amount=residue, billed=billed_residue), None)
    return bill_cents, billed_cents


def _statement_notes(bill: Bill, month: date) -> tuple[str, ...]:
    """What the statement says under its lines: the bill's notes, estimated charges, a missing bill."""
    notes = list(bill.notes)
    if bill.estimated:
        notes.append(
            f"{bill.estimated} charge(s) of {month_label(month)} are still estimates in Cost Explorer: the bill may be restated"
        )
    if bill.source is None:
        notes.append(f"there is no bill for {month_label(month)} yet: load Cost Explorer, a FOCUS or a CUR export")
    return tuple(notes)


UNUSED_LINE = "Unused capacity of shared instances"


def _unused_lines(out: _Lines, found: _Sorted, rules: Rules, currency: str) -> None:
    """The runs' shares of their instances' unused capacity, one pool split by ``[runs] unused``."""
    charges, runs = found.unused, rules.runs
    eff, billed = _cents(charges)
    if runs.unused == "proportional":
        weights = {c: sum((ch.effective for ch in found.direct[c] if ch.via_run), Fraction(0)) for c in found.direct}
        weights = {c: max(w, Fraction(0)) for c, w in weights.items() if w}
    elif runs.unused == "as_billed":  # each run's own share; a run of nobody leaves its share unallocated
        weights = defaultdict(Fraction)
        for ch in charges:
            weights[ch.consumer] += ch.effective
        weights = {c: max(w, Fraction(0)) for c, w in weights.items()}
    elif runs.unused == "to_consumer":
        weights = {runs.unused_consumer: Fraction(1)}
    else:
        weights = {None: Fraction(1)}
    eff_split, billed_split = split_cents(eff, weights), split_cents(billed, weights)
    rule = runs.unused_text
    if eff_split is None or billed_split is None:  # proportional, but no consumer had a run split cost
        weights, eff_split, billed_split = {None: Fraction(1)}, {None: eff}, {None: billed}
        rule += ", but no consumer had any run split cost this month"
    whole = sum(weights.values(), Fraction(0))
    for consumer in sorted(weights, key=lambda c: (c is None, c or "")):
        if not eff_split[consumer] and not billed_split[consumer]:
            continue
        out.add(
            _line(
                consumer,
                "shared" if consumer is not None else "unallocated",
                UNUSED_LINE,
                rule=f"[runs] unused: {rule}",
                amount=eff_split[consumer],
                billed=billed_split[consumer],
                note=f"share of {as_money(eff)} {currency}: the unused capacity of the instances the runs ran on",
            ),
            _Source(charges, weights[consumer] / whole),
        )


def allocate(
    month: date, bill_lines: pd.DataFrame, launches: pd.DataFrame, rules: Rules, runs: pd.DataFrame | None = None
) -> Statement:
    """The open statement of ``month`` from its bill lines and launches (frames of the named queries).

    ``runs`` (the ``statement_runs`` frame: each run tag matched to a launch) is read when the rules have ``[runs]``.
    """
    month = month.replace(day=1)
    bill = read_bill(bill_lines, rules, month, runs)
    launch_groups = _launch_groups(launches, rules)
    found = _sort_charges(bill, rules)

    # a consumer whose own tag value a shared rule takes is a source of shared cost, never a default target
    source_patterns = tuple(p for s in rules.shared for p in s.consumers if p)
    everyone = sorted(set(found.direct) | set(found.credits) | set(launch_groups))
    direct_cost = {c: sum((ch.effective for ch in found.direct[c]), Fraction(0)) for c in everyone}
    tag = bill.tag_key or rules.tag
    out = _Lines()
    for consumer in everyone:
        _direct_lines(out, consumer, found.direct.get(consumer, []), launch_groups.get(consumer, {}), tag)
    _credit_lines(out, found.credits, tag)
    for shared in rules.shared:
        charges = found.pools[shared.name]
        if charges:
            weights = _shared_weights(shared, everyone, source_patterns, direct_cost, launch_groups)
            _shared_lines(out, shared, charges, weights, bill.currency)
    if found.unused:
        _unused_lines(out, found, rules, bill.currency)
    bill_cents, billed_cents = _closing_lines(out, found.untagged, bill)
    statement = Statement(
        month=month,
        currency=bill.currency,
        lines=lines_frame(out.lines),
        bill_total=as_money(bill_cents),
        billed_total=as_money(billed_cents),
        bill_exact=Decimal(bill.effective.numerator) / Decimal(bill.effective.denominator),
        bill_source=bill.source,
        bill_tag_key=bill.tag_key,
        rules_fingerprint=rules.fingerprint,
        charges=_charges_frame(out.lines, out.sources),
        estimated_charges=bill.estimated,
        notes=_statement_notes(bill, month),
    )
    return statement.check()


def _shared_weights(
    shared: SharedCost, everyone: list[str], source_patterns: tuple, direct_cost: dict, launch_groups: dict
) -> dict[str, Fraction]:
    if shared.method == "FIXED":
        return {c: exact(p) for c, p in shared.percentages.items()}
    targets = list(shared.targets) or [c for c in everyone if not any(fnmatchcase(c, p) for p in source_patterns)]
    if shared.method == "EVEN":
        return {c: Fraction(1) for c in targets}
    return {c: _basis(shared.basis, c, direct_cost, launch_groups) for c in targets}


def _unsplit_reason(shared: SharedCost) -> str:
    if shared.method == "PROPORTIONAL":
        return f"{shared.rule_text}, but no consumer had any ({BASES[shared.basis].removeprefix('each consumer')})"
    return f"{shared.rule_text}, but there was no consumer to split it among"


def _charges_frame(lines: list[dict], sources: list[_Source]) -> pd.DataFrame:
    """Each line's charges (service, account, resource) with the line's cents spread over them exactly.

    Every charge's share is rounded half to even; what that misses of the line's cents goes to its
    largest charge, so the charges of a line add up to the line (and the export to the statement).
    """
    rows: list[dict] = []
    for line, source in zip(lines, sources, strict=True):
        parts = [(c, c.effective * source.fraction, c.billed * source.fraction) for c in source.charges]
        parts = [p for p in parts if p[1] or p[2]]
        if not parts:
            if line["amount"] or line["billed_amount"]:
                rows.append(_charge_row(line, None, line["amount"], line["billed_amount"], None))
            continue
        effective = _spread(to_cents(line["amount"]), [p[1] for p in parts])
        billed = _spread(to_cents(line["billed_amount"]), [p[2] for p in parts])
        for (charge, _, _), eff, bil in zip(parts, effective, billed, strict=True):
            listed = None if charge.listed is None else as_money(to_cents(charge.listed * source.fraction))
            rows.append(_charge_row(line, charge, as_money(eff), as_money(bil), listed))
    return pd.DataFrame([[r[c] for c in CHARGE_COLUMNS] for r in rows], columns=list(CHARGE_COLUMNS), dtype=object)


def _spread(total: int, amounts: list[Fraction]) -> list[int]:
    """``amounts`` in cents, half to even, the largest absorbing what they miss of ``total``."""
    rounded = [to_cents(a) for a in amounts]
    biggest = max(range(len(amounts)), key=lambda i: (abs(amounts[i]), -i))
    rounded[biggest] += total - sum(rounded)
    return rounded


def _charge_row(line: dict, charge: Charge | None, effective: Decimal, billed: Decimal, listed: Decimal | None) -> dict:
    return {
        "consumer": line["consumer"],
        "line_kind": line["line_kind"],
        "line": line["line"],
        "rule": line["rule"],
        "provider": charge.provider if charge else None,
        "service": charge.service if charge else None,
        "account_id": charge.account_id if charge else None,
        "resource_id": charge.resource_id if charge else None,
        "charge_category": charge.charge_category if charge else "Adjustment",
        "effective_cost": effective,
        "billed_cost": billed,
        "list_cost": listed,
    }
