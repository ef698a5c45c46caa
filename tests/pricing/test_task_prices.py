"""``price-launches`` prices every task of a Nextflow or Seqera run (``launch_tasks.engine_cost``) and its run as their sum.

Expected figures are worked here from the files (tarfile, json) and the price snapshot with Decimal:
hours x the hourly price, per second with a 60-second minimum, each task rounded half-up to the micro-dollar.
"""

from __future__ import annotations

import json
import tarfile
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from ingest.__main__ import main
from warehouse.store import connect

ROOT = Path(__file__).resolve().parents[2]
SEQERA = ROOT / "tests" / "data" / "seqera"
API = SEQERA / "15dvxY1LnZYrYe.tar.gz"  # On-Demand g5 / c6id in us-east-1: failed, retried and cached tasks
SPOT_DUMP = SEQERA / "2VeeQznQdp3rxo.tar.gz"  # Spot c6id/m6id/r6id in eu-west-1: types the snapshot does not price
SNAPSHOT = ROOT / "pricing" / "snapshot" / "prices-2026-11-26.json"
MICRO = Decimal("0.000001")


def list_price(region: str, instance_type: str) -> Decimal:
    (price,) = [
        Decimal(p["price"])
        for p in json.loads(SNAPSHOT.read_text())["prices"]
        if (p["region"], p["resource_kind"], p["resource_type"], p["charge"]) == (region, "instance", instance_type, "usage")
    ]
    return price


def api_tasks() -> list[dict]:
    with tarfile.open(API) as tar:
        (member,) = [m for m in tar if m.isfile() and m.name.endswith(".json")]
        doc = json.loads(tar.extractfile(member).read(), parse_float=Decimal)
    return [t["task"] for t in doc["tasks"]]


def seconds_between(start: str, end: str) -> int:
    def epoch(text: str) -> int:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())

    return epoch(end) - epoch(start)


def priced_warehouse(tmp_path: Path, command: list[str]) -> Path:
    data_dir = tmp_path / "wh"
    assert main([*command, "--data-dir", str(data_dir)]) == 0
    assert main(["prices", "--offline", "--data-dir", str(data_dir)]) == 0
    assert main(["price-launches", "--data-dir", str(data_dir)]) == 0
    return data_dir


def test_every_seqera_task_gets_its_engine_cost_and_the_run_their_sum(tmp_path):
    tasks = api_tasks()
    expected = {}
    for t in tasks:
        if t["status"] == "CACHED":  # computed and paid by an earlier run: nothing in this one
            expected[str(t["taskId"])] = Decimal("0.000000")
            continue
        hours = Decimal(max(seconds_between(t["start"], t["complete"]), 60)) / 3600
        expected[str(t["taskId"])] = (hours * list_price("us-east-1", t["machineType"])).quantize(MICRO, ROUND_HALF_UP)
    data_dir = priced_warehouse(tmp_path, ["seqera", str(API)])
    con = connect(data_dir)
    got = dict(con.execute("SELECT task_id, engine_cost FROM launch_tasks").fetchall())
    assert got == expected
    # A worked line: the FAILED g5.12xlarge attempt, 16:21:51 to 16:30:01 = 490 s at the list price.
    failed = next(t for t in tasks if t["status"] == "FAILED")
    assert got[str(failed["taskId"])] == (Decimal(490) * list_price("us-east-1", "g5.12xlarge") / 3600).quantize(
        MICRO, ROUND_HALF_UP
    )
    instance, total, status = con.execute("SELECT instance_cost, total_cost, price_status FROM launch_costs").fetchone()
    assert instance == total == sum(expected.values()) and status == "ESTIMATED"
    before = con.execute("SELECT * FROM launch_tasks ORDER BY task_id").fetchall()
    assert main(["price-launches", "--data-dir", str(data_dir)]) == 0  # pricing again changes nothing
    assert connect(data_dir).execute("SELECT * FROM launch_tasks ORDER BY task_id").fetchall() == before


def test_tasks_on_machines_without_a_price_stay_unpriced_and_their_run_pending(tmp_path):
    data_dir = priced_warehouse(tmp_path, ["seqera", str(SPOT_DUMP)])
    con = connect(data_dir)
    assert con.execute("SELECT count(*), count(engine_cost) FROM launch_tasks").fetchone() == (9, 0)
    assert con.execute("SELECT total_cost, price_status, unpriced_resources FROM launch_costs").fetchone() == (None, "PENDING", 9)


def test_a_spot_task_without_a_complete_time_is_priced_from_its_realtime(tmp_path):
    trace = tmp_path / "trace.txt"  # no complete, no duration: the time a task held its machine is its realtime
    trace.write_text(
        "task_id\tname\tstatus\texit\tcpus\tsubmit\tstart\trealtime\n"
        "1\tALIGN (s1)\tCOMPLETED\t0\t8\t2025-03-04 10:00:00.000\t2025-03-04 10:01:00.000\t1h 30m\n"
        "2\tSORT (s1)\tFAILED\t137\t4\t2025-03-04 11:40:00.000\t2025-03-04 11:41:00.000\t20s\n"
        "3\tSORT (s1)\tCOMPLETED\t0\t4\t2025-03-04 11:42:00.000\t2025-03-04 11:43:00.000\t12m 5s\n"
    )
    command = ["nextflow", str(trace), "--consumer", "lab", "--workflow-type", "w", "--platform", "Batch"]
    command += ["--region", "us-east-1", "--instance-type", "m5.2xlarge", "--purchase-option", "spot"]
    data_dir = priced_warehouse(tmp_path, command)
    # No Spot history held: the Spot estimate is [pricing] spot_fallback_fraction (0.35) x the On-Demand price.
    hourly = (list_price("us-east-1", "m5.2xlarge") * Decimal("0.35")).quantize(Decimal("1E-10"), ROUND_HALF_UP)
    seconds = {"1": 5400, "2": 60, "3": 725}  # the failed attempt ran 20 s: billed the 60-second minimum
    expected = {k: (hourly * s / 3600).quantize(MICRO, ROUND_HALF_UP) for k, s in seconds.items()}
    con = connect(data_dir)
    assert dict(con.execute("SELECT task_id, engine_cost FROM launch_tasks").fetchall()) == expected
    assert con.execute("SELECT instance_cost FROM launch_costs").fetchone() == (sum(expected.values()),)


def test_onprem_tasks_are_charged_their_cores_at_the_rate_card(tmp_path):
    trace = tmp_path / "trace.txt"
    trace.write_text(
        "task_id\tname\tstatus\texit\tcpus\tsubmit\tstart\tcomplete\n"
        "1\tALIGN (s1)\tCOMPLETED\t0\t8\t2025-03-04 10:00:00.000\t2025-03-04 10:01:00.000\t2025-03-04 11:01:00.000\n"
        "2\tCALL (s1)\tCOMPLETED\t0\t3\t2025-03-04 11:01:05.000\t2025-03-04 11:02:00.000\t2025-03-04 11:09:07.000\n"
    )
    command = ["nextflow", str(trace), "--consumer", "lab", "--workflow-type", "w", "--platform", "OnPremHPC"]
    data_dir = priced_warehouse(tmp_path, command)
    node_hour = Decimal("0.04") * 32  # [pricing] onprem_core_hour x onprem_cores_per_node (no memory charge)
    # node-seconds = cpus x seconds / 32, half up: 8 x 3600 / 32 = 900; 3 x 427 / 32 = 40.03 -> 40
    expected = {"1": (node_hour * 900 / 3600).quantize(MICRO), "2": (node_hour * 40 / 3600).quantize(MICRO, ROUND_HALF_UP)}
    con = connect(data_dir)
    assert dict(con.execute("SELECT task_id, engine_cost FROM launch_tasks").fetchall()) == expected
    assert con.execute("SELECT instance_cost, price_status FROM launch_costs").fetchone() == (sum(expected.values()), "ESTIMATED")
