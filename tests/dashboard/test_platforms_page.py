"""Platforms page: pick a workflow type, compare its cost and duration across platforms."""

from decimal import ROUND_HALF_EVEN, Decimal

from tests.dashboard.conftest import EVERY_LAUNCH


def expected(launches, workflow_type):
    rows = launches[launches["workflow_type"] == workflow_type]
    out = {}
    for platform, group in rows.groupby("compute_platform"):
        cost = group["total_cost"].dropna().map(float)
        ended = group[group["ended_at"].notna()]
        out[platform] = {
            "launches": len(group),
            "median_cost": Decimal(str(cost.median())).quantize(Decimal("0.01"), ROUND_HALF_EVEN),
            "failure_rate": (ended["status"] == "FAILED").mean(),
        }
    return out


def check(at, read_table, want):
    table = read_table(at, "platform_table").set_index("compute_platform")
    assert set(table.index) == set(want)
    for platform, line in want.items():
        assert table.loc[platform, "launches"] == line["launches"]
        assert abs(table.loc[platform, "median_cost_per_launch"] - line["median_cost"]) <= Decimal("0.01")
        assert abs(table.loc[platform, "failure_rate"] - line["failure_rate"]) < 1e-9


def test_first_workflow_type_by_default(open_page, read_table, read_metrics, launches_csv):
    at = open_page("platforms", query_params=EVERY_LAUNCH)
    assert at.selectbox(key="workflow").value == "nextflow-rnaseq"
    want = expected(launches_csv, "nextflow-rnaseq")
    check(at, read_table, want)
    assert read_metrics(at)["Launches"][0] == str(sum(v["launches"] for v in want.values()))


def test_picking_a_workflow_type_changes_the_comparison(open_page, read_table, read_metrics, launches_csv):
    at = open_page("platforms", query_params=EVERY_LAUNCH)
    at.selectbox(key="workflow").set_value("snakemake-variant-calling").run()
    want = expected(launches_csv, "snakemake-variant-calling")
    check(at, read_table, want)
    cheapest = min(want, key=lambda p: want[p]["median_cost"])
    assert read_metrics(at)["Cheapest median cost per launch"][0] == cheapest


def test_the_workflow_type_comes_from_the_link(open_page, read_table, launches_csv):
    at = open_page("platforms", query_params={**EVERY_LAUNCH, "workflow": "wdl-wgs-germline"})
    check(at, read_table, expected(launches_csv, "wdl-wgs-germline"))
