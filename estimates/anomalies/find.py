"""Find anomalies: pure pandas/numpy, DataFrames in, anomaly rows out.

**Launches.** Each launch month is judged by an estimator that never saw it: learnt from the launches of
every other month (leave one month out), asked for the 95% interval of cost and of hours for each
completed, priced launch of the month (its workflow type, platform, input size and the rest of its spec).
A launch whose cost or hours fall outside their interval is an anomaly; its ratio says how many times
the expected (median) cost or hours it came to: "4.2x the expected cost for its size". A launch the
estimator has not enough history for is not judged.

**Consumer-months.** Each consumer's whole months of spend are replayed as the spend forecast
(``estimates.forecast``) would have forecast them one month ahead, from the months before only; the
interval at that month is the conformal 95% band of the forecast errors known at the time (the errors of
earlier forecasts made the same way), so it is out of sample. A month whose spend falls outside it is an
anomaly, with its ratio to the forecast. A month is judged once at least 39 earlier errors exist: n errors
bound a new one with probability (n - 1) / (n + 1), 95% from 39 on.
"""

from __future__ import annotations

import math
from dataclasses import replace
from decimal import Decimal

import numpy as np
import pandas as pd

from estimates.estimator import Estimator, EstimatorSettings, LaunchSpec, learnable, prepare_history
from estimates.forecast import ForecastSettings, replay
from estimates.model import conformal_quantiles

LEVEL = 0.95  # the intervals' nominal coverage: 1 launch (or month) in 20 falls outside by chance
LAUNCH = "launch"
CONSUMER_MONTH = "consumer month"
COLUMNS = (
    "kind",
    "month",
    "launch_id",
    "consumer",
    "workflow_type",
    "compute_platform",
    "outside",
    "actual_cost",
    "expected_cost",
    "cost_low",
    "cost_high",
    "cost_ratio",
    "actual_hours",
    "expected_hours",
    "hours_low",
    "hours_high",
    "hours_ratio",
    "how_far_off",
    "interval_level",
    "basis",
    "currency",
)


def launch_settings(settings: EstimatorSettings | None = None) -> EstimatorSettings:
    """The estimator's settings with a 95% interval (its other settings as given)."""
    return replace(settings or EstimatorSettings(), level=LEVEL)


def enough_for(level: float) -> int:
    """Past errors a conformal interval needs to hold ``level``: n scores bound a new one with (n - 1) / (n + 1)."""
    return math.ceil(2 / (1 - level) - 1 - 1e-9)  # 39 for 95%


def _money(value) -> Decimal | None:
    return None if value is None or not np.isfinite(value) else Decimal(f"{float(value):.6f}")


def _spec_columns(rows: pd.DataFrame) -> list[str]:
    """The launch spec the estimator takes (whatever fields it has), from the history's columns."""
    return [name for name in LaunchSpec.__dataclass_fields__ if name in rows.columns]


def _how_far_off(ratios: list[np.ndarray], flags: list[np.ndarray]) -> np.ndarray:
    """Per row: the largest factor (above or below: 4.0 for 4x or a quarter) among the measures outside."""
    factor = np.ones(len(ratios[0]))
    for ratio, flag in zip(ratios, flags, strict=True):
        with np.errstate(divide="ignore", invalid="ignore"):
            off = np.where(ratio >= 1, ratio, 1 / ratio)
        factor = np.where(flag & np.isfinite(off), np.maximum(factor, off), factor)
    return factor


def _launch_rows(rows: pd.DataFrame, estimate: pd.DataFrame, level: float) -> pd.DataFrame:
    """The rows of ``rows`` (one month's launches) outside their interval, as anomaly rows."""
    cost = rows["total_cost"].to_numpy(dtype=object).astype(float)
    hours = pd.to_numeric(rows["total_hours"], errors="coerce").to_numpy(dtype=float)
    low_c, mid_c, high_c = (estimate[f"cost_{q}"].to_numpy(dtype=float) for q in ("low", "median", "high"))
    low_h, mid_h, high_h = (estimate[f"hours_{q}"].to_numpy(dtype=float) for q in ("low", "median", "high"))
    cost_out = (cost < low_c) | (cost > high_c)  # NaN bounds (not enough history) compare False: not judged
    hours_out = (hours < low_h) | (hours > high_h)
    keep = cost_out | hours_out
    if not keep.any():
        return pd.DataFrame(columns=COLUMNS)
    cost_ratio, hours_ratio = cost / mid_c, hours / mid_h
    outside = np.where(cost_out & hours_out, "cost and hours", np.where(cost_out, "cost", "hours"))
    far = _how_far_off([cost_ratio, hours_ratio], [cost_out, hours_out])
    k = np.flatnonzero(keep)
    return pd.DataFrame(
        {
            "kind": LAUNCH,
            "month": pd.to_datetime(rows["launch_month"].to_numpy()[k]).date,
            "launch_id": rows["launch_id"].to_numpy()[k],
            "consumer": rows["consumer"].to_numpy()[k],
            "workflow_type": rows["workflow_type"].to_numpy()[k],
            "compute_platform": rows["compute_platform"].to_numpy()[k],
            "outside": outside[k],
            "actual_cost": rows["total_cost"].to_numpy(dtype=object)[k],
            "expected_cost": [_money(v) for v in mid_c[k]],
            "cost_low": [_money(v) for v in low_c[k]],
            "cost_high": [_money(v) for v in high_c[k]],
            "cost_ratio": cost_ratio[k],
            "actual_hours": hours[k],
            "expected_hours": mid_h[k],
            "hours_low": low_h[k],
            "hours_high": high_h[k],
            "hours_ratio": hours_ratio[k],
            "how_far_off": far[k],
            "interval_level": level,
            "basis": [f"estimator, learnt from {b} in other months" for b in estimate["basis"].to_numpy()[k]],
            "currency": rows["currency"].to_numpy()[k] if "currency" in rows else "USD",
        },
        columns=COLUMNS,
    )


def launch_anomalies(history: pd.DataFrame, months: int | None = 12, settings: EstimatorSettings | None = None) -> pd.DataFrame:
    """Launches of the last ``months`` launch months whose cost or hours fall outside the estimator's 95% interval.

    ``history`` has the rows of the ``estimate_history`` query (with ``launch_id`` and ``consumer``).
    """
    settings = launch_settings(settings)
    raw = history.reset_index(drop=True)
    if raw.empty:
        return pd.DataFrame(columns=COLUMNS)
    month = pd.to_datetime(raw["launch_month"]).to_numpy()
    scorable = learnable(prepare_history(raw)).to_numpy()
    candidates = sorted(np.unique(month[scorable]))
    if months is not None:
        candidates = candidates[-months:]
    found = []
    for m in candidates:
        this = month == m
        rows = raw[this & scorable].reset_index(drop=True)
        estimator = Estimator(raw[~this].reset_index(drop=True), settings)
        estimate = estimator.estimate_many(rows[_spec_columns(rows)])
        found.append(_launch_rows(rows, estimate, settings.level))
    found = [f for f in found if len(f)]
    return pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=COLUMNS)


def spend_anomalies(
    spend: pd.DataFrame,
    exact: dict[tuple[str, pd.Timestamp], Decimal] | None = None,
    months: int | None = 12,
    basis: str = "spend",
    currency: str = "USD",
    settings: ForecastSettings | None = None,
) -> pd.DataFrame:
    """Consumer-months of the last ``months`` months whose spend falls outside the forecast's 95% interval.

    ``spend`` is ``estimates.forecast.complete_months`` output (month, consumer, spend); ``exact`` the same
    spend as Decimal per (consumer, month), shown in place of the float the forecast works with.
    """
    settings = replace(settings or ForecastSettings(), level=LEVEL)
    if spend.empty:
        return pd.DataFrame(columns=COLUMNS)
    errors = replay(spend, settings, max_horizon=1)
    if errors.empty:
        return pd.DataFrame(columns=COLUMNS)
    if months is not None:
        last = sorted(errors["month"].unique())[-months:]
        judged = errors[errors["month"].isin(last)]
    else:
        judged = errors
    tail = (1 - settings.level) / 2
    needed = max(settings.min_errors, enough_for(settings.level))
    trend = (errors["months_known"] >= settings.trend_months).to_numpy()
    month, log_error = errors["month"].to_numpy(), errors["log_error"].to_numpy()
    rows = []
    for (origin, known), index in judged.groupby(["origin", "months_known"]).indices.items():
        earlier = log_error[(month <= np.datetime64(origin)) & (trend == (known >= settings.trend_months))]
        if len(earlier) < needed:
            continue
        lo, hi = conformal_quantiles(earlier, np.ones(len(earlier)), [tail, 1 - tail])
        for _, r in judged.iloc[index].iterrows():
            if lo <= r["log_error"] <= hi:
                continue
            actual = (exact or {}).get((r["consumer"], pd.Timestamp(r["month"])), _money(r["actual"]))
            ratio = r["actual"] / r["forecast"]
            rows.append(
                {
                    "kind": CONSUMER_MONTH,
                    "month": pd.Timestamp(r["month"]).date(),
                    "consumer": r["consumer"],
                    "outside": "spend",
                    "actual_cost": actual,
                    "expected_cost": _money(r["forecast"]),
                    "cost_low": _money(r["forecast"] * np.exp(lo)),
                    "cost_high": _money(r["forecast"] * np.exp(hi)),
                    "cost_ratio": ratio,
                    "how_far_off": ratio if ratio >= 1 else 1 / ratio,
                    "interval_level": settings.level,
                    "basis": f"spend forecast from the {known} months before, interval from {len(earlier)} "
                    f"earlier forecasts; spend: {basis}",
                    "currency": currency,
                }
            )
    return pd.DataFrame(rows, columns=COLUMNS)


def how_far_off_in_words(row) -> str:
    """ "4.2x the expected cost", "4.2x the expected cost and 1.9x the expected hours", "2.8x the forecast"."""
    if row["kind"] == CONSUMER_MONTH:
        return f"{row['cost_ratio']:.1f}x the forecast"
    measures = []
    if "cost" in row["outside"]:
        measures.append(f"{row['cost_ratio']:.1f}x the expected cost")
    if "hours" in row["outside"]:
        measures.append(f"{row['hours_ratio']:.1f}x the expected hours")
    return " and ".join(measures)


def describe(row) -> str:
    """One anomaly in words: "launch wl-1 (team-a, rnaseq on Batch): 4.2x the expected cost for its size"."""
    if row["kind"] == CONSUMER_MONTH:
        return f"{row['consumer']} spent {how_far_off_in_words(row)} for {row['month']:%Y-%m}"
    where = f"{row['consumer']}, {row['workflow_type']} on {row['compute_platform']}"
    return f"launch {row['launch_id']} ({where}): {how_far_off_in_words(row)} for its size"
