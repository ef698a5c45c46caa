"""The bill: GetCostAndUsage responses, ``<out>/cost-explorer/page-0001.json ...``.

DAILY; UnblendedCost, AmortizedCost, NetAmortizedCost, UsageQuantity; grouped by TAG consumer and DIMENSION
SERVICE; chained by ``NextPageToken``; ``CE_DAYS_PER_PAGE`` days a page, every day of the history.

Each launch's list costs (pending ones too; not in-progress ones; not OnPremHPC) are billed on the UTC day
the launch ended, under its consumer's tag: instance_cost on ``CE_COMPUTE_SERVICE``, volume_cost on
``CE_EC2_OTHER``, filesystem_cost on ``CE_FSX``, the control plane share on ``CE_EKS``. Tagged compute is
``list x f + outside``: ``f`` drawn per day and consumer in ``CE_COMPUTE_BILLED_VS_LIST``, ``outside`` the
instances the workflow manager did not launch (``CE_OUTSIDE_COMPUTE_PER_DAY`` x launches /
``CE_OUTSIDE_SCALE_LAUNCHES`` x ``CE_OUTSIDE_NOISE``); storage lines are ``list x CE_STORAGE_BILLED_VS_LIST``.
Consumers also have a little tagged S3. The untagged spend (``consumer$``) is sized from the tagged level so
every scale looks alike, plus Business Support on the 1st and a quarterly research credit.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np

from core.months import add_months, month_start

from .catalogue import CONSUMER_NAMES, CONSUMERS, EKS_CLUSTER_REGION, EKS_CLUSTERS, HISTORY_DAYS, ONPREM
from .wire import compact_json, page_token, uuid_for

CE_DAYS_PER_PAGE = 73
CE_ESTIMATED_DAYS = 3  # the last days are still "Estimated": true
CE_COMPUTE_SERVICE = "Amazon Elastic Compute Cloud - Compute"
CE_EC2_OTHER = "EC2 - Other"
CE_FSX = "Amazon FSx"
CE_EKS = "Amazon Elastic Kubernetes Service"
CE_S3 = "Amazon Simple Storage Service"
CE_VPC = "Amazon Virtual Private Cloud"
CE_SUPPORT = "AWS Support (Business)"
CE_COST_EXPLORER = "AWS Cost Explorer"
CE_CREDIT = "AWS Cloud Credit for Research"
CE_TAGGED_SERVICES = (CE_COMPUTE_SERVICE, CE_EC2_OTHER, CE_FSX, CE_EKS, CE_S3)
CE_COMPUTE_BILLED_VS_LIST = (Decimal("1.00"), Decimal("1.03"))  # billed / list for the launches' instances
CE_STORAGE_BILLED_VS_LIST = (Decimal("1.00"), Decimal("1.01"))
CE_NET_AMORTIZED_DISCOUNT = Decimal("0.04")  # an enterprise discount; no RIs or Savings Plans are modelled
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

Spend = dict[str, np.ndarray]  # service -> $ (or usage) per day, and per consumer when tagged


def write_cost_explorer(
    root: Path, sim: dict[str, np.ndarray], rng: np.random.Generator, launches: int, end_date: date, seed: int
) -> None:
    """The responses for the ``HISTORY_DAYS`` days ending at ``end_date`` (draws the billing noise from ``rng``)."""
    root.mkdir(parents=True)
    start = end_date - timedelta(days=HISTORY_DAYS - 1)
    dates = [start + timedelta(days=d) for d in range(HISTORY_DAYS)]
    scale = launches / CE_OUTSIDE_SCALE_LAUNCHES
    tagged, usage = _tagged_launch_spend(sim, rng, scale)
    daily_tagged = sum(v.sum(axis=1) for v in tagged.values())
    level = max(float(daily_tagged.mean()), 1.0)
    tagged[CE_S3] = _tagged_s3(rng, level)
    usage[CE_S3] = tagged[CE_S3] / 0.023 * 30  # $0.023 per GB-month
    untagged, untagged_usage = _untagged_spend(rng, level, scale, sim["eks_cluster_hour"])
    day_total = daily_tagged + tagged[CE_S3].sum(axis=1) + sum(untagged.values())
    untagged[CE_SUPPORT] = _business_support(dates, day_total)
    untagged_usage[CE_SUPPORT] = (untagged[CE_SUPPORT] > 0).astype(float)
    untagged[CE_CREDIT] = _research_credits(dates, day_total, scale)
    untagged_usage[CE_CREDIT] = np.zeros(HISTORY_DAYS)
    results = [_result_by_time(d, moment, tagged, usage, untagged, untagged_usage) for d, moment in enumerate(dates)]
    _write_pages(root, results, seed, launches, end_date)


def _tagged_launch_spend(sim: dict[str, np.ndarray], rng: np.random.Generator, scale: float) -> tuple[Spend, Spend]:
    """(cost, usage) per service of the launches the manager recorded, per day and consumer, as billed."""
    n_cons = len(CONSUMERS)
    billed = (sim["end_day"] >= 0) & (sim["pf"] != ONPREM)
    key = sim["end_day"][billed] * n_cons + sim["cons"][billed]

    def per_day_consumer(values: np.ndarray) -> np.ndarray:
        return np.bincount(key, weights=values[billed], minlength=HISTORY_DAYS * n_cons).reshape(HISTORY_DAYS, n_cons)

    parts = {CE_COMPUTE_SERVICE: "c_inst", CE_EC2_OTHER: "c_vol", CE_FSX: "c_fs", CE_EKS: "c_cp"}
    quantities = {CE_COMPUTE_SERVICE: "inst_hours", CE_EC2_OTHER: "vol_gb_months", CE_FSX: "fs_gb_months", CE_EKS: "cp_hours"}
    list_usd = {service: per_day_consumer(sim[column]) / 10_000 for service, column in parts.items()}
    usage = {service: per_day_consumer(sim[column]) for service, column in quantities.items()}

    lo, hi = (float(x) for x in CE_COMPUTE_BILLED_VS_LIST)
    slo, shi = (float(x) for x in CE_STORAGE_BILLED_VS_LIST)
    outside = np.array([CE_OUTSIDE_COMPUTE_PER_DAY[c] for c in CONSUMER_NAMES])[None, :] * scale
    outside = outside * rng.uniform(*CE_OUTSIDE_NOISE, (HISTORY_DAYS, n_cons))
    tagged = {CE_COMPUTE_SERVICE: list_usd[CE_COMPUTE_SERVICE] * rng.uniform(lo, hi, (HISTORY_DAYS, n_cons)) + outside}
    for service in (CE_EC2_OTHER, CE_FSX, CE_EKS):
        tagged[service] = list_usd[service] * rng.uniform(slo, shi, (HISTORY_DAYS, n_cons))
    usage[CE_COMPUTE_SERVICE] = usage[CE_COMPUTE_SERVICE] + outside / 0.40  # dev boxes at ~$0.40/h
    return tagged, usage


def _tagged_s3(rng: np.random.Generator, level: float) -> np.ndarray:
    """The consumers' results buckets: ~3% of the tagged level, by consumer share, growing over the history."""
    t = np.arange(HISTORY_DAYS) / (HISTORY_DAYS - 1)
    share = np.array([c.share for c in CONSUMERS])
    return 0.03 * level * share[None, :] * (0.5 + t[:, None]) * rng.lognormal(0, 0.05, (HISTORY_DAYS, len(CONSUMERS)))


def _untagged_spend(rng: np.random.Generator, level: float, scale: float, eks_cluster_hour: np.ndarray) -> tuple[Spend, Spend]:
    """(cost, usage) per day of the spend no consumer tag covers (``consumer$``), before support and credits."""
    t = np.arange(HISTORY_DAYS) / (HISTORY_DAYS - 1)
    cost = {
        CE_S3: 0.07 * level * (0.6 + 0.8 * t) * rng.lognormal(0, 0.03, HISTORY_DAYS),
        CE_EC2_OTHER: 0.02 * level * rng.lognormal(0, 0.15, HISTORY_DAYS) + 3.24 * scale,  # NAT, snapshots
        CE_VPC: np.full(HISTORY_DAYS, 2.4 * max(scale, 0.25)),
        CE_EKS: np.full(HISTORY_DAYS, 24 * float(eks_cluster_hour[list(EKS_CLUSTER_REGION)].sum())),  # idle control planes
        CE_COST_EXPLORER: rng.integers(10, 60, HISTORY_DAYS) * 0.01,  # API calls
    }
    usage = {
        CE_S3: cost[CE_S3] / 0.023 * 30,
        CE_EC2_OTHER: cost[CE_EC2_OTHER] / 0.045,
        CE_VPC: cost[CE_VPC] / 0.005,
        CE_EKS: np.full(HISTORY_DAYS, 24.0 * len(EKS_CLUSTERS)),
        CE_COST_EXPLORER: cost[CE_COST_EXPLORER] / 0.01,
    }
    return cost, usage


def _business_support(dates: list[date], day_total: np.ndarray) -> np.ndarray:
    """Business Support on the 1st, tiered on the previous month's charges (the first month stands in for its own)."""
    months = np.array([month_start(day) for day in dates])
    support = np.zeros(len(dates))
    for d, moment in enumerate(dates):
        if moment.day == 1:
            previous = months == add_months(moment, -1)
            basis = day_total[previous].sum() if previous.any() else day_total[months == month_start(moment)].sum()
            support[d] = max(100.0, _support_fee(basis))
    return support


def _support_fee(monthly: float) -> float:
    """AWS Business Support: 10% of the first $10K, 7% to $80K, 5% to $250K, 3% above."""
    fee = 0.0
    for lower, upper, rate in ((0, 10_000, 0.10), (10_000, 80_000, 0.07), (80_000, 250_000, 0.05), (250_000, math.inf, 0.03)):
        fee += max(0.0, min(monthly, upper) - lower) * rate
    return fee


def _research_credits(dates: list[date], day_total: np.ndarray, scale: float) -> np.ndarray:
    """A negative credit on the 15th of each quarter's first month that never takes the day's total below zero."""
    credit = np.zeros(len(dates))
    for d, moment in enumerate(dates):
        if moment.day == 15 and moment.month in (1, 4, 7, 10):
            credit[d] = -min(500.0 * max(scale, 0.2), 0.25 * day_total[d])
    return credit


def _result_by_time(d: int, moment: date, tagged: Spend, usage: Spend, untagged: Spend, untagged_usage: Spend) -> dict:
    """One day's ``ResultsByTime`` entry: untagged groups first, then each consumer's, services sorted."""
    groups = []
    for service in sorted(untagged):
        if untagged[service][d] != 0:
            groups.append(_group(["consumer$", service], untagged[service][d], untagged_usage[service][d]))
    for c in np.argsort(CONSUMER_NAMES):
        for service in sorted(CE_TAGGED_SERVICES):
            if tagged[service][d, c] > 0:
                groups.append(_group([f"consumer${CONSUMER_NAMES[c]}", service], tagged[service][d, c], usage[service][d, c]))
    return {
        "TimePeriod": {"Start": moment.isoformat(), "End": (moment + timedelta(days=1)).isoformat()},
        "Total": {},
        "Groups": groups,
        "Estimated": d >= HISTORY_DAYS - CE_ESTIMATED_DAYS,
    }


def _group(keys: list[str], cost: float, quantity: float) -> dict:
    """One group's metrics; AmortizedCost equals UnblendedCost, NetAmortizedCost takes off the discount."""
    net = 1 - float(CE_NET_AMORTIZED_DISCOUNT)
    return {
        "Keys": keys,
        "Metrics": {
            "UnblendedCost": {"Amount": _amount(cost), "Unit": "USD"},
            "AmortizedCost": {"Amount": _amount(cost), "Unit": "USD"},
            "NetAmortizedCost": {"Amount": _amount(cost * net), "Unit": "USD"},
            "UsageQuantity": {"Amount": _amount(quantity), "Unit": "N/A"},
        },
    }


def _amount(value: float) -> str:
    return f"{value:.10f}"


def _write_pages(root: Path, results: list[dict], seed: int, launches: int, end_date: date) -> None:
    """The days ``CE_DAYS_PER_PAGE`` to a response, each response naming the next page's token."""
    pages = [results[i : i + CE_DAYS_PER_PAGE] for i in range(0, len(results), CE_DAYS_PER_PAGE)]
    for p, page in enumerate(pages, start=1):
        body: dict = {
            "GroupDefinitions": [{"Type": "TAG", "Key": "consumer"}, {"Type": "DIMENSION", "Key": "SERVICE"}],
            "ResultsByTime": page,
            "DimensionValueAttributes": [],
        }
        if p < len(pages):
            body["NextPageToken"] = page_token(seed, launches, end_date, p + 1)
        rid = uuid_for(f"ce:{seed}:{launches}:{end_date}:{p}")
        body["ResponseMetadata"] = {
            "RequestId": rid,
            "HTTPStatusCode": 200,
            "HTTPHeaders": {"x-amzn-requestid": rid, "content-type": "application/x-amz-json-1.1"},
            "RetryAttempts": 0,
        }
        (root / f"page-{p:04d}.json").write_text(compact_json(body) + "\n")
