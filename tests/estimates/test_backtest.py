"""Backtest: month by month, learning only from the past; the model beats both baselines and stays calibrated."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from estimates.backtest import backtest, score, summarise
from ingest.__main__ import main
from tests.estimates.histories import generate_history
from warehouse.store import connect


def test_scores_are_median_error_and_share_inside():
    got = score(
        np.array([10.0, 20.0, 40.0]), np.array([5.0, 25.0, 30.0]), np.array([11.0, 30.0, 40.0]), np.array([20.0, 40.0, 50.0])
    )
    assert got == {"estimated": 3, "mdape": 0.1, "coverage": pytest.approx(2 / 3), "median_interval_ratio": pytest.approx(5 / 3)}


def test_each_month_learns_only_from_the_months_before_it():
    history = generate_history(1_200, seed=31, months=4)
    per_month, per_launch = backtest(history, months=None)
    months = sorted(pd.to_datetime(history["launch_month"]).unique())
    assert list(per_month["month"].unique()) == months[1:]  # the first month has no past to learn from
    for m, part in per_month[per_month["method"] == "model"].groupby("month"):
        before = (pd.to_datetime(history["launch_month"]) < m) & (history["status"] == "COMPLETE")
        assert set(part["training_launches"]) == {int(before.sum())}
    pooled = summarise(per_month, per_launch)
    assert pooled["month"].isna().sum() == 8  # 4 methods x 2 targets


def test_on_the_demo_history_the_model_beats_both_baselines_and_stays_calibrated(demo_history):
    per_month, per_launch = backtest(demo_history, months=4)
    pooled = summarise(per_month, per_launch).query("month.isna()").set_index(["method", "target"])
    for target in ("cost", "hours"):
        model = pooled.loc[("model", target)]
        assert model["mdape"] < pooled.loc[("group_median", target), "mdape"]
        assert model["mdape"] < pooled.loc[("nearest_neighbours", target), "mdape"]
        assert 0.75 <= model["coverage"] <= 0.85
        assert model["estimated"] == model["launches"] > 1_000


def test_the_backtest_command_stores_and_prints_the_table(demo_data_dir, tmp_path, capsys):
    data_dir = shutil.copytree(demo_data_dir / "warehouse", tmp_path / "warehouse").parent
    assert main(["backtest", "--months", "2", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "Launch Ledger ingest · backtest" in out and "cost MdAPE" in out
    con = connect(data_dir)
    try:
        stored = con.execute("SELECT method, target, month, mdape, coverage FROM backtest_results ORDER BY ALL").df()
        run = con.execute("SELECT command, outcome, records_loaded FROM job_runs WHERE command = 'backtest'").fetchall()
    finally:
        con.close()
    assert len(stored) == 4 * 2 * 3  # methods x targets x (2 months + pooled)
    assert run == [("backtest", "succeeded", 24)]
    model = stored[(stored["method"] == "model") & (stored["target"] == "cost") & stored["month"].isna()].iloc[0]
    assert "all      model" in out and f"{model['mdape'] * 100:.1f}%" in out


def test_the_backtest_command_on_an_empty_warehouse_is_one_line(tmp_path, capsys):
    assert main(["backtest", "--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "error: no month to backtest: it needs completed, priced launches in at least two months (load launches first)"
    ]
