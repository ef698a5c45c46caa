"""Spend forecast per consumer for the next months, with an interval earned by its own backtest.

The model is deliberately plain: the last complete month's spend per day, carried forward along
the shared trend (the Theil-Sen slope of log spend per day over every consumer's last ``window`` =
12 complete months: the organisation's growth, robust to a team onboarding or one odd month); a
month's forecast is that daily rate times its days. A consumer with fewer than ``trend_months``
(6) months carries its last rate forward flat; with fewer than ``min_months`` (3) there is no
forecast: "not enough history (n months)". On the demo history each consumer's own trend was
noisier than the shared one (higher error), and "same as last month" forecast a growing consumer
5-10% too low at two to three months; ``forecast_backtest`` reports the error and the bias of both.

The interval is empirical. The history is replayed from each past month (the origin): forecast the
next months from what was known then, compare with what happened, and keep the log error per
horizon (1, 2, 3... months ahead), pooled over consumers (one rarely has enough months alone) and
over forecasts made the same way (with or without a trend). The 80% interval at horizon h is the
forecast times the conformal 10th and 90th percentiles of those errors. ``forecast_backtest``
scores that: each origin's interval uses only errors known at the origin, so coverage is out of
sample. Pure pandas/numpy: no Streamlit, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from estimates.model import conformal_quantiles


@dataclass(frozen=True)
class ForecastSettings:
    months_ahead: int = 3
    window: int = 12
    trend_months: int = 6
    min_months: int = 3
    min_errors: int = 8  # errors a horizon needs before it gets an interval
    level: float = 0.80


def month_days(months: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    return pd.DatetimeIndex(months).days_in_month.to_numpy(dtype=float)


def complete_months(monthly: pd.DataFrame, first_day, last_day) -> pd.DataFrame:
    """Rows of months wholly inside [first_day, last_day], zero-filled per consumer from its first spend on.

    ``monthly`` has ``month`` (first day), ``consumer`` and ``spend``. A consumer's months before its
    first spend are left out (it had not started); months after with no rows are zero spend.
    """
    if monthly.empty or first_day is None or last_day is None:
        return pd.DataFrame(columns=["month", "consumer", "spend"])
    first, last = pd.Timestamp(first_day), pd.Timestamp(last_day)
    start = first if first.day == 1 else first + pd.offsets.MonthBegin(1)
    end = (last + pd.Timedelta(days=1)).to_period("M").to_timestamp() - pd.offsets.MonthBegin(1)
    months = pd.date_range(start, end, freq="MS")
    frame = monthly.assign(month=pd.to_datetime(monthly["month"]), spend=monthly["spend"].map(float))
    frame = frame.groupby(["consumer", "month"], as_index=False)["spend"].sum()
    out = []
    for consumer, part in frame.groupby("consumer"):
        series = part.set_index("month")["spend"].reindex(months, fill_value=0.0)
        started = series[series > 0]
        if started.empty:
            continue
        series = series[series.index >= started.index[0]]
        out.append(pd.DataFrame({"month": series.index, "consumer": consumer, "spend": series.to_numpy()}))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=["month", "consumer", "spend"])


def _month_number(months: pd.DatetimeIndex) -> np.ndarray:
    return np.asarray(months.year * 12 + months.month, dtype=float)


@dataclass(frozen=True)
class _Series:
    """One consumer's complete months, sorted: month numbers (year x 12 + month), days in each, spend."""

    number: np.ndarray
    days: np.ndarray
    spend: np.ndarray

    @classmethod
    def of(cls, months: pd.DatetimeIndex, spend: np.ndarray) -> _Series:
        return cls(_month_number(months), month_days(months), np.asarray(spend, dtype=float))

    def upto(self, number: float) -> _Series:
        """The months up to and including month ``number``."""
        n = int(self.number.searchsorted(number, side="right"))
        return _Series(self.number[:n], self.days[:n], self.spend[:n])

    def log_rates(self) -> np.ndarray:
        return np.log(np.maximum(self.spend / self.days, 1e-6))

    def at(self, numbers: np.ndarray) -> np.ndarray:
        """Spend in the months ``numbers`` (NaN where the series has none)."""
        i = np.minimum(self.number.searchsorted(numbers), len(self.number) - 1)
        return np.where(self.number[i] == numbers, self.spend[i], np.nan)


def shared_trend(series: dict[str, _Series], settings: ForecastSettings) -> float:
    """Theil-Sen slope of log spend per day, pooled over every consumer with enough months (per month).

    The median of the slopes between every pair of a consumer's last ``window`` months, over all
    consumers: a team onboarding (a step up) or one odd month barely moves it, and no consumer's
    noise is extrapolated on its own.
    """
    slopes = []
    for one in series.values():
        if len(one.spend) < settings.trend_months:
            continue
        last = _Series(one.number[-settings.window :], one.days[-settings.window :], one.spend[-settings.window :])
        rate, t = last.log_rates(), last.number
        i, j = np.triu_indices(len(rate), 1)
        slopes.append((rate[j] - rate[i]) / (t[j] - t[i]))
    return float(np.median(np.concatenate(slopes))) if slopes else 0.0


def _point(
    one: _Series, ahead_number: np.ndarray, ahead_days: np.ndarray, trend: float, settings: ForecastSettings
) -> np.ndarray | None:
    """Forecast spend for the months ahead (numbers, days) from one consumer's complete months (None: too few)."""
    if len(one.spend) < settings.min_months:
        return None
    slope = trend if len(one.spend) >= settings.trend_months else 0.0
    rate = np.log(np.maximum(one.spend[-1] / one.days[-1], 1e-6))
    return np.exp(rate + slope * (ahead_number - one.number[-1])) * ahead_days


def _horizons(last: pd.Timestamp, ahead: pd.DatetimeIndex) -> np.ndarray:
    return np.asarray((ahead.year - last.year) * 12 + (ahead.month - last.month))


def _series(history: pd.DataFrame) -> dict[str, _Series]:
    """Each consumer's complete months, sorted."""
    out = {}
    for consumer, part in history.groupby("consumer"):
        part = part.sort_values("month")
        if len(part):
            out[consumer] = _Series.of(pd.DatetimeIndex(part["month"]), part["spend"].to_numpy(dtype=float))
    return out


def replay(history: pd.DataFrame, settings: ForecastSettings, max_horizon: int) -> pd.DataFrame:
    """Every past forecast the method would have made: origin, consumer, months known, horizon, forecast, actual, log error."""
    rows = []
    full = _series(history)
    for origin in sorted(pd.to_datetime(history["month"].unique()))[:-1]:
        number = origin.year * 12 + origin.month
        known = {consumer: part for consumer, one in full.items() if len((part := one.upto(number)).spend)}
        trend = shared_trend(known, settings)
        ahead = pd.date_range(origin + pd.offsets.MonthBegin(1), periods=max_horizon, freq="MS")
        ahead_number, ahead_days = _month_number(ahead), month_days(ahead)
        for consumer, one in known.items():
            if one.number[-1] != number:
                continue
            forecast = _point(one, ahead_number, ahead_days, trend, settings)
            if forecast is None:
                continue
            actual = full[consumer].at(ahead_number)
            naive = one.spend[-1] / one.days[-1] * ahead_days
            for h, (f, a, m, b) in enumerate(zip(forecast, actual, ahead, naive, strict=True), start=1):
                if a > 0:
                    rows.append((origin, consumer, len(one.spend), h, m, f, a, np.log(a / f), b))
    columns = ["origin", "consumer", "months_known", "horizon", "month", "forecast", "actual", "log_error", "naive"]
    return pd.DataFrame(rows, columns=columns)


def _same_regime(errors: pd.DataFrame, months_known: int, settings: ForecastSettings) -> pd.Series:
    """Past forecasts made the same way (with a trend, or flat for lack of months) as one from ``months_known`` months."""
    return (errors["months_known"] >= settings.trend_months) == (months_known >= settings.trend_months)


def forecast_spend(history: pd.DataFrame, months: list, settings: ForecastSettings | None = None) -> pd.DataFrame:
    """Per consumer and month in ``months``: forecast, low, high (80%), months of history, and a note.

    ``history`` is the output of ``complete_months``; ``months`` are the first days of the months to forecast.
    """
    settings = settings or ForecastSettings()
    ahead = pd.DatetimeIndex(pd.to_datetime(months))
    columns = ["consumer", "month", "horizon", "forecast", "low", "high", "history_months", "note"]
    if history.empty or not len(ahead):
        return pd.DataFrame(columns=columns)
    last = pd.Timestamp(history["month"].max())
    horizons = _horizons(last, ahead)
    errors = replay(history, settings, int(horizons.max()))
    full = _series(history)
    trend = shared_trend(full, settings)
    tail = (1 - settings.level) / 2
    rows = []
    for consumer, one in full.items():
        spend = one.spend
        if one.number[-1] != last.year * 12 + last.month:
            continue  # no spend in the latest months: nothing to carry forward
        point = _point(one, _month_number(ahead), month_days(ahead), trend, settings)
        for i, (m, h) in enumerate(zip(ahead, horizons, strict=True)):
            if point is None:
                rows.append((consumer, m, h, np.nan, np.nan, np.nan, len(spend), f"not enough history ({len(spend)} months)"))
                continue
            e = errors.loc[(errors["horizon"] == h) & _same_regime(errors, len(spend), settings), "log_error"].to_numpy()
            if len(e) >= settings.min_errors:
                lo, hi = conformal_quantiles(e, np.ones(len(e)), [tail, 1 - tail])
                rows.append((consumer, m, h, point[i], point[i] * np.exp(lo), point[i] * np.exp(hi), len(spend), ""))
            else:
                note = f"no interval yet: {len(e)} past forecasts {h} months ahead, {settings.min_errors} needed"
                rows.append((consumer, m, h, point[i], np.nan, np.nan, len(spend), note))
    return pd.DataFrame(rows, columns=columns)


def forecast_backtest(
    history: pd.DataFrame, settings: ForecastSettings | None = None, max_horizon: int | None = None
) -> pd.DataFrame:
    """Per horizon: past forecasts, MdAPE and bias, the same for "same as last month", out-of-sample coverage.

    Bias is the median of (forecast - actual) / actual: negative means the method forecast too little.
    A forecast's interval is scored only with errors that were known at its origin.
    """
    settings = settings or ForecastSettings()
    errors = replay(history, settings, max_horizon or settings.months_ahead)
    tail = (1 - settings.level) / 2
    out = []
    for h, part in errors.groupby("horizon"):
        inside = []
        month, log_error = part["month"].to_numpy(), part["log_error"].to_numpy()
        with_trend = (part["months_known"] >= settings.trend_months).to_numpy()
        for (origin, known), now in part.groupby(["origin", "months_known"]).indices.items():
            earlier = log_error[(month <= np.datetime64(origin)) & (with_trend == (known >= settings.trend_months))]
            if len(earlier) >= settings.min_errors:
                lo, hi = conformal_quantiles(earlier, np.ones(len(earlier)), [tail, 1 - tail])
                inside += list((log_error[now] >= lo) & (log_error[now] <= hi))
        relative = part["forecast"] / part["actual"] - 1
        naive = part["naive"] / part["actual"] - 1
        out.append(
            {
                "horizon": int(h),
                "forecasts": len(part),
                "mdape": float(relative.abs().median()),
                "bias": float(relative.median()),
                "naive_mdape": float(naive.abs().median()),
                "naive_bias": float(naive.median()),
                "coverage": float(np.mean(inside)) if inside else np.nan,
                "scored_intervals": len(inside),
            }
        )
    return pd.DataFrame(
        out, columns=["horizon", "forecasts", "mdape", "bias", "naive_mdape", "naive_bias", "coverage", "scored_intervals"]
    )


def beside_cost_explorer(ours: pd.DataFrame, cost_explorer: pd.DataFrame, months: list | None = None) -> pd.DataFrame:
    """Per consumer and month in ``months``: our forecast (median, 80%) beside Cost Explorer's (mean, 80%).

    ``cost_explorer`` holds ``cost_forecasts`` rows. Only whole months compare: its first period (the
    rest of the month it was made in) is left out unless it began on the 1st.
    """
    ce_rows = cost_explorer[pd.to_datetime(cost_explorer["period_start"]).dt.day == 1]
    ce_rows = ce_rows.assign(month=pd.to_datetime(ce_rows["month"]))
    if months is not None:
        ce_rows = ce_rows[ce_rows["month"].isin(pd.to_datetime(months))]
    ce_rows = ce_rows[["consumer", "month", "mean_amount", "lower_bound", "upper_bound"]]
    ours = ours.assign(month=pd.to_datetime(ours["month"]))[["consumer", "month", "forecast", "low", "high", "note"]]
    merged = ours.merge(ce_rows, on=["consumer", "month"], how="outer")
    merged["note"] = merged["note"].fillna("")
    return merged.sort_values(["consumer", "month"]).reset_index(drop=True)
