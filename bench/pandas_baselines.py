"""The same answers as the heavy named queries, computed in plain pandas from the same Parquet files.

This is what a user would write without DuckDB: read the columns needed, filter, group. Money is
read as pyarrow decimals and summed exactly (object Decimals), as the warehouse promises.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from queries import Filters
from warehouse.store import read_manifest, warehouse_dir

PHASES = ["preparing_hours", "waiting_hours", "queued_hours", "running_hours"]


def _launches(data_dir: Path, columns: list[str], filters: Filters) -> pd.DataFrame:
    root = warehouse_dir(data_dir)
    files = [str(root / f) for files in read_manifest(data_dir)["tables"]["launches"].values() for f in files]
    frame = pd.concat([pd.read_parquet(f, columns=sorted({*columns, "launched_at"})) for f in files], ignore_index=True)
    day = frame["launched_at"].dt.date
    return frame[(day >= filters.start) & (day <= filters.end)]


def baselines(data_dir: Path, filters: Filters) -> dict[str, Callable[[], pd.DataFrame]]:
    def overview():
        f = _launches(data_dir, ["total_cost", "status", "total_hours", "ended_at", "price_source"], filters)
        priced = f["total_cost"].dropna()
        return pd.DataFrame(
            [
                {
                    "launches": len(f),
                    "priced_launches": len(priced),
                    "total_spend": priced.sum(),
                    "computed_price_launches": int((f["price_source"] == "computed").sum()),
                    "failed_spend": f.loc[f["status"] == "FAILED", "total_cost"].dropna().sum(),
                    "median_hours": f.loc[f["ended_at"].notna(), "total_hours"].median(),
                }
            ]
        )

    def launch_cost_by_consumer_month():
        cols = ["consumer", "launch_month", "total_cost", "instance_cost", "volume_cost", "filesystem_cost", "control_plane_cost"]
        f = _launches(data_dir, cols, filters)
        return f.groupby(["consumer", "launch_month"]).agg(
            launches=("total_cost", "size"),
            priced_launches=("total_cost", "count"),
            total_cost=("total_cost", "sum"),
            instance_cost=("instance_cost", "sum"),
            volume_cost=("volume_cost", "sum"),
        )

    def timing():
        f = _launches(data_dir, ["compute_platform", "workflow_type", *PHASES], filters)
        long = f.melt(id_vars=["compute_platform", "workflow_type"], value_vars=PHASES, var_name="phase", value_name="hours")
        return (
            long.dropna()
            .groupby(["compute_platform", "workflow_type", "phase"])["hours"]
            .describe(percentiles=[0.1, 0.25, 0.5, 0.75, 0.9])
        )

    def monthly_spend_by_consumer():
        f = _launches(data_dir, ["consumer", "launch_month", "total_cost"], filters)
        return f.groupby(["launch_month", "consumer"]).agg(spend=("total_cost", "sum"), launches=("total_cost", "size"))

    return {
        "overview": overview,
        "launch_cost_by_consumer_month": launch_cost_by_consumer_month,
        "timing": timing,
        "monthly_spend_by_consumer": monthly_spend_by_consumer,
    }
