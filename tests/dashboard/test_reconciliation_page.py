"""Reconciliation page and the what-if section of Instance types: numbers shown vs computed from the fixture CSVs."""

from datetime import timedelta
from decimal import Decimal

import pandas as pd

from dashboard.formatting import money
from tests.dashboard.conftest import EVERY_LAUNCH

BENCHMARK_SERVICES = {"Amazon Elastic Compute Cloud - Compute", "EC2 - Other", "Amazon FSx", "Amazon Elastic Kubernetes Service"}


def dsum(values) -> Decimal:
    return sum((v for v in values if v is not None and v == v), Decimal(0))


def expected_lines(tables) -> pd.DataFrame:
    launches, costs, daily = tables["launches"], tables["launch_costs"], tables["costs_daily"]
    aws = launches[launches["compute_platform"] != "OnPremHPC"].merge(
        costs[["launch_id", "total_cost"]], on="launch_id", suffixes=("", "_computed")
    )
    computed = aws.groupby(["consumer", "launch_month"])["total_cost_computed"].apply(dsum)
    billed_rows = daily[daily["service"].isin(BENCHMARK_SERVICES) & daily["consumer"].notna()]
    billed = billed_rows.groupby(["consumer", "usage_month"])["unblended_cost"].apply(dsum)
    billed.index = billed.index.set_names(["consumer", "launch_month"])
    out = pd.concat({"computed": computed, "billed": billed}, axis=1)
    return out


def test_reconciliation_shows_computed_against_billed_per_consumer_and_month(open_page, read_metrics, read_table, fixture_tables):
    at = open_page("reconciliation", query_params=EVERY_LAUNCH)
    lines = expected_lines(fixture_tables)
    computed, billed = dsum(lines["computed"]), dsum(lines["billed"])
    shown = read_metrics(at)
    assert shown["Computed cost"][0] == money(computed)
    assert shown["Billed cost"][0] == money(billed)
    assert shown["Variance"][0] == money(billed - computed)
    assert shown["Variance"][1] == f"{(billed - computed) / computed * 100:+.1f}%"
    untagged = dsum(fixture_tables["costs_daily"].loc[fixture_tables["costs_daily"]["consumer"].isna(), "unblended_cost"])
    assert shown["Untagged spend"][0] == money(untagged)

    both = lines.dropna()
    pct = [(b - c) / c * 100 for c, b in zip(both["computed"], both["billed"], strict=True)]
    assert shown["Lines flagged"][0] == str(sum(abs(p) > 10 for p in pct))  # default threshold: 10 %

    table = read_table(at, "reconciliation_table")
    consumer, month = both.index[0]
    row = table[(table["consumer"] == consumer) & (pd.to_datetime(table["month"]) == pd.Timestamp(month))].iloc[0]
    assert row["computed_cost"] == both["computed"].iloc[0].quantize(Decimal("0.01"))
    assert row["billed_cost"] == both["billed"].iloc[0].quantize(Decimal("0.01"))
    assert abs(row["variance_percent"] * 100 - float(pct[0])) < 1e-9
    assert bool(row["flagged"]) == (abs(pct[0]) > 10)
    assert [m.value for m in at.markdown if "Credits" in m.value], "the known reasons are listed"


def test_the_threshold_comes_from_the_config(open_page, read_metrics, fixture_data_dir, tmp_path, monkeypatch):
    config = tmp_path / "ledger.toml"
    config.write_text("[pricing]\nvariance_threshold_percent = 1000\n")
    monkeypatch.setenv("LAUNCH_LEDGER_CONFIG", str(config))
    from streamlit.testing.v1 import AppTest

    from tests.dashboard.conftest import APP

    monkeypatch.setenv("LAUNCH_LEDGER_DATA_DIR", str(fixture_data_dir))
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.run()
    at.switch_page("app_pages/reconciliation.py").run()
    assert not at.exception
    assert read_metrics(at)["Lines flagged"][0] == "0"


def test_what_if_on_demand_reprices_the_same_launches(open_page, read_metrics, fixture_tables):
    at = open_page("instance_types", query_params=EVERY_LAUNCH)
    at.radio(key="whatif_scenario").set_value("Another purchase option").run()
    at.selectbox(key="whatif_option").set_value("On-Demand").run()
    assert not at.exception
    shown = read_metrics(at)

    launches, resources, costs, prices = (fixture_tables[t] for t in ("launches", "launch_resources", "launch_costs", "prices"))
    in_set = launches[
        launches["ended_at"].notna() & (launches["compute_platform"] != "OnPremHPC") & (launches["instance_count"] > 0)
    ]
    current = costs[costs["launch_id"].isin(in_set["launch_id"])]
    assert shown["What-if launches"][0] == str(len(current))
    assert shown["Computed as they ran"][0] == money(dsum(current["total_cost"]))  # what price-launches (SQL) wrote

    # On-Demand by hand: count x billed seconds (at least 60) x list price / 3600, rounded per line to 1e-6
    od = prices[prices["purchase_option"] == "On-Demand"].set_index("resource_type")["price"]
    lines = resources[resources["launch_id"].isin(in_set["launch_id"]) & (resources["kind"] == "instance")]
    instance_od = Decimal(0)
    for _, r in lines.iterrows():
        seconds = max((r["ended_at"] - r["started_at"]) // timedelta(seconds=1), 60)
        instance_od += (Decimal(int(r["count"])) * seconds * od[r["resource_type"]] / 3600).quantize(Decimal("0.000001"))
    rest = dsum(current["volume_cost"]) + dsum(current["filesystem_cost"]) + dsum(current["control_plane_cost"])
    what_if = instance_od + rest
    assert shown["What-if cost"][0] == money(what_if)
    difference = what_if - dsum(current["total_cost"])
    assert shown["Difference"][0] == money(difference)
    assert shown["Difference"][1] == f"{(difference / dsum(current['total_cost']) * 100).quantize(Decimal('0.01')):+.2f}%"


def test_what_if_another_family_of_the_same_size(open_page, read_metrics):
    at = open_page("instance_types")
    at.radio(key="whatif_scenario").set_value("Another instance family, same size").run()
    at.selectbox(key="whatif_from_family").set_value("m6i").run()
    at.selectbox(key="whatif_to_family").set_value("m7i").run()
    assert not at.exception
    shown = read_metrics(at)
    # m6i.4xlarge (On-Demand only in the fixture) at $0.768/h -> m7i.4xlarge at $0.8064/h: +5 % on those lines
    assert shown["Difference"][0].startswith("$") and shown["Difference"][1].startswith("+")
