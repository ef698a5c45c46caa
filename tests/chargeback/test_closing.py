"""Closing a month: the statement is frozen; a later restatement is charged once, in the first open month."""

import re
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

from chargeback.closing import close_month, statement_for
from chargeback.rules import load_rules
from core.errors import ChargebackError
from core.settings import Settings
from ingest.__main__ import main
from warehouse.store import WarehouseWriter, connect

JAN, FEB, MAR = date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)
TODAY = date(2025, 5, 2)


def restate(data_dir, month: date, consumer: str, service: str, by: str) -> None:
    """What a Cost Explorer restatement does: the month's rows come back with one amount changed."""
    with WarehouseWriter(data_dir, f"restate-{month}-{by}") as w:
        w.write_partitions(
            "costs_daily",
            """SELECT * REPLACE (
                   CASE WHEN consumer = $c AND service = $s THEN effective_cost + CAST($by AS DECIMAL(18,6))
                        ELSE effective_cost END AS effective_cost,
                   CASE WHEN consumer = $c AND service = $s THEN billed_cost + CAST($by AS DECIMAL(18,6))
                        ELSE billed_cost END AS billed_cost)
               FROM costs_daily WHERE usage_month = $m""",
            {"c": consumer, "s": service, "by": by, "m": month},
        )
        w.commit()


def test_a_closed_month_is_frozen_and_restatements_become_adjustments_once(fresh_data_dir, capsys):
    rules = load_rules()
    settings = Settings(data_dir=fresh_data_dir)
    open_january = statement_for(connect(fresh_data_dir), JAN, rules)
    frozen, run = close_month(settings, JAN, rules, today=TODAY, closed_by="test")
    assert "2025-01 closed: 12 statement lines" in capsys.readouterr().out

    con = connect(fresh_data_dir)
    closed = statement_for(con, JAN, rules)
    assert closed.closed and closed.closed_by_run_id == run.writer.run_id
    pd.testing.assert_frame_equal(closed.lines.drop(columns="note"), open_january.lines.drop(columns="note"))
    rows = con.execute("SELECT DISTINCT rules_fingerprint, bill_total, bill_source FROM closed_statements").fetchall()
    assert rows == [(rules.fingerprint, Decimal("475.100000"), "cost-explorer")]
    assert con.execute("SELECT command, outcome FROM job_runs WHERE run_id = $r", {"r": run.writer.run_id}).fetchall() == [
        ("close-month", "succeeded")
    ]

    # Cost Explorer restates January: +10.00 on rare-disease's FSx. January's statement does not move ...
    restate(fresh_data_dir, JAN, "rare-disease", "Amazon FSx", "10")
    con = connect(fresh_data_dir)
    again = statement_for(con, JAN, rules)
    pd.testing.assert_frame_equal(again.lines, closed.lines)
    assert again.restated == Decimal("10.00") and "charged in 2025-02, the first open month" in again.notes[0]
    # ... February, the first open month, carries it as one adjustment line that says what changed
    february = statement_for(con, FEB, rules)
    adjustments = february.lines[february.lines["line_kind"] == "adjustment"]
    assert adjustments[["consumer", "line", "amount", "billed_amount"]].values.tolist() == [
        ["rare-disease", "Restatement of 2025-01", Decimal("10.00"), Decimal("10.00")]
    ]
    note = adjustments.iloc[0]["note"]
    assert note.startswith("bill 2025-01: 475.10 USD at close (cost-explorer), 485.10 USD now (cost-explorer)")
    assert "wdl-wgs-germline · EC2 +9.23" in note and "snakemake-variant-calling · EKS +0.77" in note  # by launch cost
    assert february.total == february.bill_total + Decimal("10.00") == sum(february.lines["amount"])
    february.check()

    # closing February freezes the adjustment with it; a second restatement is charged in March, only the new part
    close_month(settings, FEB, rules, today=TODAY)
    restate(fresh_data_dir, JAN, "rare-disease", "Amazon FSx", "2.5")
    march = statement_for(connect(fresh_data_dir), MAR, rules)
    adjustments = march.lines[march.lines["line_kind"] == "adjustment"]
    assert adjustments[["consumer", "adjusts_month", "amount"]].values.tolist() == [["rare-disease", JAN, Decimal("2.50")]]


@pytest.mark.parametrize(
    "month, message",
    [
        ("2025-01", r"2025-01 is already closed \(at .* UTC, run .*\): a closed statement never changes"),
        ("2025-03", "2025-03 cannot be closed before 2025-02: months close in order; close 2025-02 first"),
        ("2099-01", "2099-01 has not ended yet"),
    ],
)
def test_closing_twice_out_of_order_or_too_early_is_one_line(fresh_data_dir, capsys, month, message):
    assert main(["close-month", "2025-01", "--data-dir", str(fresh_data_dir)]) == 0
    capsys.readouterr()
    assert main(["close-month", month, "--data-dir", str(fresh_data_dir)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert re.search(message, err), err
    # the refused attempt is recorded as a failed run; the closed month is untouched
    con = connect(fresh_data_dir)
    assert con.execute("SELECT count(DISTINCT statement_month) FROM closed_statements").fetchall() == [(1,)]
    assert con.execute("SELECT outcome FROM job_runs WHERE command = 'close-month' ORDER BY started_at").fetchall() == [
        ("succeeded",),
        ("failed",),
    ]


def test_a_month_before_the_last_closed_one_can_no_longer_be_closed(fresh_data_dir):
    rules = load_rules()
    close_month(Settings(data_dir=fresh_data_dir), FEB, rules, today=TODAY)
    with pytest.raises(
        ChargebackError, match="2025-01 comes before 2025-02, which is closed: months close in order, next is 2025-03"
    ):
        close_month(Settings(data_dir=fresh_data_dir), JAN, rules, today=TODAY)
    assert "can no longer be closed" in statement_for(connect(fresh_data_dir), JAN, rules).notes[-1]
