"""Trends page: monthly spend and launches by consumer; cost per launch over time."""

from decimal import ROUND_HALF_EVEN, Decimal

from tests.dashboard.conftest import EVERY_LAUNCH

CENT = Decimal("0.01")


def test_key_figures_and_monthly_table(open_page, read_metrics, read_table, launches_csv):
    at = open_page("trends", query_params=EVERY_LAUNCH)
    shown = read_metrics(at)
    priced = launches_csv[launches_csv["total_cost"].notna()]
    assert shown["Months"][0] == "4"
    assert shown["Spend"][0] == f"${sum(priced['total_cost'], Decimal(0)).quantize(CENT, ROUND_HALF_EVEN):,.2f}"
    assert shown["Launches"][0] == "43"
    failed = sum(priced.loc[priced["status"] == "FAILED", "total_cost"], Decimal(0))
    assert shown["Spend on failed launches"][0] == f"${failed.quantize(CENT, ROUND_HALF_EVEN):,.2f}"

    table = read_table(at, "trend_table")
    for (_, line), (month, group) in zip(table.iterrows(), launches_csv.groupby("launch_month"), strict=True):
        assert line["launch_month"] == month
        costs = group["total_cost"].dropna()
        assert line["spend"] == sum(costs, Decimal(0)).quantize(CENT, ROUND_HALF_EVEN)
        assert line["mean_cost_per_launch"] == (sum(costs, Decimal(0)) / len(costs)).quantize(CENT, ROUND_HALF_EVEN)
    assert len(at.get("plotly_chart")) == 4


def test_workflow_type_filter(open_page, read_metrics, launches_csv):
    at = open_page("trends", query_params=EVERY_LAUNCH)
    at.multiselect(key="workflow_type").set_value(["wdl-wgs-germline"]).run()
    rows = launches_csv[launches_csv["workflow_type"] == "wdl-wgs-germline"]
    assert read_metrics(at)["Launches"][0] == str(len(rows))
