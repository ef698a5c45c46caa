"""The shared sidebar filters: set by key or by link, kept across pages, reset in one click."""

from datetime import date

from tests.dashboard.conftest import EVERY_LAUNCH


def count_in(launches, start, end, **where):
    day = launches["launched_at"].dt.date
    rows = launches[(day >= start) & (day <= end)]
    for column, values in where.items():
        rows = rows[rows[column].isin(values)]
    return len(rows)


def test_filters_persist_when_switching_pages(open_page, read_metrics, launches_csv):
    at = open_page("overview", query_params=EVERY_LAUNCH)
    at.multiselect(key="platform").set_value(["EKS"]).run()
    at.multiselect(key="status").set_value(["COMPLETE"]).run()
    expected = count_in(launches_csv, date(2025, 1, 1), date(2025, 4, 30), compute_platform=["EKS"], status=["COMPLETE"])
    assert read_metrics(at)["Launches"][0] == str(expected)
    at.switch_page("app_pages/chargeback.py").run()
    assert at.multiselect(key="platform").value == ["EKS"]
    # the statement keeps its amounts and shows the EKS direct lines, the rest in one "outside" line
    lines = at.get_by_key("statement_lines").dataframe[0].value
    assert set(lines.loc[lines["Kind"] == "direct", "Platform"]) == {"EKS"} and "outside" in set(lines["Kind"])


def test_every_filter_can_come_from_the_link(open_page, read_metrics, launches_csv):
    at = open_page(
        "trends",
        query_params={
            "period": ["2025-01-15", "2025-04-15"],
            "workflow_type": ["nextflow-rnaseq", "wdl-wgs-germline"],
            "platform": ["Batch", "EKS", "ParallelCluster"],
            "status": ["COMPLETE", "FAILED"],
        },
    )
    expected = count_in(
        launches_csv,
        date(2025, 1, 15),
        date(2025, 4, 15),
        workflow_type=["nextflow-rnaseq", "wdl-wgs-germline"],
        compute_platform=["Batch", "EKS", "ParallelCluster"],
        status=["COMPLETE", "FAILED"],
    )
    assert 0 < expected < 43
    assert read_metrics(at)["Launches"][0] == str(expected)
    assert at.date_input(key="period").value == (date(2025, 1, 15), date(2025, 4, 15))


def test_reset_restores_the_default_period_and_every_consumer(open_page, read_metrics, launches_csv):
    at = open_page("overview", query_params={"consumer": "rare-disease", "period": ["2025-01-01", "2025-01-31"]})
    assert read_metrics(at)["Launches"][0] == str(
        count_in(launches_csv, date(2025, 1, 1), date(2025, 1, 31), consumer=["rare-disease"])
    )
    at.button(key="reset_filters").click().run()
    assert at.multiselect(key="consumer").value == []
    # the last full month and the month to date: March 1st to the latest launch day
    assert at.date_input(key="period").value == (date(2025, 3, 1), date(2025, 4, 28))
    assert read_metrics(at)["Launches"][0] == str(count_in(launches_csv, date(2025, 3, 1), date(2025, 4, 28)))


def test_a_half_picked_range_is_one_day(open_page, read_metrics, launches_csv):
    at = open_page("overview")
    at.date_input(key="period").set_value((date(2025, 3, 31),)).run()
    assert read_metrics(at)["Launches"][0] == str(count_in(launches_csv, date(2025, 3, 31), date(2025, 3, 31))) == "1"


def test_the_platforms_picker_follows_the_sidebar(open_page):
    at = open_page("platforms", query_params={"workflow": "wdl-wgs-germline"})
    assert at.selectbox(key="workflow").value == "wdl-wgs-germline"
    at.multiselect(key="workflow_type").set_value(["nextflow-rnaseq"]).run()
    assert at.selectbox(key="workflow").options == ["nextflow-rnaseq"]
    assert at.selectbox(key="workflow").value == "nextflow-rnaseq"
