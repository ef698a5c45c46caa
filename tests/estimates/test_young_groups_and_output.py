"""Young groups get a pooled estimate with an honest, wider range; the expected output size is an optional third input.

Histories are generated with known parameters (numpy): the young group's true level is set by hand, so
"closer to the truth" and "inside the interval" are checked against the curve it was drawn from.
"""

from __future__ import annotations

import json
import tarfile
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.settings import SeqeraSettings
from estimates import plan as planning
from estimates.backtest import young_launches
from estimates.estimator import Estimator, EstimatorSettings, LaunchSpec, prepare_history
from ingest.seqera.mapping import map_run
from ingest.seqera.records import Input, read_input
from tests.estimates.histories import generate_history

ROOT = Path(__file__).resolve().parents[2]


def _curve(level: float):
    return lambda gb: np.exp(level) * (2.0 + 0.3 * gb**0.6)


def _pooled_history(young_level: float, young_n: int = 8, seed: int = 0) -> pd.DataFrame:
    """wf-a on three big platforms (levels 0, +0.2, -0.15 in log) and a young group on EKS at ``young_level``."""
    parts = [
        generate_history(1_500, seed=seed + 1, cost_curve=_curve(0.0), platform="Batch"),
        generate_history(800, seed=seed + 2, cost_curve=_curve(0.2), platform="EC2"),
        generate_history(500, seed=seed + 3, cost_curve=_curve(-0.15), platform="ParallelCluster"),
        generate_history(young_n, seed=seed + 4, cost_curve=_curve(young_level), platform="EKS"),
    ]
    return pd.concat(parts, ignore_index=True)


def test_a_young_group_moves_toward_its_own_level_with_a_wider_interval_and_says_what_it_stands_on():
    history = _pooled_history(young_level=0.5)
    spec = LaunchSpec("wf-a", "EKS", 100, purchase_option="On-Demand")
    truth = _curve(0.5)(100.0)
    young = Estimator(history).estimate(spec)
    # the same history without the young group's launches: the type on every platform, nothing of EKS's own
    without = Estimator(history[history["compute_platform"] != "EKS"]).estimate(spec)
    assert young.enough_history and young.cost_median is not None
    assert abs(np.log(young.cost_median / truth)) < abs(np.log(without.cost_median / truth)) / 2
    big = Estimator(history).estimate(LaunchSpec("wf-a", "Batch", 100, purchase_option="On-Demand"))
    assert young.cost_high / young.cost_low > big.cost_high / big.cost_low
    assert young.launches == len(history)  # its own 8 and the 2,800 it is pooled with
    assert young.history.startswith("based on 8 launches of this group (wf-a on EKS) and 2,800 of wf-a on other platforms")
    assert "fewer than 30 completed launches of wf-a on EKS (8)" in young.notes


def test_fewer_than_the_minimum_young_launches_fall_back_to_every_platform():
    est = Estimator(_pooled_history(young_level=0.5, young_n=4)).estimate(LaunchSpec("wf-a", "EKS", 100))
    assert est.basis == "wf-a on every platform"
    lower = Estimator(_pooled_history(0.5, young_n=4), EstimatorSettings(min_young_launches=3))
    assert lower.estimate_many([LaunchSpec("wf-a", "EKS", 100)])["pooled"].iloc[0]


def test_a_new_workflow_type_borrows_the_size_curve_of_the_others_and_its_level_from_its_own_launches():
    other = generate_history(2_000, seed=21, cost_curve=lambda gb: 3.0 * gb**0.7, workflow_type="wf-b")
    new = generate_history(12, seed=22, cost_curve=lambda gb: 0.6 * gb**0.7, workflow_type="wf-new")
    est = Estimator(pd.concat([other, new], ignore_index=True)).estimate(
        LaunchSpec("wf-new", "Batch", 200, purchase_option="Spot")
    )
    truth = 0.6 * 200**0.7 * 0.35  # the Spot factor of the generated histories
    assert est.cost_median == pytest.approx(truth, rel=0.2)
    assert est.history.startswith("based on 12 launches of this group (wf-new on Batch) and 2,000 of other workflow types")


def _young_world(seed: int, held_per_group: int) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Four big platforms and 80 young groups (8 launches each) whose levels stray as platforms' do (0.25 in log);
    the history, and for each young group ``held_per_group`` launches it has not run yet."""
    rng = np.random.default_rng(seed)
    tau = 0.25
    parts = [
        generate_history(n, seed=seed * 100 + i, cost_curve=_curve(rng.normal(0, tau)), platform=pf, sigma=0.25)
        for i, (pf, n) in enumerate({"Batch": 1_500, "EC2": 800, "ParallelCluster": 500, "OnPremHPC": 300}.items())
    ]
    held = []
    for g, level in enumerate(rng.normal(0, tau, 80)):
        young = dict(cost_curve=_curve(level), platform=f"young-{g:02d}", sigma=0.25)
        parts.append(generate_history(8, seed=seed * 1_000 + g, **young))
        held.append(generate_history(held_per_group, seed=seed * 10_000 + g, **young))
    return pd.concat(parts, ignore_index=True), held


def test_80_percent_intervals_of_many_simulated_young_groups_hold_70_to_90_percent():
    history, held = _young_world(seed=7, held_per_group=20)
    held = pd.concat(held, ignore_index=True)
    got = Estimator(history).estimate_many(held[["workflow_type", "compute_platform", "input_size_gb", "purchase_option"]])
    assert got["pooled"].all()
    for target, actual in (("cost", held["total_cost"].map(float)), ("hours", held["total_hours"])):
        inside = (actual.to_numpy() >= got[f"{target}_low"]) & (actual.to_numpy() <= got[f"{target}_high"])
        assert 0.70 <= inside.mean() <= 0.90, (target, inside.mean())


def _with_output(n: int, seed: int) -> pd.DataFrame:
    """Cost and hours driven by the run's effort, which its output size reveals (output = 0.5 GB/GB x effort)."""
    history = generate_history(n, seed=seed, sigma=0.05, spot_share=0.0)
    effort = np.exp(0.35 * np.random.default_rng(seed + 99).standard_normal(n))
    gb = history["input_size_gb"].to_numpy()
    history["total_cost"] = [Decimal(f"{c:.6f}") for c in history["total_cost"].map(float) * effort]
    history["total_hours"] = history["total_hours"] * effort
    history["output_size_gb"] = np.round(0.5 * gb * effort, 2)
    return history


def _mdape(got: pd.DataFrame, actual: pd.Series) -> float:
    return float(np.median(np.abs(got["cost_median"].to_numpy() - actual.to_numpy()) / actual.to_numpy()))


def test_the_output_size_reduces_the_error_when_the_cost_depends_on_it():
    train, held = _with_output(3_000, seed=31), _with_output(1_000, seed=32)
    estimator = Estimator(train)
    specs = held[["workflow_type", "compute_platform", "input_size_gb"]]
    with_it = estimator.estimate_many(specs.assign(output_size_gb=held["output_size_gb"]))
    without = estimator.estimate_many(specs)
    actual = held["total_cost"].map(float)
    assert with_it["output_size_used"].all() and not without["output_size_used"].any()
    # the effort's 35% spread is explained away: what is left is the 5% noise
    assert _mdape(with_it, actual) < 0.5 * _mdape(without, actual)
    inside = (actual >= with_it["cost_low"]) & (actual <= with_it["cost_high"])
    assert 0.75 <= inside.mean() <= 0.85


def test_an_output_size_the_history_never_recorded_is_ignored_with_a_note():
    estimator = Estimator(generate_history(400, seed=41))  # no output_size_gb column at all (an older warehouse)
    given = estimator.estimate(LaunchSpec("wf-a", "Batch", 100, output_size_gb=80.0))
    plain = estimator.estimate(LaunchSpec("wf-a", "Batch", 100))
    assert given.cost_median == pytest.approx(plain.cost_median)
    assert "output size: only 0 launches recorded one; estimated without it" in given.notes


def test_the_plan_takes_an_output_size_column():
    header = "workflow_type,input_size_gb,compute_platform,count,month,consumer,output_size_gb\n"
    plan = planning.read_plan(header + "wf-a,100,Batch,10,2026-01,team-a,20\nwf-a,100,Batch,10,2026-01,team-a,80\n")
    assert plan.ok and list(plan.rows["output_size_gb"]) == [20.0, 80.0]
    bad = planning.read_plan(header + "wf-a,100,Batch,10,2026-01,team-a,lots\n")
    assert bad.problems == ["line 2: output_size_gb 'lots' is not a positive number of GB (leave it empty when unknown)"]
    result = planning.plan_totals(Estimator(_with_output(3_000, seed=51)), plan, draws=500)
    small, large = result.lines["cost_median_per_launch"]
    # output = 0.5 GB/GB x effort and cost ∝ effort: 80 GB of output at 100 GB of input costs ~4x what 20 GB does
    assert large / small == pytest.approx(4.0, rel=0.15)
    assert "output_size_gb" in planning.TEMPLATE.splitlines()[0]


def test_the_backtest_marks_launches_of_groups_with_5_to_29_completed_launches():
    history = pd.concat(
        [
            generate_history(40, seed=61),
            generate_history(7, seed=62, platform="EKS"),
            generate_history(3, seed=63, platform="EC2"),
        ],
        ignore_index=True,
    )
    month = pd.DataFrame({"workflow_type": ["wf-a"] * 4, "compute_platform": ["Batch", "EKS", "EC2", "OnPremHPC"]})
    assert list(young_launches(prepare_history(history), month, EstimatorSettings())) == [False, True, False, False]


def test_a_seqera_run_records_what_its_tasks_wrote_as_its_output_size(tmp_path):
    archive = ROOT / "tests" / "data" / "seqera" / "15dvxY1LnZYrYe.tar.gz"
    with tarfile.open(archive) as tar:
        doc = json.load(tar.extractfile("15dvxY1LnZYrYe.json"))
    wrote = sum(t["task"].get("wchar") or 0 for t in doc["tasks"])  # every task, cached ones included
    records = [r for r in read_input(Input(archive, "archive")) if hasattr(r, "workflow")]
    launch = map_run(records[0], SeqeraSettings()).launch
    assert launch["output_size_gb"] == pytest.approx(wrote / 2**30)
    assert launch["output_size_gb"] == pytest.approx(298.05, abs=0.01)  # 320,028,195,434 bytes / 2^30


def test_a_warehouse_written_before_output_size_gb_existed_loads_it_as_null(tmp_path):
    import duckdb

    import queries
    from tests.conftest import FIXTURE_CSV_DIR, load_fixture_warehouse
    from warehouse.store import connect, read_manifest, warehouse_dir

    data_dir = load_fixture_warehouse(tmp_path)
    root = warehouse_dir(data_dir)
    files = [root / f for part in read_manifest(data_dir)["tables"]["launches"].values() for f in part]
    raw = duckdb.connect()
    for f in files:  # rewrite each launches file as an older writer left it: without the column
        raw.execute(f"COPY (SELECT * EXCLUDE (output_size_gb) FROM read_parquet('{f}')) TO '{f}.old' (FORMAT parquet)")
        Path(f"{f}.old").replace(f)
        assert "output_size_gb" not in raw.execute(f"DESCRIBE SELECT * FROM read_parquet('{f}')").df()["column_name"].tolist()
    con = connect(data_dir)
    try:
        rows = con.execute("SELECT count(*), count(output_size_gb) FROM launches").fetchall()[0]
        history = queries.estimate_history(con, queries.filter_options(con).all_time())
    finally:
        con.close()
    assert rows == (len(pd.read_csv(FIXTURE_CSV_DIR / "launches.csv")), 0)
    assert history["output_size_gb"].isna().all() and len(Estimator(history).completed) > 0


def test_the_total_of_many_runs_of_a_young_group_keeps_the_uncertainty_of_its_level():
    """A young group's level is one unknown for all its runs: 50 runs do not average it away.

    80 simulated young groups (8 launches each, levels spread as platforms' are); for each, the plan of its
    next 50 runs: the 80% interval of their total must hold the true total about 80% of the time. Drawing
    the level afresh for every run (as for a big group) would give intervals far too narrow.
    """
    history, future = _young_world(seed=11, held_per_group=50)
    estimator = Estimator(history)
    inside, narrow = [], []
    for runs in future:
        specs = runs[["workflow_type", "compute_platform", "input_size_gb", "purchase_option"]]
        draws = estimator.sample_totals(specs, np.ones(len(runs), dtype=int), 2_000, np.random.default_rng(0))
        totals = draws.sum(axis=0)
        low, high = np.quantile(totals, [0.1, 0.9])
        actual = float(sum(Decimal(str(v)) for v in runs["total_cost"]))
        inside.append(low <= actual <= high)
        narrow.append(high / low)
    assert 0.68 <= np.mean(inside) <= 0.92, np.mean(inside)
    # and the interval of 50 runs is still wide: the level's uncertainty (about ±0.1 in log) stays in it
    assert np.median(narrow) > 1.15
