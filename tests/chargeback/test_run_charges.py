"""``[runs] charge = "split_cost"``: runs matched on the bill are charged their split cost, the unused capacity by rule.

A hand-worked month: two consumers, three runs on two shared instances (CUR split cost allocation), a
known unused amount. Every expected figure is worked here with Decimal / Fraction, never read from the product.
"""

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pandas as pd
import pytest

from chargeback.rules import parse_rules
from chargeback.statement import UNUSED_LINE, allocate
from core.errors import ChargebackError
from tests.chargeback.conftest import bill, charge, launch_group, launches

MONTH = date(2026, 10, 1)
D = Decimal
# (run, consumer of its launch, instance, split cost, unused share); each instance costs split + unused.
SPLITS = [
    ("run-1", "oncology", "i-0aaa", D("4.00"), D("1.01")),
    ("run-3", "genomics", "i-0aaa", D("3.00"), D("2.00")),
    ("run-2", "oncology", "i-0bbb", D("2.50"), D("0.50")),
    ("run-3", "genomics", "i-0bbb", D("2.00"), D("1.00")),
]
UNUSED = sum(u for *_, u in SPLITS)  # 4.51
RUN_SPLIT = {"oncology": D("6.50"), "genomics": D("5.00")}  # 4.00 + 2.50; 3.00 + 2.00


def month_bill() -> pd.DataFrame:
    rows = []
    for instance in ("i-0aaa", "i-0bbb"):  # the instance's charge: what the runs on it shared
        cost = sum(s + u for _, _, i, s, u in SPLITS if i == instance)
        rows.append(charge(None, "Amazon Elastic Compute Cloud", cost, source="cur", tag_key="team", resource_id=instance))
    for run, _, instance, split, unused in SPLITS:  # the split rows: no cost of their own, the run tag only
        rows.append(
            charge(
                None,
                "Amazon Elastic Compute Cloud",
                "0",
                source="cur",
                tag_key="team",
                tags=f'{{"user_unique_run_id": "{run}"}}',
                resource_id=f"arn:aws:ecs:task/{run}",
                split_parent_resource_id=instance,
                split_cost=split + unused,  # bill_lines: split + unused, and the unused apart
                split_unused_cost=unused,
            )
        )
    rows.append(charge("oncology", "Amazon S3", "1.25", source="cur", tag_key="team"))  # tagged, no run
    return bill(rows)


def month_runs() -> pd.DataFrame:
    rows = [
        {"run_tag": run, "launch_id": run, "source": "cur", "consumer": consumer, "workflow_type": "nf-core/sarek"}
        for run, consumer in (("run-1", "oncology"), ("run-2", "oncology"), ("run-3", "genomics"))
    ]
    frame = pd.DataFrame(rows)
    frame["compute_platform"], frame["region"] = "Batch", "us-east-1"
    return frame


def month_launches() -> pd.DataFrame:
    return launches(
        [
            launch_group("oncology", "nf-core/sarek", "Batch", "7", launches=2),
            launch_group("genomics", "nf-core/sarek", "Batch", "4"),
        ]
    )


def rules(unused: str | None):
    runs = "" if unused is None else f'[runs]\ncharge = "split_cost"\nunused = "{unused}"\n'
    return parse_rules(f'[consumer]\ntag = "team"\n{runs}')


def lines(statement) -> dict[tuple, Decimal]:
    return {(r["consumer"], r["line_kind"], r["line"]): r["amount"] for r in statement.lines.to_dict("records") if r["amount"]}


def largest_remainder(total_cents: int, weights: dict[str, Decimal]) -> dict[str, Decimal]:
    """Hamilton's method by hand: floors, then a cent each to the largest remainders."""
    whole = sum(weights.values())
    exact = {k: Fraction(total_cents) * Fraction(w) / Fraction(whole) for k, w in weights.items()}
    cents = {k: int(v) for k, v in exact.items()}
    for k in sorted(exact, key=lambda k: exact[k] - cents[k], reverse=True)[: total_cents - sum(cents.values())]:
        cents[k] += 1
    return {k: D(c) / 100 for k, c in cents.items()}


def direct(consumer: str) -> Decimal:
    return RUN_SPLIT[consumer] + (D("1.25") if consumer == "oncology" else 0)


BILL = D("10.01") + D("6.00") + D("1.25")  # the two instances (11.50 split + 4.51 unused) and the S3 charge


def test_runs_are_charged_their_split_cost_and_the_unused_capacity_proportionally():
    s = allocate(MONTH, month_bill(), month_launches(), rules("proportional"), month_runs())
    unused = largest_remainder(451, RUN_SPLIT)  # 4.51 x 6.50 / 11.50 = 2.549 -> 2.55; x 5.00 / 11.50 = 1.960 -> 1.96
    assert unused == {"oncology": D("2.55"), "genomics": D("1.96")}
    assert lines(s) == {
        ("genomics", "direct", "nf-core/sarek · Batch"): direct("genomics"),
        ("oncology", "direct", "nf-core/sarek · Batch"): direct("oncology"),
        ("genomics", "shared", UNUSED_LINE): unused["genomics"],
        ("oncology", "shared", UNUSED_LINE): unused["oncology"],
    }
    assert s.bill_total == BILL == sum(lines(s).values())
    shared = s.lines[s.lines["line"] == UNUSED_LINE].iloc[0]
    assert "PROPORTIONAL to each consumer's run split cost" in shared["rule"]
    assert any("3 run(s) matched by the run tag unique_run_id" in n for n in s.notes)


@pytest.mark.parametrize(
    ("unused", "expected"),
    [
        # each run keeps its own share: oncology 1.01 + 0.50, genomics 2.00 + 1.00
        ("as_billed", {("oncology", "shared"): D("1.51"), ("genomics", "shared"): D("3.00")}),
        ("to_consumer:platform", {("platform", "shared"): UNUSED}),
        ("not_charged", {(None, "unallocated"): UNUSED}),
    ],
)
def test_the_unused_capacity_follows_the_stated_rule(unused, expected):
    s = allocate(MONTH, month_bill(), month_launches(), rules(unused), month_runs())
    got = {(c, kind): amount for (c, kind, line), amount in lines(s).items() if line == UNUSED_LINE}
    assert got == expected
    assert lines(s)[("oncology", "direct", "nf-core/sarek · Batch")] == direct("oncology")
    assert s.bill_total == BILL == sum(lines(s).values())


def test_without_runs_the_split_rows_follow_their_tags_and_the_fingerprint_says_which_rule_applied():
    s = allocate(MONTH, month_bill(), month_launches(), rules(None), month_runs())
    # the split rows carry no team tag: the instances' whole cost is untagged spend, only S3 is charged
    assert lines(s)[("oncology", "direct", "nf-core/sarek · Batch")] == D("1.25")
    assert sum(lines(s).values()) == BILL
    prints = {u: rules(u).fingerprint for u in (None, "proportional", "as_billed", "not_charged", "to_consumer:platform")}
    assert len(set(prints.values())) == 5
    assert rules(None).fingerprint == parse_rules('[consumer]\ntag = "team"\n').fingerprint


def test_a_run_billed_on_another_source_is_not_charged_from_this_bill():
    runs = month_runs()
    runs["source"] = "focus"
    s = allocate(MONTH, month_bill(), month_launches(), rules("proportional"), runs)
    assert lines(s)[("oncology", "direct", "nf-core/sarek · Batch")] == D("1.25")
    assert UNUSED_LINE not in set(s.lines["line"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[runs]\ncharge = "total"\n', 'runs.charge must be "split_cost"'),
        ('[runs]\ncharge = "split_cost"\nunused = "evenly"\n', "runs.unused must be one of proportional, as_billed"),
        ('[runs]\ncharge = "split_cost"\nunused = "to_consumer:"\n', "needs the consumer"),
        ('[runs]\ncharge = "split_cost"\nmode = 1\n', "unknown setting runs.mode"),
    ],
)
def test_a_wrong_runs_setting_is_a_clear_error(text, message):
    with pytest.raises(ChargebackError, match=message):
        parse_rules(text)


def test_statement_runs_names_each_matched_run_with_its_launch_and_a_statement_with_runs_adds_up(fixture_con, fixture_tables):
    from chargeback.closing import compute
    from queries import billing

    month = date(2025, 1, 1)
    billed = fixture_tables["launch_billed_costs"]
    matched = billed[billed["launch_id"].notna()].merge(fixture_tables["launches"], on="launch_id")
    runs = billing.statement_runs(fixture_con, month)
    # every matched run of the month with its launch's consumer; the tag that matches no launch is not a run
    got = sorted(zip(runs["run_tag"], runs["launch_id"], runs["consumer"], strict=True))
    assert got == sorted(zip(matched["run_tag"], matched["launch_id"], matched["consumer"], strict=True))
    assert [Decimal(str(v)) for v in runs.sort_values("run_tag")["split_cost"]] == [
        Decimal(str(v)) for v in matched.sort_values("run_tag")["split_cost"]
    ]
    statement = compute(fixture_con, month, rules("as_billed"))
    assert statement.rules_fingerprint == rules("as_billed").fingerprint != rules(None).fingerprint
    assert sum(statement.lines["amount"], Decimal("0.00")) == statement.bill_total  # still the bill, to the cent
