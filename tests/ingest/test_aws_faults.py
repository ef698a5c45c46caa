"""AWS faults, injected on real clients: what retrying fixes is retried, the rest is one line, and a scan resumes.

The clients are the ones ``core.aws`` builds (botocore's standard retry mode, 9 attempts) talking to a
moto server on 127.0.0.1. Faults are answered by a ``before-send`` hook (``Faults``) before a request
leaves the client, so botocore's retry handler sees them exactly as it would see AWS's answer: a
``Stubber`` would bypass the retries. botocore's backoff is computed (and recorded) but not slept.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import boto3
import pytest
import requests
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError, ReadTimeoutError
from botocore.retries import standard
from moto.server import ThreadedMotoServer

from core import aws
from core.crash import CRASH_ENV
from core.settings import load_settings
from ingest.__main__ import main
from ingest.cost_explorer.jobs import ingest_cost_explorer
from tests.ingest.conftest import create_launches_table
from warehouse.store import STAGING_PREFIX, connect, read_manifest

ROOT = Path(__file__).resolve().parents[2]
ITEMS = ROOT / "tests" / "fixtures" / "items" / "launches.jsonl"
TABLE = "workflow-launches"
COPIES = 30  # x 4 good fixture items, ~100 kB each: 120 items, about 12 pages of 1 MB over 3 segments
SEGMENTS = 3
TODAY = date(2026, 11, 20)


class _Body:
    def __init__(self, data: bytes):
        self.data = data

    def stream(self, **_):
        yield self.data


def error(status: int, code: str, message: str = "injected") -> dict:
    return {"status": status, "code": code, "message": message}


TIMEOUT = {"timeout": True}


class Faults:
    """A ``before-send`` hook: ``plan(operation, segment, attempt)`` says which fault answers a request (None: moto does).

    ``attempt`` counts the requests of one segment (or, for other operations, of the operation) from 1,
    retries included. Every request is logged as (operation, segment, attempt, what answered it).
    """

    def __init__(self, plan):
        self.plan = plan
        self.log: list[tuple[str, int | None, int, str]] = []
        self._attempts: dict[tuple[str, int | None], int] = {}
        self._lock = threading.Lock()

    def __call__(self, request, event_name: str, **_):
        operation = event_name.rsplit(".", 1)[1]
        segment = json.loads(request.body or b"{}").get("Segment") if operation == "Scan" else None
        with self._lock:
            attempt = self._attempts[operation, segment] = self._attempts.get((operation, segment), 0) + 1
            fault = self.plan(operation, segment, attempt)
            self.log.append((operation, segment, attempt, "moto" if fault is None else fault.get("code", "timeout")))
        if fault is None:
            return None
        if fault.get("timeout"):
            raise ReadTimeoutError(endpoint_url=request.url)
        body = json.dumps({"__type": f"com.amazonaws.injected#{fault['code']}", "message": fault["message"]}).encode()
        return AWSResponse(request.url, fault["status"], {"x-amzn-RequestId": "injected"}, _Body(body))

    def answered(self, by: str = "moto", operation: str = "Scan") -> list[tuple]:
        return [entry for entry in self.log if entry[0] == operation and entry[3] == by]

    def injected(self) -> list[tuple]:
        return [entry for entry in self.log if entry[3] != "moto"]


def session_with(faults: Faults | None, credentials=None) -> boto3.Session:
    session = boto3.Session(region_name="us-east-1", botocore_session=credentials)
    if faults:
        for operation in ("dynamodb.Scan", "cost-explorer.GetCostAndUsage"):
            session.events.register(f"before-send.{operation}", faults)
    return session


@pytest.fixture(autouse=True)
def backoff_not_slept(monkeypatch):
    """botocore computes each retry's jittered backoff as usual; the test records it instead of sleeping it."""
    delays: list[float] = []
    computed = standard.ExponentialBackoff.delay_amount

    def record(self, context):
        delays.append(computed(self, context))
        return 0

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", record)
    return delays


@pytest.fixture(scope="module")
def server():
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    saved = {k: os.environ.get(k) for k in (*env, "AWS_PROFILE", "AWS_SESSION_TOKEN")}
    os.environ.update(env)
    for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):  # fake keys only: nothing here can reach a real account
        os.environ.pop(k, None)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    moto.start()
    host, port = moto.get_host_and_port()
    url = f"http://{host}:{port}"
    # the threaded server shares moto's in-process state: start from none, whatever ran before in this process
    requests.post(f"{url}/moto-api/reset", timeout=10).raise_for_status()
    yield url
    moto.stop()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="module")
def table(server) -> tuple[int, Decimal]:
    """The launches table on the moto server; returns the count and Decimal sum of totalCost of its good items."""
    client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=server)
    create_launches_table(client, TABLE)
    good = [i for i in (json.loads(line)["Item"] for line in ITEMS.read_text().splitlines() if line.strip()) if "launch_id" in i]
    good = [i for i in good if i.get("status", {}).get("S") in ("COMPLETE", "FAILED", "RUNNING")][:4]
    items = []
    for n in range(COPIES):
        for item in good:
            item = copy.deepcopy(item)
            item["launch_id"] = {"S": f"{item['launch_id']['S']}-{n:04d}"}
            item["input_path"] = {"S": "s3://genomics-raw/" + "x" * 100_000}
            items.append(item)
    for start in range(0, len(items), 25):
        client.batch_write_item(RequestItems={TABLE: [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]})
    return len(items), sum((Decimal(i["totalCost"]["S"]) for i in items if "totalCost" in i), Decimal(0))


def _scan(data: Path, server: str, session: boto3.Session, monkeypatch, capsys, *extra: str) -> tuple[int, str, str]:
    monkeypatch.setattr(aws, "make_session", lambda profile=None, region=None: session)
    code = main(
        ["dynamodb", "--table", TABLE, "--segments", str(SEGMENTS), "--endpoint-url", server, "--data-dir", str(data), *extra]
    )
    out = capsys.readouterr()
    return code, out.out, out.err


def _loaded(data: Path) -> tuple[int, Decimal]:
    return connect(data).execute("SELECT count(*), coalesce(sum(total_cost), 0) FROM launches").fetchone()


@pytest.fixture(scope="module")
def pages(table, server, tmp_path_factory) -> dict[int, int]:
    """Pages per segment of a clean scan (the reference for what a resumed scan reads again)."""
    faults = Faults(lambda *_: None)
    data = tmp_path_factory.mktemp("reference")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(aws, "make_session", lambda profile=None, region=None: session_with(faults))
        assert (
            main(["dynamodb", "--table", TABLE, "--segments", str(SEGMENTS), "--endpoint-url", server, "--data-dir", str(data)])
            == 0
        )
    assert _loaded(data) == table
    per_segment = {s: sum(1 for e in faults.answered() if e[1] == s) for s in range(SEGMENTS)}
    assert all(n >= 3 for n in per_segment.values()), per_segment  # several pages per segment: a resume has a middle
    return per_segment


def test_throttling_5xx_and_timeouts_are_retried_and_the_scan_loads_every_item(
    table, pages, server, tmp_path, monkeypatch, capsys
):
    plan = {
        (0, 1): error(400, "ProvisionedThroughputExceededException"),
        (0, 2): error(400, "ThrottlingException"),
        (1, 2): error(500, "InternalServerError"),
        (1, 3): error(503, "ServiceUnavailable"),
        (2, 2): TIMEOUT,
        (2, 4): error(400, "ProvisionedThroughputExceededException"),
        (2, 5): TIMEOUT,
    }
    faults = Faults(lambda op, segment, attempt: plan.get((segment, attempt)))
    code, out, err = _scan(tmp_path, server, session_with(faults), monkeypatch, capsys)
    assert code == 0, err
    assert _loaded(tmp_path) == table  # exactly the table's items, money exact
    assert len(faults.injected()) == len(plan)  # every fault was met, and each retried: every page still answered by moto
    assert len(faults.answered()) == sum(pages.values())
    run = connect(tmp_path).execute("SELECT outcome, api_requests FROM job_runs").fetchone()
    assert run == ("succeeded", 1 + sum(pages.values()))  # requests the job asked for; botocore's retries come on top


def test_retrying_gives_up_after_nine_attempts_with_one_line_and_nothing_loaded(
    table, server, tmp_path, monkeypatch, capsys, backoff_not_slept
):
    faults = Faults(lambda op, segment, attempt: error(400, "ProvisionedThroughputExceededException") if segment == 1 else None)
    code, out, err = _scan(tmp_path, server, session_with(faults), monkeypatch, capsys)
    assert code == 1 and err.count("\n") == 1
    assert err.startswith("error: AWS kept throttling Scan (ProvisionedThroughputExceededException) through 9 attempts")
    assert len(faults.injected()) == aws.MAX_ATTEMPTS == 9
    assert len(backoff_not_slept) == 8 and all(d >= 0 for d in backoff_not_slept)  # eight jittered backoffs between nine
    _nothing_loaded(tmp_path, "ProvisionedThroughputExceededException")


def _nothing_loaded(data: Path, code: str) -> None:
    """Never a partial warehouse: no launch from the segments that succeeded, the failure recorded, no staging left."""
    con = connect(data)
    assert _loaded(data) == (0, Decimal(0))
    assert con.execute("SELECT count(*) FROM launch_resources").fetchone()[0] == 0
    ((outcome, message),) = con.execute("SELECT outcome, message FROM job_runs").fetchall()
    assert outcome == "failed" and code in message
    assert not list((data / "warehouse").glob(f"{STAGING_PREFIX}*"))


def _resume(data: Path, server: str, monkeypatch, capsys) -> tuple[Faults, str]:
    faults = Faults(lambda *_: None)
    code, out, err = _scan(data, server, session_with(faults), monkeypatch, capsys)
    assert code == 0, err
    return faults, out


def test_access_denied_on_one_segment_is_one_line_and_the_next_run_asks_only_that_segment(
    table, pages, server, tmp_path, monkeypatch, capsys
):
    denied = Faults(
        lambda op, segment, attempt: error(400, "AccessDeniedException", "not on segment 1") if segment == 1 else None
    )
    code, out, err = _scan(tmp_path, server, session_with(denied), monkeypatch, capsys)
    assert code == 1 and err.count("\n") == 1 and err.startswith("error: access denied for Scan")
    assert len(denied.injected()) == 1  # not retried: retrying cannot fix a policy
    _nothing_loaded(tmp_path, "AccessDeniedException")
    faults, out = _resume(tmp_path, server, monkeypatch, capsys)
    assert {e[1] for e in faults.answered()} == {1}  # segments 0 and 2 were done: not one page of them again
    assert len(faults.answered()) == pages[1]
    assert f"{pages[0] + pages[2]} pages saved by an interrupted run were not fetched again" in out
    assert _loaded(tmp_path) == table
    assert not (tmp_path / "warehouse" / f".scan-{TABLE}").exists()  # committed: the scan area is gone


def test_credentials_that_expire_mid_scan_stop_it_with_one_line_and_the_next_run_reads_no_saved_page_again(
    table, pages, server, tmp_path, monkeypatch, capsys
):
    answered = []

    def expire_after_five_pages(op, segment, attempt):
        if len(answered) >= 5:
            return error(400, "ExpiredTokenException", "The security token included in the request is expired")
        answered.append(segment)
        return None

    expired = Faults(expire_after_five_pages)
    code, out, err = _scan(tmp_path, server, session_with(expired), monkeypatch, capsys)
    assert code == 1 and err.count("\n") == 1
    assert err.startswith("error: AWS rejected the credentials for Scan (ExpiredTokenException): refresh them")
    _nothing_loaded(tmp_path, "ExpiredTokenException")
    saved = len(expired.answered())
    assert saved == 5
    faults, out = _resume(tmp_path, server, monkeypatch, capsys)
    assert len(faults.answered()) == sum(pages.values()) - saved  # the five saved pages were not fetched again
    assert _loaded(tmp_path) == table


def test_refreshable_credentials_that_expire_mid_scan_are_renewed_and_the_scan_goes_on(
    table, pages, server, tmp_path, monkeypatch, capsys
):
    """An SSO or assume-role session expires during a long scan: botocore refreshes it and no request fails."""
    import botocore.session
    from botocore.credentials import RefreshableCredentials

    start = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    signed = [0]

    def now():  # every look at the clock is a minute later: the first credentials expire part way through the scan
        signed[0] += 1
        return start + timedelta(minutes=signed[0])

    def refresh():
        key = "ASIAFIRST" if signed[0] == 0 else "ASIARENEWED"
        return {"access_key": key, "secret_key": "s", "token": "t", "expiry_time": (now() + timedelta(minutes=30)).isoformat()}

    creds = RefreshableCredentials.create_from_metadata(refresh(), refresh, "injected")
    creds._time_fetcher = now
    core = botocore.session.Session()
    core._credentials = creds
    keys = []

    def seen(request, **_):
        header = request.headers["Authorization"]
        header = header.decode() if isinstance(header, bytes) else header
        keys.append(header.split("Credential=")[1].split("/")[0])

    session = session_with(None, credentials=core)
    session.events.register("before-send.dynamodb.Scan", seen)
    code, out, err = _scan(tmp_path, server, session, monkeypatch, capsys)
    assert code == 0, err
    assert keys[0] == "ASIAFIRST" and keys[-1] == "ASIARENEWED" and len(keys) == sum(pages.values())
    assert _loaded(tmp_path) == table


def test_a_scan_killed_half_way_resumes_from_where_it_stopped(table, pages, server, tmp_path, monkeypatch, capsys):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAUNCH_LEDGER_")}
    killed = subprocess.run(
        [sys.executable, "-m", "ingest", "dynamodb", "--table", TABLE, "--segments", str(SEGMENTS)]
        + ["--endpoint-url", server, "--data-dir", str(tmp_path)],
        env={**env, CRASH_ENV: "scan.page:5"},
        cwd=ROOT,
        capture_output=True,
    )
    assert killed.returncode == -signal.SIGKILL
    area = tmp_path / "warehouse" / f".scan-{TABLE}"
    saved = sum(json.loads(p.read_text())["pages"] for p in area.glob("seg-*.json"))
    assert saved >= 5  # the fifth page was saved before the kill; other segments may have saved theirs too
    faults, out = _resume(tmp_path, server, monkeypatch, capsys)
    again = len(faults.answered()) - (sum(pages.values()) - saved)
    assert 0 <= again <= SEGMENTS - 1  # pages read twice: at most the one each other segment had in flight
    assert "died before it finished" in out and "pages saved by an interrupted run were not fetched again" in out
    assert _loaded(tmp_path) == table
    print(f"\nkilled after {saved} of {sum(pages.values())} pages; the resumed run read {again} page(s) again")


def test_a_committed_scan_is_never_resumed(table, pages, server, tmp_path, monkeypatch, capsys):
    from ingest.dynamodb import jobs

    with monkeypatch.context() as mp:  # as if the run were killed between its commit and removing the scan area
        mp.setattr(jobs.shutil, "rmtree", lambda *a, **k: None)
        _resume(tmp_path, server, monkeypatch, capsys)
    area = json.loads((tmp_path / "warehouse" / f".scan-{TABLE}" / "scan.json").read_text())
    assert area["scan_id"] == read_manifest(tmp_path)["cursors"][f"dynamodb:{TABLE}:pages"]["scan"]
    faults, out = _resume(tmp_path, server, monkeypatch, capsys)
    assert len(faults.answered()) == sum(pages.values()) and "resumed scan" not in out  # a new scan, whole


# --- Cost Explorer ---------------------------------------------------------------------------------


def _ce_page(days: list[date]) -> dict:
    metric = {"Amount": "10.123456", "Unit": "USD"}
    metrics = {"UnblendedCost": metric, "AmortizedCost": metric, "NetAmortizedCost": metric, "UsageQuantity": metric}
    return {
        "GroupDefinitions": [{"Type": "TAG", "Key": "consumer"}, {"Type": "DIMENSION", "Key": "SERVICE"}],
        "ResultsByTime": [
            {
                "TimePeriod": {"Start": d.isoformat(), "End": (d + timedelta(days=1)).isoformat()},
                "Total": {},
                "Groups": [{"Keys": ["consumer$oncology", "Amazon Elastic Compute Cloud - Compute"], "Metrics": metrics}],
                "Estimated": False,
            }
            for d in days
        ],
        "DimensionValueAttributes": [],
    }


@pytest.fixture(scope="module")
def ce_pages(server, tmp_path_factory) -> None:
    """Two GetCostAndUsage pages queued on the moto server; moto then answers each request body with the same page."""
    start = TODAY - timedelta(days=20)
    days = [start + timedelta(days=n) for n in range(20)]
    pages = [_ce_page(days[:10]) | {"NextPageToken": "p2"}, _ce_page(days[10:])]
    answer = requests.post(f"{server}/moto-api/static/ce/cost-and-usage-results", json={"results": pages}, timeout=10)
    assert answer.status_code == 201
    _cost_explorer(server, tmp_path_factory.mktemp("ce"), Faults(lambda *_: None))  # each body takes its page, in order


def _cost_explorer(server: str, data: Path, faults: Faults):
    start = TODAY - timedelta(days=20)
    settings = load_settings(data_dir=data)
    settings = replace(settings, cost_explorer=replace(settings.cost_explorer, endpoint_url=server, region="us-east-1"))
    return ingest_cost_explorer(settings, start=start, end=TODAY, session=session_with(faults), today=TODAY)


def test_cost_explorer_limit_exceeded_throttling_5xx_and_timeouts_are_retried(server, ce_pages, tmp_path, capsys):
    plan = {
        1: error(400, "LimitExceededException", "Rate exceeded"),
        2: error(400, "ThrottlingException"),
        3: error(503, "ServiceUnavailableException"),
        4: TIMEOUT,
        6: error(400, "LimitExceededException", "Rate exceeded"),
    }
    faults = Faults(lambda op, segment, attempt: plan.get(attempt))
    run = _cost_explorer(server, tmp_path, faults)
    assert run.stats.api_requests == 2 and len(faults.injected()) == len(plan)
    assert len(faults.answered(operation="GetCostAndUsage")) == 2
    total = connect(tmp_path).execute("SELECT count(*), sum(unblended_cost) FROM costs_daily").fetchone()
    assert total == (20, Decimal("10.123456") * 20)


@pytest.mark.parametrize(
    ("fault", "line"),
    [
        (error(400, "AccessDeniedException", "not allowed"), "access denied for GetCostAndUsage"),
        (error(400, "LimitExceededException", "Rate exceeded"), "AWS kept throttling GetCostAndUsage (LimitExceededException)"),
        (error(400, "ExpiredTokenException", "expired"), "AWS rejected the credentials for GetCostAndUsage"),
        (error(500, "InternalServerErrorException", "oops"), "AWS failed GetCostAndUsage with a server error (500"),
        (TIMEOUT, "no answer from http://127.0.0.1"),
    ],
)
def test_cost_explorer_faults_retrying_cannot_fix_are_one_line_and_load_nothing(server, ce_pages, tmp_path, fault, line):
    faults = Faults(lambda op, segment, attempt: fault if attempt >= 2 else None)  # the second page fails
    with pytest.raises((ClientError, ReadTimeoutError)) as info:
        _cost_explorer(server, tmp_path, faults)
    message = aws.user_message(info.value)
    assert message.startswith(line) and "\n" not in message
    retried = fault.get("timeout") or fault["status"] >= 500 or "Limit" in fault["code"]
    assert len(faults.injected()) == (aws.MAX_ATTEMPTS if retried else 1)
    con = connect(tmp_path)
    assert con.execute("SELECT count(*) FROM costs_daily").fetchone()[0] == 0  # the first page was not loaded alone
    assert con.execute("SELECT outcome FROM job_runs").fetchall() == [("failed",)]
