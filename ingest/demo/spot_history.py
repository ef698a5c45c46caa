"""Spot prices: a simulated price history per (instance type, zone), what a Spot line costs under it, and the
DescribeSpotPriceHistory responses that carry it (``<out>/spot-price-history/<region>/page-0001.json ...``).

A Spot price history is three aligned arrays, sorted by series then time: the series index (a position in
the sorted array of (instance type, zone) pairs, each pair coded ``instance type code x len(ZONES) + zone code``),
the epoch second a price starts, and the price in $/h. Each price holds until the next one of its series.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np

from .catalogue import INSTANCE_TYPES, REGIONS, ZONE_REGION, ZONES
from .wire import compact_json, page_token, uuid_for

SPOT_FRACTION = (0.25, 0.45)  # Spot prices stay within this fraction of On-Demand
SPOT_CHANGES_PER_WEEK = 2.5  # mean price changes per (instance type, zone)
SPOT_MIN_GAP_S = 600  # at least 10 minutes between two changes of one series
SPOT_STEP_SD = 0.02  # each change moves the fraction of On-Demand by ~N(0, 0.02)
SPOT_POINTS_PER_PAGE = 1000  # DescribeSpotPriceHistory MaxResults
SPOT_PRODUCT = "Linux/UNIX"

SpotHistory = tuple[np.ndarray, np.ndarray, np.ndarray]  # (series index, epoch second, $/h)


def simulate_spot_history(
    rng: np.random.Generator, on_demand: np.ndarray, pairs: np.ndarray, t_from: int, t_to: int
) -> SpotHistory:
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


def spot_dollars(spot: SpotHistory, series: np.ndarray, start: np.ndarray, end: np.ndarray, used: np.ndarray) -> np.ndarray:
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


def write_spot_history(root: Path, sim: dict[str, np.ndarray], seed: int, launches: int, end_date: date) -> None:
    """DescribeSpotPriceHistory responses (Linux/UNIX), per region, newest first, chained by NextToken."""
    root.mkdir(parents=True)
    pairs, sid, t, price = sim["spot_pairs"], sim["spot_series"], sim["spot_t"], sim["spot_price"]
    zone = pairs[sid] % len(ZONES)
    points = {
        "AvailabilityZone": np.array(ZONES)[zone],
        "InstanceType": np.array(INSTANCE_TYPES)[pairs[sid] // len(ZONES)],
        "SpotPrice": np.char.mod("%.6f", price),
        "Timestamp": np.char.add(np.datetime_as_string(t.astype("datetime64[s]"), unit="s"), ".000Z"),
    }
    for r, region in enumerate(REGIONS):
        here = np.flatnonzero(ZONE_REGION[zone] == r)
        here = here[np.lexsort((points["InstanceType"][here], zone[here], -t[here]))]  # newest first, then zone and type
        pages = [here[i : i + SPOT_POINTS_PER_PAGE] for i in range(0, len(here), SPOT_POINTS_PER_PAGE)] or [here]
        (root / region).mkdir()
        for p, rows in enumerate(pages, start=1):
            token = page_token(seed, launches, end_date, p + 1, f"spot:{region}") if p < len(pages) else None
            rid = uuid_for(f"spot:{seed}:{launches}:{end_date}:{region}:{p}")
            body = _response(points, rows, token, rid)
            (root / region / f"page-{p:04d}.json").write_text(compact_json(body) + "\n")


def _response(points: dict[str, np.ndarray], rows: np.ndarray, next_token: str | None, rid: str) -> dict:
    """One DescribeSpotPriceHistory response holding the price points ``rows``."""
    body: dict = {
        "SpotPriceHistory": [
            {
                "AvailabilityZone": str(points["AvailabilityZone"][i]),
                "InstanceType": str(points["InstanceType"][i]),
                "ProductDescription": SPOT_PRODUCT,
                "SpotPrice": str(points["SpotPrice"][i]),
                "Timestamp": str(points["Timestamp"][i]),
            }
            for i in rows
        ],
    }
    if next_token is not None:
        body["NextToken"] = next_token
    body["ResponseMetadata"] = {
        "RequestId": rid,
        "HTTPStatusCode": 200,
        "RetryAttempts": 0,
        "HTTPHeaders": {"x-amzn-requestid": rid, "content-type": "text/xml;charset=UTF-8"},
    }
    return body
