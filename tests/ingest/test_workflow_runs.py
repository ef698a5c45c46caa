"""The load step every workflow-run importer shares: runs validated as launches, tasks replaced with their run."""

from datetime import datetime
from decimal import Decimal

from ingest.workflow_runs import Rejected, attribute_value, load_runs
from warehouse.runs import job_run
from warehouse.store import connect

T0 = datetime(2025, 3, 4, 10, 0, 0)


def run_launch(launch_id: str, hours: int = 2, **extra) -> dict:
    end = T0.replace(hour=10 + hours)
    return {
        "launch_id": launch_id,
        "consumer": "oncology-research",
        "workflow_type": "nf-core/rnaseq",
        "compute_platform": "Batch",
        "region": "us-east-1",
        "status": "COMPLETE",
        "status_times": {"PREPARING": T0, "READY": T0.replace(minute=5), "RUNNING": T0.replace(minute=9), "COMPLETE": end},
        **extra,
    }


def task(launch_id: str, task_id: str, attempt: int = 1, cost: str | None = None) -> dict:
    return {
        "launch_id": launch_id,
        "task_id": task_id,
        "process": "FASTQC",
        "name": f"FASTQC ({task_id})",
        "status": "COMPLETED",
        "attempt": attempt,
        "cpus": 2,
        "memory_gb": 4.0,
        "started_at": T0.replace(minute=9),
        "completed_at": T0.replace(minute=30),
        "realtime_hours": 0.35,
        "seqera_cost": None if cost is None else Decimal(cost),
        "currency": "USD",
        "source": "seqera",
    }


def load(data_dir, launches, tasks, rejected=()):
    with job_run(data_dir, "seqera", "test runs") as run:
        return load_runs(run, launches, tasks, rejected, "test runs")


def test_runs_load_as_launches_with_their_tasks_and_exact_task_costs(tmp_path):
    loaded = load(tmp_path, [run_launch("run-a"), run_launch("run-b")], [task("run-a", "1", cost="0.123456"), task("run-b", "1")])
    assert (loaded.runs_loaded, loaded.tasks_written, loaded.quarantined) == (2, 2, 0)
    con = connect(tmp_path)
    assert con.execute("SELECT count(*) FROM launches").fetchone()[0] == 2
    rows = con.execute("SELECT launch_id, seqera_cost, launch_month FROM launch_tasks ORDER BY launch_id").fetchall()
    assert rows[0][1] == Decimal("0.123456") and rows[1][1] is None
    assert {r[2].isoformat() for r in rows} == {"2025-03-01"}


def test_a_bad_run_is_quarantined_with_its_reason_and_loads_no_task(tmp_path):
    bad = run_launch("run-bad")
    bad["status_times"] = {"PREPARING": T0, "RUNNING": T0.replace(hour=8)}  # RUNNING before PREPARING
    rejected = [Rejected("trace.txt:7", None, "line 7 has 3 fields, the header 5", "a\tb\tc")]
    loaded = load(tmp_path, [run_launch("run-a"), bad], [task("run-a", "1"), task("run-bad", "1")], rejected)
    assert (loaded.runs_loaded, loaded.quarantined) == (1, 2)
    con = connect(tmp_path)
    assert [r[0] for r in con.execute("SELECT DISTINCT launch_id FROM launch_tasks").fetchall()] == ["run-a"]
    reasons = dict(con.execute("SELECT record_key, reason FROM quarantine").fetchall())
    assert "out of order" in reasons["run-bad"] or "before" in reasons["run-bad"]
    assert reasons[None] == "line 7 has 3 fields, the header 5"


def test_the_same_runs_twice_change_nothing_and_an_updated_run_replaces_its_tasks(tmp_path):
    load(tmp_path, [run_launch("run-a")], [task("run-a", "1"), task("run-a", "2")])
    again = load(tmp_path, [run_launch("run-a")], [task("run-a", "1"), task("run-a", "2")])
    assert (again.runs_loaded, again.runs_unchanged, again.tasks_written) == (0, 1, 0)
    updated = load(tmp_path, [run_launch("run-a", hours=3)], [task("run-a", "1"), task("run-a", "1", attempt=2)])
    assert updated.runs_loaded == 1
    con = connect(tmp_path)
    assert con.execute("SELECT task_id, attempt FROM launch_tasks ORDER BY attempt").fetchall() == [("1", 1), ("1", 2)]


def test_python_values_become_dynamodb_attribute_values():
    assert attribute_value({"a": 1, "b": [Decimal("1.50"), "x"], "c": None, "d": True}) == {
        "M": {"a": {"N": "1"}, "b": {"L": [{"N": "1.50"}, {"S": "x"}]}, "d": {"BOOL": True}}
    }
    assert attribute_value(T0) == {"S": "2025-03-04T10:00:00.000Z"}


def test_a_run_whose_tasks_alone_changed_has_them_replaced(tmp_path):
    load(tmp_path, [run_launch("run-a")], [task("run-a", "1", cost="0.10")])
    corrected = load(tmp_path, [run_launch("run-a")], [task("run-a", "1", cost="0.25")])
    assert (corrected.runs_loaded, corrected.runs_unchanged, corrected.tasks_written) == (0, 1, 1)
    con = connect(tmp_path)
    assert con.execute("SELECT seqera_cost FROM launch_tasks").fetchall() == [(Decimal("0.250000"),)]
    assert load(tmp_path, [run_launch("run-a")], [task("run-a", "1", cost="0.25")]).tasks_written == 0
