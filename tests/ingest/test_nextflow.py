"""``python -m ingest nextflow``: real Nextflow trace files load as one launch per run, their tasks alongside.

Every expected figure is computed here from the trace file itself, with the csv module and plain arithmetic
(and a reading of Nextflow's units written for this test), never through the importer under test.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from math import floor, log10
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.__main__ import main
from ingest.nextflow.values import parse_date_ms, parse_duration_ms, parse_memory_bytes, parse_percent
from warehouse.store import connect

DATA = Path(__file__).parents[1] / "data" / "nextflow"
OPENPROBLEMS = DATA / "openproblems_execution_trace.txt"
SCISOSEQ = DATA / "scisoseq_execution_trace.txt"
RAW = DATA / "co2footprint_rnaseq_raw_trace.tsv"
SNAPSHOT = sorted((Path(__file__).parents[2] / "pricing" / "snapshot").glob("prices-*.json"))[-1]
RUN = ["--consumer", "single-cell-benchmarks", "--workflow-type", "nf-openproblems", "--platform", "Batch"]
MS_PER_HOUR = 3_600_000


# --- the trace, read independently ---------------------------------------------------------------------


def rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def ms_of(text: str) -> int:
    """A human duration as the trace prints it (``1h 2m 3s``, ``4.8s``, ``250ms``) in milliseconds."""
    total = Decimal(0)
    for number, unit in re.findall(r"([\d.]+)(ms|s|m|h|d)", text):
        total += Decimal(number) * _UNIT_MS[unit]
    return int(total)


def utc_ms(text: str, zone: str = "UTC") -> int:
    local = datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=ZoneInfo(zone))
    return round(local.timestamp() * 1000)


def as_utc(ms: int) -> datetime:
    return datetime(1970, 1, 1) + timedelta(milliseconds=ms)


def derived_times(row: dict, zone: str = "UTC") -> tuple[int, int | None, int | None]:
    """(submit, start, complete) in epoch ms: complete = submit + duration, start = complete - realtime."""
    submit = utc_ms(row["submit"], zone)
    if row["duration"] == "-":
        return submit, None, None
    complete = submit + ms_of(row["duration"])
    return submit, max(complete - ms_of(row["realtime"]), submit), complete


def ingest(*args: str, data_dir: Path) -> int:
    return main(["nextflow", *map(str, args), "--data-dir", str(data_dir)])


def one(con, sql: str, params=None):
    return con.execute(sql, params or {}).fetchone()


# --- real traces -----------------------------------------------------------------------------------------


def test_an_aws_batch_trace_with_retried_tasks_is_one_completed_run_with_every_attempt(tmp_path):
    trace = rows(OPENPROBLEMS)
    assert ingest(OPENPROBLEMS, *RUN, "--region", "us-east-1", data_dir=tmp_path) == 0
    con = connect(tmp_path)
    assert one(con, "SELECT count(*) FROM launches") == (1,)
    times = [derived_times(r) for r in trace]
    last_attempt: dict[str, dict] = {}
    for r in sorted(trace, key=lambda r: utc_ms(r["submit"])):
        last_attempt[r["name"]] = r
    expected_status = "COMPLETE" if all(r["status"] == "COMPLETED" for r in last_attempt.values()) else "FAILED"
    launch = one(
        con,
        "SELECT status, consumer, workflow_type, compute_platform, region, launched_at, ready_at, running_at, completed_at,"
        " failed_at, price_source, instance_count FROM launches",
    )
    assert launch[:5] == (expected_status, "single-cell-benchmarks", "nf-openproblems", "Batch", "us-east-1")
    assert expected_status == "COMPLETE"  # four tasks failed twice (exit 137) and completed on the third attempt
    assert launch[5] == launch[6] == as_utc(min(s for s, _, _ in times))
    assert launch[7] == as_utc(min(start for _, start, _ in times))
    assert launch[8] == as_utc(max(complete for _, _, complete in times)) and launch[9] is None
    assert launch[10:] == ("pending", 0)  # no instance type: no resources, the run waits for a price

    tasks = one(
        con,
        "SELECT count(*), count(*) FILTER (WHERE status = 'FAILED'), sum(realtime_hours), min(submitted_at), max(completed_at),"
        " count(DISTINCT name), count(*) FILTER (WHERE exit_code = 137) FROM launch_tasks",
    )
    assert tasks[0] == len(trace) == 217
    assert tasks[1] == sum(r["status"] == "FAILED" for r in trace) == 8
    assert tasks[2] == pytest.approx(sum(ms_of(r["realtime"]) for r in trace) / MS_PER_HOUR, rel=1e-12)
    assert tasks[3:5] == (as_utc(min(s for s, _, _ in times)), as_utc(max(c for _, _, c in times)))
    assert tasks[5] == len({r["name"] for r in trace}) and tasks[6] == 8
    batch_job = one(
        con, "SELECT native_id, task_hash, process, source, seqera_cost, engine_cost FROM launch_tasks WHERE task_id = '90'"
    )
    assert batch_job == ("4ebb52b4-dddd-4efc-aed9-5606459a667e", "1a/aa5584", "run_method", "nextflow", None, None)


def test_a_resumed_slurm_trace_fails_on_its_aborted_retry_and_starts_after_its_cached_tasks(tmp_path):
    trace = rows(SCISOSEQ)
    zone = "America/Los_Angeles"  # Stanford's Sherlock cluster: Nextflow printed Pacific time
    args = ["--consumer", "stanley-lab", "--workflow-type", "nf-core/scisoseq", "--platform", "OnPremHPC", "--timezone", zone]
    assert ingest(SCISOSEQ, *args, data_dir=tmp_path) == 0
    con = connect(tmp_path)
    ran_here = [r for r in trace if r["status"] != "CACHED"]
    collate = [r for r in trace if r["name"] == "collate_results (1)"]
    assert [r["status"] for r in collate] == ["FAILED", "ABORTED"]  # exit 137, retried, aborted before it started
    status, launched, running, failed, region = one(
        con, "SELECT status, launched_at, running_at, failed_at, region FROM launches"
    )
    assert status == "FAILED" and region is None
    assert launched == as_utc(min(utc_ms(r["submit"], zone) for r in ran_here))  # the cached lines are yesterday's
    started = [derived_times(r, zone)[1] for r in ran_here if r["duration"] != "-"]
    assert running == as_utc(min(started))
    assert failed == as_utc(max(max(t for t in derived_times(r, zone) if t is not None) for r in ran_here))
    counts = one(con, "SELECT count(*), count(*) FILTER (WHERE status = 'CACHED'), count(machine_type) FROM launch_tasks")
    assert counts == (len(trace), sum(r["status"] == "CACHED" for r in trace), 0)
    assert one(con, "SELECT count(*) FROM launch_resources") == (0,)  # no cpus in the trace: nothing to charge cores for
    aborted = one(con, "SELECT submitted_at, started_at, completed_at, realtime_hours FROM launch_tasks WHERE status = 'ABORTED'")
    assert aborted == (as_utc(utc_ms(collate[1]["submit"], zone)), None, None, None)


def test_a_raw_trace_keeps_exact_milliseconds_bytes_and_its_own_realtime(tmp_path):
    trace = rows(RAW)
    assert ingest(RAW, "--consumer", "c", "--workflow-type", "nf-core/rnaseq", "--platform", "EC2", data_dir=tmp_path) == 0
    con = connect(tmp_path)
    got = con.execute(
        "SELECT task_id, process, cpus, memory_gb, disk_gb, submitted_at, started_at, completed_at, realtime_hours, cpu_percent,"
        " peak_rss_gb, read_bytes, write_bytes FROM launch_tasks ORDER BY submitted_at"
    ).fetchall()
    expected = [
        (
            r["task_id"],
            r["process"],
            int(r["cpus"]),
            int(r["memory"]) / 2**30,
            None,
            as_utc(int(r["submit"])),
            as_utc(int(r["start"])),
            as_utc(int(r["complete"])),
            int(r["realtime"]) / MS_PER_HOUR,
            float(r["%cpu"]),
            int(r["peak_rss"]) / 2**30,
            int(r["read_bytes"]),
            int(r["write_bytes"]),
        )
        for r in sorted(trace, key=lambda r: int(r["submit"]))
    ]
    assert got == expected
    assert got[0][3] == 12.0  # memory 12 GB in Nextflow's (1024-based) GB
    launch = one(con, "SELECT launched_at, running_at, completed_at FROM launches")
    assert launch == (
        as_utc(min(int(r["submit"]) for r in trace)),
        as_utc(min(int(r["start"]) for r in trace)),
        as_utc(max(int(r["complete"]) for r in trace)),
    )


# The raw file's two lines as Nextflow prints them without trace.raw (Duration, MemoryUnit, %.1f%%, local dates in UTC).
HUMAN_OF_RAW = [
    ["6", "c6/d3ff54", "117703", "{n} (RAP1_UNINDUCED_REP1)", "COMPLETED", "0", "2025-10-07 15:06:41.467", "524ms", "500ms",
     "97.0%", "5.5 MB", "10.3 MB", "2.2 MB", "1.5 KB", "2025-10-07 15:06:41.546", "2025-10-07 15:06:41.991", "2", "12 GB",
     "{n}", "-", "2.5 MB", "8 KB"],
    ["4", "06/805ff2", "118020", "{n} (WT_REP2)", "COMPLETED", "0", "2025-10-07 15:06:41.756", "1s", "1s", "95.4%", "28.5 MB",
     "33.4 MB", "6.3 MB", "1.9 KB", "2025-10-07 15:06:41.847", "2025-10-07 15:06:42.787", "2", "12 GB", "{n}", "-", "0", "8 KB"],
]  # fmt: skip


def test_the_human_and_the_raw_form_of_the_same_values_load_the_same(tmp_path):
    header = RAW.read_text().splitlines()[0]
    process = rows(RAW)[0]["process"]
    human = tmp_path / "human" / "trace.txt"
    human.parent.mkdir()
    human.write_text(header + "\n" + "".join("\t".join(c.format(n=process) for c in line) + "\n" for line in HUMAN_OF_RAW))
    loaded = {}
    for form, path in (("raw", RAW), ("human", human)):
        assert ingest(path, "--consumer", "c", "--workflow-type", "w", "--platform", "EC2", data_dir=tmp_path / form) == 0
        loaded[form] = (
            connect(tmp_path / form)
            .execute("SELECT * EXCLUDE (launch_id, ingest_run_id) FROM launch_tasks ORDER BY submitted_at")
            .df()
        )
    raw, human_rows = loaded["raw"], loaded["human"]
    exact = [c for c in raw.columns if c != "read_bytes"]
    assert raw[exact].equals(human_rows[exact])
    # "2.5 MB" is 2,621,440 bytes; Nextflow printed 2,625,536 with one decimal: within 0.05 MB
    assert (raw["read_bytes"] - human_rows["read_bytes"]).abs().max() <= 0.05 * 2**20


def test_a_field_written_twice_is_read_from_its_exact_raw_copy(tmp_path):
    trace = tmp_path / "trace.txt"  # trace.fields = '...,realtime,realtime:num': both print as realtime
    trace.write_text(
        "task_id\tname\tstatus\tsubmit\tstart\tcomplete\trealtime\trealtime\n"
        "1\tA (1)\tCOMPLETED\t2025-03-04 10:00:00.000\t2025-03-04 10:00:05.000\t2025-03-04 10:02:05.400\t2m\t120400\n"
    )
    assert ingest(trace, *RUN, data_dir=tmp_path) == 0
    assert one(connect(tmp_path), "SELECT realtime_hours FROM launch_tasks") == (120_400 / MS_PER_HOUR,)


# --- bad lines, bad files, missing options ---------------------------------------------------------------


def test_a_malformed_line_and_an_unreadable_value_are_quarantined_and_the_rest_loads(tmp_path):
    lines = OPENPROBLEMS.read_text().splitlines()
    lines[5] = "\t".join(lines[5].split("\t")[:-2])  # line 6: two fields short
    fields = lines[10].split("\t")
    fields[8] = "12 parsecs"  # line 11: realtime
    lines[10] = "\t".join(fields)
    trace = tmp_path / "trace.txt"
    trace.write_text("\n".join(lines) + "\n")
    assert ingest(trace, *RUN, data_dir=tmp_path) == 0
    con = connect(tmp_path)
    assert one(con, "SELECT count(*) FROM launch_tasks") == (len(lines) - 1 - 2,)
    reasons = dict(con.execute("SELECT reason, raw_record FROM quarantine").fetchall())
    assert set(reasons) == {
        f"{trace}: line 6 has 12 fields, expected 14 as in the header",
        f'{trace}: line 11: realtime is "12 parsecs", expected a Nextflow duration (250ms, 3.5s, 1h 2m 3s) or milliseconds',
    }
    assert json.loads(reasons[f"{trace}: line 6 has 12 fields, expected 14 as in the header"]) == lines[5]
    assert one(con, "SELECT records_read, records_loaded, records_quarantined, outcome FROM job_runs") == (3, 1, 2, "succeeded")


def test_a_file_that_is_not_a_trace_is_one_error_line(tmp_path, capsys):
    other = tmp_path / "focus.csv"
    other.write_text("BillingPeriodStart,BilledCost\n2024-09-01,1.00\n")
    assert ingest(other, *RUN, data_dir=tmp_path) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: {other} is not a Nextflow trace: its first line names none")


def test_a_trace_whose_run_cannot_load_loads_nothing_and_exits_non_zero_saying_so_first(tmp_path, capsys):
    header_only = tmp_path / "trace.txt"
    header_only.write_text(OPENPROBLEMS.read_text().splitlines()[0] + "\n")
    assert ingest(header_only, *RUN, data_dir=tmp_path) == 1
    err = capsys.readouterr().err
    assert (
        err == f"error: nothing loaded from {header_only}: no task lines: the trace holds only its header (the run ran no task)\n"
    )
    con = connect(tmp_path)
    assert one(con, "SELECT count(*) FROM launches") == (0,)
    assert one(con, "SELECT outcome, records_quarantined FROM job_runs") == ("failed", 1)
    assert one(con, "SELECT reason FROM quarantine")[0].startswith(f"{header_only}: no task lines")

    garbled = tmp_path / "garbled" / "trace.txt"  # every line unreadable: the run has no line to stand on
    garbled.parent.mkdir()
    garbled.write_text("task_id\tname\tstatus\tsubmit\n1\tA\tDONE\tyesterday\n2\tB\n")
    assert ingest(garbled, *RUN, data_dir=tmp_path / "garbled-dw") == 1
    assert capsys.readouterr().err.startswith(f"error: nothing loaded from {garbled}: no readable task line: all 2 were rejected")


def test_missing_run_options_name_each_option_and_sidecar_key_to_set(tmp_path, capsys):
    assert ingest(OPENPROBLEMS, "--consumer", "c", data_dir=tmp_path) == 1
    err = capsys.readouterr().err
    assert err == (
        f"error: {OPENPROBLEMS}: no workflow type and platform for this run: pass --workflow-type ... --platform ..., "
        "or set workflow_type, platform in openproblems_execution_trace.launch.toml beside the trace "
        "(or in launch-ledger-run.toml in its folder); its native ids look like AWS Batch job ids (--platform Batch?)\n"
    )
    assert not (tmp_path / "warehouse").exists() or one(connect(tmp_path), "SELECT count(*) FROM launches") == (0,)
    assert ingest(OPENPROBLEMS, *RUN[:4], "--platform", "Lambda", data_dir=tmp_path) == 1
    assert "platform 'Lambda' is not one of EC2, Batch, ParallelCluster, EKS, OnPremHPC" in capsys.readouterr().err


def test_sidecars_fill_what_the_trace_lacks_and_options_beat_them(tmp_path):
    folder = tmp_path / "pipeline_info"
    folder.mkdir()
    trace = folder / "execution_trace_2021-03-04_21-05-57.txt"
    shutil.copy(OPENPROBLEMS, trace)
    (folder / "launch-ledger-run.toml").write_text('consumer = "folder-team"\nplatform = "Batch"\nregion = "eu-west-1"\n')
    (folder / "execution_trace_2021-03-04_21-05-57.launch.toml").write_text(
        'run_id = "loving_blackwell"\nworkflow_type = "nf-openproblems"\nregion = "us-east-1"\ninput_size_gb = 12.5\n'
        "sample_count = 9\n"
    )
    assert ingest(folder, "--consumer", "option-team", data_dir=tmp_path / "dw") == 0  # a folder: its trace files
    got = one(
        connect(tmp_path / "dw"),
        "SELECT launch_id, consumer, workflow_type, compute_platform, region, input_size_gb, sample_count FROM launches",
    )
    assert got == ("loving_blackwell", "option-team", "nf-openproblems", "Batch", "us-east-1", 12.5, 9)
    (folder / "launch-ledger-run.toml").write_text('consumer = "x"\ncolour = "blue"\n')
    with pytest.raises(SystemExit):
        main(["nextflow"])  # PATH is required
    assert ingest(trace, data_dir=tmp_path / "dw") == 1


# --- idempotence and updates ------------------------------------------------------------------------------


def test_the_same_trace_twice_changes_nothing(tmp_path):
    assert ingest(OPENPROBLEMS, *RUN, data_dir=tmp_path) == 0
    con = connect(tmp_path)
    before = con.execute("SELECT launch_id, row_hash, ingest_run_id FROM launches").fetchall()
    tasks_before = con.execute("SELECT DISTINCT ingest_run_id FROM launch_tasks").fetchall()
    con.close()
    assert ingest(OPENPROBLEMS, *RUN, data_dir=tmp_path) == 0
    con = connect(tmp_path)
    assert con.execute("SELECT launch_id, row_hash, ingest_run_id FROM launches").fetchall() == before
    assert con.execute("SELECT DISTINCT ingest_run_id FROM launch_tasks").fetchall() == tasks_before
    assert con.execute("SELECT records_loaded, records_unchanged FROM job_runs ORDER BY started_at").fetchall() == [
        (1, 0),
        (0, 1),
    ]


def test_an_updated_trace_replaces_its_runs_tasks(tmp_path):
    lines = OPENPROBLEMS.read_text().splitlines(keepends=True)
    trace = tmp_path / "pipeline_info" / "execution_trace.txt"
    trace.parent.mkdir()
    trace.write_text("".join(lines[:101]))  # the trace as it stood mid-run: the first 100 tasks done
    assert ingest(trace, *RUN, data_dir=tmp_path / "dw") == 0
    con = connect(tmp_path / "dw")
    first = one(con, "SELECT launch_id, ended_at, status FROM launches")
    assert first[2] == "FAILED"  # mid-run, four tasks had failed and were not retried yet
    assert one(con, "SELECT count(*) FROM launch_tasks") == (100,)
    con.close()
    trace.write_text("".join(lines))  # Nextflow appended the rest
    assert ingest(trace, *RUN, data_dir=tmp_path / "dw") == 0
    con = connect(tmp_path / "dw")
    launch_id, ended, status = one(con, "SELECT launch_id, ended_at, status FROM launches")
    assert (launch_id, status) == (first[0], "COMPLETE") and ended > first[1]  # the same run, now whole
    assert one(con, "SELECT count(*), count(DISTINCT task_id), count(DISTINCT ingest_run_id) FROM launch_tasks") == (217, 217, 1)


# --- pricing ------------------------------------------------------------------------------------------------


def snapshot_price(region: str, instance_type: str) -> Decimal:
    doc = json.loads(SNAPSHOT.read_text())
    (price,) = [
        Decimal(p["price"])
        for p in doc["prices"]
        if (p["region"], p["resource_kind"], p["resource_type"], p["charge"]) == (region, "instance", instance_type, "usage")
    ]
    return price


def test_price_launches_prices_every_attempt_of_a_run_with_a_known_instance_type(tmp_path):
    args = [*RUN, "--region", "us-east-1", "--instance-type", "m5.2xlarge", "--purchase-option", "on-demand"]
    assert ingest(OPENPROBLEMS, *args, data_dir=tmp_path) == 0
    assert main(["prices", "--offline", "--data-dir", str(tmp_path)]) == 0
    assert main(["price-launches", "--data-dir", str(tmp_path)]) == 0
    # Per second, at least 60 s per instance start, each line rounded half up to a micro-dollar (README, Pricing rules).
    price = snapshot_price("us-east-1", "m5.2xlarge")
    expected = Decimal(0)
    for row in rows(OPENPROBLEMS):  # every attempt ran, the 8 failed ones too
        _, start, complete = derived_times(row)
        seconds = max(floor(complete / 1000) - floor(start / 1000), 60)
        expected += (price * seconds / 3600).quantize(Decimal("0.000001"), ROUND_HALF_UP)
    con = connect(tmp_path)
    assert one(con, "SELECT count(*), count(*) FILTER (WHERE purchase_option = 'On-Demand') FROM launch_resources") == (217, 217)
    assert one(con, "SELECT total_cost, instance_cost, price_status FROM launch_costs") == (expected, expected, "ESTIMATED")
    assert one(con, "SELECT total_cost, price_source FROM launches") == (expected, "computed")
    assert one(con, "SELECT count(*) FROM launch_tasks WHERE machine_type = 'm5.2xlarge' AND price_model = 'On-Demand'") == (217,)


def test_an_onprem_run_is_charged_by_the_core_at_the_rate_card(tmp_path):
    trace = tmp_path / "trace.txt"
    trace.write_text(
        "task_id\tname\tstatus\texit\tcpus\tsubmit\tstart\tcomplete\trealtime\n"
        "1\tALIGN (s1)\tCOMPLETED\t0\t8\t2025-03-04 10:00:00.000\t2025-03-04 10:01:00.000\t2025-03-04 11:01:00.000\t1h\n"
        "2\tSORT (s1)\tFAILED\t137\t16\t2025-03-04 11:01:05.000\t2025-03-04 11:02:00.000\t2025-03-04 11:12:00.000\t10m\n"
        "3\tSORT (s1)\tCOMPLETED\t0\t4\t2025-03-04 11:12:05.000\t2025-03-04 11:13:00.000\t2025-03-04 11:43:00.000\t30m\n"
    )
    args = ["--consumer", "lab", "--workflow-type", "w", "--platform", "OnPremHPC"]
    assert ingest(trace, *args, data_dir=tmp_path) == 0
    assert main(["price-launches", "--data-dir", str(tmp_path)]) == 0
    core_hours = Decimal(8 * 60 + 16 * 10 + 4 * 30) / 60  # cpus x (complete - start), the failed attempt too
    expected = (core_hours * Decimal("0.04")).quantize(Decimal("0.000001"), ROUND_HALF_UP)  # [pricing] onprem_core_hour
    con = connect(tmp_path)
    assert one(con, "SELECT status, instance_cost, total_cost FROM launches") == ("COMPLETE", expected, expected)
    count, node_hours = one(con, "SELECT count(*), sum(hours) FROM launch_resources")
    assert (count, node_hours) == (1, pytest.approx(float(core_hours) / 32))  # one line, the run's node-hours


# --- Nextflow's units -------------------------------------------------------------------------------------


def java_round(x: Decimal) -> int:
    return int(x.quantize(Decimal(1), ROUND_HALF_UP))


def nextflow_duration(ms: int) -> str:
    """nextflow.util.Duration.toString."""
    if ms < 1000:
        return f"{ms}ms"
    if ms < 60_000:
        tenths = java_round(Decimal(ms) / 100)
        return f"{tenths // 10}s" if tenths % 10 == 0 else f"{tenths // 10}.{tenths % 10}s"
    secs = java_round(Decimal(ms) / 1000)
    mins, s = divmod(secs, 60)
    hours, m = divmod(mins, 60)
    d, h = divmod(hours, 24)
    return " ".join(f"{v}{u}" for v, u in ((d, "d"), (h, "h"), (m, "m"), (s, "s")) if v)


def nextflow_memory(size: int) -> tuple[str, int]:
    """nextflow.util.MemoryUnit.toString (DecimalFormat "0.#", half even), and the unit it chose in bytes."""
    if size <= 0:
        return "0", 1
    group = int(log10(size) / log10(1024))
    value = (Decimal(size) / Decimal(1024) ** group).quantize(Decimal("0.1"))
    text = f"{value:f}".removesuffix(".0")
    return f"{text} {['B', 'KB', 'MB', 'GB', 'TB', 'PB', 'EB'][group]}", 1024**group


@given(st.integers(min_value=0, max_value=400 * 86_400_000))
def test_human_durations_read_back_as_nextflow_rounded_them(ms):
    expected = ms if ms < 1000 else java_round(Decimal(ms) / 100) * 100 if ms < 60_000 else java_round(Decimal(ms) / 1000) * 1000
    assert parse_duration_ms(nextflow_duration(ms)) == expected
    assert parse_duration_ms(str(ms)) == ms  # trace.raw: milliseconds


@given(
    st.lists(st.tuples(st.integers(0, 999), st.sampled_from(["d", "h", "m", "s", "ms"])), min_size=1, max_size=5), st.booleans()
)
def test_any_sequence_of_duration_parts_adds_up(parts, spaced):
    text = (" " if spaced else "").join(f"{n}{unit}" for n, unit in parts)
    assert parse_duration_ms(text) == sum(n * _UNIT_MS[unit] for n, unit in parts)


@given(st.integers(min_value=0, max_value=2**62))
def test_human_memory_reads_back_within_nextflows_one_decimal(size):
    text, unit = nextflow_memory(size)
    assert abs(parse_memory_bytes(text) - size) <= unit * Decimal("0.05") + 1
    assert parse_memory_bytes(str(size)) == size  # trace.raw: bytes


@given(st.integers(min_value=0, max_value=4_200_000_000_000), st.sampled_from(["UTC", "Asia/Tokyo", "Asia/Kolkata"]))
def test_dates_read_back_in_the_zone_nextflow_printed_them(ms, zone):
    local = datetime.fromtimestamp(ms / 1000, UTC).astimezone(ZoneInfo(zone))
    text = local.strftime("%Y-%m-%d %H:%M:%S.") + f"{ms % 1000:03d}"
    if datetime(2000, 1, 1, tzinfo=UTC) <= datetime.fromtimestamp(ms / 1000, UTC) < datetime(2100, 1, 1, tzinfo=UTC):
        assert parse_date_ms(text, ZoneInfo(zone)) == ms
        assert parse_date_ms(str(ms), ZoneInfo(zone)) == ms  # trace.raw: epoch milliseconds
    else:  # epoch seconds taken for milliseconds, a clock reset: out of the range every time is read in
        for given in (text, str(ms)):
            with pytest.raises(ValueError, match="between 2000 and 2099"):
                parse_date_ms(given, ZoneInfo(zone))


@pytest.mark.parametrize(
    "text, parser",
    [("12 parsecs", parse_duration_ms), ("1h 2x", parse_duration_ms), ("-5", parse_duration_ms), ("1.5 B", parse_memory_bytes),
     ("4.5 QB", parse_memory_bytes), ("lots", parse_memory_bytes), ("97,5%", parse_percent), ("-1%", parse_percent)],
)  # fmt: skip
def test_values_that_do_not_parse_say_what_was_expected(text, parser):
    with pytest.raises(ValueError, match="expected|a Nextflow|a percentage|or "):
        parser(text)


def test_percentages_and_memory_in_both_forms():
    assert (parse_percent("12.5%"), parse_percent("12.5"), parse_percent("NaN%")) == (12.5, 12.5, None)
    assert parse_memory_bytes("4.5 GB") == parse_memory_bytes("4.5GB") == round(4.5 * 2**30)
    assert (parse_memory_bytes("0"), parse_memory_bytes("512 B"), parse_memory_bytes("1 TB")) == (0, 512, 2**40)
    assert (parse_duration_ms("1h 2m 3s"), parse_duration_ms("3.5s"), parse_duration_ms("250ms")) == (3_723_000, 3_500, 250)
    assert parse_duration_ms("01:02:03") == 3_723_000  # Duration's legacy hh:mm:ss


def test_every_task_of_every_real_trace_is_read_without_a_reject(tmp_path):
    counts = defaultdict(int)
    for path, platform in ((OPENPROBLEMS, "Batch"), (SCISOSEQ, "OnPremHPC"), (RAW, "EC2")):
        assert ingest(path, "--consumer", "c", "--workflow-type", "w", "--platform", platform, data_dir=tmp_path) == 0
        counts[path.name] = len(rows(path))
    con = connect(tmp_path)
    assert one(con, "SELECT count(*) FROM quarantine") == (0,)
    assert one(con, "SELECT count(*) FROM launches") == (3,)
    assert one(con, "SELECT count(*) FROM launch_tasks") == (sum(counts.values()),)


def test_a_real_trace_records_what_its_tasks_wrote_as_the_runs_output_size(tmp_path):
    # wchar in Nextflow's human sizes ("468 B", "1.2 MB", "3.4 GB"; 1024-based), summed here over every task line
    unit = {"B": 1, "KB": 2**10, "MB": 2**20, "GB": 2**30, "TB": 2**40}
    wrote = Decimal(0)
    for r in rows(OPENPROBLEMS):
        if r["wchar"] not in ("", "-"):
            number, size = r["wchar"].split(" ")
            wrote += Decimal(number) * unit[size]
    assert wrote > 19 * 2**30  # nineteen tasks wrote gigabytes
    assert ingest(OPENPROBLEMS, *RUN, "--region", "us-east-1", data_dir=tmp_path) == 0
    (output_gb,) = one(connect(tmp_path), "SELECT output_size_gb FROM launches")
    assert float(output_gb) == pytest.approx(float(wrote / 2**30), rel=1e-9)
