"""The simulation: one numpy column per launch attribute, in launch order.

``simulate`` runs the steps in a fixed order, each drawing from the one random generator, so the same
inputs give the same history (and moving a draw changes every number after it):

1. when launches start (``launches.launch_times``): day by growth x weekday, time of day mostly US business hours;
2. who launches what where (``launches.who_what_where``): consumer, workflow type, platform, region;
3. the workload (``launches.workload``): input size, samples, instance type and count, run time, purchase option;
4. the status timeline (``launches.status_timeline``): phase times, failures, what the snapshot sees in progress;
5. the resources (``resources.resources``): the second instance line, zones, volumes, FSx, the EKS cluster;
6. the costs (``costs.costs``): list prices and Spot prices integrated over each line, rounded per part;
7. which launches are still pending a price (``_pending_price``), and the hashed parts of the ids;
8. the output size of completed runs (``_output_size``), from a generator spawned off the main one, so the
   draws before (and the Cost Explorer draws after) are the same as without it.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from .catalogue import EPOCH_SECONDS_DAYS, NA, OUTPUT_EFFORT_EXPONENT, OUTPUT_PER_INPUT_GB, OUTPUT_SIGMA, WORKFLOWS
from .costs import Costs, costs
from .launches import Clock, Timeline, Who, Workload, launch_times, status_timeline, who_what_where, workload
from .price_table import ListPrices
from .resources import Resources, resources


def simulate(rng: np.random.Generator, n: int, end_date: date, prices: ListPrices) -> dict[str, np.ndarray]:
    """``n`` launches over the ``HISTORY_DAYS`` days ending at ``end_date``, priced from ``prices``.

    Returns the columns the writers read, by name: codes index the catalogue's tuples, NA (-1) means absent,
    times are epoch seconds; ``n``, ``epoch0`` and ``as_of`` are 0-d arrays.
    """
    clock = Clock.ending(end_date)
    launched, day = launch_times(rng, n, clock)
    who = who_what_where(rng, day, clock)
    work = workload(rng, who, day, clock)
    timeline = status_timeline(rng, clock, launched, day, who, work)
    res = resources(rng, who, work, timeline, day, clock.day_t)
    cost = costs(rng, who, work, timeline, res, prices, clock.epoch0, clock.as_of)
    pending = _pending_price(rng, timeline, clock.as_of)
    ids = _id_parts(rng, n)
    output = _output_size(rng.spawn(1)[0], who, work, timeline)
    return (
        _launch_columns(clock, day, who, work, timeline, pending)
        | {"output_tenths": output}
        | ids
        | _resource_columns(work, timeline, res)
        | _cost_columns(cost, prices)
    )


def _pending_price(rng: np.random.Generator, timeline: Timeline, as_of: int) -> np.ndarray:
    """Launches with resources but no cost strings yet: a background of items the pricing step never reached,
    and most of the launches that ended in the last day or two."""
    age_days = np.where(timeline.ended, (as_of - timeline.t_end) / 86400, np.inf)
    return timeline.has_res & (rng.random(len(age_days)) < 0.012 + 0.8 * np.exp(-age_days / 1.5))


def _output_size(rng: np.random.Generator, who: Who, work: Workload, timeline: Timeline) -> np.ndarray:
    """GB x 10 a completed run wrote (NA for failed and unfinished runs and types whose manager does not record it):
    ``OUTPUT_PER_INPUT_GB`` of the input, times the run's effort (which drove its run time, so its cost), with noise."""
    ratio = np.array([OUTPUT_PER_INPUT_GB.get(name, np.nan) for name in WORKFLOWS])[who.workflow]
    noise = np.exp(OUTPUT_SIGMA * rng.standard_normal(len(ratio)))
    gb = work.size_gb * ratio * work.effort**OUTPUT_EFFORT_EXPONENT * noise
    recorded = np.isfinite(gb) & timeline.ended & ~timeline.failed
    return np.where(recorded, np.maximum(np.round(np.nan_to_num(gb) * 10), 1), NA).astype(np.int64)


def _id_parts(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """The random parts of the ids (launch id, input path, file system id) and the order of the export's items."""
    return dict(
        hid=rng.integers(0, 1 << 24, n),
        run_hid=rng.integers(0, 1 << 16, n),
        fs_hid=rng.integers(0, 1 << 62, n),
        export_order=rng.permutation(n),
    )


def _launch_columns(
    clock: Clock, day: np.ndarray, who: Who, work: Workload, timeline: Timeline, pending: np.ndarray
) -> dict[str, np.ndarray]:
    """Who launched what, when, and how it stands at the snapshot."""
    return dict(
        n=np.array(len(day)),
        epoch0=np.array(clock.epoch0),
        as_of=np.array(clock.as_of),
        day=day,
        cons=who.consumer,
        wf=who.workflow,
        pf=who.platform,
        region=who.region,
        status=timeline.status,
        epoch_ts=day < EPOCH_SECONDS_DAYS,
        size_tenths=work.size_tenths,
        sample_count=work.sample_count,
        t_prep=timeline.status_times[:, 0],
        t_wait=timeline.status_times[:, 1],
        t_ready=timeline.status_times[:, 2],
        t_run=timeline.status_times[:, 3],
        t_complete=timeline.t_complete,
        t_failed=timeline.t_failed,
        t_end=timeline.t_end,
        end_day=timeline.end_day,
        has_res=timeline.has_res,
        priced=timeline.ended & ~pending,
        pending=pending,
        in_progress=timeline.in_progress,
        failed=timeline.failed & timeline.ended,
    )


def _resource_columns(work: Workload, timeline: Timeline, res: Resources) -> dict[str, np.ndarray]:
    """The two instance lines (``*2``: the second) with their volumes, the file system and the cluster."""
    line2, volumes, fs = res.line2, res.volumes, res.filesystem
    return dict(
        itype=work.instance_type,
        option=work.option,
        count=work.count,
        az=res.zone,
        vtype=volumes.vtype,
        vsize=volumes.size,
        viops=volumes.iops,
        vmibps=volumes.mibps,
        itype2=np.where(line2.present, line2.instance_type, NA),
        option2=line2.option,
        count2=line2.count,
        az2=res.zone2,
        s2=line2.start,
        e2=line2.end,
        vtype2=volumes.vtype2,
        vsize2=volumes.size2,
        viops2=volumes.iops2,
        vmibps2=volumes.mibps2,
        fs_type=np.where(timeline.has_res, fs.fs_type, NA),
        fs_cap=fs.capacity,
        fs_start=fs.start,
        cluster=np.where(timeline.has_res, res.cluster, NA),
    )


def _cost_columns(cost: Costs, prices: ListPrices) -> dict[str, np.ndarray]:
    """Cost parts in 1e-4 USD, the usage Cost Explorer reports, the Spot price history and the EKS price."""
    return dict(
        c_inst=cost.instance,
        c_vol=cost.volume,
        c_fs=cost.filesystem,
        c_cp=cost.control_plane,
        c_total=cost.total,
        inst_hours=cost.instance_hours,
        vol_gb_months=cost.volume_gb_months,
        fs_gb_months=cost.filesystem_gb_months,
        cp_hours=cost.control_plane_hours,
        spot_pairs=cost.spot_pairs,
        spot_series=cost.spot[0],
        spot_t=cost.spot[1],
        spot_price=cost.spot[2],
        eks_cluster_hour=prices.eks,
    )
