"""Estimates page: the numbers shown are the estimates package's, computed here independently of the page."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from dashboard.formatting import hours, money, percent
from estimates import plan as planning
from estimates.estimator import Estimator, LaunchSpec
from estimates.forecast import complete_months, forecast_backtest, forecast_spend
from tests.dashboard.conftest import DEMO_HISTORY, EVERY_LAUNCH
from tests.estimates.histories import build_demo_warehouse, read_history
from warehouse.store import connect

BAD_PLAN = (
    b"workflow_type,input_size_gb,compute_platform,count,month,consumer\n"
    b"nextflow-rnaseq,40,Batch,2,2025-06,rare-disease\n"
    b"nextflow-rnaseq,lots,Batch,2,2025-06,rare-disease\n"
    b"nextflow-rnaseq,40,Lambda,2,June,rare-disease\n"
)


def _completed(launches: pd.DataFrame) -> pd.DataFrame:
    return launches[
        (launches["status"] == "COMPLETE")
        & (launches["total_cost"].map(lambda v: v is not None and v > 0))
        & (launches["total_hours"] > 0)
        & (launches["input_size_gb"] > 0)
    ]


def test_on_the_small_fixture_it_says_not_enough_history_with_the_counts(open_page, read_metrics, launches_csv):
    at = open_page("estimates", query_params=EVERY_LAUNCH)
    completed = _completed(launches_csv)
    ended = launches_csv[launches_csv["status"].isin(["COMPLETE", "FAILED"])]
    shown = read_metrics(at)
    assert shown["Completed launches to learn from"][0] == str(len(completed))
    groups = completed.groupby(["workflow_type", "compute_platform"]).ngroups
    assert shown["Type × platform groups with enough history"][0] == f"0 of {groups}"
    assert shown["Failure rate"][0] == percent((ended["status"] == "FAILED").mean())
    # the first workflow type, on the platform it ran on most
    rnaseq = completed[completed["workflow_type"] == "nextflow-rnaseq"]
    assert at.selectbox(key="est_platform").value == "Batch"
    on_batch = (rnaseq["compute_platform"] == "Batch").sum()
    assert [w.value for w in at.warning] == [
        f"No estimate: not enough history ({on_batch} launches of nextflow-rnaseq on Batch, "
        f"{len(rnaseq)} on every platform; 30 needed)."
    ]
    assert "Cost of a successful run (USD, median)" not in shown


def test_the_latest_backtest_is_shown_model_first(open_page, read_table, fixture_tables):
    table = read_table(open_page("estimates"), "est_backtest")
    stored = fixture_tables["backtest_results"]
    pooled_model = stored[stored["month"].isna() & (stored["method"] == "model") & (stored["target"] == "cost")].iloc[0]
    first = table.iloc[0]
    assert (first["month"], first["method"]) == ("all months", "model (every input)")
    assert first["cost_mdape"] == pooled_model["mdape"] and first["cost_in_interval"] == pooled_model["coverage"]
    assert list(table["month"]) == ["all months"] * 4 + ["2025-04"] * 4


def test_cost_explorer_forecast_beside_ours(open_page, read_table, fixture_tables):
    table = read_table(open_page("estimates", query_params=EVERY_LAUNCH), "est_forecast_table")
    ce = fixture_tables["cost_forecasts"]
    whole = ce[ce["period_start"].map(lambda d: d.day == 1)]
    assert len(table) == len(whole)
    row = table[(table["consumer"] == "rare-disease")].iloc[0]
    expected = whole[(whole["consumer"] == "rare-disease")].sort_values("period_start").iloc[0]
    assert row["mean_amount"] == expected["mean_amount"].quantize(Decimal("0.01"))
    # Cost Explorer's bill in the fixture covers the 15th of each month: two whole months, too few for ours
    assert set(table["note"]) == {"not enough history (2 months)"}


def test_a_malformed_plan_lists_what_is_wrong_row_by_row(open_page):
    at = open_page("estimates")
    at.file_uploader(key="plan_upload").set_value(("plan.csv", BAD_PLAN, "text/csv")).run()
    assert [e.value for e in at.error] == ["The plan was not estimated: 2 problem(s). Fix them and upload it again."]
    listed = " ".join(m.value for m in at.markdown)
    assert "line 3: input_size_gb 'lots' is not a positive number of GB" in listed
    assert "line 4: month 'June' is not a month like 2026-01; compute_platform 'Lambda' is not one of" in listed


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    return build_demo_warehouse(tmp_path_factory.mktemp("estimates-page-demo"))


@pytest.fixture(scope="module")
def demo_estimator(demo_dir):
    return Estimator(read_history(demo_dir))


def test_a_planned_launch_shows_the_estimators_numbers(open_page, read_metrics, demo_dir, demo_estimator):
    at = open_page("estimates", data_dir=demo_dir, query_params=DEMO_HISTORY)
    at.selectbox(key="est_workflow_type").set_value("nextflow-sarek")
    at.selectbox(key="est_platform").set_value("EKS")
    at.number_input(key="est_input_gb").set_value(600.0)
    at.selectbox(key="est_purchase").set_value("Spot").run()
    est = demo_estimator.estimate(LaunchSpec("nextflow-sarek", "EKS", 600.0, purchase_option="Spot"))
    shown = read_metrics(at)
    assert shown["Cost of a successful run (USD, median)"][0] == money(est.cost_median)
    assert shown["Cost, 80% interval (USD)"][0] == f"{money(est.cost_low)} – {money(est.cost_high)}"
    assert shown["Duration (median)"][0] == hours(est.hours_median)
    assert shown["Duration, 80% interval"][0] == f"{hours(est.hours_low)} – {hours(est.hours_high)}"
    assert shown["Expected cost of failures (USD)"][0] == money(est.expected_failure_cost)
    assert est.expected_failure_cost < est.cost_median  # beside the estimate, not in it
    assert f"Learnt from {est.launches:,} completed launches of nextflow-sarek on EKS." in [c.value for c in at.caption]
    assert len(at.get("plotly_chart")) == 2  # the size curve and the spend forecast
    # no backtest run yet on this warehouse: the page says how to make one
    assert any("python -m ingest backtest" in i.value for i in at.info)


def test_a_plan_gets_totals_per_month_and_consumer_and_a_download(open_page, read_table, demo_dir, demo_estimator):
    content = (
        "workflow_type,input_size_gb,compute_platform,count,month,consumer\n"
        "nextflow-rnaseq,40,Batch,12,2026-07,oncology-research\n"
        "wdl-gatk-germline,150,ParallelCluster,30,2026-08,pop-genomics\n"
        "nextflow-rnaseq,40,Batch,6,2026-08,oncology-research\n"
    )
    at = open_page("estimates", data_dir=demo_dir, query_params=DEMO_HISTORY)
    at.file_uploader(key="plan_upload").set_value(("plan.csv", content.encode(), "text/csv")).run()
    assert not at.error
    expected = planning.plan_totals(demo_estimator, planning.read_plan(content))
    by_month = read_table(at, "plan_by_month")
    assert list(by_month["launches"]) == [12, 36]
    for column in ("cost_median", "cost_low", "cost_high"):
        assert list(by_month[column]) == [Decimal(f"{v:.2f}") for v in expected.by_month[column]]
    by_consumer = read_table(at, "plan_by_consumer")
    assert list(by_consumer["consumer"]) == ["oncology-research", "pop-genomics"]
    assert list(by_consumer["launches"]) == [18, 30]
    assert "plan_download" in [b.key for b in at.get("download_button")]


def test_our_spend_forecast_from_the_bill(open_page, read_table, demo_dir):
    con = connect(demo_dir)
    billed = con.execute(
        "SELECT usage_month AS month, consumer, sum(unblended_cost) AS spend FROM costs_daily "
        "WHERE consumer IS NOT NULL GROUP BY 1, 2"
    ).df()
    first, last = con.execute("SELECT min(usage_date), max(usage_date) FROM costs_daily").fetchone()
    con.close()
    history = complete_months(billed, first, last)
    ahead = list(pd.date_range("2026-07-01", periods=3, freq="MS"))
    expected = forecast_spend(history, ahead).set_index(["consumer", "month"])
    at = open_page("estimates", data_dir=demo_dir, query_params=DEMO_HISTORY)
    table = read_table(at, "est_forecast_table")
    assert len(table) == len(expected)
    for row in table.itertuples():
        want = expected.loc[(row.consumer, pd.Timestamp(row.month))]
        assert float(row.forecast) == pytest.approx(round(want["forecast"], 2), abs=0.006)
        assert np.isnan(want["low"]) or float(row.low) == pytest.approx(round(want["low"], 2), abs=0.006)
    # and how the same forecast did on past months
    scored = read_table(at, "est_forecast_backtest")
    assert scored[["horizon", "forecasts", "mdape", "coverage"]].equals(
        forecast_backtest(history)[["horizon", "forecasts", "mdape", "coverage"]]
    )
