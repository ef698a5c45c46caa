"""Backtest: for each month, learn from the launches before it and predict its launches.

Every method sees the same history and is scored on the same launches (completed and priced in
that month):

* ``model``: the estimator with every input the launch record has (type, platform, input size,
  sample count, instance family, purchase option);
* ``model_required``: the estimator with only the required inputs (type, platform, input size);
* ``group_median`` and ``nearest_neighbours``: the baselines (``estimates.baselines``).

Scores per month and method: MdAPE (median absolute percentage error of the median estimate), the
coverage of the 80% interval (share of actual values inside it; a calibrated method lands near
80%), and the median ratio high / low (how wide the intervals were: coverage bought with width is
no use). ``summarise`` adds an "all months" row pooled over every scored launch.

Two more questions, answered on the same rows:

* young groups: the same scores over the launches whose workflow type × platform had 5 to 29
  completed launches before the month (``young_*``; the model estimates them by partial pooling, the
  baselines not at all), so their coverage can be checked against the same 75-85% target;
* the output size (``output_*``, model rows only): over the launches whose estimate used their
  recorded output size, the model's scores with it and the same model's without it (``no_output_*``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from estimates.baselines import group_median, nearest_neighbours
from estimates.estimator import Estimator, EstimatorSettings, learnable, prepare_history

METHODS = ("model", "model_required", "group_median", "nearest_neighbours")
TARGETS = ("cost", "hours")
ALL_MONTHS = "all months"
SCORES = ("estimated", "mdape", "coverage", "median_interval_ratio")
YOUNG_COLUMNS = ("young_launches", "young_estimated", "young_mdape", "young_coverage", "young_median_interval_ratio")
OUTPUT_COLUMNS = (
    "output_launches",
    "output_mdape",
    "output_coverage",
    "output_median_interval_ratio",
    "no_output_mdape",
    "no_output_coverage",
    "no_output_median_interval_ratio",
)


def _specs(rows: pd.DataFrame, required_only: bool, output: bool = True) -> pd.DataFrame:
    specs = rows[["workflow_type", "compute_platform", "input_size_gb"]].copy()
    if not required_only:
        specs["sample_count"] = rows["sample_count"]
        specs["instance_family"] = rows["instance_family"]
        specs["purchase_option"] = rows["purchase_option"]
        if output and "output_size_gb" in rows:
            specs["output_size_gb"] = rows["output_size_gb"]
    return specs


def young_launches(history: pd.DataFrame, month_rows: pd.DataFrame, settings: EstimatorSettings) -> np.ndarray:
    """Per launch of the month: whether its workflow type × platform had 5 to 29 completed launches before it."""
    done = history[learnable(history)]
    counts = done.groupby(["workflow_type", "compute_platform"]).size()
    keys = pd.MultiIndex.from_frame(month_rows[["workflow_type", "compute_platform"]])
    n = counts.reindex(keys).fillna(0).to_numpy()
    return (n >= settings.min_young_launches) & (n < settings.min_launches)


def predict_month(history: pd.DataFrame, month_rows: pd.DataFrame, settings: EstimatorSettings) -> dict[str, pd.DataFrame]:
    """{method: frame of cost/hours low/median/high} for ``month_rows``, learning from ``history`` only."""
    estimator = Estimator(history, settings)
    without = estimator.estimate_many(_specs(month_rows, required_only=False, output=False))
    return {
        "model": estimator.estimate_many(_specs(month_rows, required_only=False)).assign(
            **{f"no_output_{t}_{q}": without[f"{t}_{q}"] for t in TARGETS for q in ("low", "median", "high")}
        ),
        "model_required": estimator.estimate_many(_specs(month_rows, required_only=True)),
        "group_median": group_median(history, month_rows, settings.min_launches, settings.level),
        "nearest_neighbours": nearest_neighbours(history, month_rows, settings.min_launches),
    }


def score(actual: np.ndarray, low: np.ndarray, median: np.ndarray, high: np.ndarray) -> dict[str, float]:
    """MdAPE, interval coverage and median width ratio over the launches that got a number."""
    ok = np.isfinite(median)
    if not ok.any():
        return {"estimated": 0, "mdape": np.nan, "coverage": np.nan, "median_interval_ratio": np.nan}
    a, lo, m, hi = actual[ok], low[ok], median[ok], high[ok]
    return {
        "estimated": int(ok.sum()),
        "mdape": float(np.median(np.abs(m - a) / a)),
        "coverage": float(np.mean((a >= lo) & (a <= hi))),
        "median_interval_ratio": float(np.median(hi / lo)),
    }


def _score_frame(actual: np.ndarray, frame: pd.DataFrame, target: str, mask=None, prefix: str = "") -> dict[str, float]:
    """``score`` of a method's frame for ``target``, over the launches in ``mask`` (all by default)."""
    mask = slice(None) if mask is None else np.asarray(mask, dtype=bool)
    low, median, high = (frame[f"{prefix}{target}_{q}"].to_numpy(dtype=float)[mask] for q in ("low", "median", "high"))
    return score(np.asarray(actual, dtype=float)[mask], low, median, high)


def breakdown(actual: np.ndarray, frame: pd.DataFrame, target: str, young: np.ndarray) -> dict[str, float]:
    """The young-group scores and, where the method used output sizes, its scores with and without them."""
    y = _score_frame(actual, frame, target, young)
    out = {"young_launches": int(np.sum(young)), **{f"young_{k}": v for k, v in y.items()}}
    without = f"no_output_{target}_median"
    if (
        "output_size_used" in frame
        and without in frame
        and frame["output_size_used"].notna().all()
        and frame[without].notna().any()
    ):
        used = frame["output_size_used"].to_numpy(dtype=bool)
        with_it, without = _score_frame(actual, frame, target, used), _score_frame(actual, frame, target, used, "no_output_")
        out["output_launches"] = int(used.sum())
        out.update({f"output_{k}": with_it[k] for k in SCORES[1:]})
        out.update({f"no_output_{k}": without[k] for k in SCORES[1:]})
    else:
        out.update(dict.fromkeys(OUTPUT_COLUMNS))
    return out


def backtest(
    history: pd.DataFrame,
    months: int | None = 12,
    settings: EstimatorSettings | None = None,
    progress: Callable[[pd.Timestamp], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(scores per month x method x target, per-launch predictions) for the last ``months`` launch months.

    A month is backtested when some launch before it completed; launches a method could not
    estimate ("not enough history") are counted in ``launches`` but not in ``estimated``.
    """
    settings = settings or EstimatorSettings()
    month = pd.to_datetime(history["launch_month"]).reset_index(drop=True)
    plain = prepare_history(history.reset_index(drop=True))
    scorable = learnable(plain).to_numpy()
    candidates = sorted(month[scorable].unique())
    first_trainable = month[scorable].min() if scorable.any() else None
    candidates = [m for m in candidates if first_trainable is not None and m > first_trainable]
    if months is not None:
        candidates = candidates[-months:]
    scores = []
    predictions = []
    for m in candidates:
        if progress:
            progress(m)
        past = plain[(month < m).to_numpy()]
        actual = plain[((month == m) & scorable).to_numpy()].reset_index(drop=True)
        young = young_launches(past, actual, settings)
        for method, frame in predict_month(past, actual, settings).items():
            kept = frame.assign(month=m, method=method, actual_cost=actual["cost"], actual_hours=actual["hours"], young=young)
            predictions.append(kept)
            for target in TARGETS:
                row = _score_frame(actual[target].to_numpy(), frame, target)
                row.update(breakdown(actual[target].to_numpy(), frame, target, young))
                scores.append(
                    {
                        "month": m,
                        "method": method,
                        "target": target,
                        "launches": len(actual),
                        "training_launches": int(scorable[month < m].sum()),
                        **row,
                    }
                )
    columns = [
        "month",
        "method",
        "target",
        "launches",
        "training_launches",
        "estimated",
        "mdape",
        "coverage",
        "median_interval_ratio",
        *YOUNG_COLUMNS,
        *OUTPUT_COLUMNS,
    ]
    per_month = pd.DataFrame(scores, columns=columns)
    per_launch = pd.concat(predictions) if predictions else pd.DataFrame()
    return per_month, per_launch


def summarise(per_month: pd.DataFrame, per_launch: pd.DataFrame) -> pd.DataFrame:
    """Per-month rows plus one pooled row per method and target (month = None, labelled "all months")."""
    pooled = []
    if len(per_launch):
        for method, part in per_launch.groupby("method", sort=False):
            for target in TARGETS:
                actual = part[f"actual_{target}"].to_numpy(dtype=float)
                row = _score_frame(actual, part, target)
                row.update(breakdown(actual, part, target, part["young"].to_numpy(dtype=bool)))
                pooled.append(
                    {"month": None, "method": method, "target": target, "launches": len(part), "training_launches": None, **row}
                )
    return pd.concat([pd.DataFrame(pooled, columns=per_month.columns), per_month], ignore_index=True)
