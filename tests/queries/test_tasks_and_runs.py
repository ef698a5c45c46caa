"""run_reconciliation, task_machine_types and process_tasks: figures from the fixture rows (launch_tasks, launch_billed_costs)."""

from datetime import date
from decimal import Decimal

import pandas as pd

import queries
from queries import Filters

ALL = Filters(date(2025, 1, 1), date(2025, 4, 30))
D = Decimal


def test_each_run_with_bill_rows_or_tasks_is_reconciled(fixture_con):
    lines = queries.pricing.run_reconciliation(fixture_con, ALL).set_index("launch_id")
    assert list(lines.index) == ["wl-2025-0001", "wl-2025-0002", "wl-2025-0005"]  # the untagged bill row matches no launch
    one = lines.loc["wl-2025-0001"]
    assert (one["recorded_cost"], one["engine_cost"], one["price_source"]) == (D("19.626200"), D("7.294521"), "item")
    assert (one["tasks"], one["task_seqera_cost"], one["task_engine_cost"]) == (3, D("5.600000"), D("5.250000"))  # 0.4+1.2+4.0
    assert (one["split_cost"], one["split_unused_cost"], one["split_with_unused_cost"]) == (D("6.5"), D("1.25"), D("7.75"))
    assert one["gap"] == D("0.455479")  # 7.75 - 7.294521
    assert one["recorded_gap"] == D("-11.876200")  # 7.75 - 19.6262
    assert one["spot_price_gap"] == D("-0.794521")  # Spot: 6.5 - 7.294521
    assert one["likely_reason"] == "idle capacity of shared instances"  # 1.25 unused outweighs the Spot gap
    two = lines.loc["wl-2025-0002"]  # On-Demand, no idle capacity: no reason to give
    assert (two["gap"], two["recorded_gap"]) == (D("0.402301"), D("-34.440800"))
    assert pd.isna(two["likely_reason"]) and pd.isna(two["spot_price_gap"])
    five = lines.loc["wl-2025-0005"]
    assert (five["spot_price_gap"], five["likely_reason"]) == (D("-0.331658"), "Spot price paid vs estimated")  # 1.9 - 2.231658


def test_runs_keep_to_the_filters(fixture_con):
    assert queries.pricing.run_reconciliation(fixture_con, Filters(date(2025, 2, 1), date(2025, 4, 30))).empty
    rare = queries.pricing.run_reconciliation(fixture_con, Filters(ALL.start, ALL.end, consumers=("rare-disease",)))
    assert list(rare["launch_id"]) == ["wl-2025-0005"]


def test_tasks_per_machine_type_and_price_model(fixture_con, fixture_tables):
    got = queries.named.task_machine_types(fixture_con, ALL)
    rows = {(r["machine_type"], r["price_model"]): r for r in got.to_dict("records")}
    assert set(rows) == {
        ("m5.2xlarge", "On-Demand"),
        ("m5.xlarge", "Spot"),
        ("r6i.4xlarge", "On-Demand"),
        ("r6i.4xlarge", "Spot"),
    }
    spot = rows[("r6i.4xlarge", "Spot")]  # wl-2025-0001 tasks 1 and 2
    assert (spot["tasks"], spot["task_hours"], spot["seqera_cost"], spot["engine_cost"]) == (2, 1.5, D("1.600000"), D("1.450000"))
    tasks = fixture_tables["launch_tasks"]
    assert sum(r["engine_cost"] for r in rows.values()) == sum(tasks["engine_cost"], D(0))  # 5.634000


def test_process_tasks_of_one_run_and_of_one_workflow_type(fixture_con):
    run = queries.named.process_tasks(fixture_con, ALL, launch_id="wl-2025-0001").set_index("process")
    star = run.loc["NFCORE_RNASEQ:STAR_ALIGN"]
    assert (star["tasks"], star["task_hours"], star["failed"], star["retried"]) == (2, 3.0, 1, 1)
    assert (star["seqera_cost"], star["engine_cost"]) == (D("5.200000"), D("4.900000"))  # 1.2+4.0, 1.1+3.8
    rnaseq = queries.named.process_tasks(fixture_con, ALL, workflow_type="nextflow-rnaseq").set_index("process")
    fastqc = rnaseq.loc["NFCORE_RNASEQ:FASTQC"]  # wl-2025-0001 and wl-2025-0002
    assert (fastqc["tasks"], fastqc["launches"], fastqc["engine_cost"], fastqc["failed"]) == (2, 2, D("0.446000"), 0)
    assert "VARIANT_CALLING:BWA_MEM" not in rnaseq.index
    assert set(queries.named.process_tasks(fixture_con, ALL)["process"]) == set(rnaseq.index) | {"VARIANT_CALLING:BWA_MEM"}
