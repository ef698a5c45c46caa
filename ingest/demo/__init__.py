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
* ``output_size_gb``: completed runs of ``nextflow-rnaseq``, ``nextflow-sarek``, ``wdl-gatk-germline`` and
  ``nextflow-methylseq`` record what they wrote: a share of the input (``OUTPUT_PER_INPUT_GB``) times the run's
  effort (the lognormal factor on its run time, so it moves with the cost), with ~8% noise; the snakemake
  types, failed and unfinished runs leave it out. Drawn from a generator spawned off the main one: every
  other figure is the same as without it.
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

The package, one module per piece:

* ``catalogue``: the constants (consumers, workflows and their models, regions and zones, instance, volume
  and file system types, platform mixes, price inputs); ``price_table``: the snapshot's list prices;
* ``simulate``: the simulation, run in order: ``launches`` (when, who, what, the status timeline),
  ``resources`` (instance lines, volumes, FSx, cluster), ``costs`` (with ``spot_history``'s Spot prices),
  drawing with ``draws``;
* the writers: ``dynamodb_export`` (with ``item_sql`` and ``bad_items``), ``cost_explorer``,
  ``spot_history``; ``wire`` holds the small parts of the wire formats they share.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from .bad_items import bad_items
from .catalogue import HISTORY_DAYS, ONPREM_TYPE, PLATFORMS, REGIONS
from .cost_explorer import (
    CE_COMPUTE_BILLED_VS_LIST,
    CE_COMPUTE_SERVICE,
    CE_NET_AMORTIZED_DISCOUNT,
    CE_OUTSIDE_COMPUTE_PER_DAY,
    CE_OUTSIDE_NOISE,
    CE_OUTSIDE_SCALE_LAUNCHES,
    CE_S3,
    CE_SUPPORT,
    write_cost_explorer,
)
from .dynamodb_export import BAD_ITEMS_FILE, export_id, write_export
from .price_table import list_prices
from .simulate import simulate
from .spot_history import write_spot_history

__all__ = [
    "DemoFiles",
    "generate",
    # what the tests check the files against
    "BAD_ITEMS_FILE",
    "CE_COMPUTE_BILLED_VS_LIST",
    "CE_COMPUTE_SERVICE",
    "CE_NET_AMORTIZED_DISCOUNT",
    "CE_OUTSIDE_COMPUTE_PER_DAY",
    "CE_OUTSIDE_NOISE",
    "CE_OUTSIDE_SCALE_LAUNCHES",
    "CE_S3",
    "CE_SUPPORT",
    "HISTORY_DAYS",
    "ONPREM_TYPE",
    "PLATFORMS",
    "REGIONS",
]


@dataclass(frozen=True)
class DemoFiles:
    export_dir: Path  # <out>/dynamodb-export: holds AWSDynamoDB/<export-id>/manifest-*.json and data/*.json.gz
    cost_explorer_dir: Path  # <out>/cost-explorer: page-0001.json, ... chained by NextPageToken
    spot_history_dir: Path  # <out>/spot-price-history/<region>/page-0001.json, ... chained by NextToken
    launches: int  # good items written
    bad_items: int  # deliberately invalid items written (data/zz-needs-review.json.gz)


def generate(
    out_dir: Path,
    launches: int = 20_000,
    seed: int = 7,
    end_date: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> DemoFiles:
    """Write a DynamoDB export and Cost Explorer pages for ``launches`` synthetic launches under ``out_dir``.

    Replaces ``<out>/dynamodb-export``, ``<out>/cost-explorer`` and ``<out>/spot-price-history`` if they
    exist (each is written to a ``.partial`` folder first, then moved into place); leaves anything else alone.
    ``progress(items written)`` is called as the export's data files are written.
    """
    if launches < 1:
        raise ValueError(f"launches must be at least 1, got {launches}")
    if end_date is None:
        end_date = datetime.now(UTC).date() - timedelta(days=1)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, launches, end_date.toordinal()])
    sim = simulate(rng, launches, end_date, list_prices())

    final = {name: out_dir / name for name in ("dynamodb-export", "cost-explorer", "spot-price-history")}
    partial = {name: out_dir / f".{name}.partial" for name in final}
    for path in partial.values():
        shutil.rmtree(path, ignore_errors=True)

    bad = bad_items(int(sim["as_of"]))
    write_export(partial["dynamodb-export"], export_id(seed, launches, end_date), sim, bad, seed, launches, end_date, progress)
    write_cost_explorer(partial["cost-explorer"], sim, rng, launches, end_date, seed)  # draws after the simulation
    write_spot_history(partial["spot-price-history"], sim, seed, launches, end_date)

    for name, path in final.items():
        shutil.rmtree(path, ignore_errors=True)
        os.replace(partial[name], path)
    return DemoFiles(
        export_dir=final["dynamodb-export"],
        cost_explorer_dir=final["cost-explorer"],
        spot_history_dir=final["spot-price-history"],
        launches=launches,
        bad_items=len(bad),
    )
