"""The pricing rules, as pure functions: what a launch consumed, and unit prices, in; exact money out.

This is the reference implementation: tests check it against figures worked out by hand, what-if
repricing runs it on small sets, and ``pricing.bulk`` (the same rules in DuckDB SQL, for a million
launches) is tested to agree with it to the micro-dollar.

How the arithmetic is kept identical in both:

* Times become whole epoch seconds (floor) before anything else; durations are differences of those.
* Unit prices have at most 10 decimals (``prices.price`` is DECIMAL(18,10)); rates derived from
  them (Reserved, Spot fallback) are rounded half-up to 10 decimals.
* Each resource line is one exact rational, rounded once, half-up, to 6 decimals (a micro-dollar).
  The EKS control plane share is summed over segments at 1e-12 USD and then rounded to 1e-6.
* A launch's parts are sums of its rounded lines and its total is the sum of its parts, so
  instance + volume + filesystem + control plane = total exactly, for every launch.

Rules (one function each):

* EC2 (Linux): per second with a 60-second minimum per instance start. On-Demand at list, Reserved
  at an effective rate (config), Spot at the price in force during each part of the run: the Spot
  history is a step function (each price holds from its timestamp until the next one; the first
  known price also holds before it, the last after it), integrated over the run.
* EBS: per GB-month, prorated by the hour (730 hours a month, fractional hours), plus provisioned
  IOPS and throughput above the free baseline for gp3 (3,000 IOPS, 125 MiB/s) and all io2 IOPS.
* FSx for Lustre: capacity (GB) x GB-month price, prorated the same way.
* EKS control plane: the cluster-hour price, split at every moment equally across the launches that
  used the cluster at that moment.
* On premises: a rate card per core-hour and per GB-hour (config), times cores/GB per node.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from core.vocabulary import HOURS_PER_MONTH, ONPREM_PLATFORM

SECONDS_PER_HOUR = 3600
MIN_BILLED_SECONDS = 60  # Linux EC2: per-second billing, at least 60 seconds each time an instance starts
PRICE_SCALE = 10**10  # unit prices carry at most 10 decimals
MICRO = Decimal("0.000001")
ZERO = Decimal("0.000000")
EPOCH = datetime(1970, 1, 1)

# Free performance baseline of a gp3 volume; io2 has no free IOPS.
GP3_FREE_IOPS = 3000
GP3_FREE_THROUGHPUT_MIBPS = 125


# --- arithmetic -----------------------------------------------------------------------------------


def epoch_seconds(moment: datetime) -> int:
    """Whole seconds since 1970-01-01 (floor), for naive UTC datetimes."""
    return (moment.replace(tzinfo=None) - EPOCH) // timedelta(seconds=1)


def price_units(price: Decimal | str | int) -> int:
    """A unit price in 1e-10 USD, exactly (half-up past 10 decimals)."""
    scaled = Decimal(price).scaleb(10).quantize(Decimal(1), ROUND_HALF_UP)
    return int(scaled)


def rate10(value: Decimal) -> Decimal:
    """A derived rate rounded half-up to 10 decimals (what DECIMAL(18,10) would hold)."""
    return Decimal(value).quantize(Decimal("1e-10"), ROUND_HALF_UP)


def round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half-up, for numerator >= 0 (SQL: (2n + d) // (2d))."""
    return (2 * numerator + denominator) // (2 * denominator)


def to_money(micro: int) -> Decimal:
    return Decimal(micro).scaleb(-6).quantize(MICRO)


def _micro_from(units_seconds: int, extra_denominator: int = 1) -> int:
    """(price in 1e-10 USD) x seconds / 3600 / extra, as micro-dollars rounded half-up."""
    return round_half_up(units_seconds, SECONDS_PER_HOUR * 10_000 * extra_denominator)


def milli_gb(size_gb: float | Decimal) -> int:
    """Sizes in thousandths of a GB (SQL: CAST(round(size_gb * 1000) AS HUGEINT))."""
    return int(Decimal(str(size_gb)).scaleb(3).quantize(Decimal(1), ROUND_HALF_UP))


# --- prices in force --------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class PriceStep:
    """A price per hour in force from ``start`` until the next step."""

    start: datetime
    price: Decimal


@dataclass(frozen=True)
class StepFunction:
    """Price steps ready to integrate: start seconds ascending and the price from each, in 1e-10 USD per hour."""

    starts: tuple[int, ...]
    units: tuple[int, ...]

    @classmethod
    def of(cls, steps: Sequence[PriceStep]) -> StepFunction:
        ordered = sorted(steps)
        return cls(tuple(epoch_seconds(s.start) for s in ordered), tuple(price_units(s.price) for s in ordered))


def step_price_seconds(start_s: int, end_s: int, steps: Sequence[PriceStep] | StepFunction) -> int:
    """The integral of a step-function price over [start_s, end_s), in (1e-10 USD/h) x seconds.

    Each step holds from its start until the next step; the first step also holds before its start
    and the last after it (the nearest known price). Only the steps in force during the interval are
    visited (a bisection finds the first), so a long Spot history costs no more than a short one.
    """
    if end_s <= start_s:
        return 0
    f = steps if isinstance(steps, StepFunction) else StepFunction.of(steps)
    last = len(f.starts) - 1
    i = max(bisect_right(f.starts, start_s) - 1, 0)  # the step in force at start_s
    total = 0
    while i <= last:
        lo = start_s if i == 0 else max(start_s, f.starts[i])
        hi = end_s if i == last else min(end_s, f.starts[i + 1])
        if hi > lo:
            total += f.units[i] * (hi - lo)
        if i == last or f.starts[i + 1] >= end_s:
            break
        i += 1
    return total


def flat(price: Decimal) -> list[PriceStep]:
    """A price that never changes (list, Reserved, fallback), as a one-step function."""
    return [PriceStep(EPOCH, Decimal(price))]


# --- one rule per resource kind ---------------------------------------------------------------------


def instance_cost(started_at: datetime, ended_at: datetime, count: int, steps: Sequence[PriceStep] | StepFunction) -> Decimal:
    """Linux EC2 instances: per second, 60-second minimum, at the step-function price (flat for OD/RI)."""
    start_s, end_s = epoch_seconds(started_at), epoch_seconds(ended_at)
    billed_end = start_s + max(end_s - start_s, MIN_BILLED_SECONDS)
    return to_money(_micro_from(step_price_seconds(start_s, billed_end, steps) * int(count)))


def _prorated_units(started_at: datetime, ended_at: datetime) -> int:
    return max(epoch_seconds(ended_at) - epoch_seconds(started_at), 0)


def volume_cost(
    started_at: datetime,
    ended_at: datetime,
    count: int,
    size_gb: float,
    gb_month_price: Decimal,
    *,
    volume_type: str | None = None,
    iops: int | None = None,
    iops_month_price: Decimal = Decimal(0),
    throughput_mibps: int | None = None,
    throughput_month_price: Decimal = Decimal(0),
) -> Decimal:
    """EBS: GB-month prorated by the hour, plus IOPS-month and MiBps-month above the free baseline."""
    seconds = _prorated_units(started_at, ended_at)
    free_iops = GP3_FREE_IOPS if volume_type == "gp3" else 0
    free_tp = GP3_FREE_THROUGHPUT_MIBPS if volume_type == "gp3" else 0
    # Everything in (1e-10 USD) x milli-units x seconds; one rounding for the line.
    per_month = price_units(gb_month_price) * milli_gb(size_gb)
    if iops is not None and iops > free_iops:
        per_month += price_units(iops_month_price) * (iops - free_iops) * 1000
    if throughput_mibps is not None and throughput_mibps > free_tp:
        per_month += price_units(throughput_month_price) * (throughput_mibps - free_tp) * 1000
    return to_money(_micro_from(per_month * seconds * int(count), HOURS_PER_MONTH * 1000))


def filesystem_cost(started_at: datetime, ended_at: datetime, capacity_gb: float, gb_month_price: Decimal) -> Decimal:
    """FSx for Lustre: capacity-hours at the GB-month price (730 hours a month)."""
    seconds = _prorated_units(started_at, ended_at)
    return to_money(_micro_from(price_units(gb_month_price) * milli_gb(capacity_gb) * seconds, HOURS_PER_MONTH * 1000))


@dataclass(frozen=True)
class RateCard:
    """On-premises HPC: what a node-hour costs, from a price per core-hour and per GB-hour."""

    core_hour: Decimal = Decimal("0.04")
    cores_per_node: int = 32
    gb_hour: Decimal = Decimal("0")
    memory_gb_per_node: int = 256

    @property
    def node_hour(self) -> Decimal:
        return rate10(self.core_hour * self.cores_per_node + self.gb_hour * self.memory_gb_per_node)


def onprem_cost(started_at: datetime, ended_at: datetime, count: int, card: RateCard) -> Decimal:
    """On-premises nodes: node-hours x (cores x core-hour rate + GB x GB-hour rate); no minimum."""
    seconds = _prorated_units(started_at, ended_at)
    return to_money(_micro_from(price_units(card.node_hour) * seconds * int(count)))


@dataclass(frozen=True)
class ClusterUse:
    launch_id: str
    cluster: str
    started_at: datetime
    ended_at: datetime


def control_plane_shares(uses: Iterable[ClusterUse], cluster_hour: dict[str, Decimal] | Decimal) -> dict[str, Decimal]:
    """Each launch's share of its EKS cluster's hourly fee: at every moment, split equally among the
    launches using the cluster then. Idle time (no launch) is nobody's: it shows as unallocated.

    ``cluster_hour`` is one price, or a price per cluster (clusters in different regions).
    """
    by_cluster: dict[str, list[tuple[str, int, int]]] = {}
    for u in uses:
        s, e = epoch_seconds(u.started_at), epoch_seconds(u.ended_at)
        by_cluster.setdefault(u.cluster, []).append((u.launch_id, s, e))
    pico: dict[str, int] = {}
    for cluster, rows in by_cluster.items():
        price = cluster_hour[cluster] if isinstance(cluster_hour, dict) else cluster_hour
        units = price_units(price)
        bounds = sorted({s for _, s, _ in rows} | {e for _, _, e in rows})
        for lo, hi in zip(bounds, bounds[1:], strict=False):
            active = [lid for lid, s, e in rows if s <= lo and e >= hi]
            if not active:
                continue
            # (1e-10 USD/h) x s / 3600 / n  ->  1e-12 USD
            share = round_half_up(units * (hi - lo) * 100, SECONDS_PER_HOUR * len(active))
            for lid in active:
                pico[lid] = pico.get(lid, 0) + share
        for lid, _, _ in rows:
            pico.setdefault(lid, 0)
    return {lid: to_money(round_half_up(p, 1_000_000)) for lid, p in pico.items()}


# --- a launch, priced -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    """One ``launch_resources`` row, as the engine needs it."""

    launch_id: str
    kind: str  # instance, volume, filesystem, cluster
    resource_type: str | None
    purchase_option: str | None = None
    count: int = 1
    size_gb: float | None = None
    availability_zone: str | None = None
    resource_id: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    iops: int | None = None  # provisioned IOPS per volume (gp3, io2)
    throughput_mibps: int | None = None  # provisioned MiB/s per gp3 volume


@dataclass(frozen=True)
class Launch:
    launch_id: str
    region: str | None
    compute_platform: str | None
    ended_at: datetime | None


@dataclass
class PriceBook:
    """Unit prices by key: list prices (region, kind, type, charge) and Spot steps (region, az, type)."""

    list_prices: dict[tuple[str | None, str, str, str], Decimal] = field(default_factory=dict)
    # Spot history per key, ready to integrate (given as PriceStep lists, it is converted once here)
    spot: dict[tuple[str, str, str], StepFunction] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.spot = {k: v if isinstance(v, StepFunction) else StepFunction.of(v) for k, v in self.spot.items() if v}

    @classmethod
    def from_rows(cls, rows: Iterable[dict]) -> PriceBook:
        """From ``prices`` rows (dicts): the latest On-Demand price per key; every Spot point."""
        list_prices: dict[tuple, Decimal] = {}
        spot: dict[tuple, list[PriceStep]] = {}
        latest: dict[tuple, datetime] = {}
        for r in rows:
            if r["purchase_option"] == "Spot":
                key = (r["region"], r["availability_zone"], r["resource_type"])
                spot.setdefault(key, []).append(PriceStep(r["effective_from"], Decimal(r["price"])))
            elif r["purchase_option"] == "On-Demand":
                key = (r["region"], r["resource_kind"], r["resource_type"], r["charge"])
                if key not in latest or r["effective_from"] > latest[key]:
                    latest[key] = r["effective_from"]
                    list_prices[key] = Decimal(r["price"])
        return cls(list_prices, spot)

    def list_price(self, region, kind, resource_type, charge="usage") -> Decimal | None:
        return self.list_prices.get((region, kind, resource_type, charge))


@dataclass(frozen=True)
class Rules:
    """What config says about prices the price lists do not carry."""

    reserved_fraction: Decimal = Decimal("0.62")  # effective Reserved rate as a fraction of On-Demand
    reserved_rates: dict[str, Decimal] = field(default_factory=dict)  # per instance type, $/h (beats the fraction)
    spot_fallback_fraction: Decimal = Decimal("0.35")  # Spot estimate (x On-Demand) when no Spot history is held
    rate_card: RateCard = field(default_factory=RateCard)

    @classmethod
    def from_settings(cls, pricing) -> Rules:
        """The engine's rules from ``[pricing]`` (floats in TOML become exact decimals of their text)."""
        return cls(
            reserved_fraction=Decimal(str(pricing.reserved_fraction_of_on_demand)),
            reserved_rates={k: Decimal(str(v)) for k, v in pricing.reserved_rates.items()},
            spot_fallback_fraction=Decimal(str(pricing.spot_fallback_fraction)),
            rate_card=RateCard(
                core_hour=Decimal(str(pricing.onprem_core_hour)),
                cores_per_node=pricing.onprem_cores_per_node,
                gb_hour=Decimal(str(pricing.onprem_gb_hour)),
                memory_gb_per_node=pricing.onprem_memory_gb_per_node,
            ),
        )


@dataclass(frozen=True)
class LaunchCost:
    instance_cost: Decimal = ZERO
    volume_cost: Decimal = ZERO
    filesystem_cost: Decimal = ZERO
    control_plane_cost: Decimal = ZERO
    unpriced_resources: int = 0

    @property
    def total_cost(self) -> Decimal:
        return self.instance_cost + self.volume_cost + self.filesystem_cost + self.control_plane_cost


def instance_steps(
    resource: Resource, region: str | None, book: PriceBook, rules: Rules
) -> list[PriceStep] | StepFunction | None:
    """The price function of an instance line, by purchase option; None when no price is known."""
    od = book.list_price(region, "instance", resource.resource_type)
    option = resource.purchase_option
    if option == "Reserved":
        if resource.resource_type in rules.reserved_rates:
            return flat(rate10(rules.reserved_rates[resource.resource_type]))
        return None if od is None else flat(rate10(od * rules.reserved_fraction))
    if option == "Spot":
        history = book.spot.get((region, resource.availability_zone, resource.resource_type))
        if history is not None:
            return history
        return None if od is None else flat(rate10(od * rules.spot_fallback_fraction))
    return None if od is None else flat(od)


def _volume_line(r: Resource, region: str | None, book: PriceBook) -> Decimal | None:
    """An EBS line; None when its storage price, or the price of IOPS/throughput it pays for, is unknown."""
    storage = book.list_price(region, "volume", r.resource_type, "storage")
    iops_price = book.list_price(region, "volume", r.resource_type, "iops")
    tp_price = book.list_price(region, "volume", r.resource_type, "throughput")
    free_iops = GP3_FREE_IOPS if r.resource_type == "gp3" else 0
    free_tp = GP3_FREE_THROUGHPUT_MIBPS if r.resource_type == "gp3" else 0
    pays_iops = r.iops is not None and r.iops > free_iops
    pays_tp = r.throughput_mibps is not None and r.throughput_mibps > free_tp
    if storage is None or (pays_iops and iops_price is None) or (pays_tp and tp_price is None):
        return None
    return volume_cost(
        r.started_at,
        r.ended_at,
        r.count,
        r.size_gb or 0,
        storage,
        volume_type=r.resource_type,
        iops=r.iops,
        iops_month_price=iops_price or Decimal(0),
        throughput_mibps=r.throughput_mibps,
        throughput_month_price=tp_price or Decimal(0),
    )


def price_launches(
    launches: Iterable[Launch], resources: Iterable[Resource], book: PriceBook, rules: Rules
) -> dict[str, LaunchCost]:
    """Every ended launch priced from its resources. Launches not ended are left out (PENDING)."""
    ended = {launch.launch_id: launch for launch in launches if launch.ended_at is not None}
    parts: dict[str, dict[str, Decimal]] = {lid: {} for lid in ended}
    unpriced: dict[str, int] = dict.fromkeys(ended, 0)
    uses: list[ClusterUse] = []
    cluster_hour: dict[str, Decimal] = {}

    def add(lid: str, part: str, amount: Decimal | None) -> None:
        if amount is None:
            unpriced[lid] += 1
        else:
            parts[lid][part] = parts[lid].get(part, ZERO) + amount

    for r in resources:
        launch = ended.get(r.launch_id)
        if launch is None:
            continue
        if r.started_at is None or r.ended_at is None:
            unpriced[r.launch_id] += 1
            continue
        region = launch.region
        if r.kind == "instance":
            if launch.compute_platform == ONPREM_PLATFORM:
                add(r.launch_id, "instance", onprem_cost(r.started_at, r.ended_at, r.count, rules.rate_card))
                continue
            steps = instance_steps(r, region, book, rules)
            add(r.launch_id, "instance", None if steps is None else instance_cost(r.started_at, r.ended_at, r.count, steps))
        elif r.kind == "volume":
            add(r.launch_id, "volume", _volume_line(r, region, book))
        elif r.kind == "filesystem":
            price = book.list_price(region, "filesystem", r.resource_type, "storage")
            add(
                r.launch_id,
                "filesystem",
                None if price is None else filesystem_cost(r.started_at, r.ended_at, r.size_gb or 0, price),
            )
        elif r.kind == "cluster":
            price = book.list_price(region, "cluster", "eks", "usage")
            if price is None:
                unpriced[r.launch_id] += 1
                continue
            key = f"{region}/{r.resource_id or ''}"
            cluster_hour[key] = price
            uses.append(ClusterUse(r.launch_id, key, r.started_at, r.ended_at))
    for lid, share in control_plane_shares(uses, cluster_hour).items():
        add(lid, "control_plane", share)
    return {
        lid: LaunchCost(
            instance_cost=p.get("instance", ZERO),
            volume_cost=p.get("volume", ZERO),
            filesystem_cost=p.get("filesystem", ZERO),
            control_plane_cost=p.get("control_plane", ZERO),
            unpriced_resources=unpriced[lid],
        )
        for lid, p in parts.items()
    }


# --- what-if ----------------------------------------------------------------------------------------


def same_size_in(resource_type: str, family: str) -> str:
    """r6i.4xlarge in family r7i -> r7i.4xlarge."""
    return f"{family}.{resource_type.split('.', 1)[1]}" if "." in resource_type else resource_type


def what_if(
    resources: Iterable[Resource],
    *,
    purchase_option: str | None = None,
    from_option: str | None = None,
    family: str | None = None,
    from_family: str | None = None,
) -> list[Resource]:
    """The same resources with instance lines moved to another purchase option and/or family.

    ``from_option``/``from_family`` limit the change to lines bought that way / of that family
    (e.g. only Spot lines to On-Demand); None changes every instance line.
    """
    out = []
    for r in resources:
        if r.kind == "instance" and r.resource_type and "." in r.resource_type:
            fam = r.resource_type.split(".", 1)[0]
            if purchase_option and (from_option is None or r.purchase_option == from_option):
                r = replace(r, purchase_option=purchase_option)
            if family and (from_family is None or fam == from_family):
                r = replace(r, resource_type=same_size_in(r.resource_type, family))
        out.append(r)
    return out


def change(before: Decimal, after: Decimal) -> tuple[Decimal, Decimal | None]:
    """(after - before, the change in percent of before, rounded to 0.01 %)."""
    diff = after - before
    if before == 0:
        return diff, None
    return diff, (diff / before * 100).quantize(Decimal("0.01"), ROUND_HALF_UP)


__all__ = [
    "ClusterUse",
    "Launch",
    "LaunchCost",
    "PriceBook",
    "PriceStep",
    "RateCard",
    "Resource",
    "Rules",
    "change",
    "control_plane_shares",
    "filesystem_cost",
    "flat",
    "instance_cost",
    "onprem_cost",
    "price_launches",
    "step_price_seconds",
    "StepFunction",
    "volume_cost",
    "what_if",
]
