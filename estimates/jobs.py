"""The estimates' job: ``backtest`` scores the run estimator against its baselines, month by month.

A recorded run (``warehouse.runs.job_run``): its rows commit atomically with its ``job_runs`` row.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import pandas as pd
from tqdm import tqdm

import queries
from core.errors import LedgerError
from core.settings import Settings
from estimates.backtest import OUTPUT_COLUMNS, YOUNG_COLUMNS, backtest, summarise
from estimates.estimator import EstimatorSettings
from warehouse.runs import JobRun, job_run, print_summary

BACKTEST_COLUMNS = (
    "run_id",
    "computed_at",
    "month",
    "method",
    "target",
    "launches",
    "estimated",
    "training_launches",
    "mdape",
    "coverage",
    "median_interval_ratio",
    "interval_level",
    *YOUNG_COLUMNS,
    *OUTPUT_COLUMNS,
)


def run_backtest(
    settings: Settings, months: int = 12, estimator: EstimatorSettings | None = None, out=None
) -> tuple[JobRun, pd.DataFrame]:
    """Backtest the last ``months`` launch months into ``backtest_results``; print the table."""
    estimator = estimator or EstimatorSettings()
    with job_run(settings.data_dir, "backtest", f"launches, last {months} months", settings=settings) as run:
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
    print(format_young_and_output(table), file=out or sys.stdout)
    return run, table


def _pct(value) -> str:
    return "—" if value is None or pd.isna(value) else f"{value * 100:.1f}%"


def format_young_and_output(table: pd.DataFrame) -> str:
    """All months pooled: the young groups' scores per method, and the model with and without output sizes."""
    pooled = table[table["month"].isna()]
    lines = ["Young groups (5-29 completed launches before the month), all months:"]
    for row in pooled.itertuples(index=False):
        lines.append(
            f"  {row.method:<19} {row.target:<5} {int(row.young_estimated or 0):>7,} of {int(row.young_launches or 0):>6,} "
            f"estimated, MdAPE {_pct(row.young_mdape)}, in 80% {_pct(row.young_coverage)}"
        )
    lines.append("Output size (launches whose estimate used it), all months: with it / without it")
    for row in pooled[pooled["output_launches"].notna()].itertuples(index=False):
        lines.append(
            f"  {row.method:<19} {row.target:<5} {int(row.output_launches):>7,} launches, MdAPE {_pct(row.output_mdape)} / "
            f"{_pct(row.no_output_mdape)}, in 80% {_pct(row.output_coverage)} / {_pct(row.no_output_coverage)}, "
            f"high/low {row.output_median_interval_ratio:.2f} / {row.no_output_median_interval_ratio:.2f}"
        )
    return "\n".join(lines)


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
        f"{'month':<8} {'method':<19} {'launches':>9} {'cost MdAPE':>11} {'cost in 80%':>12} "
        f"{'hours MdAPE':>12} {'hours in 80%':>13}",
    ]
    for (month, method), row in wide.iterrows():
        lines.append(
            f"{month:<8} {method:<19} {int(row[('estimated', 'cost')]):>9,} {_pct(row[('mdape', 'cost')]):>11} "
            f"{_pct(row[('coverage', 'cost')]):>12} {_pct(row[('mdape', 'hours')]):>12} {_pct(row[('coverage', 'hours')]):>13}"
        )
    return "\n".join(lines)
