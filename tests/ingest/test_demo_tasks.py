"""The demo's task records (``ingest.demo.tasks``): they fill each instance line of their run exactly, on its machine."""

from datetime import datetime, timedelta

import pandas as pd

from ingest.demo import tasks as demo_tasks

START = datetime(2026, 3, 2, 9, 0, 0)


def _world(runs: int = 40):
    launches = pd.DataFrame(
        {
            "launch_id": [f"wl-{i:04d}" for i in range(runs)],
            "workflow_type": ["nextflow-rnaseq", "nextflow-sarek", "nextflow-methylseq", "nextflow-rnaseq"] * (runs // 4),
            "status": ["COMPLETE"] * (runs - 1) + ["FAILED"],
        }
    )
    lines = pd.DataFrame(
        [
            (lid, index, "r6i.4xlarge", option, count, "us-east-1b", START + timedelta(minutes=index),
             START + timedelta(hours=3 + i % 5))
            for i, lid in enumerate(launches["launch_id"])
            for index, (option, count) in enumerate((("Spot", 2), ("On-Demand", 1)))
        ],
        columns=["launch_id", "resource_index", "resource_type", "purchase_option", "count", "availability_zone", "started_at",
                 "ended_at"],
    )  # fmt: skip
    return launches, lines


def test_tasks_fill_each_instance_of_each_line_back_to_back_on_its_machine():
    launches, lines = _world()
    rows = pd.DataFrame(demo_tasks.demo_task_rows(launches, lines, seed=7))
    assert 0 < rows["launch_id"].nunique() < len(launches)  # a share of the runs
    for lid, of_run in rows.groupby("launch_id"):
        for line in lines[lines["launch_id"] == lid].to_dict("records"):
            sample = f"S{line['resource_index'] + 1}_"
            mine = of_run[of_run["name"].str.contains(f"({sample}", regex=False)]
            assert set(mine["machine_type"]) == {line["resource_type"]} and set(mine["zone"]) == {line["availability_zone"]}
            assert set(mine["price_model"]) == {line["purchase_option"]}
            for _, one_instance in mine.groupby(mine["name"].str.extract(r"\((S\d+_\d+)\)")[0]):
                ordered = one_instance.sort_values(["started_at", "attempt"])
                assert ordered["started_at"].iloc[0] == line["started_at"]
                assert ordered["completed_at"].iloc[-1] == line["ended_at"]
                assert (ordered["started_at"].iloc[1:].to_numpy() == ordered["completed_at"].iloc[:-1].to_numpy()).all()
        assert sorted(of_run["task_id"].astype(int)) == list(range(1, len(of_run) + 1))


def test_a_task_killed_for_memory_is_retried_with_twice_the_memory_and_peaks_above_its_first_request():
    launches, lines = _world(200)
    rows = pd.DataFrame(demo_tasks.demo_task_rows(launches, lines, seed=7))
    killed = rows[rows["exit_code"] == demo_tasks.OUT_OF_MEMORY_EXIT]
    assert len(killed) > 0 and set(killed["status"]) == {"FAILED"} and set(killed["attempt"]) == {1}
    for task in killed.to_dict("records"):
        retry = rows[(rows["launch_id"] == task["launch_id"]) & (rows["name"] == task["name"]) & (rows["attempt"] == 2)].iloc[0]
        assert retry["status"] == "COMPLETED" and retry["memory_gb"] == 2 * task["memory_gb"]
        assert task["memory_gb"] < retry["peak_rss_gb"] <= 1.3 * task["memory_gb"]
        assert retry["started_at"] == task["completed_at"]


def test_the_same_seed_gives_the_same_rows():
    launches, lines = _world()
    first = demo_tasks.demo_task_rows(launches, lines, seed=7)
    assert first == demo_tasks.demo_task_rows(launches, lines, seed=7)
    assert first != demo_tasks.demo_task_rows(launches, lines, seed=8)
