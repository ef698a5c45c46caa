"""Charts are functions DataFrame -> Plotly figure: the traces carry the query's numbers as floats."""

from datetime import date

import pandas as pd
import pytest

import queries
from dashboard import charts
from queries import Filters

ALL = Filters(date(2025, 1, 1), date(2025, 4, 30))


def test_phase_hours_stack_one_segment_per_phase(fixture_con):
    timing = queries.timing(fixture_con, ALL)
    fig = charts.phase_hours_bars(timing, "compute_platform")
    assert fig.layout.barmode == "stack"
    assert [t.name for t in fig.data] == ["preparing", "waiting", "queued", "running"]
    running = next(t for t in fig.data if t.name == "running")
    by_platform = timing[timing["phase"] == "running"].groupby("compute_platform")["total_hours"].sum()
    assert dict(zip(running.x, running.y, strict=True)) == pytest.approx(by_platform.to_dict())

    by_workflow = charts.phase_hours_bars(timing, "workflow_type")
    assert set(by_workflow.data[0].x) == {"nextflow-rnaseq", "snakemake-variant-calling", "wdl-wgs-germline"}


def test_phase_boxes_are_drawn_from_precomputed_quantiles(fixture_con):
    pooled = queries.timing_by_platform(fixture_con, ALL)
    fig = charts.phase_boxes(pooled)
    assert [t.type for t in fig.data] == ["box"] * 5
    assert [t.name for t in fig.data] == ["Batch", "EC2", "EKS", "OnPremHPC", "ParallelCluster"]
    batch = fig.data[0]
    rows = pooled[pooled["compute_platform"] == "Batch"].sort_values("phase_order")
    assert list(batch.x) == ["preparing", "waiting", "queued", "running"]
    assert list(batch.q1) == pytest.approx(list(rows["p25_hours"]))
    assert list(batch.median) == pytest.approx(list(rows["p50_hours"]))
    assert list(batch.q3) == pytest.approx(list(rows["p75_hours"]))
    assert list(batch.lowerfence) == pytest.approx(list(rows["p10_hours"]))
    assert list(batch.upperfence) == pytest.approx(list(rows["p90_hours"]))


def test_median_bars_carry_quartile_error_bars(fixture_con):
    types = queries.instance_types(fixture_con, ALL)
    fig = charts.median_bars(
        types,
        x="instance_type",
        median="median_cost_per_launch",
        low="p25_cost_per_launch",
        high="p75_cost_per_launch",
        group="purchase_option",
    )
    assert [t.name for t in fig.data] == ["On-Demand", "Reserved", "Spot"]
    spot = fig.data[2]
    rows = types[types["purchase_option"] == "Spot"]
    assert all(isinstance(v, float) for v in spot.y)
    assert list(spot.y) == pytest.approx([float(v) for v in rows["median_cost_per_launch"]])
    assert list(spot.error_y.array) == pytest.approx(
        [float(h - m) for h, m in zip(rows["p75_cost_per_launch"], rows["median_cost_per_launch"], strict=True)]
    )


def test_spot_vs_on_demand_side_by_side(fixture_con):
    fig = charts.spot_vs_on_demand_bars(queries.spot_vs_on_demand(fixture_con, ALL))
    assert fig.layout.barmode == "group"
    assert [t.name for t in fig.data] == ["Spot", "On-Demand"]
    assert list(fig.data[0].x) == ["c6i.8xlarge", "r6i.4xlarge", "r6i.8xlarge"]


def test_monthly_bars_stack_consumers_and_add_up_to_spend(fixture_con):
    monthly = queries.monthly_spend_by_consumer(fixture_con, ALL)
    fig = charts.stacked_monthly_bars(monthly, "spend", colors=charts.color_map(monthly["consumer"].unique()))
    assert len(fig.data) == 4 and list(fig.data[0].x) == ["2025-01", "2025-02", "2025-03", "2025-04"]
    assert sum(sum(t.y) for t in fig.data) == pytest.approx(float(sum(monthly["spend"])))
    assert len({t.marker.color for t in fig.data}) == 4


def test_cost_per_launch_lines_and_failed_spend(fixture_con):
    monthly = queries.monthly_cost_per_launch(fixture_con, ALL)
    lines = charts.cost_per_launch_lines(monthly)
    assert [(t.type, t.name) for t in lines.data] == [("scatter", "median"), ("scatter", "mean")]
    failed = charts.failed_spend_bars(monthly)
    assert list(failed.data[0].y) == pytest.approx([float(v) for v in monthly["failed_spend"]])


def test_colors_are_stable_whatever_subset_is_drawn():
    everyone = charts.color_map(["b", "a", "c"])
    assert everyone == charts.color_map(["c", "b", "a"])
    assert len(set(everyone.values())) == 3


def test_computed_vs_billed_bars_sum_each_month():
    from datetime import date
    from decimal import Decimal

    import pandas as pd

    from dashboard.charts import computed_vs_billed_bars

    lines = pd.DataFrame(
        {
            "month": [date(2025, 1, 1), date(2025, 1, 1), date(2025, 2, 1)],
            "computed_cost": [Decimal("10.50"), Decimal("4.50"), None],
            "billed_cost": [Decimal("12"), Decimal("3"), Decimal("7.25")],
        }
    )
    fig = computed_vs_billed_bars(lines)
    computed, billed = fig.data
    assert list(computed.x) == ["2025-01", "2025-02"] and computed.y[0] == 15.0
    assert list(billed.y) == [15.0, 7.25]


def test_budget_bars_show_spent_forecast_with_its_interval_and_the_budget():
    from decimal import Decimal

    rows = pd.DataFrame(
        {
            "budget": ["Oncology, monthly", "Grant R01"],
            "period": ["2026-10", "2026-Q4"],
            "spent": [Decimal("5000.00"), Decimal("1200.50")],
            "forecast": [Decimal("9000.00"), None],
            "low": [Decimal("8000.00"), None],
            "high": [Decimal("10500.00"), None],
            "amount": [Decimal("8000.00"), Decimal("3000.00")],
        }
    )
    fig = charts.budget_bars(rows, "USD")
    spent, forecast, budget = fig.data
    assert list(spent.y) == ["Oncology, monthly (2026-10)", "Grant R01 (2026-Q4)"]
    assert list(spent.x) == [5000.0, 1200.5] and list(budget.x) == [8000.0, 3000.0]
    assert list(forecast.x) == [9000.0, None]  # no forecast: no bar, never a zero
    assert list(forecast.error_x.array) == [1500.0, None] and list(forecast.error_x.arrayminus) == [1000.0, None]
    assert fig.layout.xaxis.title.text == "USD"
