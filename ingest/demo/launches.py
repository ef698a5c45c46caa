"""The launches themselves: when they start, who runs which workflow where, on what, and how each one ends.

Simulation steps 1 to 4 (see ``simulate``); each returns one of the small column groups below.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np

from core.vocabulary import STATUSES

from .catalogue import (
    BATCH,
    C5,
    C6I,
    CONSUMERS,
    EKS,
    GENERATION_SPEED,
    HISTORY_DAYS,
    I4I,
    KIND_C,
    KIND_I,
    KIND_M,
    KIND_R,
    KIND_X,
    M5,
    NA,
    ONPREM,
    ONPREM_TYPE_CODE,
    PCLUSTER,
    PLATFORM_SPEED,
    PLATFORMS,
    PURCHASE_MIX,
    QUEUE_MEDIAN_S,
    QUEUE_SIGMA,
    R5,
    RESERVED,
    SIZES,
    SPOT,
    WORKFLOW_MODEL,
    WORKFLOWS,
    X2IDN,
    X8,
)
from .draws import lognormal, pick

COMPLETE, FAILED = STATUSES.index("COMPLETE"), STATUSES.index("FAILED")


@dataclass(frozen=True)
class Clock:
    """The history's calendar: its first day, and the epoch seconds it starts and the snapshot is taken."""

    start: date
    epoch0: int  # midnight (UTC) starting the first day
    as_of: int  # the snapshot: midnight after the last day
    day_t: np.ndarray  # per day of the history, 0 on the first to 1 on the last

    @classmethod
    def ending(cls, end_date: date) -> Clock:
        """The ``HISTORY_DAYS`` days ending at ``end_date``."""
        start = end_date - timedelta(days=HISTORY_DAYS - 1)
        epoch0 = int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp())
        return cls(start, epoch0, epoch0 + HISTORY_DAYS * 86400, np.arange(HISTORY_DAYS) / (HISTORY_DAYS - 1))


@dataclass(frozen=True)
class Who:
    """Per launch: who launched which workflow on which platform, where (codes into the catalogue's tuples)."""

    consumer: np.ndarray
    workflow: np.ndarray
    platform: np.ndarray
    region: np.ndarray  # NA on premises
    onprem: np.ndarray  # bool
    region0: np.ndarray  # region, 0 where NA: safe as an index


@dataclass(frozen=True)
class Workload:
    """Per launch: the input, the instances it runs on and for how long."""

    size_gb: np.ndarray  # to 1 decimal
    size_tenths: np.ndarray  # size_gb x 10, exact
    sample_count: np.ndarray  # NA where the item leaves it out
    effort: np.ndarray  # the run's work against its size's typical (lognormal, median 1): longer runs, more output
    ebs_gb: np.ndarray  # the workflow's typical EBS GB per node
    generation: np.ndarray  # 0, 1, 2: 5th, 6th or 7th generation of the c/m/r families
    family: np.ndarray  # index into FAMILIES
    size_index: np.ndarray  # index into SIZES
    instance_type: np.ndarray  # index into INSTANCE_TYPES
    count: np.ndarray  # instances
    run_s: np.ndarray  # seconds a full run takes
    option: np.ndarray  # index into PURCHASE_OPTIONS


@dataclass(frozen=True)
class Timeline:
    """Per launch: when it entered each status, how it ended, and what the snapshot sees."""

    starts: np.ndarray  # n x 4: entered PREPARING, WAITING, READY, RUNNING (all of them, reached or not)
    status_times: np.ndarray  # starts, NA for the statuses not reached by the snapshot
    t_end: np.ndarray  # COMPLETE or FAILED time, NA while in progress
    t_complete: np.ndarray
    t_failed: np.ndarray
    end_day: np.ndarray  # day of the history it ended, NA while in progress
    status: np.ndarray  # index into STATUSES
    failed: np.ndarray  # bool, whether it fails (or will)
    in_progress: np.ndarray
    ended: np.ndarray
    has_res: np.ndarray  # ended, and got as far as RUNNING: it has resources

    @property
    def t_wait(self) -> np.ndarray:
        return self.starts[:, 1]

    @property
    def t_ready(self) -> np.ndarray:
        return self.starts[:, 2]

    @property
    def t_run(self) -> np.ndarray:
        return self.starts[:, 3]


def _day_weights(rng: np.random.Generator, clock: Clock) -> np.ndarray:
    """Relative launch volume per day: weekday seasonality, a year-end dip, ~2.3x growth, day-to-day noise."""
    weekday = (clock.start.weekday() + np.arange(HISTORY_DAYS)) % 7
    seasonal = np.array([1.0, 1.06, 1.08, 1.02, 0.88, 0.32, 0.27])[weekday]
    days = [clock.start + timedelta(days=int(d)) for d in range(HISTORY_DAYS)]
    holiday = np.array([0.45 if (d.month == 12 and d.day >= 22) or (d.month == 1 and d.day <= 2) else 1.0 for d in days])
    return seasonal * holiday * 2.3**clock.day_t * lognormal(rng, 1.0, 0.12, HISTORY_DAYS)


def launch_times(rng: np.random.Generator, n: int, clock: Clock) -> tuple[np.ndarray, np.ndarray]:
    """(epoch second, day of the history) each launch starts, sorted: time of day mostly US business hours."""
    w = _day_weights(rng, clock)
    day = np.repeat(np.arange(HISTORY_DAYS), rng.multinomial(n, w / w.sum()))
    business = rng.random(n) < 0.75
    tod = np.where(business, rng.normal(14.5 * 3600, 3.2 * 3600, n), rng.uniform(0, 86400, n))
    launched = np.sort(day * 86400 + np.clip(tod, 0, 86399).astype(np.int64)) + clock.epoch0
    return launched, (launched - clock.epoch0) // 86400


def who_what_where(rng: np.random.Generator, day: np.ndarray, clock: Clock) -> Who:
    """Consumer by share (new consumers ramp up), then workflow, platform and region by the consumer's mixes."""
    consumer = _consumers(rng, day, clock.day_t)
    workflow = pick(rng, [c.workflow_mix for c in CONSUMERS], consumer)
    platform = _platforms(rng, consumer, day, clock.day_t)
    onprem = platform == ONPREM
    region = np.where(onprem, NA, pick(rng, [c.region_mix for c in CONSUMERS], consumer)).astype(np.int8)
    return Who(consumer, workflow, platform, region, onprem, np.maximum(region, 0))


def _consumers(rng: np.random.Generator, day: np.ndarray, day_t: np.ndarray) -> np.ndarray:
    """Consumer per launch: by share and growth; one that starts part-way ramps up over ~45 days."""
    days = np.arange(HISTORY_DAYS)
    share = np.array([c.share for c in CONSUMERS])
    first_day = np.array([c.first_day for c in CONSUMERS])
    growth = np.array([c.growth for c in CONSUMERS])
    since = days[:, None] - first_day[None, :]
    active = np.where(since >= 0, 1 - np.exp(-np.maximum(since, 0) / 45.0), 0.0)
    active[:, first_day == 0] = 1.0
    return pick(rng, share[None, :] * active * growth[None, :] ** day_t[:, None], day)


def _platforms(rng: np.random.Generator, consumer: np.ndarray, day: np.ndarray, day_t: np.ndarray) -> np.ndarray:
    """Platform mix per (consumer, day): on premises shrinks over the two years, EKS grows."""
    k = len(PLATFORMS)
    trend = np.ones((HISTORY_DAYS, k))
    trend[:, ONPREM] = 1.3 - 0.8 * day_t
    trend[:, EKS] = 0.6 + 0.8 * day_t
    mix = np.array([c.platform_mix for c in CONSUMERS], dtype=float)
    return pick(rng, (mix[:, None, :] * trend[None, :, :]).reshape(-1, k), consumer.astype(np.int64) * HISTORY_DAYS + day)


def workload(rng: np.random.Generator, who: Who, day: np.ndarray, clock: Clock) -> Workload:
    """Input, instance choice and run time, from each workflow's model (``WORKFLOW_MODEL``)."""
    n = len(day)
    model = _input_model(rng, who.workflow)
    size_tenths = np.round(model["size_gb"] * 10).astype(np.int64)
    size_gb = size_tenths / 10
    samples = np.maximum(1, np.round(size_gb / model["gb_per_sample"] * lognormal(rng, 1.0, 0.25, n))).astype(np.int64)
    count = _instance_count(who.workflow, samples, size_gb, model["kind"])
    sample_count = np.where(rng.random(n) < 0.03, NA, samples)

    generation = _generations(rng, day, clock.day_t)
    kind, size_index = model["kind"], model["size_index"]
    by_kind = [kind == KIND_C, kind == KIND_M, kind == KIND_R, kind == KIND_I]
    family = np.select(by_kind, [C5 + generation, M5 + generation, R5 + generation, I4I], X2IDN)
    family = np.where((family == C5) & (size_index >= X8), C6I, family)  # c5 has no 8xlarge/16xlarge
    instance_type = np.where(who.onprem, ONPREM_TYPE_CODE, family * len(SIZES) + size_index)
    speed = model["tier_speed"] * np.array(GENERATION_SPEED)[family] * PLATFORM_SPEED[who.platform]
    effort = lognormal(rng, 1.0, 0.25, n)
    node_hours = model["node_hours"] / speed * count**0.08 * effort
    run_s = np.round(np.clip(node_hours / count, 0.1, 120) * 3600).astype(np.int64)

    option = np.where(who.onprem, RESERVED, pick(rng, PURCHASE_MIX, who.platform)).astype(np.int8)
    return Workload(
        size_gb=size_gb,
        size_tenths=size_tenths,
        sample_count=sample_count,
        effort=effort,
        ebs_gb=model["ebs_gb"],
        generation=generation,
        family=family,
        size_index=size_index,
        instance_type=instance_type,
        count=count,
        run_s=run_s,
        option=option,
    )


def _input_model(rng: np.random.Generator, workflow: np.ndarray) -> dict[str, np.ndarray]:
    """Per launch, from its workflow's model: input GB (unrounded), GB per sample, node-hours on the tier-0
    instance, the instance tier the input needs (kind, size index, speed vs tier 0) and EBS GB per node."""
    n = len(workflow)
    out = {name: np.empty(n) for name in ("size_gb", "gb_per_sample", "node_hours", "tier_speed", "ebs_gb")}
    out["kind"] = np.empty(n, dtype=np.int8)
    out["size_index"] = np.empty(n, dtype=np.int8)
    z = rng.standard_normal(n)
    for code, name in enumerate(WORKFLOWS):
        m = WORKFLOW_MODEL[name]
        sel = workflow == code
        med, sigma, lo, hi = m["size"]
        gb = np.clip(np.exp(np.log(med) + sigma * z[sel]), lo, hi)
        out["size_gb"][sel] = gb
        out["gb_per_sample"][sel] = m["gb_per_sample"]
        a, b, p = m["nh"]
        out["node_hours"][sel] = a + b * gb**p
        tier = np.zeros(sel.sum(), dtype=np.int64)
        for upper, *_ in m["tiers"][:-1]:
            tier += gb >= upper
        tiers = np.array([x[1:] for x in m["tiers"]], dtype=float)
        out["kind"][sel] = tiers[tier, 0]
        out["size_index"][sel] = tiers[tier, 1]
        out["tier_speed"][sel] = tiers[tier, 2]
        out["ebs_gb"][sel] = m["ebs"]
    return out


def _instance_count(workflow: np.ndarray, samples: np.ndarray, size_gb: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """Instances per launch: one per so many samples or GB (per workflow), 1..16, halved on x2idn."""
    count = np.empty(len(workflow), dtype=np.int64)
    for code, name in enumerate(WORKFLOWS):
        basis, per = WORKFLOW_MODEL[name]["count"]
        sel = workflow == code
        driver = samples[sel] if basis == "samples" else size_gb[sel]
        count[sel] = np.ceil(driver / per)
    count = np.clip(count, 1, 16)
    return np.where(kind == KIND_X, np.maximum(1, (count + 1) // 2), count)


def _generations(rng: np.random.Generator, day: np.ndarray, day_t: np.ndarray) -> np.ndarray:
    """Instance generation (0, 1, 2) per launch: newer generations take share from older ones over time."""
    weights = np.stack([np.maximum(0.05, 0.45 - 0.4 * day_t), np.full(HISTORY_DAYS, 0.45), 0.1 + 0.5 * day_t], axis=1)
    return pick(rng, weights, day)


def status_timeline(
    rng: np.random.Generator, clock: Clock, launched: np.ndarray, day: np.ndarray, who: Who, work: Workload
) -> Timeline:
    """Status times and outcome of each launch, as the snapshot at ``clock.as_of`` sees them."""
    starts = _phase_starts(rng, launched, who.platform, work.size_gb)
    failed, pre_run, t_end, reached = _failures(rng, work, who.onprem, starts)
    in_progress, stage, reached = _at_snapshot(rng, clock.as_of, day, starts, t_end, reached, pre_run)
    ended = ~in_progress
    t_end = np.where(ended, t_end, NA)
    return Timeline(
        starts=starts,
        status_times=np.where(reached, starts, NA),
        t_end=t_end,
        t_complete=np.where(ended & ~failed, t_end, NA),
        t_failed=np.where(ended & failed, t_end, NA),
        end_day=np.where(ended, (t_end - clock.epoch0) // 86400, NA),
        status=np.where(in_progress, stage, np.where(failed, FAILED, COMPLETE)).astype(np.int8),
        failed=failed,
        in_progress=in_progress,
        ended=ended,
        has_res=ended & ~pre_run,
    )


def _phase_starts(rng: np.random.Generator, launched: np.ndarray, platform: np.ndarray, size_gb: np.ndarray) -> np.ndarray:
    """n x 4 epoch seconds a launch enters PREPARING, WAITING, READY and RUNNING, if it gets that far.

    Preparing takes ~90 s, waiting (staging the input) grows with the input, the queue for compute depends
    on the platform; Batch and ParallelCluster sometimes wait hours for capacity.
    """
    n = len(launched)
    prep = np.clip(lognormal(rng, 90, 0.7, n), 10, 1200)
    wait = np.clip(lognormal(rng, 360, 0.9, n) + size_gb * 2, 30, 4 * 3600)
    queue = lognormal(rng, QUEUE_MEDIAN_S[platform], QUEUE_SIGMA[platform], n)
    capacity_wait = np.isin(platform, (BATCH, PCLUSTER)) & (rng.random(n) < 0.05)
    queue = np.clip(queue + np.where(capacity_wait, lognormal(rng, 3 * 3600, 0.8, n), 0), 20, 36 * 3600)
    t_wait = launched + prep.astype(np.int64)
    t_ready = t_wait + wait.astype(np.int64)
    return np.stack([launched, t_wait, t_ready, t_ready + queue.astype(np.int64)], axis=1)


def _failures(
    rng: np.random.Generator, work: Workload, onprem: np.ndarray, starts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(failed, failed before RUNNING, end time, n x 4 statuses reached) per launch, ignoring the snapshot.

    ~7% fail (more on Spot, big inputs and on premises); ~15% of those before RUNNING, soon after
    PREPARING, WAITING or READY; the rest part-way through the run.
    """
    n = len(starts)
    run_s = work.run_s
    p_fail = 0.05 + 0.035 * (work.option == SPOT) + 0.02 * (work.size_gb > 800) + 0.02 * onprem
    failed = rng.random(n) < p_fail
    pre_run = failed & (rng.random(n) < 0.15)
    fail_stage = pick(rng, [20, 40, 40], n)  # PREPARING, WAITING, READY
    run_frac = np.where(failed & ~pre_run, np.maximum(rng.beta(1.2, 1.8, n), 60 / np.maximum(run_s, 60)), 1.0)
    t_end = starts[:, 3] + np.maximum(np.round(run_s * run_frac).astype(np.int64), 60)
    stage_time = np.choose(fail_stage, [starts[:, 0], starts[:, 1], starts[:, 2]])
    t_end = np.where(pre_run, stage_time + np.clip(lognormal(rng, 120, 1.0, n), 5, 3600).astype(np.int64), t_end)
    reached = np.ones((n, 4), dtype=bool)
    reached[pre_run] = np.arange(4)[None, :] <= fail_stage[pre_run, None]
    return failed, pre_run, t_end, reached


def _at_snapshot(
    rng: np.random.Generator,
    as_of: int,
    day: np.ndarray,
    starts: np.ndarray,
    t_end: np.ndarray,
    reached: np.ndarray,
    pre_run: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(in progress, status code while in progress, statuses reached) as the snapshot at ``as_of`` sees them.

    Anything whose end lies beyond the snapshot is still in progress; so are a few stuck launches from the
    last week (``n // 500``, at least 3): waiting for capacity, or a very long run.
    """
    in_progress = t_end > as_of
    reached = reached & (starts <= as_of)
    stage = np.where(in_progress, reached.sum(axis=1) - 1, NA)
    candidates = np.flatnonzero((day >= HISTORY_DAYS - 7) & ~in_progress & ~pre_run)
    n_stuck = min(len(candidates), max(3, len(day) // 500))
    stuck = rng.choice(candidates, n_stuck, replace=False) if n_stuck else np.empty(0, dtype=np.int64)
    stuck_stage = pick(rng, [10, 45, 45], n_stuck) + 1  # WAITING, READY, RUNNING
    in_progress[stuck] = True
    stage[stuck] = stuck_stage
    reached[stuck] = np.arange(4)[None, :] <= stuck_stage[:, None]
    return in_progress, stage, reached
