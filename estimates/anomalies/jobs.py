"""The anomalies' job: ``python -m ingest anomalies`` finds them (``estimates.anomalies.find``) and stores them.

A recorded run (``warehouse.runs.job_run``): the ``anomalies`` table is replaced whole, atomically with the
run's ``job_runs`` row, so the pages read the latest run's findings and never fit a model on a page load.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from decimal import Decimal

import pandas as pd

import queries
from core.settings import Settings
from estimates.anomalies.find import COLUMNS, LEVEL, describe, launch_anomalies, spend_anomalies
from estimates.estimator import EstimatorSettings
from estimates.views import spend_history
from queries import Filters
from warehouse.runs import JobRun, job_run, print_summary

TABLE = "anomalies"
EARLIEST_BILL = date(2000, 1, 1)


def _exact_spend(frame: pd.DataFrame, month: str, amount: str) -> dict[tuple[str, pd.Timestamp], Decimal]:
    """{(consumer, month): spend as Decimal}, summed exactly."""
    out: dict[tuple[str, pd.Timestamp], Decimal] = {}
    for consumer, m, value in zip(frame["consumer"], frame[month], frame[amount], strict=True):
        if consumer is None or value is None:
            continue
        key = (consumer, pd.Timestamp(m))
        out[key] = out.get(key, Decimal(0)) + Decimal(value)
    return out


def _read(con) -> tuple[pd.DataFrame, pd.DataFrame, str, dict, str]:
    """(launch history, whole months of spend per consumer, what the spend is, its exact amounts, currency)."""
    options = queries.filter_options(con)
    everything = options.all_time()
    history = queries.estimate_history(con, everything)
    bill_period = Filters(start=EARLIEST_BILL, end=max(date.today(), options.last_day or date.today()))
    billed = queries.monthly_billed_spend(con, bill_period)
    launch_spend = None if len(billed) else queries.monthly_spend_by_consumer(con, everything)
    spend, basis = spend_history(billed, launch_spend, options.first_day, options.last_day)
    if len(billed):
        exact, currency = _exact_spend(billed, "month", "unblended_cost"), "/".join(sorted(set(billed["currency"])))
    else:
        exact, currency = _exact_spend(launch_spend, "launch_month", "spend"), "/".join(options.currencies) or "USD"
    return history, spend, basis, exact, currency


def run_anomalies(
    settings: Settings, months: int = 12, estimator: EstimatorSettings | None = None, out=None
) -> tuple[JobRun, pd.DataFrame]:
    """Find the anomalies of the last ``months`` months into ``anomalies`` (replacing the last run's); print them."""
    with job_run(settings.data_dir, "anomalies", f"launches and consumer spend, last {months} months", settings=settings) as run:
        con = run.writer.con.cursor()
        try:
            history, spend, basis, exact, currency = _read(con)
        finally:
            con.close()
        run.stats.records_read = len(history) + len(spend)
        launches = launch_anomalies(history, months, estimator)
        months_off = spend_anomalies(spend, exact, months, basis, currency)
        found = [f for f in (launches, months_off) if len(f)]
        table = pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=COLUMNS)
        table = table.sort_values(["month", "how_far_off"], ascending=[False, False], ignore_index=True)
        table.insert(0, "computed_at", datetime.now(UTC).replace(tzinfo=None))
        table.insert(0, "run_id", run.writer.run_id)
        run.writer.drop_partitions(TABLE, run.writer.partitions_of(TABLE))  # the last run's findings go
        if len(table):
            run.writer.con.register("anomaly_rows", table)
            run.writer.write_partitions(TABLE, "SELECT * FROM anomaly_rows")
            run.writer.con.unregister("anomaly_rows")
        run.stats.records_loaded = len(table)
        run.stats.notes.append(
            f"{len(launches):,} launches and {len(months_off):,} consumer-months outside their {LEVEL:.0%} interval"
        )
    print_summary(run, out)
    print(format_anomalies(table), file=out or sys.stdout)
    return run, table


def format_anomalies(table: pd.DataFrame, shown: int = 20) -> str:
    """The furthest-off anomalies as text lines: what, when, how far off."""
    if table.empty:
        return f"No launch or consumer-month fell outside its {LEVEL:.0%} interval."
    lines = [f"Anomalies: outside the {LEVEL:.0%} interval, the furthest off first (up to {shown})"]
    for _, row in table.sort_values("how_far_off", ascending=False).head(shown).iterrows():
        lines.append(f"  {row['month']:%Y-%m}  {describe(row)}")
    return "\n".join(lines)
