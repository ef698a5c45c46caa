"""What each launch ran on besides its main instance line: a second instance line, the zones, EBS volumes,
an FSx for Lustre file system, the EKS cluster. Simulation step 5 (see ``simulate``).

Every launch gets values drawn here; only the ones with resources (``has_res``) carry them in their item.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .catalogue import (
    BATCH,
    EKS,
    FIRST_ZONE,
    FSX_CAPACITIES,
    FSX_SHARE,
    GP3,
    GP3_FREE_IOPS,
    GP3_FREE_MIBPS,
    GP3_PERFORMANCE,
    GP3_RECORDED,
    HISTORY_DAYS,
    IO2,
    IO2_IOPS,
    M5,
    NA,
    ON_DEMAND,
    PCLUSTER,
    SIZES,
    ST1,
    X2IDN,
    XL,
    ZONES_IN_REGION,
)
from .draws import lognormal, pick
from .launches import Timeline, Who, Workload


@dataclass(frozen=True)
class SecondLine:
    """Batch mixes in a smaller size of the family (~35%); ParallelCluster has an On-Demand head node."""

    batch_mix: np.ndarray  # bool
    head_node: np.ndarray  # bool
    instance_type: np.ndarray  # NA where there is no second line
    count: np.ndarray
    option: np.ndarray
    start: np.ndarray
    end: np.ndarray
    present: np.ndarray  # has resources and a second line


@dataclass(frozen=True)
class Volumes:
    """The EBS volume of each instance line (one per instance): type, GB, provisioned IOPS and MiB/s (NA if not recorded)."""

    vtype: np.ndarray
    size: np.ndarray
    iops: np.ndarray
    mibps: np.ndarray
    vtype2: np.ndarray
    size2: np.ndarray
    iops2: np.ndarray
    mibps2: np.ndarray


@dataclass(frozen=True)
class FileSystem:
    """An FSx for Lustre file system per launch (where ``used``)."""

    used: np.ndarray  # bool
    fs_type: np.ndarray  # index into FSX_TYPES, NA where not used
    capacity: np.ndarray  # GB
    start: np.ndarray  # data is staged into Lustre while WAITING


@dataclass(frozen=True)
class Resources:
    """Everything a launch runs on besides the first instance line's type, count and purchase option (``Workload``)."""

    line2: SecondLine
    zone: np.ndarray  # index into ZONES, NA on premises
    zone2: np.ndarray
    volumes: Volumes
    filesystem: FileSystem
    cluster: np.ndarray  # index into EKS_CLUSTERS, NA off EKS


def resources(
    rng: np.random.Generator, who: Who, work: Workload, timeline: Timeline, day: np.ndarray, day_t: np.ndarray
) -> Resources:
    """Draw the resources of every launch, in a fixed order (each step draws from ``rng``)."""
    line2 = _second_line(rng, who, work, timeline)
    zone, zone2 = _zones(rng, who, line2.batch_mix)
    return Resources(
        line2=line2,
        zone=zone,
        zone2=zone2,
        volumes=_volumes(rng, who.onprem, line2.head_node, work.ebs_gb, day, day_t),
        filesystem=_filesystem(rng, who.platform, work.size_gb, timeline.t_wait),
        cluster=_clusters(rng, who),
    )


def _second_line(rng: np.random.Generator, who: Who, work: Workload, timeline: Timeline) -> SecondLine:
    """Batch's smaller size runs for most of the run (half the count); the head node (an m xlarge of the launch's
    generation) from READY to the end."""
    n = len(who.platform)
    batch_mix = (who.platform == BATCH) & (rng.random(n) < 0.35) & (work.family != X2IDN)
    head = who.platform == PCLUSTER
    smaller = work.family * len(SIZES) + np.maximum(work.size_index - 1, 0)
    head_type = (M5 + work.generation) * len(SIZES) + XL
    instance_type = np.select([batch_mix, head], [smaller, head_type], NA)
    count = np.select([batch_mix, head], [np.maximum(1, work.count // 2), 1], NA)
    option = np.where(head, ON_DEMAND, work.option).astype(np.int8)
    t_run, t_end = timeline.t_run, timeline.t_end
    run_len = t_end - t_run
    start = np.where(head, timeline.t_ready, t_run + (rng.uniform(0.05, 0.35, n) * run_len).astype(np.int64))
    end = np.where(head, t_end, t_end - (rng.uniform(0, 0.1, n) * run_len).astype(np.int64))
    end = np.maximum(end, start + 60)
    present = timeline.has_res & (instance_type != NA)
    return SecondLine(batch_mix, head, instance_type, count, option, start, end, present)


def _zones(rng: np.random.Generator, who: Who, batch_mix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A zone of the launch's region for each line; Batch's second size may land in another zone."""
    n = len(who.region0)
    region0 = who.region0
    zone = np.where(who.onprem, NA, FIRST_ZONE[region0] + (rng.random(n) * ZONES_IN_REGION[region0]).astype(np.int64))
    zone2 = np.where(batch_mix, FIRST_ZONE[region0] + (rng.random(n) * ZONES_IN_REGION[region0]).astype(np.int64), zone)
    return zone, zone2


def _volumes(
    rng: np.random.Generator, onprem: np.ndarray, head: np.ndarray, ebs_gb: np.ndarray, day: np.ndarray, day_t: np.ndarray
) -> Volumes:
    """Volume type by day (gp2 fades out), size around the workflow's EBS GB; the head node's root volume is gp3.

    Provisioned performance: gp3 mostly at the free baseline (and not always recorded), io2 always.
    """
    n = len(day)
    weights = np.stack(
        [np.full(HISTORY_DAYS, 78.0), 2 + 18 * (1 - day_t), np.full(HISTORY_DAYS, 4.0), np.full(HISTORY_DAYS, 6.0)], axis=1
    )
    vtype = np.where(onprem, NA, pick(rng, weights, day))
    size = np.clip(np.round(lognormal(rng, ebs_gb, 0.5, n) / 50) * 50, 100, 2000).astype(np.int64)
    size = np.where(vtype == ST1, np.maximum(size, 500), size)  # st1 for bulk data only
    gp3_perf = np.array(GP3_PERFORMANCE)
    io2_iops = np.array(IO2_IOPS)
    gp3_pick = pick(rng, gp3_perf[:, 2], n)
    io2_pick = pick(rng, io2_iops[:, 1], n)
    recorded = rng.random(n) < GP3_RECORDED
    iops = np.select([(vtype == GP3) & recorded, vtype == IO2], [gp3_perf[gp3_pick, 0], io2_iops[io2_pick, 0]], NA)
    mibps = np.where((vtype == GP3) & recorded, gp3_perf[gp3_pick, 1], NA)
    return Volumes(
        vtype=vtype,
        size=size,
        iops=iops,
        mibps=mibps,
        vtype2=np.where(head, GP3, vtype),
        size2=np.where(head, 200, size),
        iops2=np.where(head, GP3_FREE_IOPS, iops),  # the head node's root volume: gp3 at the baseline
        mibps2=np.where(head, GP3_FREE_MIBPS, mibps),
    )


def _filesystem(rng: np.random.Generator, platform: np.ndarray, size_gb: np.ndarray, t_wait: np.ndarray) -> FileSystem:
    """FSx for Lustre on ~40% of Batch and ParallelCluster launches, sized to 1.5x the input (sometimes one tier up)."""
    n = len(platform)
    used = np.isin(platform, (BATCH, PCLUSTER)) & (rng.random(n) < FSX_SHARE)
    fs_type = np.where(used, pick(rng, [50, 20, 30], n), NA)
    tier = np.minimum(np.searchsorted(FSX_CAPACITIES, size_gb * 1.5) + (rng.random(n) < 0.25), len(FSX_CAPACITIES) - 1)
    return FileSystem(used, fs_type, FSX_CAPACITIES[tier], t_wait)


def _clusters(rng: np.random.Generator, who: Who) -> np.ndarray:
    """The EKS cluster per launch: one per region, and a dev cluster taking ~20% of us-east-1."""
    cluster = np.full(len(who.platform), NA, dtype=np.int64)
    eks = who.platform == EKS
    cluster[eks & (who.region == 0)] = np.where(rng.random(int((eks & (who.region == 0)).sum())) < 0.2, 1, 0)
    cluster[eks & (who.region == 1)] = 2
    cluster[eks & (who.region == 2)] = 3
    return cluster
