"""The Cost Explorer jobs: ``cost-explorer`` (daily spend into ``costs_daily``) and ``forecast``
(GetCostForecast per consumer into ``cost_forecasts``, printed beside Launch Ledger's own forecast).

Each is one recorded, atomic run; every request costs $0.01 and is counted in the run's summary.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from tqdm import tqdm

import queries
from core.errors import LedgerError
from core.months import add_months
from core.settings import Settings
from estimates.forecast import beside_cost_explorer, complete_months, forecast_spend
from ingest.cost_explorer import forecast as ce_forecast
from ingest.cost_explorer import usage as ce
from warehouse.runs import JobRun, job_run, print_summary

if TYPE_CHECKING:
    import boto3


def _progress(total: int | None, unit: str, desc: str) -> tqdm:
    return tqdm(total=total, unit=unit, desc=desc, unit_scale=True, leave=False, disable=None, dynamic_ncols=True)


def ingest_cost_explorer(
    settings: Settings,
    start: date | None = None,
    end: date | None = None,
    responses_dir: Path | None = None,
    session: boto3.Session | None = None,
    today: date | None = None,
) -> JobRun:
    """Pull (or load saved) GetCostAndUsage pages for the days not yet final, into ``costs_daily``."""
    cfg = settings.cost_explorer_for()
    today = today or datetime.now(UTC).date()
    source = str(responses_dir) if responses_dir else f"cost-explorer tag:{cfg.tag_key} by {cfg.group_by}"
    with job_run(settings.data_dir, "cost-explorer", source, settings=settings) as run:
        if responses_dir:
            pages = ce.saved_pages(responses_dir)
            covered = [r for r in [ce.pages_range(pages)] if r]
        else:
            final = ce.final_from_cursor(run.writer.manifest.get("cursors", {}).get(ce.CURSOR))
            end = end or today
            start = start or (final.start if final else (today.replace(day=1) - timedelta(days=365)).replace(day=1))
            covered = ce.ranges_to_request(start, end, final, cfg.trailing_days, today)
            client = ce.client(cfg, session)
            pages = []
            with _progress(None, "request", "Cost Explorer") as bar:
                for day_range in covered:
                    for page in ce.request_pages(client, day_range, cfg, on_page=lambda: bar.update(1)):
                        run.stats.api_requests += 1
                        pages.append(page)
            skipped = (end - start).days - sum((r.end - r.start).days for r in covered)
            run.stats.notes.append(
                f"asked for {sum((r.end - r.start).days for r in covered)} days in {len(covered)} range(s), "
                f"skipped {skipped} final days; {run.stats.api_requests} requests ≈ ${run.stats.api_requests * 0.01:.2f}"
            )
        loaded = ce.load_pages(
            run.writer, pages, covered, cfg, today, from_api=responses_dir is None, currency=settings.currency, source=source
        )
        read = loaded.rows + loaded.held + loaded.quarantined
        run.stats.count(read, loaded.loaded, loaded.unchanged, loaded.quarantined, loaded.reasons)
        if loaded.quarantined:
            run.stats.look_at = "the reasons above: each names the field, the value found and what was expected"
        if loaded.kept_days:
            run.stats.notes.append(
                f"{loaded.kept_days} days kept as they were: a group was quarantined "
                f"({loaded.held} good groups of them not loaded; those days are asked for again on the next pull)"
            )
        if loaded.final:
            run.stats.notes.append(f"final (never re-requested): {loaded.final.start} – {loaded.final.end - timedelta(days=1)}")
    print_summary(run)
    return run


def pull_forecasts(
    settings: Settings,
    metric: str = "UNBLENDED_COST",
    months: int = 3,
    consumers: list[str] | None = None,
    session: boto3.Session | None = None,
    today: date | None = None,
    out=None,
) -> tuple[JobRun, pd.DataFrame]:
    """GetCostForecast per consumer into ``cost_forecasts``; print it beside our own forecast."""
    if metric not in ce_forecast.METRICS:
        raise LedgerError(f"--metric must be one of {', '.join(ce_forecast.METRICS)}, not {metric!r}")
    if months < 1 or months > 12:
        raise LedgerError("--months must be between 1 and 12 (Cost Explorer forecasts up to 18 months, monthly)")
    cfg = settings.cost_explorer_for()
    today = today or datetime.now(UTC).date()
    source = f"cost-explorer forecast tag:{cfg.tag_key} {metric}"
    with job_run(settings.data_dir, "forecast", source, settings=settings) as run:
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
    ahead = [add_months(today, k) for k in range(1, months + 1)]
    side = beside_cost_explorer(ours, pd.DataFrame(pull.rows, columns=ce_forecast.COLUMNS), ahead)
    print(format_forecasts(side, metric), file=out or sys.stdout)
    return run, side


def _our_forecast(con, metric: str, today: date, months: int) -> pd.DataFrame:
    column = ce_forecast.METRIC_COLUMNS.get(metric, "unblended_cost")
    monthly = queries.monthly_billed_spend(con, queries.Filters(date(2000, 1, 1), today))
    if monthly.empty:
        return pd.DataFrame(columns=["consumer", "month", "forecast", "low", "high", "note"])
    history = complete_months(monthly.rename(columns={column: "spend"}), monthly["first_day"].min(), monthly["last_day"].max())
    ahead = [add_months(today, k) for k in range(1, months + 1)]
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
            f"{str(row.consumer):<24} {row.month:%Y-%m} {_money(row.forecast):>14} "
            f"{_money(row.low) + '–' + _money(row.high):>19} "
            f"{_money(row.mean_amount):>14} {_money(row.lower_bound) + '–' + _money(row.upper_bound):>19}"
        )
    return "\n".join(lines)
