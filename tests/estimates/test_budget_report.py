"""Budgets against the fixture warehouse: spend to date worked by hand from the fixture rows (a consumer's launches,
the bill lines carrying a tag), and ``python -m ingest budgets``: its exit codes 0/1/2 and its JSON."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

from cli import main
from core.access import Reader
from estimates.budgets.jobs import budget_report
from warehouse.store import WarehouseWriter, connect

CENT = Decimal("0.01")
ONC = "oncology-research"


def budgets_toml(*entries: str) -> str:
    return "\n".join(f"[[budget]]\n{entry.strip()}\n" for entry in entries)


ONC_MONTH = f'name = "Onc March"\nconsumer = "{ONC}"\nperiod = "month"\nstart = "2025-01"\namount = "5000"\ncurrency = "USD"'
RARE_QUARTER = (
    'name = "Rare Q"\nconsumer = "rare-disease"\nperiod = "quarter"\nstart = "2025-01"\namount = "40"\ncurrency = "USD"'
)
GRANT = (
    'name = "Grant"\ntag = { key = "grant", value = "R01-123" }\nperiod = "quarter"\nstart = "2025-01"\n'
    'amount = "60"\ncurrency = "USD"'
)


def launch_spend(launches: pd.DataFrame, consumer: str, first: date, through: date) -> Decimal:
    """Priced launches of ``consumer`` started from ``first`` to ``through`` (both included), by hand."""
    day = launches["launched_at"].dt.date
    mine = launches[(launches["consumer"] == consumer) & (day >= first) & (day <= through)]
    return sum((c for c in mine["total_cost"] if c is not None), Decimal(0))


def test_a_consumers_spend_to_date_is_its_launches_cost_over_the_month_and_the_quarter(fixture_con, launches_csv):
    report = budget_report(fixture_con, budgets_toml(ONC_MONTH, RARE_QUARTER), as_of=date(2025, 3, 20))
    rows = report.rows.set_index("budget")
    march = launch_spend(launches_csv, ONC, date(2025, 3, 1), date(2025, 3, 20))
    assert march > 0 and rows.loc["Onc March", "spent"] == march.quantize(CENT)
    quarter = launch_spend(launches_csv, "rare-disease", date(2025, 1, 1), date(2025, 3, 20))
    assert quarter > 0 and rows.loc["Rare Q", "spent"] == quarter.quantize(CENT)
    assert rows.loc["Rare Q", "period"] == "2025-01 – 2025-03" and rows.loc["Onc March", "currency"] == "USD"
    assert rows.loc["Rare Q", "status"] == ("over" if quarter > 40 else "no forecast")
    # before March 20 the fixture holds one whole month (February; January starts on the 6th): too few to forecast from
    assert rows.loc["Onc March", "forecast"] is None and "(1 months)" in rows.loc["Onc March", "note"]


def test_a_month_that_has_ended_is_its_spend_with_no_chance_left(fixture_con, launches_csv):
    row = budget_report(fixture_con, budgets_toml(ONC_MONTH), as_of=date(2025, 2, 28)).rows.iloc[0]
    february = launch_spend(launches_csv, ONC, date(2025, 2, 1), date(2025, 2, 28)).quantize(CENT)
    assert (row["spent"], row["forecast"], row["low"], row["high"]) == (february,) * 4
    assert row["chance_of_overrun"] == 0.0 and row["status"] == "on track"


@pytest.fixture
def tagged_data_dir(fresh_data_dir):
    """The fixture warehouse plus bill lines carrying grant tags (FOCUS-style tags, a Cost Explorer grouping)."""
    extra = """
        SELECT * FROM costs_daily WHERE usage_month IN (DATE '2025-02-01', DATE '2025-03-01')
        UNION ALL BY NAME SELECT *, CAST(date_trunc('month', usage_date) AS DATE) AS usage_month FROM (VALUES
            (DATE '2025-02-10', 'consumer', 'oncology-research', '{"grant": "R01-123", "team": "x"}', 40.125, NULL, 'focus'),
            (DATE '2025-03-05', 'consumer', 'neuro-genomics', '{"user:grant": "R01-123"}', 10.50, NULL, 'focus'),
            (DATE '2025-03-06', 'consumer', 'neuro-genomics', '{"grant": "R01-999"}', 99.00, NULL, 'focus'),
            (DATE '2025-03-20', 'grant', 'R01-123', NULL, NULL, 7.25, 'cost-explorer')
        ) AS t(usage_date, tag_key, consumer, tags, effective_cost, net_amortized_cost, source)
        CROSS JOIN (SELECT 'USD' AS currency, 'Amazon Elastic Compute Cloud - Compute' AS service) AS c
    """
    with WarehouseWriter(fresh_data_dir, run_id="test-grant-tags") as writer:
        writer.write_partitions("costs_daily", extra)
        writer.commit()
    return fresh_data_dir


@pytest.mark.parametrize(
    "as_of, spent",
    [
        (date(2025, 3, 31), Decimal("40.125") + Decimal("10.50") + Decimal("7.25")),  # 57.875: half to even, 57.88
        (date(2025, 3, 10), Decimal("40.125") + Decimal("10.50")),  # 50.625 -> 50.62: the 20th is after the as-of day
    ],
)
def test_a_tags_spend_to_date_is_the_bill_lines_carrying_it(tagged_data_dir, as_of, spent):
    con = connect(tagged_data_dir)
    try:
        row = budget_report(con, budgets_toml(GRANT), as_of=as_of).rows.iloc[0]
        hidden = budget_report(con, budgets_toml(GRANT, ONC_MONTH), as_of=as_of, reader=Reader((ONC,), admin=False))
    finally:
        con.close()
    assert row["spent"] == spent.quantize(CENT) and row["covers"] == "tag grant = R01-123"
    assert row["period"] == "2025-01 – 2025-03" and row["status"] == "no forecast"
    assert list(hidden.rows["budget"]) == ["Onc March"] and hidden.hidden == 1  # a tag's budget is for finance


# --- the command line ---------------------------------------------------------------------------------------


def run_cli(tmp_path, data_dir, budgets: str, *options: str) -> int:
    (tmp_path / "budgets.toml").write_text(budgets)
    (tmp_path / "launch-ledger.toml").write_text('[budgets]\nfile = "budgets.toml"\nat_risk_chance = 0.25\n')
    return main(["budgets", "--config", str(tmp_path / "launch-ledger.toml"), "--data-dir", str(data_dir), *options])


def test_check_exits_0_when_no_budget_is_forecast_to_overrun(tmp_path, fixture_data_dir, capsys):
    assert run_cli(tmp_path, fixture_data_dir, budgets_toml(ONC_MONTH), "--check", "--month", "2025-02") == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("Budgets as of 2025-02-28") and "no budget is at risk or over (1" in out


def test_check_exits_1_and_prints_the_budget_over_with_its_figures(tmp_path, fixture_data_dir, launches_csv, capsys):
    code = run_cli(tmp_path, fixture_data_dir, budgets_toml(ONC_MONTH, RARE_QUARTER), "--check", "--as-of", "2025-03-31")
    lines = capsys.readouterr().out.splitlines()
    quarter = launch_spend(launches_csv, "rare-disease", date(2025, 1, 1), date(2025, 3, 31)).quantize(CENT)
    assert quarter > 40 and code == 1
    (over,) = [line for line in lines if "Rare Q" in line]
    assert over.startswith("OVER") and f"spent USD {quarter}" in over and "budget USD 40.00" in over
    assert "2025-01 – 2025-03" in over and "chance of overrun 100%" in over
    assert not any("Onc March" in line for line in lines)  # on track: --check prints only those at risk


def test_json_is_a_document_a_webhook_can_take_with_money_as_strings(tmp_path, fixture_data_dir, launches_csv, capsys):
    assert run_cli(tmp_path, fixture_data_dir, budgets_toml(RARE_QUARTER), "--json", "--check", "--month", "2025-03") == 1
    document = json.loads(capsys.readouterr().out)
    quarter = launch_spend(launches_csv, "rare-disease", date(2025, 1, 1), date(2025, 3, 31)).quantize(CENT)
    assert document["as_of"] == "2025-03-31" and document["at_risk"] == 1 and document["forecast_to_overrun"] == 1
    (item,) = document["budgets"]
    assert item["covers"] == {"consumer": "rare-disease"}
    assert item["period"] == {"kind": "quarter", "start": "2025-01-01", "end": "2025-03-31"}
    assert (item["budget"], item["spent"], item["currency"]) == ("40.00", str(quarter), "USD")
    assert item["forecast"] == {"median": str(quarter), "low": str(quarter), "high": str(quarter), "level": 0.8}
    assert item["chance_of_overrun"] == 1.0 and item["status"] == "over" and item["forecast_to_overrun"] is True


def test_a_bad_budgets_file_exits_2_with_one_line_naming_the_budget_and_the_field(tmp_path, fixture_data_dir, capsys):
    bad = budgets_toml(ONC_MONTH.replace('amount = "5000"', 'amount = "five thousand"'))
    assert run_cli(tmp_path, fixture_data_dir, bad, "--check") == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith('error: budget "Onc March" in ') and "amount must be a number" in err and "\n" not in err
