"""The statement: every cent of the bill on one line, by the rules, the same cents every time.

A worked month checked by hand, then properties over hypothesis-generated bills, launches and rules:
for any month and any filter the lines add up to the bill to the cent; a split never gives a consumer
a share of the opposite sign; the same input (in any row order) gives the same cents; the rounding
residue is one documented line.
"""

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chargeback.rules import parse_rules
from chargeback.statement import ROUNDING, UNTAGGED_LINE, allocate
from tests.chargeback.conftest import bill, charge, launch_group, launches

MONTH = date(2026, 10, 1)
CENT = Decimal("0.01")
RULES = """
[consumer]
tag = "team"
aliases = { "Team-A" = "a" }
untagged_values = ["unknown"]

[[shared]]
name = "FSx"
services = ["Amazon FSx"]
rule = "PROPORTIONAL"
basis = "launch_filesystem_cost"

[[shared]]
name = "Support"
services = ["AWS Support*"]
rule = "EVEN"

[[shared]]
name = "Data lake"
services = ["Amazon S3"]
rule = "FIXED"
percentages = { a = 50, b = 30, c = 20 }

[[shared]]
name = "EKS"
services = ["Amazon EKS"]
rule = "PROPORTIONAL"
basis = "launch_control_plane_cost"
"""


def worked_month():
    rows = [
        charge("a", "Amazon EC2", "100.00", tag_key="team"),
        charge("Team-A", "Amazon EC2", "20.00", tag_key="team"),  # the other spelling of a
        charge("b", "Amazon EC2", "60.005", tag_key="team"),  # half a cent: rounds to even, 60.00
        charge("c", "AWS Credits", "-10.00", category="Credit", tag_key="team"),
        charge(None, "Amazon FSx", "30.00", tag_key="team"),
        charge(None, "AWS Support (Business)", "10.00", tag_key="team"),
        charge(None, "Amazon S3", "1.00", tag_key="team"),
        charge(None, "Amazon EKS", "5.00", tag_key="team"),
        charge("unknown", "Amazon EC2", "7.00", tag_key="team"),  # "unknown" names nobody
        charge(None, "Amazon EC2", "3.005", tag_key="team"),
    ]
    runs = [
        launch_group("a", "nextflow-rnaseq", "Batch", "30", launches=3, filesystem="3"),
        launch_group("a", "wdl-wgs-germline", "EKS", "10", launches=1),
        launch_group("b", "snakemake-variant-calling", "EC2", "5", filesystem="1"),
        launch_group("c", "nextflow-rnaseq", "Batch", "4"),
    ]
    return bill(rows), launches(runs)


def amounts(statement) -> dict[tuple, Decimal]:
    return {(r["consumer"], r["line_kind"], r["line"]): r["amount"] for r in statement.lines.to_dict("records")}


def test_a_worked_month_by_hand():
    rows, runs = worked_month()
    s = allocate(MONTH, rows, runs, parse_rules(RULES))
    got = amounts(s)
    assert got == {
        ("a", "direct", "nextflow-rnaseq · Batch"): Decimal("90.00"),  # a's 120.00 by launch cost 30:10
        ("a", "direct", "wdl-wgs-germline · EKS"): Decimal("30.00"),
        ("a", "shared", "FSx"): Decimal("22.50"),  # 30.00 by file-system cost 3:1
        ("a", "shared", "Support"): Decimal("3.34"),  # 10.00 evenly: the odd cent to the first name
        ("a", "shared", "Data lake"): Decimal("0.50"),  # FIXED 50%
        ("b", "direct", "snakemake-variant-calling · EC2"): Decimal("60.00"),
        ("b", "shared", "FSx"): Decimal("7.50"),
        ("b", "shared", "Support"): Decimal("3.33"),
        ("b", "shared", "Data lake"): Decimal("0.30"),
        ("c", "direct", "nextflow-rnaseq · Batch"): Decimal("0.00"),  # launches, but nothing tagged to c
        ("c", "credit", "Credits and refunds"): Decimal("-10.00"),
        ("c", "shared", "Support"): Decimal("3.33"),
        ("c", "shared", "Data lake"): Decimal("0.20"),
        (None, "unallocated", "EKS: not split"): Decimal("5.00"),  # nobody had control-plane cost
        (None, "unallocated", UNTAGGED_LINE): Decimal("10.00"),  # 7.00 tagged "unknown" + 3.005, half to even
        (None, "rounding", ROUNDING): Decimal("0.01"),  # 226.01 billed; the rounded lines make 226.00
    }
    assert s.bill_total == Decimal("226.01") == sum(got.values())
    assert s.bill_exact == Decimal("226.010")
    line = s.lines[s.lines["line"] == "FSx"].iloc[0]
    assert line["rule"] == "PROPORTIONAL to each consumer's launch file-system cost this month"
    eks = s.lines[s.lines["line"] == "EKS: not split"].iloc[0]
    assert "no consumer had any" in eks["rule"]


def test_filters_fold_what_they_hide_into_one_outside_line():
    rows, runs = worked_month()
    s = allocate(MONTH, rows, runs, parse_rules(RULES))
    view = s.view(consumers=["b"], platforms=["EC2"])
    assert set(view["consumer"]) == {"b", None}
    outside = view[view["line_kind"] == "outside"].iloc[0]
    assert outside["amount"] == Decimal("226.01") - sum(v for (c, *_), v in amounts(s).items() if c in ("b", None))
    assert sum(view["amount"]) == s.bill_total


def test_the_bill_comes_from_one_source_so_nothing_is_counted_twice():
    rows = [
        charge("a", "Amazon EC2", "100.00"),
        charge("a", "Amazon EC2", "97.00", source="cur"),
        charge(None, "Amazon EC2", "3.00", source="cur"),
    ]
    s = allocate(MONTH, bill(rows), launches([]), parse_rules(""))
    assert s.bill_source == "cur" and s.bill_total == Decimal("100.00")
    assert any("cost-explorer rows for 2026-10 are not counted" in n for n in s.notes)
    s = allocate(MONTH, bill(rows), launches([]), parse_rules('[bill]\nsources = ["cost-explorer", "cur"]\n'))
    assert s.bill_source == "cost-explorer" and s.bill_total == Decimal("100.00")


def test_split_cost_allocation_charges_an_instance_to_the_pods_that_ran_on_it():
    rows = [
        charge(None, "Amazon Elastic Compute Cloud", "9.00", source="cur", resource_id="i-0abc"),
        charge(
            "a",
            "Amazon Elastic Compute Cloud",
            "0",
            source="cur",
            resource_id="pod-1",
            split_parent_resource_id="i-0abc",
            split_cost=Decimal("2.00"),
        ),
        charge(
            "b",
            "Amazon Elastic Compute Cloud",
            "0",
            source="cur",
            resource_id="pod-2",
            split_parent_resource_id="i-0abc",
            split_cost=Decimal("4.00"),
        ),
    ]
    s = allocate(MONTH, bill(rows), launches([]), parse_rules(""))
    got = amounts(s)
    assert got[("a", "direct", "no launches recorded")] == Decimal("3.00")
    assert got[("b", "direct", "no launches recorded")] == Decimal("6.00")
    assert got[(None, "unallocated", UNTAGGED_LINE)] == Decimal("0.00")
    assert "CUR split cost allocation" in s.lines.iloc[0]["rule"]


def test_tags_json_names_the_consumer_as_aws_writes_user_tags():
    rows = [
        charge(None, "S3", "1.00", source="focus", tags='{"user:team": "a", "env": "prod"}'),
        charge(None, "S3", "2.00", source="focus", tags='{"user_team": "b"}'),
        charge(None, "S3", "4.00", source="focus", tags='{"env": "dev"}'),
        charge(None, "S3", "8.00", source="focus", tags="not json"),
    ]
    got = amounts(allocate(MONTH, bill(rows), launches([]), parse_rules('[consumer]\ntag = "team"\n')))
    assert got[("a", "direct", "no launches recorded")] == Decimal("1.00")
    assert got[("b", "direct", "no launches recorded")] == Decimal("2.00")
    assert got[(None, "unallocated", UNTAGGED_LINE)] == Decimal("12.00")


# --- properties ---------------------------------------------------------------------------------------

TEAMS = ("a", "b", "c", "Team-A", "unknown", None)
SERVICES = ("Amazon EC2", "Amazon FSx", "AWS Support (Business)", "Amazon S3", "Amazon EKS")
money = st.decimals(min_value=-500, max_value=5000, places=6, allow_nan=False, allow_infinity=False)


@st.composite
def charges(draw):
    return charge(
        draw(st.sampled_from(TEAMS)),
        draw(st.sampled_from(SERVICES)),
        draw(money),
        draw(money),
        category=draw(st.sampled_from(("Usage", "Usage", "Credit", "Tax"))),
        source=draw(st.sampled_from(("cost-explorer", "cost-explorer", "focus"))),
    )


@st.composite
def groups(draw):
    total = draw(st.decimals(min_value=0, max_value=900, places=6))
    return launch_group(
        draw(st.sampled_from(("a", "b", "c", "d", "Team-A"))),
        draw(st.sampled_from(("nextflow-rnaseq", "wdl-wgs-germline"))),
        draw(st.sampled_from(("Batch", "EKS", "EC2"))),
        total,
        launches=draw(st.integers(1, 20)),
        filesystem=draw(st.decimals(min_value=0, max_value=total, places=6)),
    )


@st.composite
def rule_sets(draw):
    text = ['[consumer]\naliases = { "Team-A" = "a" }\nuntagged_values = ["unknown"]\n']
    text.append(f"[bill]\nsources = {draw(st.permutations(['focus', 'cost-explorer']))!r}\n".replace("'", '"'))
    for i, service in enumerate(draw(st.lists(st.sampled_from(SERVICES), unique=True, max_size=4))):
        method = draw(st.sampled_from(("PROPORTIONAL", "EVEN", "FIXED")))
        text.append(f'[[shared]]\nname = "pool {i}"\nservices = ["{service}"]\nrule = "{method}"\n')
        if method == "PROPORTIONAL":
            text.append(f'basis = "{draw(st.sampled_from(("direct", "launch_cost", "launch_filesystem_cost", "launches")))}"\n')
        if method == "FIXED":
            cut = draw(st.integers(0, 100))
            text.append(f"percentages = {{ a = {cut}, c = {100 - cut} }}\n")
        if draw(st.booleans()):
            text.append('consumers = ["", "c"]\n')  # also take c's own charges of that service
    return parse_rules("".join(text))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(charges(), max_size=25),
    runs=st.lists(groups(), max_size=8),
    rules=rule_sets(),
    picked=st.tuples(
        st.sets(st.sampled_from(("a", "b", "c", "d"))),
        st.sets(st.sampled_from(("nextflow-rnaseq",))),
        st.sets(st.sampled_from(("EKS", "Batch"))),
    ),
)
def test_every_statement_adds_up_to_the_bill_under_any_filter(rows, runs, rules, picked):
    s = allocate(MONTH, bill(rows), launches(runs), rules)
    # the bill, independently: the first source in the rules' order that has rows, summed, half to even
    source = next((src for src in rules.sources if any(r["source"] == src for r in rows)), None)
    mine = [r for r in rows if r["source"] == source]
    for column, measure in (("amount", "effective_cost"), ("billed_amount", "billed_cost")):
        want = sum((r[measure] for r in mine), Decimal(0)).quantize(CENT, ROUND_HALF_EVEN)
        assert sum(s.lines[column]) == want
    assert s.bill_total == sum(s.lines["amount"])
    # any filter: the shown lines plus the outside line are still the bill
    view = s.view(*picked)
    assert sum(view["amount"]) == s.bill_total and sum(view["billed_amount"]) == s.billed_total
    # every line in whole cents; exactly one rounding line, for nobody
    assert all(v == v.quantize(CENT) for v in s.lines["amount"])
    rounding = s.lines[s.lines["line_kind"] == "rounding"]
    assert len(rounding) == 1 and rounding.iloc[0]["consumer"] is None
    assert abs(rounding.iloc[0]["amount"]) <= CENT * len(s.lines) / 2


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(charges(), max_size=25), runs=st.lists(groups(), max_size=8), rules=rule_sets(), seed=st.randoms())
def test_splits_never_turn_a_share_negative_and_the_same_input_gives_the_same_cents(rows, runs, rules, seed):
    s = allocate(MONTH, bill(rows), launches(runs), rules)
    for name, shares in s.lines[
        s.lines["line_kind"].isin(("shared", "credit")) & s.lines["rule"].str.match("(PROPORTIONAL|EVEN|FIXED)")
    ].groupby("line"):
        pool = sum(shares["amount"])
        assert all(v * pool >= 0 for v in shares["amount"]), f"{name}: a share of the opposite sign of the pool"
    shuffled_rows, shuffled_runs = list(rows), list(runs)
    seed.shuffle(shuffled_rows)
    seed.shuffle(shuffled_runs)
    again = allocate(MONTH, bill(shuffled_rows), launches(shuffled_runs), rules)
    pd.testing.assert_frame_equal(again.lines, s.lines)
    pd.testing.assert_frame_equal(again.charges, s.charges)
    assert again.bill_total == s.bill_total


@pytest.mark.parametrize("month", [date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1), date(2025, 4, 1)])
def test_every_fixture_month_adds_up_under_every_filter(fixture_con, month):
    from chargeback.closing import compute
    from chargeback.rules import load_rules

    s = compute(fixture_con, month, load_rules())
    bill_rows = fixture_con.execute(
        "SELECT sum(net_amortized_cost), sum(unblended_cost) FROM costs_daily WHERE usage_month = $m", {"m": month}
    ).fetchall()[0]
    assert s.bill_total == bill_rows[0].quantize(CENT, ROUND_HALF_EVEN) == sum(s.lines["amount"])
    assert s.billed_total == bill_rows[1].quantize(CENT, ROUND_HALF_EVEN)
    for consumers in ((), ("rare-disease",), ("oncology-research", "neuro-genomics"), ("nobody",)):
        for platforms in ((), ("EKS",), ("OnPremHPC", "Batch")):
            assert sum(s.view(consumers, (), platforms)["amount"]) == s.bill_total
