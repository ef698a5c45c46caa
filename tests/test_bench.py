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
