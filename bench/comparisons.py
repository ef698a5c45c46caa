"""``python -m bench`` section ``comparisons``: the like-for-like figures of the Platforms page, timed as it asks.

For every workflow type in the warehouse: the ``comparison_launches`` query (one workflow type's completed
launches), the size-matched comparison of every platform x purchase option against the one with the most
launches (``estimates.comparisons.against``: bands, elasticity, 1,000 bootstrap resamples each), and what the page
waits for (``page``: the query, the launches per side and the comparison table, as ``dashboard.data.comparisons``
does uncached; target 250 ms p95 at 1M launches) over the whole history and (``opening_page``) over the period
the page opens on (the last full month and the month to date), p50/p95 in ms; beside them, the same rows read with pandas from
the same Parquet (the obvious way), measured in the same run, and the page figure as a ratio against it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd

from queries import Filters
from warehouse.store import read_manifest, warehouse_dir

COLUMNS = ["workflow_type", "compute_platform", "primary_instance_type", "primary_purchase_option", "input_size_gb"]
COLUMNS += ["sample_count", "total_cost", "total_hours", "status", "launched_at"]


def pandas_rows(data_dir: Path, filters: Filters, workflow_type: str) -> pd.DataFrame:
    """The query's rows computed in plain pandas: read the columns from every launches file, filter."""
    root = warehouse_dir(data_dir)
    files = [str(root / f) for files in read_manifest(data_dir)["tables"]["launches"].values() for f in files]
    frame = pd.concat([pd.read_parquet(f, columns=COLUMNS) for f in files], ignore_index=True)
    day = frame["launched_at"].dt.date
    keep = (
        (frame["workflow_type"] == workflow_type)
        & (frame["status"] == "COMPLETE")
        & frame["total_cost"].notna()
        & (frame["input_size_gb"] > 0)
        & (day >= filters.start)
        & (day <= filters.end)
    )
    return frame[keep]


def _percentiles(times: list[float]) -> dict:
    times = sorted(times)
    return {"p50_ms": round(times[len(times) // 2], 1), "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 1)}


def bench_comparisons(data_dir: Path, repeat: int) -> list[dict]:
    import queries
    from core.settings import ComparisonSettings
    from dashboard.frame import _default_period
    from estimates import comparisons
    from queries.named import comparison_launches
    from warehouse.store import connect

    con = connect(data_dir)
    options = queries.filter_options(con)
    everything = Filters(options.first_day, options.last_day)
    opening = Filters(*_default_period(options))  # what the page opens on: the last full month and the month to date
    settings = ComparisonSettings()
    by = comparisons.SIDES["Platform and purchase option"]
    rows_out = []

    def page(filters: Filters, workflow_type: str) -> tuple[pd.DataFrame, pd.DataFrame, float, float]:
        """What the page does for one workflow type: (rows, table, seconds in the query, seconds in all)."""
        start = time.perf_counter()
        rows = comparison_launches(con, filters, workflow_type=workflow_type)
        middle = time.perf_counter()
        table = pd.DataFrame()
        if len(rows):
            baseline = comparisons.sides(rows, by).index[0]  # the page's "Against" choices
            table = comparisons.against(
                rows, by, baseline, edges=settings.size_bands_gb, min_launches=settings.min_launches, seed=settings.seed
            )
        return rows, table, middle - start, time.perf_counter() - start

    for workflow_type in options.workflow_types:
        comparison_launches(con, everything, workflow_type=workflow_type)  # warm: Parquet metadata
        query_ms, bootstrap_ms, page_ms = [], [], []
        for _ in range(repeat):
            rows, table, query_s, total_s = page(everything, workflow_type)
            query_ms.append(query_s * 1000)
            bootstrap_ms.append((total_s - query_s) * 1000)
            page_ms.append(total_s * 1000)
        opening_ms = []
        for _ in range(repeat):
            opened, _, _, total_s = page(opening, workflow_type)
            opening_ms.append(total_s * 1000)
        pandas_ms = []
        for _ in range(max(3, repeat // 5)):
            start = time.perf_counter()
            pandas_rows(data_dir, everything, workflow_type)
            pandas_ms.append((time.perf_counter() - start) * 1000)
        query = _percentiles(query_ms)
        row = {
            "workflow_type": workflow_type,
            "launches_compared": len(rows),
            "sides": int(table["difference"].notna().sum()) + 1,
            "query_p50_ms": query["p50_ms"],
            "query_p95_ms": query["p95_ms"],
            **{f"bootstrap_{k}": v for k, v in _percentiles(bootstrap_ms).items()},
            **{f"page_{k}": v for k, v in _percentiles(page_ms).items()},
            "pandas_p50_ms": _percentiles(pandas_ms)["p50_ms"],
            "opening_launches": len(opened),
            **{f"opening_page_{k}": v for k, v in _percentiles(opening_ms).items()},
        }
        row["query_speedup_vs_pandas"] = round(row["pandas_p50_ms"] / row["query_p50_ms"], 1)
        row["page_speedup_vs_pandas"] = round(row["pandas_p50_ms"] / row["page_p50_ms"], 1)
        row["page_p95_under_250_ms"] = row["page_p95_ms"] < 250
        rows_out.append(row)
        print(json.dumps(row), flush=True)
    con.close()
    return rows_out
