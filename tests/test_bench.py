"""The benchmark covers every named query, each called as its page calls it (here on the fixture)."""

from datetime import date

import queries
from bench.__main__ import query_calls


def test_the_bench_times_every_named_query(fixture_con):
    calls = query_calls(fixture_con, queries.Filters(date(2025, 1, 1), date(2025, 4, 30)), date(2025, 3, 1))
    # launch_period runs inside filter_options; timing_by_platform is timing.sql pooled
    assert set(calls) | {"launch_period"} == set(queries.query_names()) | {"timing_by_platform"}
    for name, call in calls.items():
        assert call() is not None, name


def test_the_seqera_bench_times_the_task_view_for_one_run_and_one_workflow_type(tmp_path):
    from bench.seqera import bench_seqera

    runs, per_run = 3, 12  # tiny: the same code path as 1,000 x 300
    got = bench_seqera(tmp_path, runs=runs, tasks_per_run=per_run, repeat=3)
    assert (got["runs"], got["tasks"]) == (runs, runs * per_run)
    # one run's tasks, then every run's (all three are the same pipeline: one workflow type)
    assert (got["task_view_run_tasks"], got["task_view_type_tasks"]) == (per_run, runs * per_run)
    for key in ("task_view_run_p50_ms", "task_view_run_p95_ms", "task_view_type_p50_ms", "task_view_type_p95_ms"):
        assert got[key] > 0, key
    assert got["task_view_type_vs_pandas"] > 0
