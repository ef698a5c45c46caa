"""The Right-sizing page over the fixture warehouse: figures worked from the fixture's launch_tasks rows by hand."""

import math

STAR = "NFCORE_RNASEQ:STAR_ALIGN"
EVERY_DAY = {"period": ["2025-01-06", "2025-04-28"]}  # the fixture's launches, first to last


def test_the_page_recommends_from_the_tasks_and_offers_the_config(open_page, read_table, read_metrics, fixture_tables):
    at = open_page("right_sizing", query_params=EVERY_DAY)
    assert not at.error and [t.value for t in at.title] == ["Right-sizing"]
    assert at.selectbox(key="right_sizing_workflow_type").value == "nextflow-rnaseq"
    tasks = fixture_tables["launch_tasks"]
    star = tasks[(tasks["process"] == STAR) & (tasks["status"] == "COMPLETED")]
    assert len(star) == 1  # the retry, on On-Demand; its Spot attempt was killed for memory (exit 137)
    cpus = max(1, math.ceil(round(float(star["cpu_percent"].iloc[0]) / 100 * 1.2, 9)))  # 7.5 x 1.2 = 9 -> 9
    memory = math.ceil(round(float(star["peak_rss_gb"].iloc[0]) * 1.2, 9))  # 31 x 1.2 = 37.2 -> 38
    row = read_table(at, "right_sizing_table").set_index("process").loc[STAR]
    assert (row["cpus_recommended"], row["memory_recommended_gb"], row["out_of_memory_retries"]) == (cpus, memory, 1)
    # the killed attempt: one hour of Spot r6i.4xlarge in us-east-1a at 0.31/h (the fixture's price from 2025-01-01)
    retries = read_table(at, "right_sizing_retries")
    assert list(retries["name"]) == ["STAR_ALIGN (s1)"] and float(retries["engine_cost"].iloc[0]) == 0.31
    assert read_metrics(at)["Retried attempts cost (USD)"][0] == "$0.31"
    assert read_metrics(at)["Processes to change"][0] == "2 of 2"
    (snippet,) = [c.value for c in at.code]
    assert f"    withName: '{STAR}' {{\n        cpus = {cpus}\n        memory = '{memory} GB'\n    }}\n" in snippet
    assert snippet.startswith("// Launch Ledger right-sizing for nextflow-rnaseq: 2 run(s) launched 2025-01-06 – 2025-04-28")
    assert at.get_by_key("right_sizing_download") is not None


def test_one_run_is_right_sized_on_its_own(open_page, read_table):
    at = open_page("right_sizing", query_params=EVERY_DAY)
    at.selectbox(key="right_sizing_run").set_value("wl-2025-0002").run()
    table = read_table(at, "right_sizing_table")
    assert list(table["process"]) == ["NFCORE_RNASEQ:FASTQC"]  # the run's only task
    assert [c.value for c in at.code][0].startswith("// Launch Ledger right-sizing for run wl-2025-0002: 1 run(s)")


def test_launches_without_task_records_say_how_to_load_them(open_page):
    at = open_page("right_sizing", query_params={**EVERY_DAY, "consumer": ["population-health"]})
    (message,) = [i.value for i in at.info]
    assert message.startswith("No task records for the launches in this selection: load Nextflow traces")
    assert "`python -m ingest nextflow PATH`" in message and "`python -m ingest seqera PATH`" in message
    assert not at.error and not at.dataframe


def test_a_period_without_task_records_points_to_the_runs_that_have_them(open_page, read_table, fixture_tables):
    at = open_page("right_sizing", query_params={"period": ["2025-03-01", "2025-04-28"]})
    (message,) = [i.value for i in at.info]
    runs = sorted(set(fixture_tables["launch_tasks"]["launch_id"]))  # every fixture task is of a January run
    assert message.startswith(f"No run launched 2025-03-01 – 2025-04-28 has task records; {len(runs)} run(s)")
    assert sorted(read_table(at, "right_sizing_elsewhere")["launch_id"]) == runs
    assert not at.error and not at.code


def test_the_chart_draws_requested_used_and_recommended_per_process():
    import pandas as pd

    from dashboard import charts

    processes = pd.DataFrame(
        {
            "process": ["A", "B"],
            "cpus_requested": [4, None],
            "cpus_used_quantile": [1.47, 0.8],
            "cpus_recommended": [2, 1],
            "memory_requested_gb": [4.0, None],
            "memory_used_quantile_gb": [4.8, 1.5],
            "memory_recommended_gb": [6.0, 2.0],
        }
    )
    fig = charts.right_sizing_bars(processes, "memory", "p90")
    assert [t.name for t in fig.data] == ["requested", "used (p90)", "recommended"]
    assert [list(t.y) for t in fig.data] == [["B", "A"]] * 3  # top to bottom in name order
    assert [list(t.x) for t in fig.data] == [[None, 4.0], [1.5, 4.8], [2.0, 6.0]]
    assert list(charts.right_sizing_bars(processes, "cpus").data[2].x) == [1.0, 2.0]
