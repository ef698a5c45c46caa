"""Readers during writes: dashboard sessions in headless Chromium load Overview while ingests commit.

``measure(data_dir, writes)`` serves the dashboard with ``streamlit run`` on 127.0.0.1, opens
``sessions`` sessions in one headless Chromium (a browser context each, so each is its own Streamlit
session) that load Overview again and again, and meanwhile runs each entry of ``writes`` (the
arguments of ``python -m ingest``, in a process of its own, as in production), spread evenly over the
first ``len(writes) / (len(writes) + 1)`` of the window. Every load records how long it took (from navigation until the
page's script has finished with its metrics drawn), the Launches and Spend it showed and whether an
exception box was on the page. Before the first write and after each one the warehouse's own figures
are read, so every load can be checked against every version that existed. Each session loads once
before the first write and once after the last. Loopback only; asserts nothing.

``python -m bench.readers [--sessions 4] [--seconds 40] [--launches 3000]`` builds a demo warehouse and
the extra launches to write, runs it and prints the figures (JSON in ``bench/results/readers.json``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOAD_TIMEOUT_MS = 60_000
QUIET_MS = 700  # a page is loaded once it has looked the same, finished, for this long (it may rerun once after loading)
# label -> value of every metric on the page
METRICS = """() => Object.fromEntries([...document.querySelectorAll('[data-testid="stMetric"]')].map(m => [
    m.querySelector('[data-testid="stMetricLabel"]')?.innerText.trim(),
    m.querySelector('[data-testid="stMetricValue"]')?.innerText.trim()]))"""
# Finished: no script running, no stale element (a rerun replaces them one by one), Launches and Spend drawn, and
# all of it unchanged for QUIET_MS; window.__llSince is when it first looked so (the load's end).
SETTLED = f"""(quiet) => {{
    const metrics = ({METRICS})();
    const done = !document.querySelector('[data-testid="stStatusWidget"]') && !document.querySelector('[data-stale="true"]')
        && metrics["Launches"] && metrics["Spend"];
    const key = done ? JSON.stringify(metrics) : null;
    if (key === null || key !== window.__llKey) {{ window.__llKey = key; window.__llSince = Date.now(); }}
    return key !== null && Date.now() - window.__llSince >= quiet;
}}"""
READ_PAGE = f"""() => ({{
    metrics: ({METRICS})(),
    exceptions: document.querySelectorAll('[data-testid="stException"]').length,
    loaded_ms: window.__llSince - performance.timeOrigin,
}})"""


@dataclass
class Load:
    session: int
    started_s: float  # since the measurement began
    seconds: float
    launches: str | None  # the Launches metric as shown ("3,000")
    spend: str | None  # the Spend metric as shown ("$123,456.78")
    exceptions: int  # exception boxes on the page
    error: str | None = None  # the load did not finish (timeout, navigation error)
    metrics: dict = field(default_factory=dict)  # every metric on the page, label -> value


@dataclass
class ReadersResult:
    sessions: int
    seconds: float  # how long the sessions ran
    loads: list[Load] = field(default_factory=list)
    versions: list[tuple[str, str]] = field(default_factory=list)  # (launches, spend) before the writes and after each
    writes: list[dict] = field(default_factory=list)  # each write: its arguments, exit code, seconds

    def load_times(self) -> list[float]:
        return sorted(x.seconds for x in self.loads if x.error is None)

    def percentile(self, p: float) -> float:
        times = self.load_times()
        return times[max(0, math.ceil(p / 100 * len(times)) - 1)] if times else float("nan")

    def summary(self) -> str:
        failed = sum(1 for x in self.loads if x.error or x.exceptions)
        took = sorted(w["seconds"] for w in self.writes) or [float("nan")]
        return (
            f"readers during writes: {self.sessions} sessions for {self.seconds:.0f} s, {len(self.loads)} page loads "
            f"({failed} with an error), {len(self.writes)} ingests committed meanwhile ({took[0]:.1f}-{took[-1]:.1f} s each, "
            f"{len(set(self.versions))} versions); Overview load p50 {self.percentile(50):.2f} s, p95 {self.percentile(95):.2f} s"
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(
    data_dir: Path,
    timeout_s: float = 60,
    env: dict | None = None,
    args: tuple[str, ...] = (),
    log: Path | None = None,
    port: int | None = None,
):
    """``streamlit run`` the dashboard on 127.0.0.1 (``port`` or a free one) over ``data_dir``; yields its URL.

    ``env`` adds environment variables, ``args`` command-line options (``--secrets.files ...``); with ``log``
    the server's output goes to that file and its tail is in the error when the server does not answer.
    """
    port = port or free_port()
    command = [sys.executable, "-m", "streamlit", "run", "dashboard/streamlit_app.py", "--server.headless", "true"]
    command += ["--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false", *args]
    environment = dict(os.environ, LAUNCH_LEDGER_DATA_DIR=str(data_dir), **(env or {}))
    out = log.open("wb") if log else subprocess.DEVNULL
    proc = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    tail = log.read_text(errors="replace")[-2000:] if log else ""
                    raise RuntimeError(f"streamlit did not answer on {url} within {timeout_s:.0f} s {tail}") from None
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        if log:
            out.close()


# Sessions open Overview over the whole history (the default period is the last full month and the month to date):
# from the sidebar's earliest day to today, the demo's launches all lie before it
WHOLE_HISTORY = f"?period={date(2000, 1, 1)}&period={date.today()}"


def figures(data_dir: Path) -> tuple[str, str]:
    """The warehouse's launch count and spend, formatted as Overview shows them over the whole history."""
    from dashboard.formatting import figure
    from warehouse.store import connect

    con = connect(data_dir)
    try:
        launches, spend = con.execute("SELECT count(*), coalesce(sum(total_cost), 0) FROM launches").fetchone()
    finally:
        con.close()
    return figure(launches, "count")[0], figure(spend, "money")[0]


async def _load(page, url: str, session: int, began: float) -> Load:
    start = time.perf_counter()
    try:
        await page.goto(url, wait_until="domcontentloaded", timeout=LOAD_TIMEOUT_MS)
        await page.wait_for_function(SETTLED, arg=QUIET_MS, timeout=LOAD_TIMEOUT_MS, polling=100)
        seen = await page.evaluate(READ_PAGE)
    except Exception as exc:  # a load that does not finish is a finding, not the end of the bench
        return Load(session, start - began, time.perf_counter() - start, None, None, 0, str(exc).splitlines()[0])
    metrics, took = seen["metrics"], seen["loaded_ms"] / 1000  # navigation start to the page first looking finished
    return Load(session, start - began, took, metrics.get("Launches"), metrics.get("Spend"), seen["exceptions"], None, metrics)


async def _session(browser, url: str, n: int, began: float, result: ReadersResult, first: asyncio.Event, stop: dict) -> None:
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    try:
        while True:
            load = await _load(page, url + WHOLE_HISTORY, n, began)
            result.loads.append(load)
            first.set()
            writes_done = stop.get("writes_done")
            if writes_done is not None and load.started_s >= writes_done and time.perf_counter() - began >= stop["until"]:
                return  # the window is over and this session has loaded the last version
    finally:
        await context.close()


async def _write(data_dir: Path, args: list[str], result: ReadersResult) -> None:
    start = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ingest", *args, "--data-dir", str(data_dir), cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await proc.communicate()
    result.writes.append(
        {"args": args, "exit": proc.returncode, "seconds": time.perf_counter() - start, "stderr": err.decode()[-500:]}
    )
    result.versions.append(await asyncio.to_thread(figures, data_dir))


async def _measure(data_dir: Path, writes: list[list[str]], sessions: int, seconds: float, chromium: str) -> ReadersResult:
    from playwright.async_api import async_playwright

    result = ReadersResult(sessions, 0.0, versions=[figures(data_dir)])
    with serve(data_dir) as url:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            began = time.perf_counter()
            stop = {"until": seconds}  # and then each session's load under way, or one after the last write
            firsts = [asyncio.Event() for _ in range(sessions)]
            tasks = [asyncio.create_task(_session(browser, url, n, began, result, firsts[n], stop)) for n in range(sessions)]
            await asyncio.wait_for(asyncio.gather(*(f.wait() for f in firsts)), timeout=LOAD_TIMEOUT_MS / 1000 * 2)
            first_write = time.perf_counter() - began
            gap = max(0.0, (seconds - first_write) / (len(writes) + 1))
            for n, args in enumerate(writes):  # planned at even offsets; a slow write delays only the ones after it
                await asyncio.sleep(max(0.0, first_write + n * gap - (time.perf_counter() - began)))
                await _write(data_dir, args, result)
            stop["writes_done"] = time.perf_counter() - began
            await asyncio.gather(*tasks)
            result.seconds = time.perf_counter() - began
            await browser.close()
    return result


def measure(
    data_dir: Path, writes: list[list[str]], sessions: int = 4, seconds: float = 40, chromium: str = CHROMIUM
) -> ReadersResult:
    """``sessions`` Chromium sessions load Overview for about ``seconds`` while ``writes`` are ingested (see the module)."""
    return asyncio.run(_measure(Path(data_dir), writes, sessions, seconds, chromium))


def demo_world(base: Path, launches: int = 3000, extra: int = 800) -> tuple[Path, list[list[str]]]:
    """A demo warehouse under ``base``, and the writes that add launches to it: one file of another demo export each."""
    from ingest import demo

    data = base / "data"
    subprocess.run(
        [sys.executable, "-m", "ingest", "demo", "--launches", str(launches), "--seed", "11", "--end-date", "2026-10-31"]
        + ["--data-dir", str(data)],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    more = demo.generate(base / "more", launches=extra, seed=23, end_date=date(2026, 10, 31))
    files = sorted(f for f in more.export_dir.rglob("data/*.json.gz") if f.name != demo.BAD_ITEMS_FILE)
    return data, [["dynamodb-export", str(f)] for f in files]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.readers", description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--launches", type=int, default=3000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "readers.json")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-readers-") as tmp:
        data, writes = demo_world(Path(tmp), args.launches)
        result = measure(data, writes, args.sessions, args.seconds)
    print(result.summary())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({**asdict(result), "p50_s": result.percentile(50), "p95_s": result.percentile(95)}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
