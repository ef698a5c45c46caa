"""The per-run section of Reconciliation and the task sections of Instance types, on the fixture rows."""

from decimal import Decimal

from tests.dashboard.conftest import EVERY_LAUNCH

C = Decimal("0.01")


def test_reconciliation_shows_each_run_with_its_gap_and_reason(open_page, read_table):
    at = open_page("reconciliation", query_params=EVERY_LAUNCH)
    runs = read_table(at, "run_reconciliation_table").set_index("launch_id")
    assert list(runs.index) == ["wl-2025-0001", "wl-2025-0002", "wl-2025-0005"]
    one = runs.loc["wl-2025-0001"]
    # split 6.50 + unused 1.25 = 7.75; engine 7.294521; gap 0.455479
    assert (one["split_with_unused_cost"], one["engine_cost"]) == (Decimal("7.75"), Decimal("7.294521").quantize(C))
    assert one["gap"] == Decimal("0.455479").quantize(C)
    assert one["likely_reason"] == "idle capacity of shared instances"
    assert not at.exception


def test_instance_types_shows_tasks_by_machine_type_and_per_process(open_page, read_table):
    at = open_page("instance_types", query_params=EVERY_LAUNCH)
    by_machine = read_table(at, "task_machine_table")
    spot = by_machine[(by_machine["machine_type"] == "r6i.4xlarge") & (by_machine["price_model"] == "Spot")].iloc[0]
    assert (spot["tasks"], spot["engine_cost"]) == (2, Decimal("1.45"))  # 1.10 + 0.35
    at.radio(key="process_tasks_of").set_value("one run").run()
    at.selectbox(key="process_tasks_run").set_value("wl-2025-0001").run()
    star = read_table(at, "process_tasks_table").set_index("process").loc["NFCORE_RNASEQ:STAR_ALIGN"]
    assert (star["tasks"], star["failed"], star["retried"], star["seqera_cost"]) == (2, 1, 1, Decimal("5.20"))
    assert not at.exception
