"""A deterministic synthetic launch history, written in the real wire formats (files only, no loading).

``generate(out_dir)`` writes what an AWS account running genomics workflows would hand the ingest:

* ``<out>/dynamodb-export/``: a DynamoDB "export to S3" of the launches table
  (``AWSDynamoDB/<export-id>/manifest-summary.json``, ``manifest-files.json``, their ``.checksum`` files,
  ``_started`` and ``data/*.json.gz``: gzip JSON lines, one ``{"Item": {...}}`` each, in DynamoDB JSON as
  described in ``docs/wire-formats.md``). Items are spread over the data files in a hashed (random) order,
  as a real export spreads them over partitions. One extra file, ``data/zz-needs-review.json.gz``, holds
  a handful of deliberately invalid items so the quarantine has something to show.
* ``<out>/cost-explorer/page-0001.json ...``: GetCostAndUsage responses (DAILY; UnblendedCost,
  AmortizedCost, NetAmortizedCost, UsageQuantity; grouped by TAG consumer and DIMENSION SERVICE), chained by
  ``NextPageToken``, covering every day of the history.
* ``<out>/spot-price-history/<region>/page-0001.json ...``: DescribeSpotPriceHistory responses (Linux/UNIX,
  newest first, 1,000 points a page, chained by ``NextToken``) for every (instance type, zone) a Spot line
  ran in: the history ``python -m ingest prices`` would have fetched.

Same ``(launches, seed, end_date)`` gives byte-identical files. The ~2 year history (730 days) ends at
``end_date`` (default: yesterday, UTC); the export is a snapshot taken at midnight after ``end_date``.

Choices worth knowing when reading the numbers:

* Launch volume grows ~2.3x over the two years, with weekday seasonality and a year-end dip; two
  consumers onboard part-way through. On-premises use shrinks over time while EKS grows; newer instance
  generations (c7i/m7i/r7i) take share from older ones.
* Workflow types scale differently with input size: ``nextflow-rnaseq`` and ``wdl-gatk-germline`` near
  linearly; ``snakemake-variant-calling`` and ``snakemake-metagenomics`` sub-linearly with a fixed
  overhead; ``nextflow-sarek`` and ``nextflow-methylseq`` step up when the input outgrows an instance size
  (4xlarge -> 8xlarge -> 16xlarge, or m -> r -> x2idn for memory). Lognormal noise of ~25% on run time.
* Prices: the offline price snapshot the engine loads (``pricing/snapshot``; On-Demand per region), so the
  demo's strings and the engine use the same figures. Spot: a step function per (instance type, zone), a
  change ~2.5 times a week, a bounded random walk within 25-45% of On-Demand; a Spot line costs that
  price integrated over its run. Reserved is 62% of On-Demand (effective rate). EBS and FSx for Lustre in
  $/GB-month, prorated by hours/730; gp3 volumes pay IOPS above 3,000 and MiB/s above 125 (most are at
  that baseline, ~30% do not record it), io2 pays every IOPS. EKS control plane: the hourly price x
  hours / 3 (a cluster is shared by ~3 concurrent launches; the engine splits it by the launches
  actually running). Each cost part is rounded to 4 decimals and ``totalCost`` is their exact sum.
* OnPremHPC launches have no region and no AWS resources: they carry an ``instances`` list of
  ``onprem-node`` x count, purchase option ``Reserved``, no availability zone, no volumes, and are priced
  from the internal rate card ($0.04 per core-hour x 32 cores = $1.28 per node-hour), so they do have a
  ``totalCost``. They never appear in Cost Explorer.
* ~7% of launches FAIL: ~15% of those before RUNNING (no resources; priced at 0.0000), the rest part-way
  through the run (priced for what they consumed). Launches whose next status would fall after the
  snapshot are still in progress (status PREPARING/WAITING/READY/RUNNING, only the statuses reached, no
  resources, no cost), plus a few stuck ones from the last week (``launches // 500``, at least 3).
  About 1% of ended launches have resources but no cost strings yet (pending price): a low background rate
  everywhere (a pricing step that never ran) and most of the launches that ended in the last day or two.
* The first 60 days were recorded by an older manager version that wrote timestamps as epoch seconds
  (``{"N": "1741082400"}``), which the wire format allows. ``sample_count`` is missing on ~3% of items.
* Cost Explorer: each launch's list costs (pending ones too; not in-progress ones; not OnPremHPC) are
  billed on the UTC day the launch ended, per consumer tag: instance_cost on "Amazon Elastic Compute Cloud -
  Compute", volume_cost on "EC2 - Other", filesystem_cost on "Amazon FSx", the control plane share on
  "Amazon Elastic Kubernetes Service". Tagged compute is ``list x f + outside``: ``f`` is drawn per day and
  consumer in ``CE_COMPUTE_BILLED_VS_LIST`` (Spot billed near, never below, what the manager recorded)
  and ``outside`` is spend on instances the workflow manager did not launch (notebooks, dev boxes), a
  daily amount in ``CE_OUTSIDE_COMPUTE_PER_DAY`` times ``launches / 20000`` times 0.8..1.2. Storage lines
  use ``list x (1..1.01)``. AmortizedCost equals UnblendedCost (no RIs or Savings Plans are modelled);
  NetAmortizedCost is AmortizedCost x (1 - ``CE_NET_AMORTIZED_DISCOUNT``), an enterprise discount.
  Untagged spend (``consumer$``): S3, NAT/snapshots on "EC2 - Other", Amazon Virtual Private Cloud, the
  idle EKS control planes, AWS Cost Explorer API calls, "AWS Support (Business)" on the 1st of each month
  (tiered on the previous month), and a quarterly negative "AWS Cloud Credit for Research" line that never
  takes a day's total below zero. Consumers also have a little tagged S3. The last 3 days are
  ``"Estimated": true``. Pages hold 73 days each (10 pages for the 730 days).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import math
import os
import shutil
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

__all__ = ["DemoFiles", "generate"]


@dataclass(frozen=True)
class DemoFiles:
    export_dir: Path  # <out>/dynamodb-export: holds AWSDynamoDB/<export-id>/manifest-*.json and data/*.json.gz
    cost_explorer_dir: Path  # <out>/cost-explorer: page-0001.json, ... chained by NextPageToken
    spot_history_dir: Path  # <out>/spot-price-history/<region>/page-0001.json, ... chained by NextToken
    launches: int  # good items written
    bad_items: int  # deliberately invalid items written (data/zz-needs-review.json.gz)


# ---------------------------------------------------------------------------------------------------------
# Reference data
# ---------------------------------------------------------------------------------------------------------

HISTORY_DAYS = 730
ITEMS_PER_FILE = 100_000
MIN_DATA_FILES = 4
CE_DAYS_PER_PAGE = 73
CE_ESTIMATED_DAYS = 3
EPOCH_SECONDS_DAYS = 60  # items launched in the first 60 days carry epoch-second timestamps
GZIP_LEVEL = 6
BAD_ITEMS_FILE = "zz-needs-review.json.gz"

WORKFLOWS = (
    "nextflow-rnaseq",
    "nextflow-sarek",
    "snakemake-variant-calling",
    "wdl-gatk-germline",
    "nextflow-methylseq",
    "snakemake-metagenomics",
)
PLATFORMS = ("EC2", "Batch", "ParallelCluster", "EKS", "OnPremHPC")
EC2, BATCH, PCLUSTER, EKS, ONPREM = range(5)
REGIONS = ("us-east-1", "us-west-2", "eu-west-1")
AZ_LETTERS = ("abcdf", "abcd", "abc")
STATUSES = ("PREPARING", "WAITING", "READY", "RUNNING", "COMPLETE", "FAILED")
PURCHASE_OPTIONS = ("Spot", "On-Demand", "Reserved")
SPOT, ON_DEMAND, RESERVED = range(3)
RESERVED_RATE = 0.62  # effective Reserved rate as a fraction of On-Demand ([pricing] default)
SPOT_FRACTION = (0.25, 0.45)  # Spot prices stay within this fraction of On-Demand
SPOT_CHANGES_PER_WEEK = 2.5  # mean price changes per (instance type, zone)
SPOT_MIN_GAP_S = 600  # at least 10 minutes between two changes of one series
SPOT_STEP_SD = 0.02  # each change moves the fraction of On-Demand by ~N(0, 0.02)
SPOT_POINTS_PER_PAGE = 1000  # DescribeSpotPriceHistory MaxResults
SPOT_PRODUCT = "Linux/UNIX"

# (name, share of launches, first active day, growth over the two years, workflow mix, platform mix, region mix)
# workflow mix follows WORKFLOWS, platform mix PLATFORMS, region mix REGIONS.
CONSUMERS = (
    ("oncology-research", 0.22, 0, 1.3, (30, 45, 5, 15, 5, 0), (5, 55, 5, 30, 5), (85, 15, 0)),
    ("rare-disease", 0.13, 0, 1.0, (5, 5, 35, 55, 0, 0), (5, 45, 40, 5, 5), (80, 20, 0)),
    ("pop-genomics", 0.20, 0, 1.2, (0, 5, 30, 60, 5, 0), (2, 20, 45, 3, 30), (70, 30, 0)),
    ("single-cell-lab", 0.10, 150, 1.6, (85, 0, 0, 0, 0, 15), (30, 10, 0, 60, 0), (90, 10, 0)),
    ("microbiome-core", 0.07, 0, 0.9, (10, 0, 5, 0, 0, 85), (45, 40, 0, 10, 5), (100, 0, 0)),
    ("epigenetics", 0.06, 0, 1.0, (10, 0, 0, 0, 90, 0), (10, 40, 10, 0, 40), (90, 10, 0)),
    ("clinical-diagnostics", 0.14, 270, 1.5, (10, 35, 15, 40, 0, 0), (5, 50, 0, 45, 0), (35, 0, 65)),
    ("bioinformatics-core", 0.08, 0, 1.0, (17, 17, 17, 17, 16, 16), (30, 25, 15, 15, 15), (80, 10, 10)),
)
CONSUMER_NAMES = tuple(c[0] for c in CONSUMERS)

# Instance families and sizes; their prices come from the offline price snapshot (``pricing/snapshot``).
FAMILIES = ("c5", "c6i", "c7i", "m5", "m6i", "m7i", "r5", "r6i", "r7i", "i4i", "x2idn")
GENERATION_SPEED = (1.0, 1.15, 1.3, 1.0, 1.15, 1.3, 1.0, 1.15, 1.3, 1.15, 1.15)
SIZES = ("xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")
SIZE_MULT = (1, 2, 4, 8, 12, 16)
XL, X2, X4, X8, X12, X16 = range(6)
KIND_C, KIND_M, KIND_R, KIND_I, KIND_X = range(5)
ONPREM_TYPE = "onprem-node"
ONPREM_NODE_HOUR = 0.04 * 32  # rate card: $0.04 per core-hour, 32 cores per node
INSTANCE_TYPES = tuple(f"{f}.{s}" for f in FAMILIES for s in SIZES) + (ONPREM_TYPE,)
ONPREM_TYPE_CODE = len(INSTANCE_TYPES) - 1

VOLUME_TYPES = ("gp3", "gp2", "io2", "st1")
GP3, GP2, IO2, ST1 = range(4)
GP3_FREE_IOPS, GP3_FREE_MIBPS = 3000, 125
# gp3 (IOPS, MiB/s) as provisioned, weights: most at the free baseline. io2 IOPS, weights.
GP3_PERFORMANCE = ((3000, 125, 70), (4000, 125, 6), (6000, 250, 12), (10000, 500, 8), (16000, 1000, 4))
IO2_IOPS = ((2000, 30), (5000, 35), (10000, 25), (20000, 10))
GP3_RECORDED = 0.7  # share of gp3 volumes whose item records iops/throughput (older managers leave them out)
FSX_TYPES = ("SCRATCH_2", "PERSISTENT_1", "PERSISTENT_2")
FSX_CAPACITIES = np.array([1200, 2400, 4800, 7200, 9600])
FSX_SHARE = 0.40  # of Batch and ParallelCluster launches
EKS_CLUSTERS = ("genomics-eks-prod", "genomics-eks-dev", "genomics-eks-usw2", "genomics-eks-euw1")
EKS_CLUSTER_REGION = (0, 0, 1, 2)  # index into REGIONS
EKS_SHARING = 3  # the manager's share of the control plane: hours x price / 3
HOURS_PER_MONTH = 730

# Per workflow: input size (median GB, sigma, min, max), GB per sample, node-hours model a + b*GB^p (on the
# tier-0 instance), instance tiers ((upper GB, kind, size, speed of that size vs tier 0), ...), how the
# instance count follows the input (per samples or per GB), EBS GB per node.
WORKFLOW_MODEL = {
    "nextflow-rnaseq": dict(
        size=(40, 0.9, 5, 1500),
        gb_per_sample=3.0,
        nh=(1.0, 0.45, 1.0),
        tiers=((math.inf, KIND_R, X4, 1.0),),
        count=("samples", 4),
        ebs=500,
    ),
    "nextflow-sarek": dict(
        size=(220, 0.8, 30, 3000),
        gb_per_sample=110.0,
        nh=(2.0, 0.20, 1.0),
        tiers=((150, KIND_R, X4, 1.0), (500, KIND_R, X8, 1.6), (math.inf, KIND_R, X16, 2.5)),
        count=("samples", 1),
        ebs=1000,
    ),
    "snakemake-variant-calling": dict(
        size=(90, 1.0, 5, 2000),
        gb_per_sample=15.0,
        nh=(4.0, 2.7, 0.55),
        tiers=((math.inf, KIND_C, X4, 1.0),),
        count=("gb", 20),
        ebs=500,
    ),
    "wdl-gatk-germline": dict(
        size=(150, 0.9, 10, 2500),
        gb_per_sample=60.0,
        nh=(0.5, 0.22, 1.0),
        tiers=((math.inf, KIND_M, X4, 1.0),),
        count=("samples", 1),
        ebs=750,
    ),
    "nextflow-methylseq": dict(
        size=(110, 0.9, 10, 2000),
        gb_per_sample=25.0,
        nh=(1.5, 0.14, 1.0),
        tiers=((120, KIND_M, X8, 1.0), (600, KIND_R, X8, 1.1), (math.inf, KIND_X, X16, 1.6)),
        count=("samples", 3),
        ebs=500,
    ),
    "snakemake-metagenomics": dict(
        size=(60, 0.8, 5, 1500),
        gb_per_sample=8.0,
        nh=(3.0, 1.0, 0.6),
        tiers=((math.inf, KIND_I, X4, 1.0),),
        count=("gb", 30),
        ebs=800,
    ),
}
PLATFORM_SPEED = np.array([1.0, 0.97, 1.03, 0.95, 0.75])
QUEUE_MEDIAN_S = np.array([120, 480, 720, 180, 2400])
QUEUE_SIGMA = np.array([0.6, 1.4, 1.5, 0.9, 1.3])
PURCHASE_MIX = np.array([(35, 55, 10), (78, 19, 3), (60, 35, 5), (65, 27, 8), (0, 0, 100)], dtype=float)

# Cost Explorer
CE_COMPUTE_SERVICE = "Amazon Elastic Compute Cloud - Compute"
CE_EC2_OTHER = "EC2 - Other"
CE_FSX = "Amazon FSx"
CE_EKS = "Amazon Elastic Kubernetes Service"
CE_S3 = "Amazon Simple Storage Service"
CE_VPC = "Amazon Virtual Private Cloud"
CE_SUPPORT = "AWS Support (Business)"
CE_COST_EXPLORER = "AWS Cost Explorer"
CE_CREDIT = "AWS Cloud Credit for Research"
CE_COMPUTE_BILLED_VS_LIST = (Decimal("1.00"), Decimal("1.03"))  # billed / list for the launches' instances
CE_STORAGE_BILLED_VS_LIST = (Decimal("1.00"), Decimal("1.01"))
CE_NET_AMORTIZED_DISCOUNT = Decimal("0.04")
CE_OUTSIDE_SCALE_LAUNCHES = 20_000  # CE_OUTSIDE_COMPUTE_PER_DAY is for this many launches; scaled linearly
CE_OUTSIDE_COMPUTE_PER_DAY = {  # tagged instances the workflow manager did not launch (notebooks, dev boxes)
    "oncology-research": 18.0,
    "rare-disease": 9.0,
    "pop-genomics": 14.0,
    "single-cell-lab": 12.0,
    "microbiome-core": 5.0,
    "epigenetics": 4.0,
    "clinical-diagnostics": 10.0,
    "bioinformatics-core": 22.0,
}
CE_OUTSIDE_NOISE = (0.8, 1.2)

_NA = -1  # sentinel for "absent" in integer columns


@dataclass(frozen=True)
class ListPrices:
    """On-Demand list prices from the offline snapshot, as arrays indexed by the demo's codes (NaN: not listed)."""

    snapshot: str  # file name
    instance: np.ndarray  # [region, instance type code] $/h
    volume: np.ndarray  # [region, volume type] $/GB-month
    iops: np.ndarray  # [region, volume type] $/IOPS-month (gp3 above 3,000; io2 all)
    throughput: np.ndarray  # [region, volume type] $/MiBps-month (gp3 above 125)
    filesystem: np.ndarray  # [region, FSx deployment type] $/GB-month
    eks: np.ndarray  # [region] $/cluster-hour


def list_prices(path: Path | None = None) -> ListPrices:
    """The demo's price table, read from the offline snapshot the engine loads (``pricing.snapshot``)."""
    from pricing.snapshot import latest_snapshot, snapshot_rows

    path = path or latest_snapshot()
    by_key = {(r["region"], r["resource_kind"], r["resource_type"], r["charge"]): float(r["price"]) for r in snapshot_rows(path)}

    def table(kind: str, types: tuple[str, ...], charge: str) -> np.ndarray:
        return np.array([[by_key.get((region, kind, t, charge), np.nan) for t in types] for region in REGIONS])

    return ListPrices(
        snapshot=path.name,
        instance=table("instance", INSTANCE_TYPES[:-1], "usage"),
        volume=table("volume", VOLUME_TYPES, "storage"),
        iops=table("volume", VOLUME_TYPES, "iops"),
        throughput=table("volume", VOLUME_TYPES, "throughput"),
        filesystem=table("filesystem", FSX_TYPES, "storage"),
        eks=table("cluster", ("eks",), "usage")[:, 0],
    )


def _priced(values: np.ndarray, used: np.ndarray, what: str, names, prices: ListPrices) -> np.ndarray:
    """``values`` (prices looked up per launch); a clear error when one the demo uses is not in the snapshot."""
    missing = used & np.isnan(values)
    if missing.any():
        raise ValueError(
            f"the price snapshot {prices.snapshot} has no {what} price for {names(np.flatnonzero(missing)[0])}: "
            "the demo needs one for everything it simulates"
        )
    return np.where(used, values, 0.0)


# ---------------------------------------------------------------------------------------------------------
# Public entry point
# ---------------------------------------------------------------------------------------------------------


def generate(
    out_dir: Path,
    launches: int = 20_000,
    seed: int = 7,
    end_date: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> DemoFiles:
    """Write a DynamoDB export and Cost Explorer pages for ``launches`` synthetic launches under ``out_dir``.

    Replaces ``<out>/dynamodb-export`` and ``<out>/cost-explorer`` if they exist; leaves anything else alone.
    """
    if launches < 1:
        raise ValueError(f"launches must be at least 1, got {launches}")
    if end_date is None:
        end_date = datetime.now(UTC).date() - timedelta(days=1)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, launches, end_date.toordinal()])
    sim = _simulate(rng, launches, end_date, list_prices())

    export_dir = out_dir / "dynamodb-export"
    ce_dir = out_dir / "cost-explorer"
    spot_dir = out_dir / "spot-price-history"
    export_id = _export_id(seed, launches, end_date)
    tmp_export = out_dir / ".dynamodb-export.partial"
    tmp_ce = out_dir / ".cost-explorer.partial"
    tmp_spot = out_dir / ".spot-price-history.partial"
    for path in (tmp_export, tmp_ce, tmp_spot):
        shutil.rmtree(path, ignore_errors=True)

    bad = _bad_items(int(sim["as_of"]))
    _write_export(tmp_export, export_id, sim, bad, seed, launches, end_date, progress)
    _write_cost_explorer(tmp_ce, sim, rng, launches, end_date, seed)
    _write_spot_history(tmp_spot, sim, seed, launches, end_date)

    for tmp, final in ((tmp_export, export_dir), (tmp_ce, ce_dir), (tmp_spot, spot_dir)):
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
    return DemoFiles(
        export_dir=export_dir, cost_explorer_dir=ce_dir, spot_history_dir=spot_dir, launches=launches, bad_items=len(bad)
    )


# ---------------------------------------------------------------------------------------------------------
# Simulation: one numpy column per attribute, in launch order
# ---------------------------------------------------------------------------------------------------------


def _pick(rng: np.random.Generator, table, rows) -> np.ndarray:
    """One categorical draw per launch: launch i draws from the weights in ``table[rows[i]]``.

    ``table`` is (m x k) unnormalised weights, or one weight vector for all; ``rows`` the row per launch,
    or the number of launches when ``table`` is a single vector. Works in O(n) memory, not O(n x k).
    """
    table = np.atleast_2d(np.asarray(table, dtype=float))
    cum = np.cumsum(table, axis=1)
    cum /= cum[:, -1:]
    single = np.ndim(rows) == 0
    n = int(rows) if single else len(rows)
    u = rng.random(n)
    codes = np.zeros(n, dtype=np.int8)
    for k in range(table.shape[1] - 1):
        codes += u >= (cum[0, k] if single else cum[rows, k])
    return codes


def _lognormal(rng: np.random.Generator, median, sigma, size) -> np.ndarray:
    return np.exp(np.log(median) + sigma * rng.standard_normal(size))


def _day_weights(rng: np.random.Generator, start: date) -> np.ndarray:
    t = np.arange(HISTORY_DAYS) / (HISTORY_DAYS - 1)
    weekday = (start.weekday() + np.arange(HISTORY_DAYS)) % 7
    seasonal = np.array([1.0, 1.06, 1.08, 1.02, 0.88, 0.32, 0.27])[weekday]
    days = [start + timedelta(days=int(d)) for d in range(HISTORY_DAYS)]
    holiday = np.array([0.45 if (d.month == 12 and d.day >= 22) or (d.month == 1 and d.day <= 2) else 1.0 for d in days])
    return seasonal * holiday * 2.3**t * _lognormal(rng, 1.0, 0.12, HISTORY_DAYS)


def _simulate(rng: np.random.Generator, n: int, end_date: date, prices: ListPrices) -> dict[str, np.ndarray]:
    start = end_date - timedelta(days=HISTORY_DAYS - 1)
    epoch0 = int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp())
    as_of = epoch0 + HISTORY_DAYS * 86400

    # When: day by growth x weekday, time of day mostly US business hours.
    w = _day_weights(rng, start)
    day = np.repeat(np.arange(HISTORY_DAYS), rng.multinomial(n, w / w.sum()))
    business = rng.random(n) < 0.75
    tod = np.where(business, rng.normal(14.5 * 3600, 3.2 * 3600, n), rng.uniform(0, 86400, n))
    launched = np.sort(day * 86400 + np.clip(tod, 0, 86399).astype(np.int64)) + epoch0
    day = (launched - epoch0) // 86400

    # Who and what.
    days = np.arange(HISTORY_DAYS)
    share = np.array([c[1] for c in CONSUMERS])
    first_day = np.array([c[2] for c in CONSUMERS])
    growth = np.array([c[3] for c in CONSUMERS])
    since = days[:, None] - first_day[None, :]
    active = np.where(since >= 0, 1 - np.exp(-np.maximum(since, 0) / 45.0), 0.0)
    active[:, first_day == 0] = 1.0
    day_t = days / (HISTORY_DAYS - 1)
    cons = _pick(rng, share[None, :] * active * growth[None, :] ** day_t[:, None], day)
    wf = _pick(rng, [c[4] for c in CONSUMERS], cons)
    # Platform mix per (consumer, day): on premises shrinks over the two years, EKS grows.
    pf_trend = np.ones((HISTORY_DAYS, 5))
    pf_trend[:, ONPREM] = 1.3 - 0.8 * day_t
    pf_trend[:, EKS] = 0.6 + 0.8 * day_t
    pf_mix = np.array([c[5] for c in CONSUMERS], dtype=float)
    pf = _pick(rng, (pf_mix[:, None, :] * pf_trend[None, :, :]).reshape(-1, 5), cons.astype(np.int64) * HISTORY_DAYS + day)
    onprem = pf == ONPREM
    region = np.where(onprem, _NA, _pick(rng, [c[6] for c in CONSUMERS], cons)).astype(np.int8)
    reg0 = np.maximum(region, 0)

    # Input, instance choice, run time.
    size_gb = np.empty(n)
    gb_per_sample = np.empty(n)
    node_hours = np.empty(n)
    kind = np.empty(n, dtype=np.int8)
    size_idx = np.empty(n, dtype=np.int8)
    tier_speed = np.empty(n)
    count = np.empty(n, dtype=np.int64)
    ebs_gb = np.empty(n)
    z = rng.standard_normal(n)
    for code, name in enumerate(WORKFLOWS):
        m = WORKFLOW_MODEL[name]
        sel = wf == code
        med, sigma, lo, hi = m["size"]
        gb = np.clip(np.exp(np.log(med) + sigma * z[sel]), lo, hi)
        size_gb[sel] = gb
        gb_per_sample[sel] = m["gb_per_sample"]
        a, b, p = m["nh"]
        node_hours[sel] = a + b * gb**p
        tier = np.zeros(sel.sum(), dtype=np.int64)
        for upper, *_ in m["tiers"][:-1]:
            tier += gb >= upper
        tiers = np.array([x[1:] for x in m["tiers"]], dtype=float)
        kind[sel] = tiers[tier, 0]
        size_idx[sel] = tiers[tier, 1]
        tier_speed[sel] = tiers[tier, 2]
        ebs_gb[sel] = m["ebs"]
    size_tenths = np.round(size_gb * 10).astype(np.int64)
    size_gb = size_tenths / 10
    samples = np.maximum(1, np.round(size_gb / gb_per_sample * _lognormal(rng, 1.0, 0.25, n))).astype(np.int64)
    for code, name in enumerate(WORKFLOWS):
        basis, per = WORKFLOW_MODEL[name]["count"]
        sel = wf == code
        driver = samples[sel] if basis == "samples" else size_gb[sel]
        count[sel] = np.ceil(driver / per)
    count = np.clip(count, 1, 16)
    count = np.where(kind == KIND_X, np.maximum(1, (count + 1) // 2), count)
    sample_count = np.where(rng.random(n) < 0.03, _NA, samples)

    gen = _pick(
        rng, np.stack([np.maximum(0.05, 0.45 - 0.4 * day_t), np.full(HISTORY_DAYS, 0.45), 0.1 + 0.5 * day_t], axis=1), day
    )
    family = np.select([kind == KIND_C, kind == KIND_M, kind == KIND_R, kind == KIND_I], [gen, 3 + gen, 6 + gen, 9], 10)
    family = np.where((family == 0) & (size_idx >= X8), 1, family)  # c5 has no 8xlarge/16xlarge
    itype = np.where(onprem, ONPREM_TYPE_CODE, family * len(SIZES) + size_idx)
    speed = tier_speed * np.array(GENERATION_SPEED)[family] * PLATFORM_SPEED[pf]
    node_hours = node_hours / speed * count**0.08 * _lognormal(rng, 1.0, 0.25, n)
    run_s = np.round(np.clip(node_hours / count, 0.1, 120) * 3600).astype(np.int64)

    option = np.where(onprem, RESERVED, _pick(rng, PURCHASE_MIX, pf)).astype(np.int8)

    # Status times.
    prep = np.clip(_lognormal(rng, 90, 0.7, n), 10, 1200)
    wait = np.clip(_lognormal(rng, 360, 0.9, n) + size_gb * 2, 30, 4 * 3600)
    queue = _lognormal(rng, QUEUE_MEDIAN_S[pf], QUEUE_SIGMA[pf], n)
    capacity_wait = np.isin(pf, (BATCH, PCLUSTER)) & (rng.random(n) < 0.05)
    queue = np.clip(queue + np.where(capacity_wait, _lognormal(rng, 3 * 3600, 0.8, n), 0), 20, 36 * 3600)
    t_prep = launched
    t_wait = t_prep + prep.astype(np.int64)
    t_ready = t_wait + wait.astype(np.int64)
    t_run = t_ready + queue.astype(np.int64)

    p_fail = 0.05 + 0.035 * (option == SPOT) + 0.02 * (size_gb > 800) + 0.02 * onprem
    failed = rng.random(n) < p_fail
    pre_run = failed & (rng.random(n) < 0.15)
    fail_stage = _pick(rng, [20, 40, 40], n)  # PREPARING, WAITING, READY
    run_frac = np.where(failed & ~pre_run, np.maximum(rng.beta(1.2, 1.8, n), 60 / np.maximum(run_s, 60)), 1.0)
    t_end = t_run + np.maximum(np.round(run_s * run_frac).astype(np.int64), 60)
    stage_time = np.choose(fail_stage, [t_prep, t_wait, t_ready])
    t_end = np.where(pre_run, stage_time + np.clip(_lognormal(rng, 120, 1.0, n), 5, 3600).astype(np.int64), t_end)
    times = np.stack([t_prep, t_wait, t_ready, t_run], axis=1)  # n x 4
    reached = np.ones((n, 4), dtype=bool)
    reached[pre_run] = np.arange(4)[None, :] <= fail_stage[pre_run, None]

    # Snapshot at as_of: anything whose end lies beyond it is still in progress.
    in_progress = t_end > as_of
    reached &= times <= as_of
    stage = np.where(in_progress, reached.sum(axis=1) - 1, _NA)
    # A few stuck launches from the last week: waiting for capacity, or a very long run.
    candidates = np.flatnonzero((day >= HISTORY_DAYS - 7) & ~in_progress & ~pre_run)
    n_stuck = min(len(candidates), max(3, n // 500))
    stuck = rng.choice(candidates, n_stuck, replace=False) if n_stuck else np.empty(0, dtype=np.int64)
    stuck_stage = _pick(rng, [10, 45, 45], n_stuck) + 1  # WAITING, READY, RUNNING
    in_progress[stuck] = True
    stage[stuck] = stuck_stage
    reached[stuck] = np.arange(4)[None, :] <= stuck_stage[:, None]
    ended = ~in_progress
    status = np.where(in_progress, stage, np.where(failed, 5, 4)).astype(np.int8)
    has_res = ended & ~pre_run
    times = np.where(reached, times, _NA)
    t_complete = np.where(ended & ~failed, t_end, _NA)
    t_failed = np.where(ended & failed, t_end, _NA)
    t_end = np.where(ended, t_end, _NA)
    end_day = np.where(ended, (t_end - epoch0) // 86400, _NA)

    # Second instance line: Batch mixes a smaller size of the family; ParallelCluster has a head node.
    batch2 = (pf == BATCH) & (rng.random(n) < 0.35) & (family != 10)
    head = pf == PCLUSTER
    size2 = np.maximum(size_idx - 1, 0)
    itype2 = np.select([batch2, head], [family * len(SIZES) + size2, (3 + gen) * len(SIZES) + XL], _NA)
    count2 = np.select([batch2, head], [np.maximum(1, count // 2), 1], _NA)
    option2 = np.where(head, ON_DEMAND, option).astype(np.int8)
    run_len = t_end - t_run
    s2 = np.where(head, t_ready, t_run + (rng.uniform(0.05, 0.35, n) * run_len).astype(np.int64))
    e2 = np.where(head, t_end, t_end - (rng.uniform(0, 0.1, n) * run_len).astype(np.int64))
    e2 = np.maximum(e2, s2 + 60)
    has2 = has_res & (itype2 != _NA)

    # Placement, storage.
    az_offset = np.array([0, 5, 9])
    az_count = np.array([len(x) for x in AZ_LETTERS])
    az = np.where(onprem, _NA, az_offset[reg0] + (rng.random(n) * az_count[reg0]).astype(np.int64))
    az2 = np.where(batch2, az_offset[reg0] + (rng.random(n) * az_count[reg0]).astype(np.int64), az)
    vol_w = np.stack(
        [np.full(HISTORY_DAYS, 78.0), 2 + 18 * (1 - day_t), np.full(HISTORY_DAYS, 4.0), np.full(HISTORY_DAYS, 6.0)], axis=1
    )
    vtype = np.where(onprem, _NA, _pick(rng, vol_w, day))  # gp2 fades out over the two years
    vsize = np.clip(np.round(_lognormal(rng, ebs_gb, 0.5, n) / 50) * 50, 100, 2000).astype(np.int64)
    vsize = np.where(vtype == 3, np.maximum(vsize, 500), vsize)  # st1 for bulk data only
    vtype2 = np.where(head, GP3, vtype)
    vsize2 = np.where(head, 200, vsize)
    # Provisioned performance: gp3 mostly at the free baseline (and not always recorded), io2 always.
    gp3_perf = np.array(GP3_PERFORMANCE)
    io2_iops = np.array(IO2_IOPS)
    gp3_pick = _pick(rng, gp3_perf[:, 2], n)
    io2_pick = _pick(rng, io2_iops[:, 1], n)
    recorded = rng.random(n) < GP3_RECORDED
    viops = np.select([(vtype == GP3) & recorded, vtype == IO2], [gp3_perf[gp3_pick, 0], io2_iops[io2_pick, 0]], _NA)
    vmibps = np.where((vtype == GP3) & recorded, gp3_perf[gp3_pick, 1], _NA)
    viops2 = np.where(head, GP3_FREE_IOPS, viops)  # the head node's root volume: gp3 at the baseline
    vmibps2 = np.where(head, GP3_FREE_MIBPS, vmibps)

    fs_used = np.isin(pf, (BATCH, PCLUSTER)) & (rng.random(n) < FSX_SHARE)
    fs_type = np.where(fs_used, _pick(rng, [50, 20, 30], n), _NA)
    fs_tier = np.minimum(np.searchsorted(FSX_CAPACITIES, size_gb * 1.5) + (rng.random(n) < 0.25), 4)
    fs_cap = FSX_CAPACITIES[fs_tier]
    fs_start = t_wait  # data is staged into Lustre while WAITING

    cluster = np.full(n, _NA, dtype=np.int64)
    eks = pf == EKS
    cluster[eks & (region == 0)] = np.where(rng.random(int((eks & (region == 0)).sum())) < 0.2, 1, 0)
    cluster[eks & (region == 1)] = 2
    cluster[eks & (region == 2)] = 3

    # Prices: the snapshot's list prices per region; Spot from the demo's own Spot price history.
    in_aws = has_res & ~onprem
    od = _priced(
        prices.instance[reg0, np.maximum(itype, 0) % ONPREM_TYPE_CODE],
        in_aws,
        "On-Demand",
        lambda i: f"{INSTANCE_TYPES[itype[i]]} in {REGIONS[region[i]]}",
        prices,
    )
    od2 = _priced(
        prices.instance[reg0, np.maximum(itype2, 0)],
        has2,
        "On-Demand",
        lambda i: f"{INSTANCE_TYPES[itype2[i]]} in {REGIONS[region[i]]}",
        prices,
    )
    spot1 = in_aws & (option == SPOT)
    spot2 = has2 & (option2 == SPOT)
    n_az = sum(len(x) for x in AZ_LETTERS)
    pair1 = np.where(spot1, itype.astype(np.int64) * n_az + az, _NA)
    pair2 = np.where(spot2, itype2.astype(np.int64) * n_az + az2, _NA)
    pairs = np.unique(np.concatenate([pair1[spot1], pair2[spot2]]))
    az_region = np.repeat(np.arange(len(REGIONS)), [len(x) for x in AZ_LETTERS])
    spot = _spot_history(rng, prices.instance[az_region[pairs % n_az], pairs // n_az], pairs, epoch0, as_of)
    spot_pairs = pairs

    # Costs in units of 1e-4 USD, rounded per part.
    h1 = np.where(has_res, (t_end - t_run) / 3600, 0.0)
    h2 = np.where(has2, (e2 - s2) / 3600, 0.0)
    hfs = np.where(has_res & fs_used, (t_end - fs_start) / 3600, 0.0)
    rate = np.where(option == RESERVED, RESERVED_RATE, 1.0)
    rate2 = np.where(option2 == RESERVED, RESERVED_RATE, 1.0)
    line1 = np.where(onprem, count * h1 * ONPREM_NODE_HOUR, count * h1 * od * rate)
    line1 = np.where(spot1, count * _spot_dollars(spot, np.searchsorted(pairs, pair1), t_run, t_end, spot1), line1)
    line2 = np.where(spot2, count2 * _spot_dollars(spot, np.searchsorted(pairs, pair2), s2, e2, spot2), count2 * h2 * od2 * rate2)
    inst = np.where(has_res, line1, 0.0) + np.where(has2, line2, 0.0)

    def volume_month(vt: np.ndarray, gb: np.ndarray, iops: np.ndarray, mibps: np.ndarray, used: np.ndarray) -> np.ndarray:
        """$ per volume-month: GB, IOPS above the free baseline (gp3) or all (io2), MiB/s above 125 (gp3)."""
        vt0 = np.maximum(vt, 0)
        paid_iops = np.maximum(iops - np.where(vt == GP3, GP3_FREE_IOPS, 0), 0) * (iops != _NA)
        paid_mibps = np.maximum(mibps - np.where(vt == GP3, GP3_FREE_MIBPS, 0), 0) * (mibps != _NA)
        label = lambda i: f"{VOLUME_TYPES[vt0[i]]} in {REGIONS[reg0[i]]}"  # noqa: E731
        total = gb * _priced(prices.volume[reg0, vt0], used, "EBS storage", label, prices)
        total += paid_iops * _priced(prices.iops[reg0, vt0], used & (paid_iops > 0), "EBS IOPS", label, prices)
        return total + paid_mibps * _priced(
            prices.throughput[reg0, vt0], used & (paid_mibps > 0), "EBS throughput", label, prices
        )

    vol = np.where(in_aws, count * volume_month(vtype, vsize, viops, vmibps, in_aws) * h1 / HOURS_PER_MONTH, 0.0)
    vol += np.where(has2, count2 * volume_month(vtype2, vsize2, viops2, vmibps2, has2) * h2 / HOURS_PER_MONTH, 0.0)
    fs_price = _priced(
        prices.filesystem[reg0, np.maximum(fs_type, 0)],
        has_res & fs_used,
        "FSx for Lustre",
        lambda i: f"{FSX_TYPES[fs_type[i]]} in {REGIONS[reg0[i]]}",
        prices,
    )
    fs = np.where(fs_used, fs_cap * fs_price * hfs / HOURS_PER_MONTH, 0.0)
    c_inst, c_vol, c_fs = (np.rint(x * 10_000).astype(np.int64) for x in (inst, vol, fs))
    # The control plane share in exact integers (1e-4 USD): seconds x price/h / 3600 / 3, rounded half up.
    run_seconds = np.where(has_res & eks, t_end - t_run, 0)
    eks_price = _priced(prices.eks[reg0], has_res & eks, "EKS", lambda i: f"the control plane in {REGIONS[reg0[i]]}", prices)
    per_hour = np.rint(eks_price * 1e10).astype(np.int64)  # 1e-10 USD per hour
    den = 3600 * EKS_SHARING * 1_000_000
    c_cp = (2 * run_seconds * per_hour + den) // (2 * den)
    c_total = c_inst + c_vol + c_fs + c_cp

    # Pending price: a background of items the pricing step never reached, and most of the last day or two.
    age_days = np.where(ended, (as_of - t_end) / 86400, np.inf)
    pending = has_res & (rng.random(n) < 0.012 + 0.8 * np.exp(-age_days / 1.5))
    priced = ended & ~pending

    return dict(
        n=np.array(n),
        epoch0=np.array(epoch0),
        as_of=np.array(as_of),
        hid=rng.integers(0, 1 << 24, n),
        run_hid=rng.integers(0, 1 << 16, n),
        fs_hid=rng.integers(0, 1 << 62, n),
        export_order=rng.permutation(n),
        day=day,
        cons=cons,
        wf=wf,
        pf=pf,
        region=region,
        status=status,
        epoch_ts=day < EPOCH_SECONDS_DAYS,
        size_tenths=size_tenths,
        sample_count=sample_count,
        t_prep=times[:, 0],
        t_wait=times[:, 1],
        t_ready=times[:, 2],
        t_run=times[:, 3],
        t_complete=t_complete,
        t_failed=t_failed,
        t_end=t_end,
        end_day=end_day,
        has_res=has_res,
        priced=priced,
        pending=pending,
        in_progress=in_progress,
        failed=failed & ended,
        itype=itype,
        option=option,
        count=count,
        az=az,
        vtype=vtype,
        vsize=vsize,
        itype2=np.where(has2, itype2, _NA),
        option2=option2,
        count2=count2,
        az2=az2,
        s2=s2,
        e2=e2,
        vtype2=vtype2,
        vsize2=vsize2,
        fs_type=np.where(has_res, fs_type, _NA),
        fs_cap=fs_cap,
        fs_start=fs_start,
        cluster=np.where(has_res, cluster, _NA),
        c_inst=c_inst,
        c_vol=c_vol,
        c_fs=c_fs,
        c_cp=c_cp,
        c_total=c_total,
        inst_hours=count * h1 + np.where(has2, count2 * h2, 0.0),
        vol_gb_months=np.where(onprem, 0.0, count * vsize * h1 / HOURS_PER_MONTH)
        + np.where(has2, count2 * vsize2 * h2 / HOURS_PER_MONTH, 0.0),
        fs_gb_months=np.where(fs_used, fs_cap * hfs / HOURS_PER_MONTH, 0.0),
        cp_hours=np.where(eks, h1 / EKS_SHARING, 0.0),
        viops=viops,
        vmibps=vmibps,
        viops2=viops2,
        vmibps2=vmibps2,
        spot_pairs=spot_pairs,
        spot_series=spot[0],
        spot_t=spot[1],
        spot_price=spot[2],
        eks_cluster_hour=prices.eks,
    )


def _spot_history(
    rng: np.random.Generator, on_demand: np.ndarray, pairs: np.ndarray, t_from: int, t_to: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A Spot price history per (instance type, zone) pair: (series index, epoch second, $/h), by series then time.

    A step function from a few days before ``t_from`` to ``t_to``: a change every ~``7 / SPOT_CHANGES_PER_WEEK``
    days (exponential gaps, at least ``SPOT_MIN_GAP_S``), the price a bounded random walk within
    ``SPOT_FRACTION`` of the pair's On-Demand price, rounded to 4 decimals as AWS quotes it.
    """
    s = len(pairs)
    mean_gap = 7 * 86400 / SPOT_CHANGES_PER_WEEK
    expected = (t_to - t_from) / mean_gap
    m = int(expected + 10 * math.sqrt(expected) + 20)  # enough steps to pass t_to in every series
    first = t_from - rng.integers(0, 3 * 86400, s)
    gaps = np.maximum(rng.exponential(mean_gap, (s, m - 1)), SPOT_MIN_GAP_S).astype(np.int64)
    t = first[:, None] + np.concatenate([np.zeros((s, 1), np.int64), np.cumsum(gaps, axis=1)], axis=1)
    lo, hi = SPOT_FRACTION
    frac = np.empty((s, m))
    f = rng.uniform(lo + 0.03, hi - 0.03, s)
    moves = rng.normal(0, SPOT_STEP_SD, (s, m))
    for k in range(m):  # reflect at the bounds
        if k:
            f = f + moves[:, k]
            f = np.where(f > hi, 2 * hi - f, f)
            f = np.where(f < lo, 2 * lo - f, f)
        frac[:, k] = f
    price = np.round(on_demand[:, None] * frac, 4)
    keep = t < t_to
    return np.repeat(np.arange(s), keep.sum(axis=1)), t[keep], price[keep]


def _spot_dollars(
    spot: tuple[np.ndarray, np.ndarray, np.ndarray], series: np.ndarray, start: np.ndarray, end: np.ndarray, used: np.ndarray
) -> np.ndarray:
    """Per line, the Spot price integrated over [start, end): $ for one instance (0 where not ``used``).

    Each price holds from its timestamp until the next one; with F(x) the running integral of a series,
    a line costs F(end) - F(start), each found by a binary search: linear in lines and price points.
    """
    sid, t, price = spot
    if len(t) == 0:
        return np.zeros(len(start))
    base = int(t.min())
    key = sid * (1 << 34) + (t - base)
    seg = np.zeros(len(t))
    seg[:-1] = np.where(sid[1:] == sid[:-1], price[:-1] * (t[1:] - t[:-1]), 0.0)
    cum = np.cumsum(seg) - seg  # before each point, over the whole array
    cum -= cum[np.searchsorted(sid, sid)]  # ... from the start of its own series

    def integral(x: np.ndarray) -> np.ndarray:
        q = np.where(used, series, 0) * (1 << 34) + (np.where(used, x, base) - base)
        i = np.searchsorted(key, q, side="right") - 1
        return cum[i] + price[i] * (np.where(used, x, base) - t[i])

    return np.where(used, (integral(end) - integral(start)) / 3600, 0.0)


# ---------------------------------------------------------------------------------------------------------
# DynamoDB export
# ---------------------------------------------------------------------------------------------------------


def _export_id(seed: int, launches: int, end_date: date) -> str:
    as_of = datetime(end_date.year, end_date.month, end_date.day, tzinfo=UTC) + timedelta(days=1)
    digest = hashlib.sha256(f"launch-ledger-demo:{seed}:{launches}:{end_date.isoformat()}".encode()).hexdigest()
    return f"{int(as_of.timestamp() * 1000):014d}-{digest[:8]}"


def _dict_array(codes: np.ndarray, names: tuple[str, ...]) -> pa.DictionaryArray:
    codes = np.asarray(codes)
    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int16), mask=codes < 0), pa.array(names))


def _ts_array(values: np.ndarray) -> pa.Array:
    values = np.asarray(values, dtype=np.int64)
    return pa.array(values.view("datetime64[s]"), mask=values < 0)


def _int_array(values: np.ndarray) -> pa.Array:
    values = np.asarray(values, dtype=np.int64)
    return pa.array(values, mask=values < 0)


def _chunk_table(sim: dict[str, np.ndarray], rows: np.ndarray) -> pa.Table:
    """The columns one data file needs, for launch indexes ``rows``."""

    def col(name):
        return sim[name][rows]

    has_res = col("has_res")
    priced = col("priced")
    itype = col("itype")

    def res(values):  # only launches with resources carry resource attributes
        return np.where(has_res, values, _NA)

    def cost(values):
        return np.where(priced, values, _NA)

    az_names = tuple(f"{r}{letter}" for r, letters in zip(REGIONS, AZ_LETTERS, strict=True) for letter in letters)
    return pa.table(
        {
            "idx": pa.array(rows.astype(np.int64)),
            "hid": pa.array(col("hid")),
            "run_hid": pa.array(col("run_hid")),
            "consumer": _dict_array(col("cons"), CONSUMER_NAMES),
            "workflow_type": _dict_array(col("wf"), WORKFLOWS),
            "platform": _dict_array(col("pf"), PLATFORMS),
            "region": _dict_array(col("region"), REGIONS),
            "status": _dict_array(col("status"), STATUSES),
            "ep": pa.array(col("epoch_ts")),
            "size_tenths": pa.array(col("size_tenths")),
            "sample_count": _int_array(col("sample_count")),
            "t_prep": _ts_array(col("t_prep")),
            "t_wait": _ts_array(col("t_wait")),
            "t_ready": _ts_array(col("t_ready")),
            "t_run": _ts_array(col("t_run")),
            "t_complete": _ts_array(col("t_complete")),
            "t_failed": _ts_array(col("t_failed")),
            "has_res": pa.array(has_res),
            "i1_type": _dict_array(res(itype), INSTANCE_TYPES),
            "i1_opt": _dict_array(col("option"), PURCHASE_OPTIONS),
            "i1_n": pa.array(col("count")),
            "i1_az": _dict_array(col("az"), az_names),
            "i1_s": _ts_array(col("t_run")),
            "i1_e": _ts_array(col("t_end")),
            "v1_type": _dict_array(res(col("vtype")), VOLUME_TYPES),
            "v1_gb": pa.array(col("vsize")),
            "v1_iops": _int_array(col("viops")),
            "v1_mibps": _int_array(col("vmibps")),
            "i2_type": _dict_array(col("itype2"), INSTANCE_TYPES),
            "i2_opt": _dict_array(col("option2"), PURCHASE_OPTIONS),
            "i2_n": pa.array(col("count2")),
            "i2_az": _dict_array(col("az2"), az_names),
            "i2_s": _ts_array(col("s2")),
            "i2_e": _ts_array(col("e2")),
            "v2_type": _dict_array(col("vtype2"), VOLUME_TYPES),
            "v2_gb": pa.array(col("vsize2")),
            "v2_iops": _int_array(col("viops2")),
            "v2_mibps": _int_array(col("vmibps2")),
            "fs_type": _dict_array(col("fs_type"), FSX_TYPES),
            "fs_hid": pa.array(col("fs_hid")),
            "fs_cap": pa.array(col("fs_cap")),
            "fs_s": _ts_array(col("fs_start")),
            "cluster": _dict_array(col("cluster"), EKS_CLUSTERS),
            "c_total": _int_array(cost(col("c_total"))),
            "c_inst": _int_array(cost(col("c_inst"))),
            "c_vol": _int_array(cost(col("c_vol"))),
            "c_fs": _int_array(cost(col("c_fs"))),
        }
    )


def _ts(column: str) -> str:
    """DynamoDB JSON for a timestamp column: ISO 8601 UTC string, or epoch seconds for old items."""
    return (
        f"CASE WHEN ep THEN '{{\"N\":\"' || epoch({column})::BIGINT || '\"}}' "
        f"ELSE '{{\"S\":\"' || strftime({column}, '%Y-%m-%dT%H:%M:%SZ') || '\"}}' END"
    )


def _s(expr: str) -> str:
    return f"'{{\"S\":\"' || {expr} || '\"}}'"


def _n(expr: str) -> str:
    return f"'{{\"N\":\"' || {expr} || '\"}}'"


def _attr(name: str, value: str) -> str:
    """``"name":value``; NULL when value is NULL, so concat_ws leaves the attribute out."""
    return f"'\"{name}\":' || {value}"


def _money(column: str) -> str:
    return _s(f"({column} // 10000)::VARCHAR || '.' || lpad(({column} % 10000)::VARCHAR, 4, '0')")


def _item_sql(id_width: int) -> str:
    """One JSON line (with its newline) per launch in table ``chunk``, attributes absent when NULL."""

    def instance(k: int) -> str:
        fields = ", ".join(
            [
                _attr("instance_type", _s(f"i{k}_type")),
                _attr("purchase_option", _s(f"i{k}_opt")),
                _attr("count", _n(f"i{k}_n")),
                _attr("availability_zone", _s(f"i{k}_az")),  # absent on premises
                _attr("start", _ts(f"i{k}_s")),
                _attr("end", _ts(f"i{k}_e")),
            ]
        )
        return f"CASE WHEN i{k}_type IS NOT NULL THEN '{{\"M\":{{' || concat_ws(',', {fields}) || '}}}}' END"

    def volume(k: int) -> str:  # NULL (left out) when the volume type is NULL; iops/throughput only when recorded
        fields = ", ".join(
            [
                _attr("volume_type", _s(f"v{k}_type")),
                _attr("size_gb", _n(f"v{k}_gb")),
                _attr("count", _n(f"i{k}_n")),
                _attr("iops", _n(f"v{k}_iops")),
                _attr("throughput", _n(f"v{k}_mibps")),
                _attr("start", _ts(f"i{k}_s")),
                _attr("end", _ts(f"i{k}_e")),
            ]
        )
        return f"CASE WHEN v{k}_type IS NOT NULL THEN '{{\"M\":{{' || concat_ws(',', {fields}) || '}}}}' END"

    instances = f"'\"instances\":{{\"L\":[' || concat_ws(',', {instance(1)}, {instance(2)}) || ']}}'"
    volumes = (
        f'CASE WHEN v1_type IS NOT NULL THEN \'"volumes":{{"L":[\' || '
        f"concat_ws(',', {volume(1)}, CASE WHEN i2_type IS NOT NULL THEN {volume(2)} END) || ']}}' END"
    )
    filesystem = _attr(
        "filesystem",
        "'{\"M\":{' || "
        + " || ',' || ".join(
            [
                _attr("file_system_id", _s("'fs-0' || lower(lpad(to_hex(fs_hid), 16, '0'))")),
                _attr("deployment_type", _s("fs_type")),
                _attr("capacity_gb", _n("fs_cap")),
                _attr("start", _ts("fs_s")),
                _attr("end", _ts("i1_e")),
            ]
        )
        + " || '}}'",
    )
    cluster = _attr(
        "cluster",
        "'{\"M\":{' || "
        + " || ',' || ".join(
            [
                _attr("cluster_name", _s("cluster")),
                _attr("start", _ts("i1_s")),
                _attr("end", _ts("i1_e")),
            ]
        )
        + " || '}}'",
    )
    resources = f"CASE WHEN has_res THEN '\"resources\":{{\"M\":{{' || concat_ws(',', {instances}, {volumes}, {filesystem}, {cluster}) || '}}}}' END"
    status_times = (
        "'\"status_times\":{\"M\":{' || concat_ws(',', "
        + ", ".join(
            _attr(status, _ts(column))
            for status, column in zip(STATUSES, ("t_prep", "t_wait", "t_ready", "t_run", "t_complete", "t_failed"), strict=True)
        )
        + ") || '}}'"
    )
    launch_id = f"'wl-' || lpad(idx::VARCHAR, {id_width}, '0') || '-' || lower(lpad(to_hex(hid), 6, '0'))"
    input_path = "'s3://genomics-raw/' || consumer || '/run-' || strftime(t_prep, '%Y%m%d') || '-' || lower(lpad(to_hex(run_hid), 4, '0')) || '/'"
    attributes = [
        _attr("launch_id", _s(launch_id)),
        _attr("consumer", _s("consumer")),
        _attr("workflow_type", _s("workflow_type")),
        _attr("compute_platform", _s("platform")),
        _attr("region", _s("region")),
        _attr("status", _s("status")),
        status_times,
        _attr("input_path", _s(input_path)),
        _attr("input_size_gb", _n("(size_tenths // 10)::VARCHAR || '.' || (size_tenths % 10)::VARCHAR")),
        _attr("sample_count", _n("sample_count")),
        resources,
        _attr("totalCost", _money("c_total")),
        _attr("instance_cost", _money("c_inst")),
        _attr("volume_cost", _money("c_vol")),
        _attr("filesystem_cost", _money("c_fs")),
    ]
    return "SELECT '{\"Item\":{' || concat_ws(',', " + ", ".join(attributes) + ") || '}}' || chr(10) AS line FROM chunk"


def _write_gzip_lines(cursor: duckdb.DuckDBPyConnection, sql: str, path: Path) -> tuple[int, int]:
    """Stream the ``line`` column of ``sql`` into a gzip file; returns (lines, uncompressed bytes)."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)  # wbits 31: gzip wrapper, mtime 0, no name
    lines = raw = 0
    with open(path, "wb") as out:
        for batch in cursor.sql(sql).to_arrow_reader(50_000):
            column = batch.column(0)
            if column.type not in (pa.string(), pa.large_string()):
                column = column.cast(pa.large_string())
            offsets = np.frombuffer(column.buffers()[1], dtype=np.int32 if column.type == pa.string() else np.int64)
            first, last = int(offsets[column.offset]), int(offsets[column.offset + len(column)])
            data = memoryview(column.buffers()[2])[first:last]
            out.write(compressor.compress(data))
            lines += len(column)
            raw += last - first
        out.write(compressor.flush())
    return lines, raw


def _file_digests(path: Path) -> tuple[str, str]:
    digest = hashlib.md5(path.read_bytes()).digest()
    return base64.b64encode(digest).decode(), digest.hex()


def _data_file_name(seed: int, launches: int, end_date: date, k: int) -> str:
    digest = hashlib.sha256(f"data-file:{seed}:{launches}:{end_date.isoformat()}:{k}".encode()).digest()
    return base64.b32encode(digest).decode().lower()[:26] + ".json.gz"


def _write_export(
    root: Path,
    export_id: str,
    sim: dict[str, np.ndarray],
    bad: list[dict],
    seed: int,
    launches: int,
    end_date: date,
    progress: Callable[[int], None] | None,
) -> None:
    base = root / "AWSDynamoDB" / export_id
    data_dir = base / "data"
    data_dir.mkdir(parents=True)
    (base / "_started").write_bytes(b"")

    order = sim["export_order"]
    n_files = min(launches, max(MIN_DATA_FILES, math.ceil(launches / ITEMS_PER_FILE)))
    bounds = np.linspace(0, launches, n_files + 1).astype(np.int64)
    sql = _item_sql(max(7, len(str(launches))))
    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.execute("SET preserve_insertion_order = true")

    def write(k: int) -> tuple[str, int, int]:
        rows = order[bounds[k] : bounds[k + 1]]
        table = _chunk_table(sim, rows)
        cursor = con.cursor()
        try:
            cursor.register("chunk", table)
            name = _data_file_name(seed, launches, end_date, k)
            lines, raw = _write_gzip_lines(cursor, sql, data_dir / name)
        finally:
            cursor.close()
        return name, lines, raw

    files: list[tuple[str, int, int]] = []
    written = 0
    if progress:
        progress(0)
    with ThreadPoolExecutor(max_workers=2) as pool:
        for name, lines, raw in pool.map(write, range(n_files)):
            files.append((name, lines, raw))
            written += lines
            if progress:
                progress(written)
    con.close()

    bad_bytes = b"".join(json.dumps(item, separators=(",", ":")).encode() + b"\n" for item in bad)
    with open(data_dir / BAD_ITEMS_FILE, "wb") as raw_out, gzip.GzipFile(filename="", mode="wb", fileobj=raw_out, mtime=0) as gz:
        gz.write(bad_bytes)
    files.append((BAD_ITEMS_FILE, len(bad), len(bad_bytes)))

    manifest_lines = []
    for name, lines, _raw in files:
        md5_b64, md5_hex = _file_digests(data_dir / name)
        manifest_lines.append(
            json.dumps(
                {
                    "itemCount": lines,
                    "md5Checksum": md5_b64,
                    "etag": md5_hex,
                    "dataFileS3Key": f"AWSDynamoDB/{export_id}/data/{name}",
                },
                separators=(",", ":"),
            )
        )
    manifest_files = ("\n".join(manifest_lines) + "\n").encode()
    (base / "manifest-files.json").write_bytes(manifest_files)
    (base / "manifest-files.checksum").write_text(hashlib.md5(manifest_files).hexdigest())

    as_of = datetime(end_date.year, end_date.month, end_date.day, tzinfo=UTC) + timedelta(days=1)
    table_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/workflow-launches"
    table_id = hashlib.sha256(f"table:{seed}".encode()).hexdigest()
    summary = {
        "version": "2020-06-30",
        "exportArn": f"{table_arn}/export/{export_id}",
        "startTime": _iso_ms(as_of + timedelta(seconds=2.5)),
        "endTime": _iso_ms(as_of + timedelta(seconds=180 + launches // 2000)),
        "tableArn": table_arn,
        "tableId": f"{table_id[:8]}-{table_id[8:12]}-{table_id[12:16]}-{table_id[16:20]}-{table_id[20:32]}",
        "exportTime": _iso_ms(as_of),
        "s3Bucket": "launch-ledger-exports",
        "s3Prefix": None,
        "s3SseAlgorithm": "AES256",
        "s3SseKmsKeyId": None,
        "manifestFilesS3Key": f"AWSDynamoDB/{export_id}/manifest-files.json",
        "billedSizeBytes": sum(raw for _, _, raw in files),
        "itemCount": launches + len(bad),
        "outputFormat": "DYNAMODB_JSON",
        "exportType": "FULL_EXPORT",
    }
    summary_bytes = json.dumps(summary, indent=None, separators=(",", ":")).encode()
    (base / "manifest-summary.json").write_bytes(summary_bytes)
    (base / "manifest-summary.checksum").write_text(hashlib.md5(summary_bytes).hexdigest())


def _iso_ms(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _bad_items(as_of: int) -> list[dict]:
    """Realistic mistakes a workflow manager (or a person editing the table) makes, one per item."""
    base_t = as_of - 5 * 86400 + 9 * 3600

    def item(key: str, *, status="COMPLETE", times=None, instances=None, costs=None, drop=()):
        t = base_t + int(key[-2:]) * 3600
        times = times or {
            "PREPARING": {"S": _iso(t)},
            "WAITING": {"S": _iso(t + 95)},
            "READY": {"S": _iso(t + 700)},
            "RUNNING": {"S": _iso(t + 1300)},
            "COMPLETE": {"S": _iso(t + 1300 + 4 * 3600)},
        }
        instances = instances or [
            {
                "M": {
                    "instance_type": {"S": "r6i.4xlarge"},
                    "purchase_option": {"S": "Spot"},
                    "count": {"N": "2"},
                    "availability_zone": {"S": "us-east-1b"},
                    "start": {"S": _iso(t + 1300)},
                    "end": {"S": _iso(t + 1300 + 4 * 3600)},
                }
            }
        ]
        costs = costs or {"totalCost": "3.0240", "instance_cost": "2.9030", "volume_cost": "0.1210", "filesystem_cost": "0.0000"}
        body = {
            "launch_id": {"S": f"wl-review-{key[-2:]}"},
            "consumer": {"S": "bioinformatics-core"},
            "workflow_type": {"S": "nextflow-rnaseq"},
            "compute_platform": {"S": "Batch"},
            "region": {"S": "us-east-1"},
            "status": {"S": status},
            "status_times": {"M": times},
            "input_path": {"S": f"s3://genomics-raw/bioinformatics-core/run-review-{key[-2:]}/"},
            "input_size_gb": {"N": "36.5"},
            "sample_count": {"N": "12"},
            "resources": {
                "M": {
                    "instances": {"L": instances},
                    "volumes": {
                        "L": [
                            {
                                "M": {
                                    "volume_type": {"S": "gp3"},
                                    "size_gb": {"N": "500"},
                                    "count": {"N": "2"},
                                    "start": instances[0]["M"]["start"],
                                    "end": instances[0]["M"]["end"],
                                }
                            }
                        ]
                    },
                }
            },
            **{k: {"S": v} for k, v in costs.items()},
        }
        for attr in drop:
            body.pop(attr)
        return {"Item": body}

    t2, t8 = base_t + 2 * 3600, base_t + 8 * 3600
    return [
        item("01", drop=("launch_id",)),  # written by a script that forgot the key
        item(
            "02",
            times={
                "PREPARING": {"S": "04/03/2025 10:00"},
                "WAITING": {"S": _iso(t2 + 95)},
                "READY": {"S": _iso(t2 + 700)},
                "RUNNING": {"S": _iso(t2 + 1300)},
                "COMPLETE": {"S": _iso(t2 + 1300 + 4 * 3600)},
            },
        ),
        item("03", costs={"totalCost": "n/a", "instance_cost": "n/a", "volume_cost": "n/a", "filesystem_cost": "n/a"}),
        item("04", status="CANCELLED_BY_USER"),
        item(
            "05",
            times={
                "PREPARING": {"S": _iso(base_t + 5 * 3600)},
                "WAITING": {"S": _iso(base_t + 5 * 3600 + 90)},
                "READY": {"S": _iso(base_t + 5 * 3600 + 2400)},
                "RUNNING": {"S": _iso(base_t + 5 * 3600 + 600)},
                "COMPLETE": {"S": _iso(base_t + 9 * 3600)},
            },
        ),
        item(
            "06",
            instances=[
                {
                    "M": {
                        "instance_type": {"S": "c6i.8xlarge"},
                        "purchase_option": {"S": "On-Demand"},
                        "count": {"N": "1"},
                        "availability_zone": {"S": "us-east-1a"},
                        "start": {"S": _iso(base_t + 6 * 3600 + 5 * 3600)},
                        "end": {"S": _iso(base_t + 6 * 3600 + 1300)},
                    }
                }
            ],
        ),  # clock skew: end before start
        item(
            "07", costs={"totalCost": "3,0240", "instance_cost": "2,9030", "volume_cost": "0,1210", "filesystem_cost": "0,0000"}
        ),
        item(
            "08",
            times={
                "PREPARING": {"S": "2025-02-30T10:00:00Z"},
                "WAITING": {"S": _iso(t8 + 95)},
                "READY": {"S": _iso(t8 + 700)},
                "RUNNING": {"S": _iso(t8 + 1300)},
                "COMPLETE": {"S": _iso(t8 + 1300 + 4 * 3600)},
            },
        ),
    ]


# ---------------------------------------------------------------------------------------------------------
# Spot price history
# ---------------------------------------------------------------------------------------------------------


def _write_spot_history(root: Path, sim: dict[str, np.ndarray], seed: int, launches: int, end_date: date) -> None:
    """DescribeSpotPriceHistory responses (Linux/UNIX), per region, newest first, chained by NextToken."""
    root.mkdir(parents=True)
    n_az = sum(len(x) for x in AZ_LETTERS)
    az_names = np.array([f"{r}{letter}" for r, letters in zip(REGIONS, AZ_LETTERS, strict=True) for letter in letters])
    az_region = np.repeat(np.arange(len(REGIONS)), [len(x) for x in AZ_LETTERS])
    pairs, sid, t, price = sim["spot_pairs"], sim["spot_series"], sim["spot_t"], sim["spot_price"]
    az = pairs[sid] % n_az
    types = np.array(INSTANCE_TYPES)[pairs[sid] // n_az]
    stamps = np.char.add(np.datetime_as_string(t.astype("datetime64[s]"), unit="s"), ".000Z")
    prices = np.char.mod("%.6f", price)
    for r, region in enumerate(REGIONS):
        here = np.flatnonzero(az_region[az] == r)
        here = here[np.lexsort((types[here], az[here], -t[here]))]  # newest first, then zone and type
        pages = [here[i : i + SPOT_POINTS_PER_PAGE] for i in range(0, len(here), SPOT_POINTS_PER_PAGE)] or [here]
        (root / region).mkdir()
        for p, rows in enumerate(pages, start=1):
            body: dict = {
                "SpotPriceHistory": [
                    {
                        "AvailabilityZone": str(az_names[az[i]]),
                        "InstanceType": str(types[i]),
                        "ProductDescription": SPOT_PRODUCT,
                        "SpotPrice": str(prices[i]),
                        "Timestamp": str(stamps[i]),
                    }
                    for i in rows
                ],
            }
            if p < len(pages):
                body["NextToken"] = _page_token(seed, launches, end_date, p + 1, f"spot:{region}")
            rid = hashlib.sha256(f"spot:{seed}:{launches}:{end_date}:{region}:{p}".encode()).hexdigest()
            rid = f"{rid[:8]}-{rid[8:12]}-{rid[12:16]}-{rid[16:20]}-{rid[20:32]}"
            body["ResponseMetadata"] = {
                "RequestId": rid,
                "HTTPStatusCode": 200,
                "RetryAttempts": 0,
                "HTTPHeaders": {"x-amzn-requestid": rid, "content-type": "text/xml;charset=UTF-8"},
            }
            (root / region / f"page-{p:04d}.json").write_text(json.dumps(body, separators=(",", ":")) + "\n")


# ---------------------------------------------------------------------------------------------------------
# Cost Explorer
# ---------------------------------------------------------------------------------------------------------


def _amount(value: float) -> str:
    return f"{value:.10f}"


def _write_cost_explorer(
    root: Path, sim: dict[str, np.ndarray], rng: np.random.Generator, launches: int, end_date: date, seed: int
) -> None:
    root.mkdir(parents=True)
    n_cons = len(CONSUMERS)
    days = HISTORY_DAYS
    start = end_date - timedelta(days=days - 1)
    billed = (sim["end_day"] >= 0) & (sim["pf"] != ONPREM)
    key = sim["end_day"][billed] * n_cons + sim["cons"][billed]

    def per_day_consumer(values: np.ndarray) -> np.ndarray:
        return np.bincount(key, weights=values[billed], minlength=days * n_cons).reshape(days, n_cons)

    list_usd = {
        CE_COMPUTE_SERVICE: per_day_consumer(sim["c_inst"]) / 10_000,
        CE_EC2_OTHER: per_day_consumer(sim["c_vol"]) / 10_000,
        CE_FSX: per_day_consumer(sim["c_fs"]) / 10_000,
        CE_EKS: per_day_consumer(sim["c_cp"]) / 10_000,
    }
    usage = {
        CE_COMPUTE_SERVICE: per_day_consumer(sim["inst_hours"]),
        CE_EC2_OTHER: per_day_consumer(sim["vol_gb_months"]),
        CE_FSX: per_day_consumer(sim["fs_gb_months"]),
        CE_EKS: per_day_consumer(sim["cp_hours"]),
    }
    scale = launches / CE_OUTSIDE_SCALE_LAUNCHES
    lo, hi = (float(x) for x in CE_COMPUTE_BILLED_VS_LIST)
    slo, shi = (float(x) for x in CE_STORAGE_BILLED_VS_LIST)
    outside = np.array([CE_OUTSIDE_COMPUTE_PER_DAY[c] for c in CONSUMER_NAMES])[None, :] * scale
    outside = outside * rng.uniform(*CE_OUTSIDE_NOISE, (days, n_cons))
    tagged = {CE_COMPUTE_SERVICE: list_usd[CE_COMPUTE_SERVICE] * rng.uniform(lo, hi, (days, n_cons)) + outside}
    for service in (CE_EC2_OTHER, CE_FSX, CE_EKS):
        tagged[service] = list_usd[service] * rng.uniform(slo, shi, (days, n_cons))
    usage[CE_COMPUTE_SERVICE] = usage[CE_COMPUTE_SERVICE] + outside / 0.40  # dev boxes at ~$0.40/h

    # Tagged S3 (results buckets) and the untagged spend, sized from the tagged level so every scale looks alike.
    t = np.arange(days) / (days - 1)
    daily_tagged = sum(v.sum(axis=1) for v in tagged.values())
    level = max(float(daily_tagged.mean()), 1.0)
    cons_share = np.array([c[1] for c in CONSUMERS])
    tagged[CE_S3] = 0.03 * level * cons_share[None, :] * (0.5 + t[:, None]) * rng.lognormal(0, 0.05, (days, n_cons))
    usage[CE_S3] = tagged[CE_S3] / 0.023 * 30
    untagged = {
        CE_S3: 0.07 * level * (0.6 + 0.8 * t) * rng.lognormal(0, 0.03, days),
        CE_EC2_OTHER: 0.02 * level * rng.lognormal(0, 0.15, days) + 3.24 * scale,
        CE_VPC: np.full(days, 2.4 * max(scale, 0.25)),
        CE_EKS: np.full(days, 24 * float(sim["eks_cluster_hour"][list(EKS_CLUSTER_REGION)].sum())),
        CE_COST_EXPLORER: rng.integers(10, 60, days) * 0.01,
    }
    untagged_usage = {
        CE_S3: untagged[CE_S3] / 0.023 * 30,
        CE_EC2_OTHER: untagged[CE_EC2_OTHER] / 0.045,
        CE_VPC: untagged[CE_VPC] / 0.005,
        CE_EKS: np.full(days, 24.0 * len(EKS_CLUSTERS)),
        CE_COST_EXPLORER: untagged[CE_COST_EXPLORER] / 0.01,
    }
    dates = [start + timedelta(days=d) for d in range(days)]
    day_total = daily_tagged + tagged[CE_S3].sum(axis=1) + sum(untagged.values())

    # Business support on the 1st, tiered on the previous month's charges (the first month stands in for its own).
    support = np.zeros(days)
    month_of = np.array([d.year * 12 + d.month - 1 for d in dates])
    for d, moment in enumerate(dates):
        if moment.day == 1:
            prev = month_of == month_of[d] - 1
            basis = day_total[prev].sum() if prev.any() else day_total[month_of == month_of[d]].sum()
            support[d] = max(100.0, _support_fee(basis))
    untagged[CE_SUPPORT] = support
    untagged_usage[CE_SUPPORT] = (support > 0).astype(float)
    credit = np.zeros(days)
    for d, moment in enumerate(dates):
        if moment.day == 15 and moment.month in (1, 4, 7, 10):
            credit[d] = -min(500.0 * max(scale, 0.2), 0.25 * day_total[d])
    untagged[CE_CREDIT] = credit
    untagged_usage[CE_CREDIT] = np.zeros(days)

    tagged_services = (CE_COMPUTE_SERVICE, CE_EC2_OTHER, CE_FSX, CE_EKS, CE_S3)
    net = 1 - float(CE_NET_AMORTIZED_DISCOUNT)

    def group(keys: list[str], cost: float, quantity: float) -> dict:
        return {
            "Keys": keys,
            "Metrics": {
                "UnblendedCost": {"Amount": _amount(cost), "Unit": "USD"},
                "AmortizedCost": {"Amount": _amount(cost), "Unit": "USD"},
                "NetAmortizedCost": {"Amount": _amount(cost * net), "Unit": "USD"},
                "UsageQuantity": {"Amount": _amount(quantity), "Unit": "N/A"},
            },
        }

    results = []
    for d, moment in enumerate(dates):
        groups = []
        for service in sorted(untagged):
            if untagged[service][d] != 0:
                groups.append(group(["consumer$", service], untagged[service][d], untagged_usage[service][d]))
        for c in np.argsort(CONSUMER_NAMES):
            for service in sorted(tagged_services):
                if tagged[service][d, c] > 0:
                    groups.append(group([f"consumer${CONSUMER_NAMES[c]}", service], tagged[service][d, c], usage[service][d, c]))
        results.append(
            {
                "TimePeriod": {"Start": moment.isoformat(), "End": (moment + timedelta(days=1)).isoformat()},
                "Total": {},
                "Groups": groups,
                "Estimated": d >= days - CE_ESTIMATED_DAYS,
            }
        )

    pages = [results[i : i + CE_DAYS_PER_PAGE] for i in range(0, days, CE_DAYS_PER_PAGE)]
    for p, page in enumerate(pages, start=1):
        request_id = hashlib.sha256(f"ce:{seed}:{launches}:{end_date}:{p}".encode()).hexdigest()
        body: dict = {
            "GroupDefinitions": [{"Type": "TAG", "Key": "consumer"}, {"Type": "DIMENSION", "Key": "SERVICE"}],
            "ResultsByTime": page,
            "DimensionValueAttributes": [],
        }
        if p < len(pages):
            body["NextPageToken"] = _page_token(seed, launches, end_date, p + 1)
        rid = f"{request_id[:8]}-{request_id[8:12]}-{request_id[12:16]}-{request_id[16:20]}-{request_id[20:32]}"
        body["ResponseMetadata"] = {
            "RequestId": rid,
            "HTTPStatusCode": 200,
            "HTTPHeaders": {"x-amzn-requestid": rid, "content-type": "application/x-amz-json-1.1"},
            "RetryAttempts": 0,
        }
        (root / f"page-{p:04d}.json").write_text(json.dumps(body, separators=(",", ":")) + "\n")


def _page_token(seed: int, launches: int, end_date: date, page: int, what: str = "") -> str:
    digest = hashlib.sha256(f"next:{what}{seed}:{launches}:{end_date}:{page}".encode()).digest()
    return "AAMA-" + base64.b64encode(digest + digest[:12]).decode()


def _support_fee(monthly: float) -> float:
    """AWS Business Support: 10% of the first $10K, 7% to $80K, 5% to $250K, 3% above."""
    fee = 0.0
    for lower, upper, rate in ((0, 10_000, 0.10), (10_000, 80_000, 0.07), (80_000, 250_000, 0.05), (250_000, math.inf, 0.03)):
        fee += max(0.0, min(monthly, upper) - lower) * rate
    return fee
