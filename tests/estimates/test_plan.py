"""Plan a quarter: a malformed plan gets a row-by-row list of what is wrong; a good one gets totals with ranges."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from estimates import plan as planning
from estimates.estimator import Estimator
from tests.estimates.histories import generate_history

HEADER = "workflow_type,input_size_gb,compute_platform,count,month,consumer,sample_count,instance_family,purchase_option\n"


def test_every_bad_row_is_listed_with_its_line_number_and_what_to_fix():
    content = HEADER + (
        "wf-a,40,Batch,12,2026-01,team-a,,,Spot\n"  # line 2: fine
        "wf-a,forty,Batch,12,2026-01,team-a,,,\n"  # line 3
        "wf-a,40,Bacth,0,2026-13,team-a,,,\n"  # line 4: three problems
        "wf-a,40,EKS,2.5,2026-02,,,,\n"  # line 5
        "wf-a,40,EKS,3,2026-02,team-b,many,,spot\n"  # line 6
        "wf-a,40,EKS\n"  # line 7
        "\n"
        "wf-a,-5,EKS,3,2026-03-15,team-b,,,\n"  # line 9
    )
    plan = planning.read_plan(content.encode(), workflow_types={"wf-a"})
    assert not plan.ok
    assert plan.problems == [
        "line 3: input_size_gb 'forty' is not a positive number of GB",
        "line 4: count '0' is not a whole number of launches between 1 and 100,000; month '2026-13' is not a month like 2026-01; "
        "compute_platform 'Bacth' is not one of EC2, Batch, ParallelCluster, EKS, OnPremHPC (did you mean Batch?)",
        "line 5: consumer is empty; count '2.5' is not a whole number of launches between 1 and 100,000",
        "line 6: sample_count 'many' is not a whole number of samples (leave it empty when unknown); "
        "purchase_option 'spot' is not one of Spot, On-Demand, Reserved (did you mean Spot?)",
        "line 7: 3 values for 9 columns",
        "line 9: input_size_gb '-5' is not a positive number of GB",
    ]
    assert list(plan.rows["line"]) == [2]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "the file is empty: it needs a header line and one line per planned launch"),
        (HEADER.encode(), "the plan has a header but no launches: add one line per kind of planned launch"),
        (
            b"workflow,size\nwf-a,40\n",
            "the header lacks the column(s) workflow_type, input_size_gb, compute_platform, count, month, consumer",
        ),
        ("workflow_type\n\xe9".encode("latin-1"), "the file is not UTF-8 text: save the plan as CSV (UTF-8) and upload it again"),
    ],
)
def test_a_file_that_is_not_a_plan_says_why(content, problem):
    plan = planning.read_plan(content)
    assert plan.problems[0].startswith(problem) and not plan.ok


def test_header_aliases_and_a_byte_order_mark_are_accepted():
    plan = planning.read_plan(
        "\ufeffWorkflow_Type,input_gb,platform,launches,month,consumer\nwf-a,40,Batch,2,2026-01-01,team-a\n".encode()
    )
    assert plan.ok
    row = plan.rows.iloc[0]
    assert (row["input_size_gb"], row["count"], row["month"]) == (40.0, 2, pd.Timestamp("2026-01-01"))


@pytest.fixture(scope="module")
def estimator():
    return Estimator(generate_history(2_000, seed=21))


def test_totals_per_month_and_consumer_are_intervals_of_the_sums(estimator):
    content = HEADER + (
        "wf-a,100,Batch,20,2026-01,team-a,,,On-Demand\n"
        "wf-a,400,Batch,5,2026-01,team-b,,,Spot\n"
        "wf-a,100,Batch,10,2026-02,team-a,,,On-Demand\n"
        "wf-new,50,Batch,7,2026-02,team-b,,,\n"  # no history: listed, left out of the totals
    )
    result = planning.plan_totals(estimator, planning.read_plan(content, workflow_types={"wf-a"}))
    assert result.not_estimated == 7
    assert "not enough history (0 launches of wf-new on Batch" in result.lines.loc[3, "note"]

    january = result.by_month.set_index("month").loc[pd.Timestamp("2026-01-01").date()]
    assert (january["launches"], january["estimated_launches"]) == (25, 25)
    per_launch = estimator.estimate_many(planning.read_plan(content).rows.iloc[:2])
    # 25 runs varying independently: the total's range is much narrower than 25 x each run's range
    naive_low = 20 * per_launch.loc[0, "cost_low"] + 5 * per_launch.loc[1, "cost_low"]
    naive_high = 20 * per_launch.loc[0, "cost_high"] + 5 * per_launch.loc[1, "cost_high"]
    assert naive_low < january["cost_low"] < january["cost_median"] < january["cost_high"] < naive_high
    mean_total = 20 * np.mean(per_launch.loc[0, ["cost_low", "cost_high"]]) + 5 * np.mean(
        per_launch.loc[1, ["cost_low", "cost_high"]]
    )
    assert january["cost_low"] < mean_total < january["cost_high"]

    team_b = result.by_consumer.set_index("consumer").loc["team-b"]
    assert (team_b["launches"], team_b["estimated_launches"]) == (12, 5)
    total = result.total.iloc[0]
    assert total["launches"] == 42 and total["estimated_launches"] == 35
    assert total["expected_failure_cost"] == 0.0  # the generated history has no failures


def test_the_download_holds_month_consumer_and_total_lines(estimator):
    content = HEADER + "wf-a,100,Batch,3,2026-01,team-a,,,\nwf-a,100,Batch,4,2026-02,team-b,,,\n"
    result = planning.plan_totals(estimator, planning.read_plan(content))
    table = pd.read_csv(io.StringIO(planning.totals_csv(result)))
    assert list(table["level"]) == ["month", "month", "consumer", "consumer", "total"]
    assert list(table["launches"]) == [3, 4, 3, 4, 7]
    assert set(table["currency"]) == {"USD"}
    assert (table["cost_low"] <= table["cost_median"]).all() and (table["cost_median"] <= table["cost_high"]).all()


def test_many_runs_of_one_kind_use_the_normal_approximation_consistently(estimator):
    rows = planning.read_plan(HEADER + "wf-a,100,Batch,50,2026-01,t,,,\nwf-a,100,Batch,5000,2026-01,t,,,\n").rows
    sums = estimator.sample_totals(rows, rows["count"].to_numpy(), 4_000, np.random.default_rng(0))
    exact, approx = sums[0].mean() / 50, sums[1].mean() / 5_000  # both estimate the mean cost of one run
    assert approx == pytest.approx(exact, rel=0.03)


CELLS = st.one_of(st.text(max_size=12), st.sampled_from(["wf-a", "Batch", "40", "-1", "1e400", "nan", "2026-01", "", '"', ","]))


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.lists(CELLS, min_size=0, max_size=11), max_size=6), raw=st.binary(max_size=64))
def test_no_content_makes_the_reader_raise(rows, raw):
    lines = [",".join(r) for r in rows]
    for content in (HEADER + "\n".join(lines), raw):
        plan = planning.read_plan(content)
        assert plan.ok or plan.problems  # either a plan or a list of what is wrong, never an exception
