"""Spend forecasts: ours (trend + an interval from its own backtest) and Cost Explorer's GetCostForecast beside it."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal

import boto3
import numpy as np
import pandas as pd
import pytest
from botocore.stub import Stubber

from core.settings import load_settings
from estimates.forecast import complete_months, forecast_backtest, forecast_spend
from ingest.__main__ import main
from ingest.cost_explorer import forecast as ce_forecast
from ingest.cost_explorer.jobs import pull_forecasts
from tests.estimates.histories import DEMO_END
from warehouse.store import connect

TODAY = date(2026, 7, 1)  # the day after the demo history ends


def _series(
    consumers: dict[str, float], months: int = 24, growth: float = 0.03, noise: float = 0.05, seed: int = 0
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    index = pd.date_range("2024-01-01", periods=months, freq="MS")
    rows = []
    for consumer, level in consumers.items():
        per_day = level * np.exp(growth * np.arange(months) + noise * rng.standard_normal(months))
        rows += [(m, consumer, v * m.days_in_month) for m, v in zip(index, per_day, strict=True)]
    return pd.DataFrame(rows, columns=["month", "consumer", "spend"])


def test_whole_months_only_and_a_consumer_starts_with_its_first_spend():
    monthly = pd.DataFrame(
        {
            "month": pd.to_datetime(["2025-01-01", "2025-02-01", "2025-03-01", "2025-04-01", "2025-03-01"]),
            "consumer": ["a", "a", "a", "a", "b"],
            "spend": [5.0, 10.0, 11.0, 3.0, 7.0],
        }
    )
    got = complete_months(monthly, date(2025, 1, 20), date(2025, 4, 12))
    assert [(r.consumer, f"{r.month:%Y-%m}", r.spend) for r in got.itertuples()] == [
        ("a", "2025-02", 10.0),
        ("a", "2025-03", 11.0),
        ("b", "2025-03", 7.0),
    ]


def test_the_forecast_follows_the_shared_growth_and_its_interval_holds():
    history = _series({f"team-{i}": 100.0 * (i + 1) for i in range(6)}, growth=0.03, noise=0.05)
    ahead = pd.date_range("2026-01-01", periods=3, freq="MS")
    got = forecast_spend(history, list(ahead))
    team = got[got["consumer"] == "team-2"].reset_index(drop=True)
    truth = 300.0 * np.exp(0.03 * np.arange(24, 27)) * ahead.days_in_month
    assert np.allclose(team["forecast"], truth, rtol=0.15)
    assert (team["low"] < team["forecast"]).all() and (team["forecast"] < team["high"]).all()
    assert list(team["horizon"]) == [1, 2, 3]
    scored = forecast_backtest(history).set_index("horizon")
    assert (scored["bias"].abs() < scored["naive_bias"].abs()).all()  # "same as last month" lags a growing team
    assert ((scored["coverage"] >= 0.7) & (scored["coverage"] <= 0.95)).all()


def test_too_few_months_is_not_enough_history():
    got = forecast_spend(_series({"new-team": 50.0}, months=2), [pd.Timestamp("2024-03-01")])
    assert got.loc[0, "note"] == "not enough history (2 months)" and np.isnan(got.loc[0, "forecast"])


def _response(consumer_level: float) -> dict:
    periods = [
        ("2026-07-01", "2026-08-01"),
        ("2026-08-01", "2026-09-01"),
        ("2026-09-01", "2026-10-01"),
        ("2026-10-01", "2026-11-01"),
    ]
    results = [
        {
            "TimePeriod": {"Start": s, "End": e},
            "MeanValue": f"{consumer_level * (1 + k / 20):.10f}",
            "PredictionIntervalLowerBound": f"{consumer_level * 0.8:.10f}",
            "PredictionIntervalUpperBound": f"{consumer_level * 1.3:.10f}",
        }
        for k, (s, e) in enumerate(periods)
    ]
    return {"Total": {"Amount": f"{consumer_level * 4:.10f}", "Unit": "USD"}, "ForecastResultsByTime": results}


def _expected(consumer: str) -> dict:
    return {
        "TimePeriod": {"Start": "2026-07-01", "End": "2026-11-01"},
        "Metric": "UNBLENDED_COST",
        "Granularity": "MONTHLY",
        "Filter": {"Tags": {"Key": "consumer", "Values": [consumer], "MatchOptions": ["EQUALS"]}},
        "PredictionIntervalLevel": 80,
    }


@pytest.fixture
def warehouse(demo_data_dir, tmp_path):
    return shutil.copytree(demo_data_dir / "warehouse", tmp_path / "warehouse").parent


def test_one_forecast_request_per_consumer_stored_exactly_and_printed_beside_ours(warehouse, monkeypatch, capsys, aws_env):
    con = connect(warehouse)
    consumers = [
        c for (c,) in con.execute("SELECT DISTINCT consumer FROM costs_daily WHERE consumer IS NOT NULL ORDER BY 1").fetchall()
    ]
    con.close()
    client = boto3.client("ce", region_name="us-east-1")
    stub = Stubber(client)
    for i, consumer in enumerate(consumers):
        if i == 1:  # Cost Explorer cannot forecast a tag value with too little history
            stub.add_client_error(
                "get_cost_forecast",
                "DataUnavailableException",
                "Insufficient amount of historical data",
                expected_params=_expected(consumer),
            )
        else:
            stub.add_response("get_cost_forecast", _response(1000.0 + i), _expected(consumer))
    monkeypatch.setattr(ce_forecast, "client", lambda settings, session=None: client)
    with stub:
        run, side = pull_forecasts(load_settings(data_dir=warehouse), today=TODAY)
    stub.assert_no_pending_responses()
    assert run.stats.api_requests == len(consumers)
    out = capsys.readouterr().out
    assert f"{len(consumers)} GetCostForecast requests ≈ ${len(consumers) * 0.01:.2f}" in out
    assert f"no Cost Explorer forecast for {consumers[1]}: Insufficient amount of historical data" in out

    con = connect(warehouse)
    stored = con.execute("SELECT consumer, month, mean_amount, lower_bound, forecast_date FROM cost_forecasts ORDER BY 1, 2").df()
    con.close()
    assert len(stored) == 4 * (len(consumers) - 1)
    first = stored.iloc[0]
    assert first["mean_amount"] == Decimal("1000.000000") and first["lower_bound"] == Decimal("800.000000")
    assert pd.Timestamp(first["forecast_date"]).date() == TODAY
    # printed per consumer for August..October (whole months after this one): ours beside Cost Explorer's
    assert sorted(side["month"].dt.strftime("%Y-%m").unique()) == ["2026-08", "2026-09", "2026-10"]
    shown = side[side["consumer"] == consumers[0]]
    assert shown["forecast"].notna().all() and shown["mean_amount"].notna().all()
    assert side.loc[side["consumer"] == consumers[1], "mean_amount"].isna().all()


def test_access_denied_is_one_line(warehouse, monkeypatch, capsys, aws_env):
    client = boto3.client("ce", region_name="us-east-1")
    stub = Stubber(client)
    stub.add_client_error("get_cost_forecast", "AccessDeniedException", "not authorized to perform ce:GetCostForecast")
    monkeypatch.setattr(ce_forecast, "client", lambda settings, session=None: client)
    with stub:
        assert main(["forecast", "--data-dir", str(warehouse), "--consumer", "oncology-research"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "error: access denied for GetCostForecast: the IAM policy in README.md lists what Launch Ledger needs "
        "(not authorized to perform ce:GetCostForecast)"
    ]


def test_a_bad_metric_is_one_line(warehouse, capsys):
    assert main(["forecast", "--data-dir", str(warehouse), "--metric", "dollars"]) == 1
    assert capsys.readouterr().err.startswith("error: --metric must be one of UNBLENDED_COST, NET_AMORTIZED_COST")


def test_the_demo_forecast_period_covers_whole_months():
    assert ce_forecast.forecast_period(date(2026, 11, 26), 3) == (date(2026, 11, 26), date(2027, 3, 1))
    assert DEMO_END < TODAY
