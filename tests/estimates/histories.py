"""Launch histories for the estimate tests: generated with known parameters, or a small demo warehouse."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

SPOT_FACTOR = 0.35  # Spot costs 35% of On-Demand in the generated histories
DEMO_END = date(2026, 6, 30)


def generate_history(
    n: int,
    seed: int = 0,
    cost_curve: Callable[[np.ndarray], np.ndarray] = lambda gb: 2.0 + 0.3 * gb**0.6,
    hours_curve: Callable[[np.ndarray], np.ndarray] = lambda gb: 1.0 + 0.05 * gb,
    sigma: float = 0.2,
    workflow_type: str = "wf-a",
    platform: str = "Batch",
    spot_share: float = 0.5,
    failure_rate: float = 0.0,
    failed_share: float = 0.5,
    months: int = 12,
) -> pd.DataFrame:
    """Launches shaped like ``estimate_history`` rows: log-normal noise (median factor 1) around the curves.

    Spot launches cost ``SPOT_FACTOR`` of the curve; failed launches cost ``failed_share`` of what they would have.
    """
    rng = np.random.default_rng(seed)
    gb = np.round(np.exp(rng.uniform(np.log(5), np.log(2000), n)), 1)
    spot = rng.random(n) < spot_share
    cost = cost_curve(gb) * np.where(spot, SPOT_FACTOR, 1.0) * np.exp(sigma * rng.standard_normal(n))
    hours = hours_curve(gb) * np.exp(sigma * rng.standard_normal(n))
    failed = rng.random(n) < failure_rate
    cost = np.where(failed, cost * failed_share, cost)
    month = pd.to_datetime("2025-01-01") + pd.to_timedelta(rng.integers(0, months, n) * 31, unit="D")
    return pd.DataFrame(
        {
            "launch_id": [f"{workflow_type}-{platform}-{seed}-{i}" for i in range(n)],
            "consumer": rng.choice(["team-a", "team-b"], n),
            "workflow_type": workflow_type,
            "compute_platform": platform,
            "input_size_gb": gb,
            "sample_count": np.maximum(1, np.round(gb / 10)).astype(int),
            "instance_family": "r6i",
            "purchase_option": np.where(spot, "Spot", "On-Demand"),
            "total_cost": [Decimal(f"{c:.6f}") for c in cost],
            "total_hours": hours,
            "launch_month": month.to_period("M").to_timestamp().date,
            "status": np.where(failed, "FAILED", "COMPLETE"),
            "currency": "USD",
        }
    )


def build_demo_warehouse(data_dir: Path, launches: int = 6_000, seed: int = 3) -> Path:
    """A demo history (synthetic, real wire formats) loaded by the real ingest, as ``python -m ingest demo`` does."""
    from core.settings import load_settings
    from ingest import demo
    from ingest.cost_explorer import jobs as cost_explorer_jobs
    from ingest.dynamodb import jobs

    files = demo.generate(data_dir / "demo-source", launches=launches, seed=seed, end_date=DEMO_END)
    settings = load_settings(data_dir=data_dir)
    jobs.ingest_dynamodb_export(settings, str(files.export_dir))
    cost_explorer_jobs.ingest_cost_explorer(settings, responses_dir=files.cost_explorer_dir)
    return data_dir


def read_history(data_dir: Path) -> pd.DataFrame:
    """Ended launches straight from the warehouse files, with SQL written here (not the named query under test)."""
    from warehouse.store import connect

    con = connect(data_dir)
    try:
        return con.execute(
            """SELECT workflow_type, compute_platform, input_size_gb, sample_count,
                      regexp_extract(primary_instance_type, '^[^.]+') AS instance_family,
                      primary_purchase_option AS purchase_option, total_cost, total_hours, launch_month, status
               FROM launches WHERE status IN ('COMPLETE', 'FAILED') ORDER BY launched_at, launch_id"""
        ).df()
    finally:
        con.close()
