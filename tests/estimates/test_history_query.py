"""The estimate_history query keeps each group's most recent ended launches: checked against pandas over the raw rows."""

from __future__ import annotations

import pandas as pd
import pytest

import queries
from queries.named import ALL_LAUNCHES
from warehouse.store import connect


@pytest.fixture(scope="module")
def ended(demo_data_dir) -> pd.DataFrame:
    """Every ended launch of the demo warehouse, newest first within each group (pandas, not the query)."""
    con = connect(demo_data_dir)
    try:
        launches = con.execute("SELECT launch_id, workflow_type, compute_platform, launched_at, status FROM launches").df()
    finally:
        con.close()
    launches = launches[launches["status"].isin(["COMPLETE", "FAILED"])]
    return launches.sort_values(["launched_at", "launch_id"], ascending=False)


def _recent(ended: pd.DataFrame, keep: int) -> list[str]:
    kept = ended.groupby(["workflow_type", "compute_platform"]).head(keep)
    return list(kept.sort_values(["launched_at", "launch_id"])["launch_id"])


def _history(demo_data_dir, keep: int) -> pd.DataFrame:
    con = connect(demo_data_dir)
    try:
        return queries.estimate_history(con, queries.filter_options(con).all_time(), recent_per_group=keep)
    finally:
        con.close()


def test_every_ended_launch_when_all_are_asked_for(demo_data_dir, ended):
    history = _history(demo_data_dir, ALL_LAUNCHES)
    assert list(history["launch_id"]) == _recent(ended, len(ended))
    assert set(history["status"]) == {"COMPLETE", "FAILED"}


def test_the_most_recent_of_each_group_across_month_boundaries(demo_data_dir, ended):
    groups = ended.groupby(["workflow_type", "compute_platform"])
    per_month = (
        ended.assign(month=ended["launched_at"].dt.to_period("M")).groupby(["workflow_type", "compute_platform", "month"]).size()
    )
    # a cut inside a month, one at exactly the newest month's size (a month kept whole), one launch, and more than any group has
    newest_month = int(per_month.groupby(level=[0, 1]).last().max())
    for keep in (1, 7, newest_month, newest_month + 1, 250, int(groups.size().max()) + 5):
        history = _history(demo_data_dir, keep)
        assert list(history["launch_id"]) == _recent(ended, keep), keep
        assert history.groupby(["workflow_type", "compute_platform"]).size().max() <= keep
