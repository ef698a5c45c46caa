"""``python -m ingest seqera``: real Seqera Platform run records (tests/data/seqera, origin in its README) into the warehouse.

Every expected figure is computed here from the file itself, with tarfile, json and Decimal, never
through the importer: task counts, failed, retried and cached tasks, the exact sum of the task costs, the
run's status and times, and the pricing engine's cost from the price snapshot.
"""

from __future__ import annotations

import gzip
import io
import json
import shutil
import tarfile
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path, PurePosixPath

import pytest

from core.errors import ConfigError
from core.settings import SeqeraSettings, load_settings
from ingest.__main__ import main
from ingest.seqera.mapping import FIELDS, map_run
from ingest.seqera.records import RunRecord
from ingest.workflow_runs import TASK_COLUMNS, load_runs
from warehouse.runs import job_run
from warehouse.store import connect

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "seqera"
DUMP = DATA / "2VeeQznQdp3rxo.tar.gz"  # tw runs dump as tw writes it: flat members, nextflow.log and Fusion logs
DUMP_IN_FOLDER = DATA / "3qLktusgg2GQxJ.tar.gz"  # the same kind of dump with its members in a folder
API = DATA / "15dvxY1LnZYrYe.tar.gz"  # nf-aggregate's copy of the Platform API's JSON for a run: failed, retried, cached tasks
REAL = (DUMP, DUMP_IN_FOLDER, API)
SNAPSHOT = ROOT / "pricing" / "snapshot" / "prices-2026-11-26.json"
MICRO = Decimal("0.000001")


# --- reading the real files independently ----------------------------------------------------------


def members_of(path: Path) -> dict[str, bytes]:
    """{member name: bytes} of every file in an archive."""
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}


def real_run(path: Path) -> tuple[dict, list[dict]]:
    """(workflow, tasks) of a real file: a dump's two members, or the one API JSON the archive holds."""
    by_name = {PurePosixPath(n).name: raw for n, raw in members_of(path).items() if n.endswith(".json")}
    if "workflow.json" in by_name:
        return json.loads(by_name["workflow.json"], parse_float=Decimal), json.loads(
            by_name["workflow-tasks.json"], parse_float=Decimal
        )
    (raw,) = by_name.values()
    doc = json.loads(raw, parse_float=Decimal)
    return doc["workflow"], [t["task"] for t in doc["tasks"]]


def seqera_total(tasks: list[dict]) -> Decimal:
    """Seqera's cost of the run: the exact sum of the costs of the tasks that ran, rounded once half-up."""
    return sum((t["cost"] for t in tasks if t["status"] != "CACHED" and t["cost"] is not None), Decimal(0)).quantize(
        MICRO, ROUND_HALF_UP
    )


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", ""))


def ingest(tmp_path: Path, *paths, config: Path | None = None) -> int:
    args = ["seqera", *(str(p) for p in paths), "--data-dir", str(tmp_path / "wh")]
    return main(args + (["--config", str(config)] if config else []))


def rows(tmp_path: Path, sql: str, params=None) -> list[tuple]:
    return connect(tmp_path / "wh").execute(sql, params or []).fetchall()


def last_run(tmp_path: Path) -> tuple:
    return rows(
        tmp_path,
        "SELECT records_read, records_loaded, records_unchanged, records_quarantined, outcome FROM job_runs "
        "ORDER BY started_at DESC LIMIT 1",
    )[0]


def write_archive(path: Path, members: dict[str, bytes], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


# --- the real files ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_a_real_run_loads_as_one_launch_with_every_task_and_seqeras_exact_cost(tmp_path, path):
    workflow, tasks = real_run(path)
    assert ingest(tmp_path, path) == 0

    run_id = workflow["id"]
    launch = rows(
        tmp_path,
        """SELECT status, launched_at, ready_at, running_at, completed_at, total_cost, instance_cost, price_source,
                  workflow_type, consumer, compute_platform, region, instance_count FROM launches WHERE launch_id = ?""",
        [run_id],
    )
    assert len(launch) == 1
    status, launched, ready, running, completed, total, instance, source, wtype, consumer, platform, region, count = launch[0]
    assert workflow["status"] == "SUCCEEDED" and status == "COMPLETE"
    assert (launched, ready, running, completed) == (
        utc(workflow["submit"]),
        utc(workflow["submit"]),
        utc(workflow["start"]),
        utc(workflow["complete"]),
    )
    assert total == seqera_total(tasks) == instance and source == "seqera"
    assert (wtype, consumer, platform) == (workflow["projectName"], workflow["userName"], "Batch")
    assert region == tasks[0]["cloudZone"][:-1]
    ran = [t for t in tasks if t["status"] != "CACHED" and t["start"] and t["complete"]]
    assert count == len(ran)

    loaded = rows(
        tmp_path,
        "SELECT task_id, status, attempt, seqera_cost, machine_type, zone, price_model, cpus, source FROM launch_tasks "
        "WHERE launch_id = ?",
        [run_id],
    )
    assert len(loaded) == len(tasks)
    by_id = {r[0]: r for r in loaded}
    for t in tasks:
        _, task_status, attempt, cost, machine, zone, model, cpus, task_source = by_id[str(t["taskId"])]
        assert (task_status, attempt, machine, zone, cpus, task_source) == (
            t["status"],
            t["attempt"],
            t["machineType"],
            t["cloudZone"],
            t["cpus"],
            "seqera",
        )
        assert cost == t["cost"].quantize(MICRO, ROUND_HALF_UP)
        assert model == {"spot": "Spot", "standard": "On-Demand"}[t["priceModel"]]
    assert sum(1 for r in loaded if r[1] == "FAILED") == sum(1 for t in tasks if t["status"] == "FAILED")
    assert sum(1 for r in loaded if r[2] > 1) == sum(1 for t in tasks if t["attempt"] > 1)
    assert last_run(tmp_path) == (1, 1, 0, 0, "succeeded")


def test_the_api_record_counts_its_failed_retried_and_cached_tasks_and_leaves_cached_cost_out(tmp_path):
    workflow, tasks = real_run(API)
    statuses = [t["status"] for t in tasks]
    assert (len(tasks), statuses.count("FAILED"), statuses.count("CACHED"), sum(t["attempt"] > 1 for t in tasks)) == (16, 1, 4, 1)
    assert ingest(tmp_path, API) == 0
    cached_cost = sum(t["cost"] for t in tasks if t["status"] == "CACHED")
    everything = sum(t["cost"] for t in tasks)
    (total,) = rows(tmp_path, "SELECT total_cost FROM launches")[0]
    assert total == (everything - cached_cost).quantize(MICRO, ROUND_HALF_UP) == Decimal("6.011797")
    detail = rows(
        tmp_path,
        "SELECT realtime_hours, memory_gb, time_limit_hours, peak_rss_gb, read_bytes, exit_code FROM launch_tasks "
        "WHERE task_id = '26'",
    )[0]
    t26 = next(t for t in tasks if t["taskId"] == 26)
    assert detail == (
        pytest.approx(t26["realtime"] / 3_600_000),
        pytest.approx(t26["memory"] / 2**30),
        pytest.approx(t26["time"] / 3_600_000),
        pytest.approx(t26["peakRss"] / 2**30),
        t26["readBytes"],
        t26["exitStatus"],
    )


def test_the_platform_api_json_loads_as_a_file_and_in_the_apis_own_response_shapes(tmp_path):
    (raw,) = (r for n, r in members_of(API).items() if n.endswith(".json"))
    doc = json.loads(raw)
    plain = tmp_path / "run.json"
    plain.write_bytes(raw)
    assert ingest(tmp_path, plain) == 0
    workflow, tasks = real_run(API)
    assert rows(tmp_path, "SELECT launch_id, total_cost FROM launches") == [(workflow["id"], seqera_total(tasks))]
    assert rows(tmp_path, "SELECT count(*) FROM launch_tasks")[0][0] == len(tasks)
    zipped = tmp_path / "zipped" / "run.json.gz"
    zipped.parent.mkdir()
    zipped.write_bytes(gzip.compress(raw))
    assert ingest(tmp_path, zipped.parent) == 0
    assert last_run(tmp_path)[:3] == (1, 0, 1)  # the same run: unchanged

    # GET /workflow/{id} whole (labels and workspace around the run) and GET /workflow/{id}/tasks whole ({tasks, total})
    described = {
        "workflow": {
            "workflow": doc["workflow"],
            "labels": [{"id": 1, "name": "team", "value": "oncology", "resource": True}],
            "orgName": "scidev",
            "workspaceName": "testing",
        },
        "tasks": {"tasks": doc["tasks"], "total": len(doc["tasks"])},
        "progress": {"progress": doc["progress"]},
    }
    responses = tmp_path / "responses.json"
    responses.write_text(json.dumps(described))
    config = tmp_path / "ll.toml"
    config.write_text('[seqera]\nconsumer_field = "label:team"\n')
    assert ingest(tmp_path, responses, config=config) == 0
    assert rows(tmp_path, "SELECT consumer, total_cost FROM launches") == [("oncology", seqera_total(tasks))]
    config.write_text('[seqera]\nconsumer_field = "workspace"\n')
    assert ingest(tmp_path, responses, config=config) == 0
    assert rows(tmp_path, "SELECT consumer FROM launches") == [("scidev/testing",)]


def test_a_tar_xz_and_an_unpacked_folder_are_the_same_run_as_the_tar_gz(tmp_path):
    assert ingest(tmp_path, DUMP) == 0
    json_members = {n: raw for n, raw in members_of(DUMP).items() if n.endswith(".json")}
    xz = write_archive(tmp_path / "run.tar.xz", json_members, "w:xz")
    assert ingest(tmp_path, xz) == 0
    assert last_run(tmp_path)[:3] == (1, 0, 1)  # read, loaded, unchanged
    folder = tmp_path / "unpacked" / "2VeeQznQdp3rxo"
    folder.mkdir(parents=True)
    for name, raw in json_members.items():
        (folder / name).write_bytes(raw)
    assert ingest(tmp_path, tmp_path / "unpacked") == 0
    assert last_run(tmp_path)[:3] == (1, 0, 1)


def test_labels_and_workspace_of_the_dump_metadata_can_name_the_consumer(tmp_path):
    metadata = json.loads(members_of(DUMP)["workflow-metadata.json"])
    owner = next(label["value"] for label in metadata["labels"] if label["name"] == "owner")
    config = tmp_path / "ll.toml"
    config.write_text('[seqera]\nconsumer_field = "label:owner"\n')
    assert ingest(tmp_path, DUMP, config=config) == 0
    assert rows(tmp_path, "SELECT consumer FROM launches") == [(owner,)]
    config.write_text('[seqera]\nconsumer_field = "workspace"\n')
    assert ingest(tmp_path, DUMP, config=config) == 0
    assert rows(tmp_path, "SELECT consumer FROM launches") == [(f"{metadata['organizationName']}/{metadata['workspaceName']}",)]


# --- damaged input ------------------------------------------------------------------------------------


def test_an_archive_cut_short_is_quarantined_naming_file_and_member_and_the_rest_loads(tmp_path):
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(DUMP.read_bytes()[:2000])  # well before workflow-tasks.json ends
    assert ingest(tmp_path, cut, DUMP_IN_FOLDER) == 0
    assert rows(tmp_path, "SELECT launch_id FROM launches") == [(real_run(DUMP_IN_FOLDER)[0]["id"],)]
    ((source, key, reason),) = rows(tmp_path, "SELECT source, record_key, reason FROM quarantine")
    assert str(cut) in source and "cut short in member " in reason and "the run is not loaded" in reason
    assert "workflow-tasks.json" in reason


def test_an_archive_cut_short_in_its_logs_still_loads_its_run_and_says_what_was_lost(tmp_path):
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(DUMP.read_bytes()[:-20000])  # inside the task logs at the end
    assert ingest(tmp_path, cut) == 0
    workflow, tasks = real_run(DUMP)
    assert rows(tmp_path, "SELECT launch_id, total_cost FROM launches") == [(workflow["id"], seqera_total(tasks))]
    ((reason,),) = rows(tmp_path, "SELECT reason FROM quarantine")
    assert reason.startswith(f"{cut} is cut short in member tasks/") and "the members after it are lost" in reason


def test_a_member_that_is_not_json_is_quarantined_naming_file_and_member(tmp_path):
    members = members_of(DUMP_IN_FOLDER)
    tasks_member = next(n for n in members if n.endswith("/workflow-tasks.json"))
    broken = write_archive(tmp_path / "broken.tar.gz", {**members, tasks_member: b'[{"taskId": 1, "status": '})
    assert ingest(tmp_path, broken, DUMP) == 0
    assert rows(tmp_path, "SELECT launch_id FROM launches") == [(real_run(DUMP)[0]["id"],)]
    ((reason,),) = rows(tmp_path, "SELECT reason FROM quarantine")
    assert reason.startswith(f"{broken}:{tasks_member} is not JSON") and reason.endswith("the run is not loaded")

    # a member the run can do without: quarantined, and the run loads
    metadata = next(n for n in members if n.endswith("/workflow-metadata.json"))
    partly = write_archive(tmp_path / "partly.tar.gz", {**members, metadata: b"<html>502 Bad Gateway</html>"})
    assert ingest(tmp_path, partly) == 0
    assert last_run(tmp_path) == (2, 1, 0, 1, "succeeded")
    reasons = [r for (r,) in rows(tmp_path, "SELECT reason FROM quarantine")]
    assert any(r.startswith(f"{partly}:{metadata} is not JSON") and r.endswith("the run loads without it") for r in reasons)


def test_a_task_that_does_not_parse_is_quarantined_and_the_run_loads_without_it(tmp_path):
    members = members_of(DUMP)
    tasks = json.loads(members["workflow-tasks.json"], parse_float=Decimal)
    bad = json.loads(members["workflow-tasks.json"])
    bad[3]["cost"] = "twelve cents"
    archive = write_archive(tmp_path / "bad-task.tar.gz", {**members, "workflow-tasks.json": json.dumps(bad).encode()})
    assert ingest(tmp_path, archive) == 0
    assert rows(tmp_path, "SELECT count(*) FROM launch_tasks")[0][0] == len(tasks) - 1
    (total,) = rows(tmp_path, "SELECT total_cost FROM launches")[0]
    assert total == seqera_total(tasks[:3] + tasks[4:])
    ((key, reason),) = rows(tmp_path, "SELECT record_key, reason FROM quarantine")
    assert key == f"{real_run(DUMP)[0]['id']}/{tasks[3]['taskId']}"
    assert "task 4 (" in reason and "cost that is not a number: 'twelve cents'" in reason and str(archive) in reason


def test_input_that_loads_nothing_exits_non_zero_saying_so(tmp_path, capsys):
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(DUMP.read_bytes()[:1500])
    assert ingest(tmp_path, junk) == 1
    assert capsys.readouterr().err.startswith(f"error: nothing loaded from {junk}: 1 record(s) read, 1 quarantined")
    other = tmp_path / "service-info-only.json"
    other.write_bytes(members_of(DUMP)["service-info.json"])
    assert ingest(tmp_path, other) == 1
    assert "not a Seqera run record" in capsys.readouterr().err
    assert ingest(tmp_path, tmp_path / "missing.tar.gz") == 1
    assert "does not exist" in capsys.readouterr().err


# --- idempotence and updates --------------------------------------------------------------------------


def test_the_same_files_twice_change_nothing(tmp_path):
    assert ingest(tmp_path, *REAL) == 0
    before = rows(tmp_path, "SELECT * FROM launch_tasks ORDER BY launch_id, task_id")
    launches = rows(tmp_path, "SELECT * FROM launches ORDER BY launch_id")
    assert ingest(tmp_path, DATA) == 0  # the folder holds the same three files
    assert last_run(tmp_path) == (3, 0, 3, 0, "succeeded")
    assert rows(tmp_path, "SELECT * FROM launch_tasks ORDER BY launch_id, task_id") == before
    assert rows(tmp_path, "SELECT * FROM launches ORDER BY launch_id") == launches


def test_an_updated_run_replaces_its_launch_and_its_tasks(tmp_path):
    members = members_of(DUMP)
    workflow = json.loads(members["workflow.json"])
    tasks = json.loads(members["workflow-tasks.json"])
    running = dict(workflow, status="RUNNING", complete=None)
    early = [dict(t, status="RUNNING", complete=None, cost=None) if t["taskId"] == 5 else t for t in tasks[:5]]
    first = write_archive(
        tmp_path / "early.tar.gz",
        {**members, "workflow.json": json.dumps(running).encode(), "workflow-tasks.json": json.dumps(early).encode()},
    )
    assert ingest(tmp_path, first, DUMP_IN_FOLDER) == 0
    assert rows(tmp_path, "SELECT status, ended_at FROM launches WHERE launch_id = ?", [workflow["id"]]) == [("RUNNING", None)]
    assert rows(tmp_path, "SELECT count(*) FROM launch_tasks WHERE launch_id = ?", [workflow["id"]])[0][0] == 5
    other_before = rows(tmp_path, "SELECT * FROM launch_tasks WHERE launch_id <> ? ORDER BY task_id", [workflow["id"]])

    assert ingest(tmp_path, DUMP) == 0
    assert rows(tmp_path, "SELECT status FROM launches WHERE launch_id = ?", [workflow["id"]]) == [("COMPLETE",)]
    got = rows(tmp_path, "SELECT task_id, status FROM launch_tasks WHERE launch_id = ? ORDER BY task_id::INT", [workflow["id"]])
    assert got == [(str(t["taskId"]), t["status"]) for t in sorted(tasks, key=lambda t: t["taskId"])]
    assert rows(tmp_path, "SELECT * FROM launch_tasks WHERE launch_id <> ? ORDER BY task_id", [workflow["id"]]) == other_before


# --- pricing beside Seqera -----------------------------------------------------------------------------


def engine_cost(tasks: list[dict], region: str) -> Decimal:
    """The pricing engine's rule, by hand: each task attempt that ran is a whole instance at its list price,
    per second with a 60-second minimum, each line rounded half-up to the micro-dollar."""
    snapshot = json.loads(SNAPSHOT.read_text())["prices"]
    price = {
        p["resource_type"]: Decimal(p["price"])
        for p in snapshot
        if p["region"] == region and p["resource_kind"] == "instance" and p["charge"] == "usage"
    }
    total = Decimal(0)
    for t in tasks:
        if t["status"] == "CACHED":
            continue
        assert t["priceModel"] == "standard"  # On-Demand: the list price, no Spot history needed
        seconds = max(int((utc(t["complete"]) - utc(t["start"])).total_seconds()), 60)
        total += (price[t["machineType"]] * seconds / 3600).quantize(MICRO, ROUND_HALF_UP)
    return total


def test_price_launches_puts_the_engines_cost_beside_seqeras(tmp_path):
    workflow, tasks = real_run(API)
    assert ingest(tmp_path, API) == 0
    data_dir = str(tmp_path / "wh")
    assert main(["prices", "--offline", "--data-dir", data_dir]) == 0
    assert main(["price-launches", "--data-dir", data_dir]) == 0
    ((seqera, source, engine, status, unpriced),) = rows(
        tmp_path,
        """SELECT l.total_cost, l.price_source, c.total_cost, c.price_status, c.unpriced_resources
           FROM launches l JOIN launch_costs c USING (launch_id)""",
    )
    assert (seqera, source) == (seqera_total(tasks), "seqera")  # price-launches leaves Seqera's figure alone
    assert (engine, status, unpriced) == (engine_cost(tasks, "us-east-1"), "ESTIMATED", 0)
    assert engine > seqera  # whole instances per task, where Seqera shares an instance out by the task's request


# --- the mapping, on the real dump ------------------------------------------------------------------------


def dump_record() -> RunRecord:
    members = members_of(DUMP)
    workflow = json.loads(members["workflow.json"], parse_float=Decimal)
    tasks = json.loads(members["workflow-tasks.json"], parse_float=Decimal)
    return RunRecord(str(DUMP), workflow, tasks, f"{DUMP}:workflow-tasks.json")


@pytest.mark.parametrize(
    ("seqera", "status", "times"),
    [
        ("SUCCEEDED", "COMPLETE", {"READY", "RUNNING", "COMPLETE"}),
        ("FAILED", "FAILED", {"READY", "RUNNING", "FAILED"}),
        ("CANCELLED", "FAILED", {"READY", "RUNNING", "FAILED"}),
        ("UNKNOWN", "FAILED", {"READY", "RUNNING", "FAILED"}),
        ("RUNNING", "RUNNING", {"READY", "RUNNING"}),
        ("SUBMITTED", "READY", {"READY"}),
    ],
)
def test_seqera_run_statuses_map_to_launch_statuses(seqera, status, times):
    record = dump_record()
    record.workflow["status"] = seqera
    launch = map_run(record, SeqeraSettings()).launch
    assert launch["status"] == status
    assert {k for k, v in launch["status_times"].items() if v is not None} == times
    assert launch["status_times"]["READY"] == record.workflow["submit"]


def test_a_failed_run_that_never_completed_fails_at_its_last_update():
    record = dump_record()
    record.workflow.update(status="CANCELLED", complete=None)
    assert map_run(record, SeqeraSettings()).launch["status_times"]["FAILED"] == record.workflow["lastUpdated"]


@pytest.mark.parametrize(
    ("executor", "settings", "platform", "region"),
    [
        ("awsbatch", SeqeraSettings(), "Batch", "eu-west-1"),
        ("k8s", SeqeraSettings(), "EKS", "eu-west-1"),
        ("local", SeqeraSettings(), "EC2", "eu-west-1"),
        ("slurm", SeqeraSettings(), "ParallelCluster", "eu-west-1"),
        ("slurm", SeqeraSettings(slurm_platform="OnPremHPC"), "OnPremHPC", None),
        ("lsf", SeqeraSettings(), "OnPremHPC", None),
    ],
)
def test_the_executor_decides_the_platform(executor, settings, platform, region):
    record = dump_record()
    for t in record.tasks:
        t["executor"] = executor
    launch = map_run(record, settings).launch
    assert (launch["compute_platform"], launch["region"]) == (platform, region)


@pytest.mark.parametrize("executor", ["google-batch", "azurebatch", "google-lifesciences"])
def test_runs_on_other_clouds_are_quarantined_with_a_clear_reason(executor):
    record = dump_record()
    for t in record.tasks:
        t["executor"] = executor
    mapped = map_run(record, SeqeraSettings())
    assert mapped.launch is None and len(mapped.tasks) == 0
    assert f"ran on {executor}" in mapped.rejected[0].reason and "AWS and on-premises compute only" in mapped.rejected[0].reason


def test_every_task_becomes_a_row_and_every_attempt_that_ran_an_instance():
    record = dump_record()
    mapped = map_run(record, SeqeraSettings())
    assert set(FIELDS) == set(TASK_COLUMNS) - {"launch_month", "ingest_run_id"}
    assert len(mapped.tasks) == len(record.tasks)
    row = mapped.tasks.rows()[0]
    first = record.tasks[0]
    assert (row["task_hash"], row["native_id"], row["name"], row["process"]) == (
        first["hash"],
        first["nativeId"],
        first["name"],
        first["process"],
    )
    assert row["submitted_at"] == utc(first["submit"]) and row["cpu_percent"] == float(first["pcpu"])
    instances = mapped.launch["resources"]["instances"]
    assert [(i["instance_type"], i["availability_zone"], i["purchase_option"]) for i in instances] == [
        (t["machineType"], t["cloudZone"], "Spot") for t in record.tasks
    ]


# --- the item attribute price_source, and settings ----------------------------------------------------------


def test_an_unknown_price_source_is_quarantined(tmp_path):
    launch = map_run(dump_record(), SeqeraSettings()).launch
    with job_run(tmp_path, "seqera", "test") as run:
        loaded = load_runs(run, [dict(launch, price_source="guess")], [], [], "test")
    assert (loaded.runs_loaded, loaded.quarantined) == (0, 1)
    assert connect(tmp_path).execute("SELECT reason FROM quarantine").fetchall() == [
        ('unknown price_source "guess" (expected item or seqera)',)
    ]


def test_the_seqera_settings_section(tmp_path):
    config = tmp_path / "ll.toml"
    config.write_text('[seqera]\nconsumer_field = "label:team"\nslurm_platform = "OnPremHPC"\n')
    assert load_settings(config).seqera == SeqeraSettings("label:team", "OnPremHPC")
    config.write_text('[seqera]\nslurm_platform = "Slurm"\n')
    with pytest.raises(ConfigError, match="ParallelCluster or OnPremHPC"):
        load_settings(config)


def test_the_bench_generator_writes_dumps_in_the_real_shape(tmp_path):
    from bench.seqera import TASKS_PER_RUN, generate

    source = generate(tmp_path / "dumps", runs=2)
    assert ingest(tmp_path, source) == 0
    assert rows(tmp_path, "SELECT count(*), count(DISTINCT launch_id) FROM launch_tasks")[0] == (2 * TASKS_PER_RUN, 2)
    shutil.rmtree(source)


def test_bill_rows_tagged_with_the_run_id_before_the_run_was_loaded_are_matched_to_it(tmp_path):
    from warehouse.store import WarehouseWriter

    run_id = real_run(API)[0]["id"]
    with WarehouseWriter(tmp_path / "wh", "bill") as w:
        w.write_partitions(
            "launch_billed_costs",
            """SELECT NULL AS launch_id, unnest([$run, 'someone-else']) AS run_tag, DATE '2025-03-01' AS usage_month,
                      1.5 AS split_cost, 0.25 AS split_unused_cost, 2.0 AS billed_cost, 1.75 AS effective_cost,
                      3 AS rows, 'USD' AS currency, 'cur' AS source, 'bill' AS ingest_run_id""",
            {"run": run_id},
        )
        w.commit()
    assert ingest(tmp_path, API) == 0
    assert rows(tmp_path, "SELECT run_tag, launch_id FROM launch_billed_costs ORDER BY run_tag") == [
        (run_id, run_id),
        ("someone-else", None),
    ]


@pytest.mark.parametrize("early_first", [True, False])
def test_the_same_run_twice_in_one_input_keeps_its_latest_state_and_only_its_tasks(tmp_path, early_first):
    members = members_of(DUMP)
    workflow = json.loads(members["workflow.json"])
    tasks = json.loads(members["workflow-tasks.json"])
    early = write_archive(
        tmp_path / "early.tar.gz",
        {
            **members,
            "workflow.json": json.dumps(dict(workflow, status="RUNNING", complete=None)).encode(),
            "workflow-tasks.json": json.dumps(tasks[:4]).encode(),
        },
    )
    assert ingest(tmp_path, *((early, DUMP) if early_first else (DUMP, early))) == 0
    assert rows(tmp_path, "SELECT launch_id, status FROM launches") == [(workflow["id"], "COMPLETE")]
    assert rows(tmp_path, "SELECT count(*), count(DISTINCT task_id) FROM launch_tasks")[0] == (len(tasks), len(tasks))
