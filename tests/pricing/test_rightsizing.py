"""Right-sizing (``pricing.rightsizing``): a real trace's peaks read here with the csv module, hand-worked rounding,
the out-of-memory floor, savings in Decimal by hand on a tiny fixture, and the Nextflow config text.

Every expected figure is computed in this file from the trace, the price snapshot or the rows written here, with
plain arithmetic; never through the module under test.
"""

from __future__ import annotations

import csv
import json
import math
import re
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
import pytest

import queries
from core.errors import ConfigError
from core.settings import RightSizingSettings
from ingest.__main__ import main
from pricing import rightsizing
from pricing.engine import Rules
from pricing.instance_shapes import shape_of
from pricing.rightsizing import Policy, recommended_cpus, recommended_memory, right_size
from queries import Filters
from warehouse.store import connect

ROOT = Path(__file__).resolve().parents[2]
OPENPROBLEMS = ROOT / "tests" / "data" / "nextflow" / "openproblems_execution_trace.txt"
SNAPSHOT = sorted((ROOT / "pricing" / "snapshot").glob("prices-*.json"))[-1]
MICRO = Decimal("0.000001")
D = Decimal


# --- the trace, read independently -------------------------------------------------------------------------------

_POWER = {"B": 0, "KB": 1, "MB": 2, "GB": 3, "TB": 4}
_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def gib(text: str) -> float | None:
    """``218.2 MB`` -> GiB (Nextflow's units are powers of 1024); ``-`` -> None."""
    if text == "-":
        return None
    number, unit = text.split()
    return float(number) * 1024 ** _POWER[unit] / 1024**3


def cpus_used(text: str) -> float | None:
    return None if text == "-" else float(text.rstrip("%")) / 100


def ms(text: str) -> int:
    return int(sum(Decimal(n) * _MS[u] for n, u in re.findall(r"([\d.]+)(ms|s|m|h|d)", text)))


def p(values: list[float], q: float) -> float:
    """The q quantile by linear interpolation between order statistics, written out."""
    x = sorted(values)
    h = (len(x) - 1) * q
    lo = math.floor(h)
    return x[lo] if lo + 1 >= len(x) else x[lo] + (h - lo) * (x[lo + 1] - x[lo])


def up(value: float, step: float = 1.0) -> float:
    return math.ceil(round(value / step, 9)) * step


def trace_rows() -> list[dict]:
    with open(OPENPROBLEMS, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def process_of(row: dict) -> str:
    return row["name"].split(" (")[0]


def seconds_billed(row: dict) -> int:
    """Whole seconds the engine bills a trace line: complete = submit + duration, start = complete - realtime, >= 60."""
    submit = round(datetime.strptime(row["submit"], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC).timestamp() * 1000)
    complete = submit + ms(row["duration"])
    start = max(complete - ms(row["realtime"]), submit)
    return max(complete // 1000 - start // 1000, 60)


def snapshot_prices(family: str) -> dict[str, Decimal]:
    doc = json.loads(SNAPSHOT.read_text())
    return {
        p["resource_type"]: Decimal(p["price"])
        for p in doc["prices"]
        if p["region"] == "us-east-1" and p["resource_kind"] == "instance" and p["resource_type"].startswith(family + ".")
    }


# vCPUs and GiB of the r5 sizes, as AWS's instance type pages list them
R5 = {"large": (2, 16), "xlarge": (4, 32), "2xlarge": (8, 64), "4xlarge": (16, 128), "8xlarge": (32, 256)}
R5 |= {"12xlarge": (48, 384), "16xlarge": (64, 512), "24xlarge": (96, 768)}


@pytest.fixture(scope="module")
def openproblems(tmp_path_factory):
    """The real trace loaded as an On-Demand r5.4xlarge run in us-east-1, with the offline prices; right-sized."""
    data_dir = tmp_path_factory.mktemp("openproblems")
    run = ["--consumer", "single-cell-benchmarks", "--workflow-type", "nf-openproblems", "--platform", "Batch"]
    where = ["--region", "us-east-1", "--instance-type", "r5.4xlarge", "--purchase-option", "on-demand"]
    assert main(["nextflow", str(OPENPROBLEMS), *run, *where, "--data-dir", str(data_dir)]) == 0
    assert main(["prices", "--offline", "--data-dir", str(data_dir)]) == 0
    con = connect(data_dir)
    everything = Filters(datetime(2021, 1, 1).date(), datetime(2021, 12, 31).date())
    tasks = queries.named.right_sizing_tasks(con, everything, workflow_type="nf-openproblems")
    return right_size(tasks, queries.pricing.price_points(con), Rules()), tasks


def test_a_real_trace_s_recommendations_follow_its_peaks(openproblems):
    result, tasks = openproblems
    trace = trace_rows()
    assert len(tasks) == len(trace) == 217
    got = result.processes.set_index("process")
    assert sorted(got.index) == sorted({process_of(r) for r in trace})
    for process, row in got.iterrows():
        done = [r for r in trace if process_of(r) == process and r["status"] == "COMPLETED"]
        cpu = p([cpus_used(r["%cpu"]) for r in done], 0.95)
        memory = p([gib(r["peak_rss"]) for r in done], 0.95)
        killed = {r["name"] for r in trace if process_of(r) == process and r["exit"] == "137"}
        retry_peaks = [gib(r["peak_rss"]) for r in done if r["name"] in killed]  # each killed task's completed attempt
        assert row["tasks"] == len(done)
        assert row["cpus_used_quantile"] == pytest.approx(cpu, rel=1e-9)
        assert row["memory_used_quantile_gb"] == pytest.approx(memory, rel=1e-6)  # the warehouse holds whole bytes
        assert row["cpus_recommended"] == max(1, math.ceil(round(cpu * 1.2, 9)))
        assert row["memory_recommended_gb"] == up(max([memory * 1.2, *retry_peaks]))
        assert row["out_of_memory_retries"] == sum(r["exit"] == "137" for r in trace if process_of(r) == process)
        assert row["changed"]  # the trace records no request: every process gets one
    run_method = got.loc["run_method"]
    assert run_method["memory_floor_gb"] == pytest.approx(16.8)  # the retried mlp_scran attempts peaked at 16.8 GB
    assert run_method["memory_recommended_gb"] >= 16.8 and run_method["out_of_memory_retries"] == 8


def test_a_real_trace_s_savings_are_the_engine_s_price_of_each_task_on_both_types(openproblems):
    result, _ = openproblems
    prices = snapshot_prices("r5")
    trace = trace_rows()
    got = result.processes.set_index("process")
    total = D(0)
    for process, row in got.iterrows():
        fitting = [f"r5.{s}" for s, (v, g) in R5.items() if v >= row["cpus_recommended"] and g >= row["memory_recommended_gb"]]
        cheapest = min(fitting, key=lambda t: prices[t])
        assert row["recommended_machine_type"] == cheapest
        done = [r for r in trace if process_of(r) == process and r["status"] == "COMPLETED"]
        now = sum((prices["r5.4xlarge"] * seconds_billed(r) / 3600).quantize(MICRO, ROUND_HALF_UP) for r in done)
        then = sum((prices[cheapest] * seconds_billed(r) / 3600).quantize(MICRO, ROUND_HALF_UP) for r in done)
        assert (row["current_cost"], row["recommended_cost"], row["savings"]) == (now, then, now - then)
        assert row["savings_per_run"] == row["savings_per_month"] == now - then  # one run, in one month
        failed = [r for r in trace if process_of(r) == process and r["status"] == "FAILED"]
        retries = sum((prices["r5.4xlarge"] * seconds_billed(r) / 3600).quantize(MICRO, ROUND_HALF_UP) for r in failed)
        assert row["retry_cost"] == retries
        total += now - then
    assert result.savings == result.savings_per_month == total
    assert (result.runs, result.months, result.currency) == (1, 1, "USD")
    assert len(result.retries) == 8 and set(result.retries["reason"]) == {"out of memory (exit 137)"}


# --- the rounding and the floor, by hand ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("used", "headroom", "expected"),
    [
        (0.978, 0.2, 2),  # 1.1736 -> 2
        (5.0, 0.2, 6),  # 5 x 1.2 = 6 exactly (6.000000000000001 in floating point): not 7
        (0.1, 0.2, 1),  # never below one CPU
        (7.5, 0.0, 8),
        (None, 0.2, None),
    ],
)
def test_cpus_round_up_to_whole_cpus(used, headroom, expected):
    assert recommended_cpus(used, headroom) == expected


@pytest.mark.parametrize(
    ("used", "step", "floor", "killed_at", "expected"),
    [
        (5.0, 1.0, None, None, 6.0),  # 6 exactly
        (3.45, 0.5, None, None, 4.5),  # 4.14 -> 4.5
        (3.45, 1.0, None, None, 5.0),  # 4.14 -> 5
        (0.2, 1.0, None, None, 1.0),  # 0.24 -> one step
        (10.0, 1.0, 16.8, None, 17.0),  # 12 < the retried attempt's 16.8 GB peak -> 17
        (10.0, 1.0, 12.5, 16.0, 17.0),  # killed at a 16 GB limit: 16 would be killed again -> 17
        (10.0, 0.5, 14.0, 16.2, 16.5),  # above 16.2 in steps of 0.5
        (20.0, 1.0, 16.8, 16.0, 24.0),  # 24 covers both already
        (None, 1.0, 9.0, None, 9.0),  # no completed peak, a retry's peak only
    ],
)
def test_memory_rounds_up_in_steps_and_never_below_an_out_of_memory_retry(used, step, floor, killed_at, expected):
    assert recommended_memory(used, 0.2, step, floor, killed_at) == expected


# --- a tiny history, priced by hand --------------------------------------------------------------------------

PRICES = pd.DataFrame(
    [
        ("us-east-1", None, "instance", t, "On-Demand", "usage", D(price), datetime(2025, 1, 1))
        for t, price in (("m6i.large", "0.096"), ("m6i.xlarge", "0.192"), ("m6i.2xlarge", "0.384"), ("m6i.4xlarge", "0.768"))
    ]
    + [("us-east-1", None, "instance", "c6i.large", "On-Demand", "usage", D("0.085"), datetime(2025, 1, 1))],
    columns=[
        "region",
        "availability_zone",
        "resource_kind",
        "resource_type",
        "purchase_option",
        "charge",
        "price",
        "effective_from",
    ],
)
TASK_COLUMNS = [
    "launch_id", "launch_month", "task_id", "process", "name", "status", "attempt", "exit_code", "cpus", "memory_gb",
    "started_at", "completed_at", "cpu_percent", "peak_rss_gb", "spot_interruptions", "seqera_cost",
]  # fmt: skip
ALIGN, QC = "NFCORE_DEMO:DEMO:ALIGN", "NFCORE_DEMO:DEMO:FASTQC"


def at(day: str, clock: str) -> datetime:
    return datetime.fromisoformat(f"{day} {clock}")


def tiny_history() -> pd.DataFrame:
    jan, mar = "2025-01-10", "2025-03-05"
    rows = [  # run A in January, run B in March, every task On-Demand m6i.4xlarge in us-east-1a
        ("A", "2025-01-01", "1", ALIGN, "ALIGN (s1)", "FAILED", 1, 137, 4, 4.0, at(jan, "10:00:00"), at(jan, "10:10:00"),
         None, None, 0, D("0.150000")),
        ("A", "2025-01-01", "2", ALIGN, "ALIGN (s1)", "COMPLETED", 2, 0, 4, 8.0, at(jan, "10:10:30"), at(jan, "10:40:30"),
         150.0, 5.0, 0, None),
        ("A", "2025-01-01", "3", QC, "FASTQC (s1)", "COMPLETED", 1, 0, 1, 2.0, at(jan, "09:00:00"), at(jan, "09:30:00"),
         80.0, 1.5, 0, None),
        ("B", "2025-03-01", "1", ALIGN, "ALIGN (s2)", "COMPLETED", 1, 0, 4, 4.0, at(mar, "08:00:00"), at(mar, "08:30:00"),
         120.0, 3.0, 0, None),
        ("B", "2025-03-01", "2", ALIGN, "ALIGN (s3)", "COMPLETED", 1, 0, 4, 4.0, at(mar, "09:00:00"), at(mar, "09:00:45"),
         100.0, 1.0, 0, None),
        ("B", "2025-03-01", "3", QC, "FASTQC (s2)", "COMPLETED", 1, 0, 1, 2.0, at(mar, "07:00:00"), at(mar, "07:15:00"),
         80.0, 1.5, 0, None),
        ("B", "2025-03-01", "4", QC, "FASTQC (s3)", "CACHED", 1, 0, 1, 2.0, None, None, 500.0, 40.0, 0, None),
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=TASK_COLUMNS)
    ran = frame["status"] != "CACHED"
    return frame.assign(
        machine_type=["m6i.4xlarge" if r else None for r in ran],
        zone="us-east-1a",
        price_model=["On-Demand" if r else None for r in ran],
        region="us-east-1",
        submitted_at=frame["started_at"],
        workflow_type="nf-demo",
        currency="USD",
    )


def test_savings_per_run_and_per_month_are_the_decimal_prices_worked_by_hand():
    result = right_size(tiny_history(), PRICES, Rules())
    align = result.processes.set_index("process").loc[ALIGN]
    # completed ALIGN tasks: %cpu 150, 120, 100 -> p95 of (1.0, 1.2, 1.5) = 1.2 + 0.9 x 0.3 = 1.47; x 1.2 = 1.764 -> 2
    # peak RSS 5, 3, 1 GB -> p95 = 3 + 0.9 x 2 = 4.8; x 1.2 = 5.76 -> 6 GB (the retry's 5 GB peak and the 4 GB kill fit)
    assert (align["cpus_requested"], align["memory_requested_gb"]) == (4, 4.0)  # the first attempts asked for 4 CPUs, 4 GB
    assert align["cpus_used_quantile"] == pytest.approx(1.47) and align["memory_used_quantile_gb"] == pytest.approx(4.8)
    assert (align["cpus_recommended"], align["memory_recommended_gb"], align["memory_floor_gb"]) == (2, 6.0, 5.0)
    assert align["recommended_machine_type"] == "m6i.large"  # 2 vCPUs, 8 GiB: the cheapest m6i that fits (not c6i)
    # as ran: 30 min + 30 min + 45 s billed as 60 s on m6i.4xlarge at 0.768/h
    now = D("0.768") / 2 + D("0.768") / 2 + D("0.768") / 60
    then = D("0.096") / 2 + D("0.096") / 2 + D("0.096") / 60
    assert (now, then) == (D("0.7808"), D("0.0976"))
    assert (align["current_cost"], align["recommended_cost"], align["savings"]) == (now, then, D("0.6832"))
    assert align["savings_per_run"] == D("0.341600")  # 2 runs
    assert align["savings_per_month"] == D("0.227733")  # 0.6832 over January..March: 3 months, half-up to the micro-dollar
    assert align["retry_cost"] == D("0.128000")  # the killed attempt: 10 minutes at 0.768/h
    assert align["out_of_memory_retries"] == 1
    qc = result.processes.set_index("process").loc[QC]  # 80% of 1 CPU, 1.5 GB: 0.96 -> 1 CPU, 1.8 -> 2 GB, as requested
    assert (qc["cpus_recommended"], qc["memory_recommended_gb"], bool(qc["changed"]), qc["tasks"]) == (1, 2.0, False, 2)
    # the request stays, but each task ran on a whole m6i.4xlarge: on an m6i.large, 30 + 15 minutes cost 0.672/h less
    # (the cached task is neither use nor cost)
    assert (qc["recommended_machine_type"], qc["savings"]) == ("m6i.large", (D("0.768") - D("0.096")) * D("0.75"))
    assert (result.savings, result.retry_cost, result.months, result.runs) == (D("0.6832") + D("0.504"), D("0.128"), 3, 2)
    retry = result.retries.iloc[0]
    assert (retry["name"], retry["reason"], retry["engine_cost"], retry["seqera_cost"]) == (
        "ALIGN (s1)",
        "out of memory (exit 137)",
        D("0.128000"),
        D("0.150000"),
    )


def test_one_run_is_priced_at_the_volume_of_the_whole_history():
    history = tiny_history()
    result = right_size(history[history["launch_id"] == "B"], PRICES, Rules(), history=history)
    align = result.processes.set_index("process").loc[ALIGN]
    saved = D("0.384") - D("0.048") + D("0.0128") - D("0.0016")  # run B's two ALIGN tasks
    assert align["savings"] == saved and align["savings_per_run"] == saved
    assert align["savings_per_month"] == (saved * 2 / 3).quantize(MICRO, ROUND_HALF_UP)  # 2 runs in 3 months
    assert align["out_of_memory_retries"] == 0  # run A's kill is not this run's


def test_the_config_sets_only_the_processes_that_change():
    result = right_size(tiny_history(), PRICES, Rules())
    header = rightsizing.config_header("nf-demo", "2025-01-10 – 2025-03-05", Policy(), result.runs)
    assert rightsizing.nextflow_config(result.processes, header) == (
        "// Launch Ledger right-sizing for nf-demo: 2 run(s) launched 2025-01-10 – 2025-03-05 (UTC).\n"
        "// cpus and memory = p95 of the tasks' use (%cpu, peak RSS) + 20% headroom, rounded up (memory to 1 GB, never below"
        " an out-of-memory retry's peak).\n"
        "// Use with: nextflow run ... -c right-sizing.config\n"
        "process {\n"
        "    withName: 'NFCORE_DEMO:DEMO:ALIGN' {\n"
        "        cpus = 2\n"
        "        memory = '6 GB'\n"
        "    }\n"
        "}\n"
    )


def test_a_process_name_is_matched_exactly_and_half_gigabytes_are_written_as_such():
    processes = pd.DataFrame(
        {
            "process": ["NFCORE_RNASEQ:RNASEQ:FASTQC", "trim.v2", "STAR_ALIGN"],
            "cpus_recommended": [2, 1, 8],
            "memory_recommended_gb": [4.5, 1.0, 36.0],
            "changed": [True, True, False],
        }
    )
    assert rightsizing.nextflow_config(processes) == (
        "process {\n"
        "    withName: 'NFCORE_RNASEQ:RNASEQ:FASTQC' {\n"
        "        cpus = 2\n"
        "        memory = '4.5 GB'\n"
        "    }\n"
        "    withName: 'trim\\\\.v2' {\n"  # the regular expression trim\.v2, its backslash doubled in the quoted string
        "        cpus = 1\n"
        "        memory = '1 GB'\n"
        "    }\n"
        "}\n"
    )
    assert rightsizing.nextflow_config(processes[~processes["changed"]]) == ""


def test_instance_shapes_follow_aws_s_sizes():
    assert shape_of("r6i.4xlarge") == (16, 128.0)
    assert shape_of("c5.9xlarge") == (36, 72.0)
    assert shape_of("m5.large") == (2, 8.0)
    assert shape_of("x2idn.16xlarge") == (64, 1024.0)
    assert shape_of("p4d.24xlarge") == (96, 1152.0)
    assert shape_of("g5.48xlarge") == (192, 768.0)
    assert shape_of("m6i.metal") is None and shape_of("t3.large") is None and shape_of("onprem-node") is None


def test_a_bad_right_sizing_setting_says_what_to_write():
    with pytest.raises(ConfigError, match=r"right_sizing.quantile must be above 0 and at most 1 \(0.95 for p95\), not 95"):
        RightSizingSettings(quantile=95)
    with pytest.raises(ConfigError, match="right_sizing.headroom must be 0 or more"):
        RightSizingSettings(headroom=-0.1)
    with pytest.raises(ConfigError, match="right_sizing.memory_step_gb must be above 0"):
        RightSizingSettings(memory_step_gb=0)


def test_the_right_sizing_section_of_the_config_file_is_read(tmp_path):
    from core.settings import load_settings

    config = tmp_path / "launch-ledger.toml"
    config.write_text("[right_sizing]\nquantile = 0.9\nheadroom = 0.1\nmemory_step_gb = 0.5\n")
    policy = Policy.of(load_settings(config).right_sizing)
    assert policy == Policy(0.9, 0.1, 0.5)
    align = right_size(tiny_history(), PRICES, Rules(), policy).processes.set_index("process").loc[ALIGN]
    # p90 of (1, 3, 5) GB = 3 + 0.8 x 2 = 4.6; x 1.1 = 5.06 -> 5.5 in steps of 0.5 (the 5 GB retry peak fits)
    assert align["memory_recommended_gb"] == 5.5
    config.write_text("[right_sizing]\npercentile = 95\n")
    with pytest.raises(ConfigError, match="unknown setting right_sizing.percentile"):
        load_settings(config)
