"""right_sizing_tasks: the task rows of one workflow type or one run, as the fixture CSVs hold them, for the reader's launches."""

from datetime import date

from core.access import Reader
from queries import Filters, named

ALL = Filters(date(2025, 1, 1), date(2025, 4, 30))


def _expected(fixture_tables, launch_ids: set[str]) -> list[tuple]:
    tasks = fixture_tables["launch_tasks"]
    mine = tasks[tasks["launch_id"].isin(launch_ids)]
    return sorted(zip(mine["launch_id"], mine["task_id"].astype(str), mine["process"], mine["peak_rss_gb"], strict=True))


def _got(frame) -> list[tuple]:
    return sorted(zip(frame["launch_id"], frame["task_id"], frame["process"], frame["peak_rss_gb"], strict=True))


def test_the_tasks_of_one_workflow_type_and_of_one_run(fixture_con, fixture_tables, launches_csv):
    rnaseq = set(launches_csv.loc[launches_csv["workflow_type"] == "nextflow-rnaseq", "launch_id"])
    of_type = named.right_sizing_tasks(fixture_con, ALL, workflow_type="nextflow-rnaseq")
    assert _got(of_type) == _expected(fixture_tables, rnaseq) and len(of_type) == 4
    assert set(of_type["region"]) == {"us-east-1"} and set(of_type["workflow_type"]) == {"nextflow-rnaseq"}
    one_run = named.right_sizing_tasks(fixture_con, ALL, launch_id="wl-2025-0001")
    assert _got(one_run) == _expected(fixture_tables, {"wl-2025-0001"})
    assert list(one_run["status"]) == ["COMPLETED", "FAILED", "COMPLETED"]  # by process, name, attempt: FASTQC, then STAR's tries
    assert len(named.right_sizing_tasks(fixture_con, ALL)) == len(fixture_tables["launch_tasks"])


def test_a_reader_gets_only_the_tasks_of_their_consumers(fixture_con, fixture_tables, launches_csv):
    viewer = Filters(ALL.start, ALL.end, reader=Reader(consumers=("rare-disease",), admin=False))
    theirs = set(launches_csv.loc[launches_csv["consumer"] == "rare-disease", "launch_id"])
    got = named.right_sizing_tasks(fixture_con, viewer)
    assert _got(got) == _expected(fixture_tables, theirs) and set(got["launch_id"]) == {"wl-2025-0005"}
    assert named.right_sizing_tasks(fixture_con, viewer, launch_id="wl-2025-0001").empty
