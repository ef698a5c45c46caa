"""Frames the Estimates page shows, shaped from query results and estimates. Pure pandas; no Streamlit."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from estimates.estimator import BY_PLATFORM, Estimator, LaunchSpec, normalise_specs
from estimates.forecast import beside_cost_explorer, complete_months, forecast_spend

BACKTEST_LABELS = {
    "cost_mdape": "Cost MdAPE",
    "cost_in_interval": "Cost inside the 80% interval",
    "cost_high_over_low": "Cost interval high ÷ low",
    "hours_mdape": "Duration MdAPE",
    "hours_in_interval": "Duration inside the 80% interval",
}
FORECAST_LABELS = {
    "forecast": "Launch Ledger forecast",
    "low": "low (80%)",
    "high": "high (80%)",
    "mean_amount": "Cost Explorer forecast",
    "lower_bound": "Cost Explorer low (80%)",
    "upper_bound": "Cost Explorer high (80%)",
}
FORECAST_BACKTEST_LABELS = {
    "horizon": "Months ahead",
    "forecasts": "Past forecasts",
    "mdape": "MdAPE",
    "bias": "Bias (median, + = too high)",
    "naive_mdape": "Same as last month: MdAPE",
    "naive_bias": "Same as last month: bias",
    "coverage": "Inside the 80% interval",
    "scored_intervals": "Intervals scored",
}
METHOD_LABELS = {
    "model": "model (every input)",
    "model_required": "model (type, platform, size)",
    "group_median": "baseline: group median",
    "nearest_neighbours": "baseline: 9 nearest neighbours",
}


def young_groups(estimator: Estimator) -> int:
    """Workflow type × platform groups young enough for a pooled estimate (5-29 completed launches)."""
    sizes = [len(rows) for rows in estimator._rows[BY_PLATFORM].values()]
    return sum(estimator.settings.min_young_launches <= n < estimator.settings.min_launches for n in sizes)


def groups_with_history(estimator: Estimator) -> tuple[int, int]:
    """(workflow type × platform groups with enough completed launches, groups with any)."""
    sizes = [len(rows) for rows in estimator._rows[BY_PLATFORM].values()]
    return sum(n >= estimator.settings.min_launches for n in sizes), len(sizes)


def failure_rate(history: pd.DataFrame) -> float | None:
    ended = history["status"].isin(("COMPLETE", "FAILED"))
    return float((history.loc[ended, "status"] == "FAILED").mean()) if ended.any() else None


def backtest_table(results: pd.DataFrame) -> pd.DataFrame:
    """One line per month (pooled "all months" first) and method: cost and duration MdAPE and coverage."""
    frame = results.assign(month=results["month"].map(lambda m: "all months" if m is None or pd.isna(m) else m.strftime("%Y-%m")))
    wide = frame.pivot_table(
        index=["month", "method"],
        columns="target",
        values=["estimated", "mdape", "coverage", "median_interval_ratio"],
        aggfunc="first",
        sort=False,
    )
    out = pd.DataFrame(
        {
            "month": [m for m, _ in wide.index],
            "method": [METHOD_LABELS.get(k, k) for _, k in wide.index],
            "launches": wide[("estimated", "cost")].astype(int).to_numpy(),
            "cost_mdape": wide[("mdape", "cost")].to_numpy(),
            "cost_in_interval": wide[("coverage", "cost")].to_numpy(),
            "cost_high_over_low": wide[("median_interval_ratio", "cost")].to_numpy(),
            "hours_mdape": wide[("mdape", "hours")].to_numpy(),
            "hours_in_interval": wide[("coverage", "hours")].to_numpy(),
        }
    )
    rank = {label: i for i, label in enumerate(METHOD_LABELS.values())}
    out["_order"] = [
        ("" if m == "all months" else m, rank.get(k, len(rank))) for m, k in zip(out["month"], out["method"], strict=True)
    ]
    return out.sort_values("_order").drop(columns="_order").reset_index(drop=True)


YOUNG_LABELS = {
    "method": "Method",
    "target": "Estimate of",
    "young_launches": "Launches of young groups",
    "young_estimated": "Given a number",
    "young_mdape": "MdAPE",
    "young_coverage": "Inside the 80% interval",
    "young_median_interval_ratio": "Interval high ÷ low",
}
OUTPUT_LABELS = {
    "target": "Estimate of",
    "output_launches": "Launches with an output size",
    "output_mdape": "MdAPE with it",
    "no_output_mdape": "MdAPE without it",
    "output_coverage": "Inside 80% with it",
    "no_output_coverage": "Inside 80% without it",
    "output_median_interval_ratio": "High ÷ low with it",
    "no_output_median_interval_ratio": "High ÷ low without it",
}
TARGET_LABELS = {"cost": "cost", "hours": "duration"}


def young_groups_table(results: pd.DataFrame) -> pd.DataFrame:
    """All months pooled, per method and target: the scores over young groups' launches (5-29 completed before)."""
    pooled = results[results["month"].isna() & results["young_launches"].notna()]
    out = pooled[list(YOUNG_LABELS)].assign(
        method=pooled["method"].map(lambda k: METHOD_LABELS.get(k, k)), target=pooled["target"].map(TARGET_LABELS)
    )
    return out.reset_index(drop=True)


def output_size_table(results: pd.DataFrame) -> pd.DataFrame:
    """All months pooled: the model over launches whose estimate used their output size, with it and without it."""
    pooled = results[results["month"].isna() & (results["method"] == "model") & results["output_launches"].notna()]
    return pooled[list(OUTPUT_LABELS)].assign(target=pooled["target"].map(TARGET_LABELS)).reset_index(drop=True)


def spend_history(
    billed: pd.DataFrame, launches_monthly: pd.DataFrame | None, first_day: date | None, last_day: date | None
) -> tuple[pd.DataFrame, str]:
    """Whole months of spend per consumer, and what it is: Cost Explorer's bill when held, else launch spend.

    ``launches_monthly`` is read only when nothing is billed (the caller may skip that query then: None).
    """
    if len(billed):
        monthly = billed.rename(columns={"unblended_cost": "spend"})[["month", "consumer", "spend"]]
        return complete_months(
            monthly, billed["first_day"].min(), billed["last_day"].max()
        ), "billed (Cost Explorer UnblendedCost, tagged)"
    monthly = launches_monthly.rename(columns={"launch_month": "month"})[["month", "consumer", "spend"]]
    return complete_months(monthly, first_day, last_day), "launch spend (the workflow manager's prices)"


def next_months(history: pd.DataFrame, last_day: date | None, months: int = 3) -> list[pd.Timestamp]:
    """The ``months`` calendar months after the one ``last_day`` falls in (or after the history's last month)."""
    anchor = pd.Timestamp(last_day) if last_day is not None else pd.Timestamp(history["month"].max())
    start = anchor.to_period("M").to_timestamp() + pd.offsets.MonthBegin(1)
    return list(pd.date_range(start, periods=months, freq="MS"))


def forecast_table(history: pd.DataFrame, cost_explorer: pd.DataFrame, months: list[pd.Timestamp]) -> pd.DataFrame:
    """Per consumer and month: our forecast (median, 80%) beside Cost Explorer's latest."""
    if cost_explorer.empty:
        cost_explorer = pd.DataFrame(columns=["consumer", "month", "period_start", "mean_amount", "lower_bound", "upper_bound"])
    table = beside_cost_explorer(forecast_spend(history, months), cost_explorer, months)
    table["month"] = table["month"].dt.date
    return table


def size_curve(estimator: Estimator, spec: LaunchSpec, points: int = 60, shown: int = 3_000) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the group's past launches the estimate learnt from, up to ``shown``;
    the estimate across their sizes and the planned one)."""
    key = estimator.choose(normalise_specs([spec]).iloc[0].to_dict())[0]
    past = estimator.completed.iloc[estimator.group_rows(key)] if key is not None else estimator.completed.iloc[:0]
    sizes = [*past["input_size_gb"], spec.input_size_gb]
    grid = np.geomspace(min(sizes), max(sizes), points)
    curve = estimator.estimate_many(pd.DataFrame({**spec.__dict__, "input_size_gb": grid}))
    return past.tail(shown), curve.assign(input_size_gb=grid)
