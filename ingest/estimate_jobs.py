"""The estimate jobs the CLI runs: ``backtest`` (the estimator against its baselines, month by month)
and ``forecast`` (Cost Explorer's spend forecast per consumer, printed beside our own).

Both are recorded runs (``ingest_run``): their rows commit atomically with their ``ingest_runs`` row.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime

import boto3
import pandas as pd
from tqdm import tqdm

import queries
from estimates.backtest import backtest, summarise
from estimates.estimator import EstimatorSettings
from estimates.forecast import beside_cost_explorer, complete_months, forecast_spend
from ingest import forecast as ce_forecast
from ingest.config import Settings
from ingest.errors import LedgerError
from ingest.run import IngestRun, ingest_run, print_summary

BACKTEST_COLUMNS = (
    "run_id", "computed_at", "month", "method", "target", "launches", "estimated", "training_launches", "mdape",
    "coverage", "median_interval_ratio", "interval_level",
)  # fmt: skip


def run_backtest(
    settings: Settings, months: int = 12, estimator: EstimatorSettings | None = None, out=None
) -> tuple[IngestRun, pd.DataFrame]:
    """Backtest the last ``months`` launch months into ``backtest_results``; print the table."""
    estimator = estimator or EstimatorSettings()
    with ingest_run(settings.data_dir, "backtest", f"launches, last {months} months", settings=settings) as run:
        con = run.writer.con.cursor()
        try:
            history = queries.estimate_history(con, queries.filter_options(con).all_time())
        finally:
            con.close()
        run.stats.records_read = len(history)
        with tqdm(total=months, unit="month", desc="backtesting", leave=False, disable=None) as bar:
            per_month, per_launch = backtest(history, months, estimator, progress=lambda _: bar.update(1))
        if per_month.empty:
            raise LedgerError(
                "no month to backtest: it needs completed, priced launches in at least two months (load launches first)"
            )
        table = summarise(per_month, per_launch)
        table.insert(0, "computed_at", datetime.now(UTC).replace(tzinfo=None))
        table.insert(0, "run_id", run.writer.run_id)
        table["interval_level"] = estimator.level
        table["month"] = pd.to_datetime(table["month"]).dt.date
        table = table[list(BACKTEST_COLUMNS)]
        run.writer.con.register("backtest_rows", table)
        run.writer.write_partitions("backtest_results", "SELECT * FROM backtest_rows")
        run.writer.con.unregister("backtest_rows")
        run.stats.records_loaded = len(table)
        scored = int(per_month.loc[per_month["method"] == "model", "launches"].sum()) // 2
        run.stats.notes.append(f"{len(per_month['month'].unique())} months, {scored:,} launches scored per method and target")
    print_summary(run, out)
    print(format_backtest(table), file=out or sys.stdout)
    return run, table


def _pct(value) -> str:
    return "—" if value is None or pd.isna(value) else f"{value * 100:.1f}%"


def format_backtest(table: pd.DataFrame) -> str:
    """The backtest as a text table: one line per month and method, cost and duration side by side."""
    wide = table.pivot_table(
        index=[table["month"].map(lambda m: "all" if m is None or pd.isna(m) else m.strftime("%Y-%m")), "method"],
        columns="target",
        values=["mdape", "coverage", "estimated"],
        aggfunc="first",
        sort=False,
    )
    lines = [
        "Backtest: each month predicted from the launches before it (80% intervals; a calibrated method covers ~80%)",
        f"{'month':<8} {'method':<19} {'launches':>9} {'cost MdAPE':>11} {'cost in 80%':>12} {'hours MdAPE':>12} {'hours in 80%':>13}",
    ]
    for (month, method), row in wide.iterrows():
        lines.append(
            f"{month:<8} {method:<19} {int(row[('estimated', 'cost')]):>9,} {_pct(row[('mdape', 'cost')]):>11} "
            f"{_pct(row[('coverage', 'cost')]):>12} {_pct(row[('mdape', 'hours')]):>12} {_pct(row[('coverage', 'hours')]):>13}"
        )
    return "\n".join(lines)


def pull_forecasts(
    settings: Settings,
    metric: str = "UNBLENDED_COST",
    months: int = 3,
    consumers: list[str] | None = None,
    session: boto3.Session | None = None,
    today: date | None = None,
    out=None,
) -> tuple[IngestRun, pd.DataFrame]:
    """GetCostForecast per consumer into ``cost_forecasts``; print it beside our own forecast."""
    if metric not in ce_forecast.METRICS:
        raise LedgerError(f"--metric must be one of {', '.join(ce_forecast.METRICS)}, not {metric!r}")
    if months < 1 or months > 12:
        raise LedgerError("--months must be between 1 and 12 (Cost Explorer forecasts up to 18 months, monthly)")
    cfg = settings.cost_explorer
    today = today or datetime.now(UTC).date()
    source = f"cost-explorer forecast tag:{cfg.tag_key} {metric}"
    with ingest_run(settings.data_dir, "forecast", source, settings=settings) as run:
        con = run.writer.con.cursor()
        try:
            wanted = consumers or ce_forecast.consumers_to_forecast(con, cfg.tag_key, today)
            ours = _our_forecast(con, metric, today, months)
        finally:
            con.close()
        if not wanted:
            raise LedgerError("no consumer to forecast: load Cost Explorer spend or launches first, or pass --consumer")
        client = ce_forecast.client(cfg, session)
        with tqdm(total=len(wanted), unit="request", desc="Cost Explorer forecast", leave=False, disable=None) as bar:

            def counted() -> None:  # counted as made, so a run that fails part-way still records what it cost
                run.stats.api_requests += 1
                bar.update(1)

            pull = ce_forecast.request_forecasts(
                client, wanted, cfg, metric, today, months, run.writer.run_id, on_request=counted
            )
        run.stats.records_read += len(pull.rows)
        run.stats.records_loaded += ce_forecast.load_forecasts(run.writer, pull.rows)
        run.stats.notes.append(f"{pull.requests} GetCostForecast requests ≈ ${pull.requests * 0.01:.2f}")
        for consumer, why in pull.skipped.items():
            run.stats.notes.append(f"no Cost Explorer forecast for {consumer}: {why}")
    print_summary(run, out)
    ahead = [ce_forecast.add_months(today, k) for k in range(1, months + 1)]
    side = beside_cost_explorer(ours, pd.DataFrame(pull.rows, columns=ce_forecast.COLUMNS), ahead)
    print(format_forecasts(side, metric), file=out or sys.stdout)
    return run, side


def _our_forecast(con, metric: str, today: date, months: int) -> pd.DataFrame:
    column = ce_forecast.METRIC_COLUMNS.get(metric, "unblended_cost")
    monthly = queries.monthly_billed_spend(con, queries.Filters(date(2000, 1, 1), today))
    if monthly.empty:
        return pd.DataFrame(columns=["consumer", "month", "forecast", "low", "high", "note"])
    history = complete_months(monthly.rename(columns={column: "spend"}), monthly["first_day"].min(), monthly["last_day"].max())
    ahead = [ce_forecast.add_months(today, k) for k in range(1, months + 1)]
    return forecast_spend(history, ahead)


def _money(value) -> str:
    return "—" if value is None or pd.isna(value) else f"{float(value):,.0f}"


def format_forecasts(side: pd.DataFrame, metric: str) -> str:
    lines = [
        f"Spend forecast per consumer ({metric}, USD per month; ranges are 80% intervals)",
        f"{'consumer':<24} {'month':<8} {'Launch Ledger':>14} {'range':>19} {'Cost Explorer':>14} {'range':>19}",
    ]
    for row in side.itertuples(index=False):
        lines.append(
            f"{str(row.consumer):<24} {row.month:%Y-%m} {_money(row.forecast):>14} {_money(row.low) + '–' + _money(row.high):>19} "
            f"{_money(row.mean_amount):>14} {_money(row.lower_bound) + '–' + _money(row.upper_bound):>19}"
        )
    return "\n".join(lines)
