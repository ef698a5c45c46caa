"""Anomalies: a launch planted at 10x its size's cost is flagged with its ratio, a normal one is not; a consumer-month
planted at 3x its spend is flagged against the forecast made from the months before; the job stores them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

import queries
from core.access import Reader
from core.settings import load_settings
from estimates.anomalies.find import CONSUMER_MONTH, LAUNCH, describe, launch_anomalies, spend_anomalies
from estimates.anomalies.jobs import run_anomalies
from queries import Filters
from tests.estimates.histories import build_demo_warehouse, generate_history
from warehouse.store import connect


def cost_curve(gb):
    return 2.0 + 0.3 * gb**0.6  # generate_history's default


def hours_curve(gb):
    return 1.0 + 0.05 * gb


def _planted_history() -> tuple[pd.DataFrame, str, str, Decimal]:
    """600 launches over 6 months; in the last month one launch costs 10x its size's cost, one exactly its size's."""
    history = generate_history(600, seed=7, months=6)
    last = history["launch_month"] == history["launch_month"].max()
    on_demand = history.index[last & (history["purchase_option"] == "On-Demand")]
    planted, normal = on_demand[0], on_demand[1]
    for i, factor in ((planted, 10.0), (normal, 1.0)):
        gb = history.at[i, "input_size_gb"]
        history.at[i, "total_cost"] = Decimal(f"{factor * cost_curve(gb):.6f}")
        history.at[i, "total_hours"] = hours_curve(gb)
    return history, history.at[planted, "launch_id"], history.at[normal, "launch_id"], history.at[planted, "total_cost"]


def test_a_launch_at_ten_times_its_sizes_cost_is_flagged_with_its_ratio_and_a_normal_one_is_not():
    history, planted, normal, planted_cost = _planted_history()
    found = launch_anomalies(history, months=1)
    assert normal not in set(found["launch_id"])
    row = found.set_index("launch_id").loc[planted]
    gb = float(history.loc[history["launch_id"] == planted, "input_size_gb"].iloc[0])
    true_cost = cost_curve(gb)  # what a launch of its size costs On-Demand, by construction
    assert row["kind"] == LAUNCH and row["outside"] == "cost"  # its hours were exactly its size's
    assert row["actual_cost"] == planted_cost  # the exact Decimal, not a float
    assert row["cost_ratio"] == pytest.approx(10.0, rel=0.15)  # 10x by hand, within the model's estimation error
    assert float(row["expected_cost"]) == pytest.approx(true_cost, rel=0.15)
    assert float(row["cost_low"]) < true_cost < float(row["cost_high"]) < float(planted_cost)
    assert row["cost_ratio"] == pytest.approx(float(planted_cost) / float(row["expected_cost"]), rel=1e-6)
    assert row["how_far_off"] == pytest.approx(row["cost_ratio"])
    assert row["interval_level"] == 0.95
    assert set(found["month"]) == {max(history["launch_month"])}  # months=1: only the latest month judged
    text = describe(found[found["launch_id"] == planted].iloc[0])
    assert text.startswith(f"launch {planted} (") and text.endswith(f"{row['cost_ratio']:.1f}x the expected cost for its size")


def test_about_one_launch_in_twenty_falls_outside_a_95_percent_interval_by_chance():
    history = generate_history(1_200, seed=11, months=6)
    found = launch_anomalies(history, months=None)
    share = len(found) / len(history)  # every launch is judged (one group, none failed), by the other 5 months
    # flagged when its cost or its hours fall outside: 1 - 0.95^2 = 9.75% by chance, a little less with conformal bounds
    assert 0.04 < share < 0.12, share


def test_a_group_without_enough_history_is_not_judged():
    history = generate_history(25, seed=3, months=3)  # fewer than the 30 completed launches a group needs
    history.loc[0, "total_cost"] = Decimal("100000")
    assert launch_anomalies(history, months=None).empty


CONSUMERS = [f"team-{c}" for c in "abcdefgh"]
SPIKE = pd.Timestamp("2024-01-01") + pd.DateOffset(months=24)


def _spend(months: int = 30) -> tuple[pd.DataFrame, dict]:
    """Eight consumers at a steady rate per day (3% log-normal noise); team-b's month 24 is 3x its usual."""
    rng = np.random.default_rng(4)
    rows = []
    for n, consumer in enumerate(CONSUMERS):
        for m in pd.date_range("2024-01-01", periods=months, freq="MS"):
            spend = 50.0 * (n + 1) * m.days_in_month * np.exp(0.03 * rng.standard_normal())
            rows.append(
                {"month": m, "consumer": consumer, "spend": round(spend * (3.0 if (consumer, m) == ("team-b", SPIKE) else 1), 2)}
            )
    frame = pd.DataFrame(rows)
    exact = {(r.consumer, r.month): Decimal(f"{r.spend:.2f}") for r in frame.itertuples()}
    return frame, exact


def test_a_consumer_month_at_three_times_its_spend_is_flagged_against_the_forecast_from_the_months_before():
    spend, exact = _spend()
    found = spend_anomalies(spend, exact, months=None, basis="launch spend")
    flagged = found[(found["consumer"] == "team-b") & (found["month"] == SPIKE.date())]
    assert len(flagged) == 1
    row = flagged.iloc[0]
    before = SPIKE - pd.DateOffset(months=1)
    b = spend[spend["consumer"] == "team-b"].set_index("month")["spend"]
    by_hand = b[SPIKE] / (b[before] / before.days_in_month * SPIKE.days_in_month)  # the month before's rate per day
    assert by_hand > 2.5
    assert row["kind"] == CONSUMER_MONTH and row["outside"] == "spend"
    assert row["actual_cost"] == exact[("team-b", SPIKE)]
    assert row["cost_ratio"] == pytest.approx(by_hand, rel=0.03)  # the shared trend of a flat history is ~0
    assert float(row["cost_low"]) < float(row["expected_cost"]) < float(row["cost_high"]) < float(row["actual_cost"])
    assert describe(row) == f"team-b spent {row['cost_ratio']:.1f}x the forecast for {SPIKE:%Y-%m}"
    # the month after is forecast from the spike (the echo); of the other judged months about 1 in 20 by chance
    echo = (found["consumer"] == "team-b") & (found["month"] == (SPIKE + pd.DateOffset(months=1)).date())
    others = found[~echo & ~((found["consumer"] == "team-b") & (found["month"] == SPIKE.date()))]
    judged = len(CONSUMERS) * (30 - 11)  # months 11..29 have 39+ earlier errors (see the next test)
    assert len(others) / judged < 0.10
    assert (others["how_far_off"] < 1.15).all()  # and those by a hair: 3% noise


def test_a_month_is_judged_only_once_39_earlier_forecasts_exist():
    # forecasts with a trend start from 6 months known (origin month 5), 8 a month: by month 10 there are 32, by 11 40
    for months, judged in ((11, False), (12, True)):
        spend, exact = _spend(months=months)
        last = spend["month"] == spend["month"].max()
        spiked = spend.assign(spend=np.where(last & (spend["consumer"] == "team-a"), spend["spend"] * 10, spend["spend"]))
        found = spend_anomalies(spiked, None, months=None)
        assert (("team-a", spiked["month"].max().date()) in set(zip(found["consumer"], found["month"], strict=True))) == judged
        assert found.empty or set(found["month"]) == {spiked["month"].max().date()}


@pytest.fixture(scope="module")
def anomaly_data_dir(tmp_path_factory):
    return build_demo_warehouse(tmp_path_factory.mktemp("anomalies-demo"), launches=3_000, seed=5)


def test_the_job_replaces_the_table_with_what_it_found_and_pages_read_it_scoped(anomaly_data_dir):
    settings = load_settings(data_dir=anomaly_data_dir)
    _, first = run_anomalies(settings, months=6)
    _, table = run_anomalies(settings, months=6)
    assert len(first) == len(table) > 0
    con = connect(anomaly_data_dir)
    try:
        stored = con.execute("SELECT run_id, launch_id, kind, actual_cost FROM anomalies").df()
        launches = con.execute("SELECT launch_id, consumer, total_cost, launched_at FROM launches").df()
        assert set(stored["run_id"]) == {table["run_id"].iloc[0]}  # the first run's rows were replaced
        assert len(stored) == len(table)
        # a flagged launch's actual cost is its recorded total_cost, to the cent and beyond
        mine = stored[stored["kind"] == LAUNCH].merge(launches, on="launch_id")
        assert len(mine) == (stored["kind"] == LAUNCH).sum()
        assert (mine["actual_cost"] == mine["total_cost"]).all()
        everyone = Filters(date(2000, 1, 1), date(2100, 1, 1))
        listed = queries.REGISTRY["anomalies"].call(con, everyone, limit=10_000)
        assert len(listed) == len(table) and set(listed["anomalies_in_selection"]) == {len(table)}
        assert list(listed["how_far_off"]) == sorted(listed["how_far_off"], reverse=True)
        one = sorted(set(table["consumer"]))[0]
        viewer = Filters(date(2000, 1, 1), date(2100, 1, 1), reader=Reader(consumers=(one,), admin=False))
        seen = queries.REGISTRY["anomalies"].call(con, viewer, limit=10_000)
        assert set(seen["consumer"]) == {one} and len(seen) == (table["consumer"] == one).sum()
    finally:
        con.close()


def test_the_named_query_lists_the_selections_anomalies(fixture_con, fixture_tables):
    rows = fixture_tables["anomalies"]
    launches = fixture_tables["launches"].set_index("launch_id")
    april = Filters(date(2025, 3, 1), date(2025, 4, 28))
    got = queries.REGISTRY["anomalies"].call(fixture_con, april)
    assert list(got["launch_id"].fillna("")) == list(rows.sort_values("how_far_off", ascending=False)["launch_id"].fillna(""))
    launch = got[got["kind"] == LAUNCH].iloc[0]
    assert launch["launch_day"] == launches.loc[launch["launch_id"], "launched_at"].date()
    assert launch["actual_cost"] == launches.loc[launch["launch_id"], "total_cost"]
    # a workflow type picked: the consumer's whole month is not that view's; a period without the launch: only the month
    assert (
        set(queries.REGISTRY["anomalies"].call(fixture_con, Filters(april.start, april.end, workflow_types=("x",)))["kind"])
        == set()
    )
    march = queries.REGISTRY["anomalies"].call(fixture_con, Filters(date(2025, 3, 1), date(2025, 3, 31)))
    assert list(march["kind"]) == [CONSUMER_MONTH]
    viewer = Filters(april.start, april.end, reader=Reader(consumers=("oncology-research",), admin=False))
    assert queries.REGISTRY["anomalies"].call(fixture_con, viewer).empty
