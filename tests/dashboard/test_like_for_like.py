"""Like for like on the Platforms page (sentence, figures, "not enough launches") and the Instance types chart's default."""

from __future__ import annotations

import re
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from tests.dashboard.conftest import DEMO_HISTORY, EVERY_LAUNCH, open_app
from tests.estimates.histories import build_demo_warehouse
from warehouse.store import connect

SENTENCE = re.compile(
    r"^For (?P<workflow>\S+) at matched input sizes \((?P<span>[^)]+)\), (?P<a>.+?) costs (?P<point>\d+)% (?P<way>less|more) "
    r"than (?P<b>.+?) \(90% interval (?P<low>\d+)-(?P<high>\d+)%; (?P<na>[\d,]+) and (?P<nb>[\d,]+) launches\)$"
)
EDGES = [10, 30, 100, 300, 1000, 3000]  # the default [comparisons] size_bands_gb


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    return build_demo_warehouse(tmp_path_factory.mktemp("like-for-like-demo"))


def completed(demo_dir, workflow_type: str) -> pd.DataFrame:
    """The workflow type's completed, priced launches with a size, read with SQL written here."""
    con = connect(demo_dir)
    try:
        rows = con.execute(
            """SELECT compute_platform || ' ' || COALESCE(primary_purchase_option, 'none') AS side,
                      input_size_gb, CAST(total_cost AS DOUBLE) AS cost
               FROM launches
               WHERE workflow_type = ? AND status = 'COMPLETE' AND total_cost IS NOT NULL AND input_size_gb > 0""",
            [workflow_type],
        ).df()
    finally:
        con.close()
    rows["band"] = np.digitize(rows["input_size_gb"], EDGES)
    return rows


def expected_difference(rows: pd.DataFrame, a: str, b: str) -> tuple[float, int, int]:
    """Size matched by hand: per band, both sides moved to the pooled geometric-mean size along the within-group slope."""
    both = rows[rows["side"].isin([a, b])].copy()
    counts = both.groupby(["band", "side"]).size().unstack(fill_value=0)
    matched = counts[(counts[a] >= 3) & (counts[b] >= 3)].index
    both = both[both["band"].isin(matched)].copy()
    both["x"], both["y"] = np.log(both["input_size_gb"]), np.log(both["cost"])
    centred = both.groupby(["side", "band"])[["x", "y"]].transform(lambda v: v - v.mean())
    slope = (centred["x"] * centred["y"]).sum() / (centred["x"] ** 2).sum()
    both["reference"] = both.groupby("band")["x"].transform("mean")
    both["adjusted"] = both["cost"] * np.exp(slope * (both["reference"] - both["x"]))
    means = both.groupby(["band", "side"])["adjusted"].mean().unstack()
    weights = counts.loc[matched].sum(axis=1) / counts.loc[matched].to_numpy().sum()
    return (
        (weights * means[a]).sum() / (weights * means[b]).sum() - 1,
        int(counts.loc[matched, a].sum()),
        int(counts.loc[matched, b].sum()),
    )


def test_the_sentence_on_the_demo_warehouse(demo_dir, monkeypatch):
    at = open_app(demo_dir, monkeypatch, "platforms", {**DEMO_HISTORY, "workflow": "nextflow-sarek"})
    (sentence,) = [c.value for c in at.code]
    found = SENTENCE.match(sentence)
    assert found, sentence
    a, b = found["a"], found["b"]
    rows = completed(demo_dir, "nextflow-sarek")
    by_side = rows["side"].value_counts()
    assert b == by_side.index[0]  # against the side with the most launches, by default
    difference, launches_a, launches_b = expected_difference(rows, a, b)
    assert found["workflow"] == "nextflow-sarek"
    assert int(found["point"]) == round(abs(difference) * 100)
    assert found["way"] == ("less" if difference < 0 else "more")
    assert (int(found["na"].replace(",", "")), int(found["nb"].replace(",", ""))) == (launches_a, launches_b)
    assert launches_a >= 20 and launches_b >= 20
    assert int(found["low"]) <= int(found["point"]) <= int(found["high"])
    table = at.get_by_key("like_table").dataframe[0].value.set_index("side")
    assert table.loc[a, "difference"] == pytest.approx(difference, abs=1e-9)
    assert at.get_by_key("like_chart") is not None
    again = open_app(demo_dir, monkeypatch, "platforms", {**DEMO_HISTORY, "workflow": "nextflow-sarek"})
    assert [c.value for c in again.code] == [sentence]  # seeded: the same interval on every run


def test_per_gb_and_per_sample_beside_per_launch(open_page, read_table, launches_csv):
    at = open_page("platforms", query_params=EVERY_LAUNCH)
    table = read_table(at, "platform_table").set_index("compute_platform")
    rows = launches_csv[(launches_csv["workflow_type"] == "nextflow-rnaseq") & (launches_csv["compute_platform"] == "Batch")]
    priced = rows.dropna(subset=["total_cost"])
    per_gb = (priced["total_cost"].map(float) / priced["input_size_gb"]).median()
    per_sample = (priced["total_cost"].map(float) / priced["sample_count"]).median()
    hours_per_gb = (rows.loc[rows["ended_at"].notna(), "total_hours"] / rows["input_size_gb"]).median()
    assert abs(table.loc["Batch", "median_cost_per_gb"] - Decimal(str(per_gb))) <= Decimal("0.01")
    assert abs(table.loc["Batch", "median_cost_per_sample"] - Decimal(str(per_sample))) <= Decimal("0.01")
    assert table.loc["Batch", "median_hours_per_gb"] == pytest.approx(hours_per_gb, rel=1e-6)


def test_too_few_launches_says_so_instead_of_a_number(open_page, launches_csv):
    at = open_page("platforms")  # the fixture warehouse: a dozen launches a platform at most
    assert not at.code
    table = at.get_by_key("like_table").dataframe[0].value
    assert table["difference"].isna().all()
    assert all("not enough launches" in s and "at least 20 a side" in s for s in table["sentence"])
    assert any(i.value.startswith("Not enough launches: no platform and purchase option of nextflow-rnaseq") for i in at.info)


def test_instance_types_chart_defaults_to_the_top_workflow_type_by_spend(open_page, launches_csv):
    at = open_page("instance_types")
    ec2 = launches_csv[launches_csv["primary_instance_type"].notna()]
    spend = ec2.groupby("workflow_type")["total_cost"].apply(lambda v: sum((x for x in v if x is not None), Decimal(0)))
    ranked = list(spend.sort_values(ascending=False).index)
    picker = at.selectbox(key="instance_chart_workflow")
    assert picker.value == ranked[0] and list(picker.options) == ranked
    chart = at.get_by_key("instance_cost_chart")
    assert ranked[0] in str(chart.proto)
    at.radio(key="instance_chart_mode").set_value("Top workflow types by spend").run()
    assert not at.exception
    for workflow_type in ranked[:3]:
        assert workflow_type in str(at.get_by_key("instance_cost_chart").proto)
