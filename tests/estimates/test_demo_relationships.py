"""The demo history gives workflows size relationships that differ, so a flat rate per GB visibly fails on it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from estimates.estimator import Estimator, LaunchSpec, learnable, prepare_history


@pytest.fixture(scope="module")
def completed(demo_history) -> pd.DataFrame:
    launches = prepare_history(demo_history)
    return launches[learnable(launches)]


def _slope(part: pd.DataFrame) -> float:
    return float(np.polyfit(np.log(part["input_size_gb"]), np.log(part["cost"]), 1)[0])


def _median(part: pd.DataFrame, column: str, low: float, high: float) -> float:
    band = part[(part["input_size_gb"] >= low) & (part["input_size_gb"] < high)]
    return float(np.median(band[column]))


def test_near_linear_and_sub_linear_workflows(completed):
    by_type = dict(tuple(completed.groupby("workflow_type")))
    for near_linear in ("nextflow-rnaseq", "wdl-gatk-germline"):
        assert 0.85 <= _slope(by_type[near_linear]) <= 1.15, near_linear
    for sub_linear in ("snakemake-variant-calling", "snakemake-metagenomics"):  # a fixed overhead, then a slow climb
        assert _slope(by_type[sub_linear]) < 0.65, sub_linear


def test_a_flat_rate_per_gb_misses_the_small_and_large_inputs_of_sub_linear_workflows(completed):
    for workflow_type in ("snakemake-variant-calling", "snakemake-metagenomics"):
        part = completed[completed["workflow_type"] == workflow_type]
        rate = np.median(part["cost"] / part["input_size_gb"])
        small, large = part["input_size_gb"].quantile([0.1, 0.9])
        flat_vs_actual = part["input_size_gb"] * rate / part["cost"]
        assert np.median(flat_vs_actual[part["input_size_gb"] <= small]) < 0.6  # flat rate: under half the real cost
        assert np.median(flat_vs_actual[part["input_size_gb"] >= large]) > 1.6  # ... and well over it


def test_steps_when_the_input_outgrows_an_instance_size(completed):
    sarek = completed[completed["workflow_type"] == "nextflow-sarek"]
    # past 150 GB the run moves to 8xlarge, past 500 GB to 16xlarge: bigger inputs finish sooner...
    assert _median(sarek, "hours", 100, 150) > 1.25 * _median(sarek, "hours", 150, 220)
    assert _median(sarek, "hours", 350, 500) > 1.25 * _median(sarek, "hours", 500, 800)
    # ... and a GB costs more on the bigger instances (On-Demand, to see past the Spot discount)
    on_demand = sarek[(sarek["purchase_option"] == "On-Demand") & (sarek["compute_platform"] != "OnPremHPC")]
    per_gb = on_demand.assign(hours=on_demand["cost"] / on_demand["input_size_gb"])
    assert _median(per_gb, "hours", 500, 800) > 1.15 * _median(per_gb, "hours", 350, 500)


def test_the_estimator_learns_the_duration_step(demo_history):
    estimator = Estimator(demo_history)
    before, after = (estimator.estimate(LaunchSpec("nextflow-sarek", "Batch", gb)).hours_median for gb in (140, 170))
    assert before > 1.15 * after
