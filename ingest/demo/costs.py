"""What each launch costs, part by part, and the usage quantities Cost Explorer reports. Simulation step 6.

Instances at the snapshot's On-Demand price (Reserved at ``RESERVED_RATE`` of it, Spot integrated over the
demo's own Spot price history, on premises at the rate card), EBS and FSx in $/GB-month prorated over
``HOURS_PER_MONTH``, the EKS control plane split ``EKS_SHARING`` ways. Each part is rounded to 1e-4 USD and
the total is their exact sum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.vocabulary import HOURS_PER_MONTH

from .catalogue import (
    EKS,
    EKS_SHARING,
    FSX_TYPES,
    GP3,
    GP3_FREE_IOPS,
    GP3_FREE_MIBPS,
    INSTANCE_TYPES,
    NA,
    ONPREM_NODE_HOUR,
    ONPREM_TYPE_CODE,
    REGIONS,
    RESERVED,
    RESERVED_RATE,
    SPOT,
    VOLUME_TYPES,
    ZONE_REGION,
    ZONES,
)
from .launches import Timeline, Who, Workload
from .price_table import ListPrices, priced
from .resources import Resources
from .spot_history import SpotHistory, simulate_spot_history, spot_dollars


@dataclass(frozen=True)
class Costs:
    """Per launch: the cost parts in 1e-4 USD and the usage behind them; plus the Spot price history used."""

    instance: np.ndarray
    volume: np.ndarray
    filesystem: np.ndarray
    control_plane: np.ndarray
    total: np.ndarray
    instance_hours: np.ndarray
    volume_gb_months: np.ndarray
    filesystem_gb_months: np.ndarray
    control_plane_hours: np.ndarray  # the launch's share
    spot_pairs: np.ndarray  # the (instance type, zone) pairs Spot lines ran in, sorted: the series of ``spot``
    spot: SpotHistory


@dataclass(frozen=True)
class _Hours:
    """Per launch: hours of the first line, the second line and the file system (0 where absent)."""

    line1: np.ndarray
    line2: np.ndarray
    filesystem: np.ndarray


@dataclass(frozen=True)
class _SpotLines:
    """Which lines run on Spot, the pair each runs in, and the price history of those pairs."""

    line1: np.ndarray  # bool
    line2: np.ndarray  # bool
    pair1: np.ndarray  # instance type code x len(ZONES) + zone code, NA off Spot
    pair2: np.ndarray
    pairs: np.ndarray  # the distinct pairs, sorted
    history: SpotHistory


def costs(
    rng: np.random.Generator,
    who: Who,
    work: Workload,
    timeline: Timeline,
    res: Resources,
    prices: ListPrices,
    epoch0: int,
    as_of: int,
) -> Costs:
    """Price every launch with resources (the Spot history is drawn from ``rng``)."""
    in_aws = timeline.has_res & ~who.onprem
    od, od2 = _on_demand(who, work, res, prices, in_aws)
    spot = _spot_lines(rng, work, res, prices, in_aws, epoch0, as_of)
    hours = _Hours(
        line1=np.where(timeline.has_res, (timeline.t_end - timeline.t_run) / 3600, 0.0),
        line2=np.where(res.line2.present, (res.line2.end - res.line2.start) / 3600, 0.0),
        filesystem=np.where(timeline.has_res & res.filesystem.used, (timeline.t_end - res.filesystem.start) / 3600, 0.0),
    )
    inst = _instance_dollars(who, work, timeline, res, spot, hours, od, od2)
    vol = _volume_dollars(who, work, res, prices, in_aws, hours)
    fs = _filesystem_dollars(who, timeline, res, prices, hours)
    c_inst, c_vol, c_fs = (np.rint(x * 10_000).astype(np.int64) for x in (inst, vol, fs))
    c_cp = _control_plane(who, timeline, prices)
    line2 = res.line2
    eks = who.platform == EKS
    return Costs(
        instance=c_inst,
        volume=c_vol,
        filesystem=c_fs,
        control_plane=c_cp,
        total=c_inst + c_vol + c_fs + c_cp,
        instance_hours=work.count * hours.line1 + np.where(line2.present, line2.count * hours.line2, 0.0),
        volume_gb_months=np.where(who.onprem, 0.0, work.count * res.volumes.size * hours.line1 / HOURS_PER_MONTH)
        + np.where(line2.present, line2.count * res.volumes.size2 * hours.line2 / HOURS_PER_MONTH, 0.0),
        filesystem_gb_months=np.where(res.filesystem.used, res.filesystem.capacity * hours.filesystem / HOURS_PER_MONTH, 0.0),
        control_plane_hours=np.where(eks, hours.line1 / EKS_SHARING, 0.0),
        spot_pairs=spot.pairs,
        spot=spot.history,
    )


def _on_demand(who: Who, work: Workload, res: Resources, prices: ListPrices, in_aws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The On-Demand $/h of each launch's first and second instance line (0 where there is none)."""
    itype, itype2, region = work.instance_type, res.line2.instance_type, who.region
    od = priced(
        prices.instance[who.region0, np.maximum(itype, 0) % ONPREM_TYPE_CODE],
        in_aws,
        "On-Demand",
        lambda i: f"{INSTANCE_TYPES[itype[i]]} in {REGIONS[region[i]]}",
        prices,
    )
    od2 = priced(
        prices.instance[who.region0, np.maximum(itype2, 0)],
        res.line2.present,
        "On-Demand",
        lambda i: f"{INSTANCE_TYPES[itype2[i]]} in {REGIONS[region[i]]}",
        prices,
    )
    return od, od2


def _spot_lines(
    rng: np.random.Generator, work: Workload, res: Resources, prices: ListPrices, in_aws: np.ndarray, epoch0: int, as_of: int
) -> _SpotLines:
    """The Spot lines and a price history for every (instance type, zone) they ran in, over the whole history."""
    line2 = res.line2
    spot1 = in_aws & (work.option == SPOT)
    spot2 = line2.present & (line2.option == SPOT)
    pair1 = np.where(spot1, work.instance_type.astype(np.int64) * len(ZONES) + res.zone, NA)
    pair2 = np.where(spot2, line2.instance_type.astype(np.int64) * len(ZONES) + res.zone2, NA)
    pairs = np.unique(np.concatenate([pair1[spot1], pair2[spot2]]))
    on_demand = prices.instance[ZONE_REGION[pairs % len(ZONES)], pairs // len(ZONES)]
    history = simulate_spot_history(rng, on_demand, pairs, epoch0, as_of)
    return _SpotLines(spot1, spot2, pair1, pair2, pairs, history)


def _instance_dollars(
    who: Who,
    work: Workload,
    timeline: Timeline,
    res: Resources,
    spot: _SpotLines,
    hours: _Hours,
    od: np.ndarray,
    od2: np.ndarray,
) -> np.ndarray:
    """$ for the instances of both lines: count x hours x price (Spot: the price integrated over the line)."""
    line2 = res.line2
    count, count2 = work.count, line2.count
    rate = np.where(work.option == RESERVED, RESERVED_RATE, 1.0)
    rate2 = np.where(line2.option == RESERVED, RESERVED_RATE, 1.0)
    line1_usd = np.where(who.onprem, count * hours.line1 * ONPREM_NODE_HOUR, count * hours.line1 * od * rate)
    spot1_usd = spot_dollars(spot.history, np.searchsorted(spot.pairs, spot.pair1), timeline.t_run, timeline.t_end, spot.line1)
    line1_usd = np.where(spot.line1, count * spot1_usd, line1_usd)
    spot2_usd = spot_dollars(spot.history, np.searchsorted(spot.pairs, spot.pair2), line2.start, line2.end, spot.line2)
    line2_usd = np.where(spot.line2, count2 * spot2_usd, count2 * hours.line2 * od2 * rate2)
    return np.where(timeline.has_res, line1_usd, 0.0) + np.where(line2.present, line2_usd, 0.0)


def _volume_dollars(
    who: Who, work: Workload, res: Resources, prices: ListPrices, in_aws: np.ndarray, hours: _Hours
) -> np.ndarray:
    """$ for the EBS volumes of both lines (one volume per instance), prorated over ``HOURS_PER_MONTH``."""
    v, line2 = res.volumes, res.line2
    month1 = _volume_month(prices, who.region0, v.vtype, v.size, v.iops, v.mibps, in_aws)
    vol = np.where(in_aws, work.count * month1 * hours.line1 / HOURS_PER_MONTH, 0.0)
    month2 = _volume_month(prices, who.region0, v.vtype2, v.size2, v.iops2, v.mibps2, line2.present)
    vol += np.where(line2.present, line2.count * month2 * hours.line2 / HOURS_PER_MONTH, 0.0)
    return vol


def _volume_month(
    prices: ListPrices,
    region0: np.ndarray,
    vt: np.ndarray,
    gb: np.ndarray,
    iops: np.ndarray,
    mibps: np.ndarray,
    used: np.ndarray,
) -> np.ndarray:
    """$ per volume-month: GB, IOPS above the free baseline (gp3) or all (io2), MiB/s above 125 (gp3)."""
    vt0 = np.maximum(vt, 0)
    paid_iops = np.maximum(iops - np.where(vt == GP3, GP3_FREE_IOPS, 0), 0) * (iops != NA)
    paid_mibps = np.maximum(mibps - np.where(vt == GP3, GP3_FREE_MIBPS, 0), 0) * (mibps != NA)

    def label(i: int) -> str:
        return f"{VOLUME_TYPES[vt0[i]]} in {REGIONS[region0[i]]}"

    total = gb * priced(prices.volume[region0, vt0], used, "EBS storage", label, prices)
    total += paid_iops * priced(prices.iops[region0, vt0], used & (paid_iops > 0), "EBS IOPS", label, prices)
    return total + paid_mibps * priced(prices.throughput[region0, vt0], used & (paid_mibps > 0), "EBS throughput", label, prices)


def _filesystem_dollars(who: Who, timeline: Timeline, res: Resources, prices: ListPrices, hours: _Hours) -> np.ndarray:
    """$ for the FSx for Lustre file system: capacity x $/GB-month, from staging the input to the end."""
    fs, region0 = res.filesystem, who.region0
    fs_price = priced(
        prices.filesystem[region0, np.maximum(fs.fs_type, 0)],
        timeline.has_res & fs.used,
        "FSx for Lustre",
        lambda i: f"{FSX_TYPES[fs.fs_type[i]]} in {REGIONS[region0[i]]}",
        prices,
    )
    return np.where(fs.used, fs.capacity * fs_price * hours.filesystem / HOURS_PER_MONTH, 0.0)


def _control_plane(who: Who, timeline: Timeline, prices: ListPrices) -> np.ndarray:
    """The EKS control plane share in exact integers (1e-4 USD): seconds x price/h / 3600 / 3, rounded half up."""
    region0 = who.region0
    used = timeline.has_res & (who.platform == EKS)
    run_seconds = np.where(used, timeline.t_end - timeline.t_run, 0)
    eks_price = priced(prices.eks[region0], used, "EKS", lambda i: f"the control plane in {REGIONS[region0[i]]}", prices)
    per_hour = np.rint(eks_price * 1e10).astype(np.int64)  # 1e-10 USD per hour
    den = 3600 * EKS_SHARING * 1_000_000
    return (2 * run_seconds * per_hour + den) // (2 * den)
