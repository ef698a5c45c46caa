"""Timing: hours per phase, with distributions (p10..p90) computed in SQL."""

from datetime import date

import pandas as pd
import pytest

import queries
from queries import Filters

ALL = Filters(date(2025, 1, 1), date(2025, 4, 30))
PHASES = {"preparing": "preparing_hours", "waiting": "waiting_hours", "queued": "queued_hours", "running": "running_hours"}
QUANTILES = {"p10_hours": 0.10, "p25_hours": 0.25, "p50_hours": 0.50, "p75_hours": 0.75, "p90_hours": 0.90}


def long_hours(rows: pd.DataFrame) -> pd.DataFrame:
    parts = [
        rows[["compute_platform", "workflow_type"]].assign(phase=phase, hours=rows[column]) for phase, column in PHASES.items()
    ]
    return pd.concat(parts).dropna(subset=["hours"])


def check(result: pd.DataFrame, expected_groups) -> None:
    assert len(result) == len(expected_groups)
    for _, row in result.iterrows():
        hours = expected_groups[row["_key"]]
        assert row["launches"] == len(hours)
        assert row["total_hours"] == pytest.approx(hours.sum())
        assert row["mean_hours"] == pytest.approx(hours.mean())
        for column, q in QUANTILES.items():
            # pandas' default (linear) interpolation is what quantile_cont / percentile_cont compute
            assert row[column] == pytest.approx(hours.quantile(q)), (row["_key"], column)


def test_per_platform_workflow_type_and_phase(fixture_con, select_launches):
    result = queries.timing(fixture_con, ALL)
    result["_key"] = list(zip(result["compute_platform"], result["workflow_type"], result["phase"], strict=True))
    groups = {
        key: g["hours"] for key, g in long_hours(select_launches(ALL)).groupby(["compute_platform", "workflow_type", "phase"])
    }
    check(result, groups)


def test_phases_come_in_lifecycle_order(fixture_con):
    result = queries.timing(fixture_con, ALL)
    batch_rnaseq = result[(result["compute_platform"] == "Batch") & (result["workflow_type"] == "nextflow-rnaseq")]
    assert list(batch_rnaseq["phase"]) == ["preparing", "waiting", "queued", "running"]


def test_launches_without_hours_in_a_phase_are_not_counted_there(fixture_con, select_launches):
    result = queries.timing(fixture_con, ALL)
    row = result[(result["compute_platform"] == "Batch") & (result["workflow_type"] == "nextflow-rnaseq")].set_index("phase")
    rows = select_launches(ALL)
    batch = rows[(rows["compute_platform"] == "Batch") & (rows["workflow_type"] == "nextflow-rnaseq")]
    # one launch is still running, one failed while queued: both have no running hours
    assert row.loc["preparing", "launches"] == len(batch) == 11
    assert row.loc["running", "launches"] == batch["running_hours"].notna().sum() == 9


def test_distributions_pool_workflow_types_per_platform(fixture_con, select_launches):
    filters = Filters(ALL.start, ALL.end, statuses=("COMPLETE",))
    result = queries.timing_by_platform(fixture_con, filters)
    result["_key"] = list(zip(result["compute_platform"], result["phase"], strict=True))
    groups = {key: g["hours"] for key, g in long_hours(select_launches(filters)).groupby(["compute_platform", "phase"])}
    check(result, groups)


def test_a_filter_narrows_the_hours(fixture_con, select_launches):
    filters = Filters(ALL.start, ALL.end, workflow_types=("wdl-wgs-germline",), platforms=("ParallelCluster",))
    result = queries.timing(fixture_con, filters)
    assert set(result["workflow_type"]) == {"wdl-wgs-germline"}
    running = result.set_index("phase").loc["running"]
    expected = select_launches(filters)["running_hours"].dropna()
    assert running["total_hours"] == pytest.approx(expected.sum())


def test_a_phase_no_launch_reached_has_no_row(fixture_con, select_launches):
    # the one failed nextflow-rnaseq launch on Batch failed before it ran; the running Batch launch has not finished
    failed = Filters(ALL.start, ALL.end, workflow_types=("nextflow-rnaseq",), platforms=("Batch",), statuses=("FAILED",))
    (launch,) = select_launches(failed).itertuples()
    assert pd.isna(launch.running_hours) and pd.notna(launch.preparing_hours)
    phases = queries.timing(fixture_con, failed)["phase"].tolist()
    assert "running" not in phases and phases[0] == "preparing"
    running = Filters(ALL.start, ALL.end, platforms=("Batch",), statuses=("RUNNING",))
    assert "running" not in queries.timing_by_platform(fixture_con, running)["phase"].tolist()
