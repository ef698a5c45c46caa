"""``make bench`` / ``python -m bench``: speed and memory figures, each beside the obvious alternative.

Prints a table and writes JSON to bench/results/. Nothing here asserts: read the figures.

  ingest      demo export files → warehouse, at each size: launches/s, MB/s (gzip input), peak RSS;
              against per-item boto3 TypeDeserializer + pandas, and the bare parse (gzip + orjson) ceiling
  reingest    the same input again (nothing changed)
  queries     every named query at the largest size (plus --cost-rows rows in costs_daily): p50/p95,
              against the same answer computed in pandas from the same Parquet for the heavy ones
  pages       server-side render of every dashboard page (Streamlit AppTest), first run and cached
  comparisons the Platforms page's like-for-like figures per workflow type: comparison_launches, the
              size-matched bootstrap, what the page waits for (page p50/p95; target 250 ms p95 at 1M), against
              the same rows read in pandas (bench/comparisons.py)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
END_DATE = date(2026, 10, 31)


def measured(args: list[str], cwd: Path = ROOT) -> dict:
    """Run a command in a fresh process; wall seconds and its peak RSS (MB) from GNU time."""
    out = Path(f"/tmp/bench-time-{os.getpid()}.txt")
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", str(out), *args], cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"bench: {' '.join(args[:4])} failed:\n{proc.stderr[-2000:]}")
    return {"seconds": seconds, "peak_rss_mb": int(out.read_text().split()[-1]) / 1024, "stdout": proc.stdout}


def demo_source(work: Path, launches: int) -> Path:
    src = work / f"source-{launches}"
    if not (src / "dynamodb-export").exists():
        from ingest.demo import generate

        generate(src, launches=launches, seed=7, end_date=END_DATE)
    return src


def data_files(src: Path) -> list[str]:
    return sorted(str(p) for p in (src / "dynamodb-export").rglob("data/*.json.gz"))


def bench_ingest(work: Path, sizes: list[int], per_item_max: int) -> tuple[list[dict], Path]:
    rows = []
    warehouse = work / "warehouse"
    for n in sizes:
        src = demo_source(work, n)
        files = data_files(src)
        mb = sum(os.path.getsize(f) for f in files) / 1e6
        shutil.rmtree(warehouse, ignore_errors=True)
        py = [sys.executable, "-m"]
        full = measured([*py, "ingest", "dynamodb-export", str(src / "dynamodb-export"), "--data-dir", str(warehouse)])
        again = measured([*py, "ingest", "dynamodb-export", str(src / "dynamodb-export"), "--data-dir", str(warehouse)])
        ceiling = measured([*py, "bench.parse_baselines", "ceiling", *files])
        row = {
            "launches": n,
            "input_mb_gzip": round(mb, 1),
            "ingest_s": round(full["seconds"], 2),
            "ingest_launches_per_s": round(n / full["seconds"]),
            "ingest_mb_per_s": round(mb / full["seconds"], 1),
            "ingest_peak_rss_mb": round(full["peak_rss_mb"]),
            "reingest_unchanged_s": round(again["seconds"], 2),
            "reingest_share_of_full": round(again["seconds"] / full["seconds"], 2),
            "ceiling_parse_s": round(ceiling["seconds"], 2),
            "ceiling_launches_per_s": round(n / ceiling["seconds"]),
            "warehouse_mb": round(sum(f.stat().st_size for f in (warehouse / "warehouse").rglob("*.parquet")) / 1e6, 1),
        }
        if n <= per_item_max:
            per_item = measured([*py, "bench.parse_baselines", "per-item", *files])
            row |= {
                "per_item_s": round(per_item["seconds"], 2),
                "per_item_launches_per_s": round(n / per_item["seconds"]),
                "per_item_peak_rss_mb": round(per_item["peak_rss_mb"]),
                "speedup_vs_per_item": round(per_item["seconds"] / full["seconds"], 1),
            }
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows, warehouse


def bench_jobs(work: Path, warehouse: Path, size: int) -> list[dict]:
    """The jobs after a launch ingest, on the largest warehouse: bill, prices, pricing, backtest."""
    src = demo_source(work, size)
    py = [sys.executable, "-m", "ingest"]
    steps = {
        "cost-explorer (saved responses)": [*py, "cost-explorer", "--responses", str(src / "cost-explorer")],
        "prices --offline (+ Spot history)": [*py, "prices", "--offline", "--spot-responses", str(src / "spot-price-history")],
        "price-launches": [*py, "price-launches"],
        "backtest": [*py, "backtest"],
    }
    rows = []
    for name, args in steps.items():
        run = measured([*args, "--data-dir", str(warehouse)])
        rows.append(
            {"job": name, "launches": size, "seconds": round(run["seconds"], 2), "peak_rss_mb": round(run["peak_rss_mb"])}
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


def add_cost_rows(data_dir: Path, rows: int) -> None:
    """Replace costs_daily with ``rows`` synthetic daily rows (730 days × accounts × services × consumers)."""
    from warehouse.store import WarehouseWriter, new_run_id

    with WarehouseWriter(data_dir, new_run_id(), memory_limit="2GB") as w:
        w.write_partitions(
            "costs_daily",
            f"""SELECT d::DATE AS usage_date, date_trunc('month', d)::DATE AS usage_month,
                       lpad(CAST(i % 50 AS VARCHAR), 12, '0') AS account_id, 'service-' || (i % 40) AS service,
                       'consumer' AS tag_key, CASE WHEN i % 9 = 0 THEN NULL ELSE 'consumer-' || (i % 9) END AS consumer,
                       CAST(random() * 100 AS DECIMAL(18,6)) AS unblended_cost,
                       CAST(random() * 100 AS DECIMAL(18,6)) AS amortized_cost,
                       CAST(random() * 95 AS DECIMAL(18,6)) AS net_amortized_cost, random() * 10 AS usage_quantity,
                       'USD' AS currency, false AS estimated, 'bench' AS source, 'bench' AS ingest_run_id,
                       CAST(random() * 100 AS DECIMAL(18,6)) AS billed_cost,
                       CAST(random() * 95 AS DECIMAL(18,6)) AS effective_cost,
                       NULL AS list_cost, 'Usage' AS charge_category, NULL AS resource_id, NULL AS tags,
                       NULL AS split_parent_resource_id, NULL AS split_cost, NULL AS split_unused_cost, 'AWS' AS provider
                FROM range({rows}) t(i), LATERAL (SELECT DATE '{END_DATE}' - CAST(i % 730 AS INTEGER) AS d)""",
        )
        w.commit()


def _timed(fn, repeat: int) -> dict:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {"p50_ms": round(statistics.median(times), 1), "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 1)}


def query_calls(con, everything, month: date) -> dict[str, Callable[[], object]]:
    """Every named query of the registry, called as its page calls it: the whole history in scope, ``month`` for a statement."""
    import queries as q
    from estimates.estimator import EstimatorSettings

    options = {"estimate_history": {"recent_per_group": EstimatorSettings().history_per_group}}
    workflow_types = q.filter_options(con).workflow_types  # the Platforms page asks for one workflow type's launches
    options["comparison_launches"] = {"workflow_type": workflow_types[0] if workflow_types else ""}
    return {
        name: (lambda query=query: query.call(con, everything, month, **options.get(query.name, {})))
        for name, query in q.REGISTRY.items()
    }


def bench_queries(data_dir: Path, repeat: int) -> list[dict]:
    import queries as q
    from bench import pandas_baselines
    from warehouse.store import connect

    con = connect(data_dir)
    options = q.filter_options(con)
    everything = q.Filters(options.first_day, options.last_day)
    last_full_month = (options.last_day.replace(day=1) - timedelta(days=1)).replace(day=1)
    calls = query_calls(con, everything, last_full_month)
    baselines = pandas_baselines.baselines(data_dir, everything)
    rows = []
    for name, call in calls.items():
        call()  # warm: the first call reads Parquet metadata
        row = {"query": name, **_timed(call, repeat)}
        if name in baselines:
            pandas = _timed(baselines[name], max(3, repeat // 5))
            row |= {"pandas_p50_ms": pandas["p50_ms"], "speedup_vs_pandas": round(pandas["p50_ms"] / row["p50_ms"], 1)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def bench_pages(data_dir: Path) -> list[dict]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    os.environ["LAUNCH_LEDGER_DATA_DIR"] = str(data_dir)
    from dashboard.router import PAGES

    pages = [p.name for p in PAGES]
    rows = []
    for page in pages:
        at = AppTest.from_file(str(ROOT / "dashboard" / "streamlit_app.py"), default_timeout=120)
        at.run()  # the router's first run (default page) warms imports and the connection
        st.cache_data.clear()  # so the page's queries really run
        start = time.perf_counter()
        at.switch_page(f"app_pages/{page}.py").run()
        first = time.perf_counter() - start
        start = time.perf_counter()
        at.run()
        cached = time.perf_counter() - start
        failed = [e.value for e in at.exception]
        rows.append({"page": page, "first_render_s": round(first, 2), "cached_render_s": round(cached, 2), "errors": failed})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def bench_readers(work: Path) -> dict:
    """Four Chromium sessions load Overview while ingests commit (bench/readers.py): loads and their p50/p95."""
    from bench import readers

    data, writes = readers.demo_world(work / "readers")
    result = readers.measure(data, writes)
    return {
        "sessions": result.sessions,
        "seconds": round(result.seconds, 1),
        "page_loads": len(result.loads),
        "failed_loads": sum(1 for x in result.loads if x.error or x.exceptions),
        "p50_s": round(result.percentile(50), 2),
        "p95_s": round(result.percentile(95), 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100000,1000000", help="launch counts to ingest (comma-separated)")
    parser.add_argument(
        "--per-item-max",
        type=int,
        default=1_000_000,
        help="largest size to run the slow per-item baseline at (1M: ~100 s, ~7 GB)",
    )
    parser.add_argument("--cost-rows", type=int, default=10_000_000, help="rows of costs_daily for the query benchmark")
    parser.add_argument("--repeat", type=int, default=20, help="runs per query")
    parser.add_argument(
        "--work", type=Path, default=Path("/tmp/launch-ledger-bench"), help="scratch folder (demo sources are kept)"
    )
    parser.add_argument("--skip", default="", help="sections to skip: ingest,queries,pages,comparisons,seqera,readers")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    sizes = [int(s) for s in args.sizes.split(",")]
    skip = set(filter(None, args.skip.split(",")))
    args.work.mkdir(parents=True, exist_ok=True)
    result: dict = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": f"{os.cpu_count()} cores", "sizes": sizes}

    warehouse = args.work / "warehouse"
    if "ingest" not in skip:
        result["ingest"], warehouse = bench_ingest(args.work, sizes, args.per_item_max)
        result["jobs"] = bench_jobs(args.work, warehouse, sizes[-1])
    if not (warehouse / "warehouse" / "manifest.json").exists():
        raise SystemExit(f"bench: no warehouse at {warehouse}; run without --skip ingest first")
    if "queries" not in skip or "pages" not in skip:
        add_cost_rows(warehouse, args.cost_rows)
    if "queries" not in skip:
        result["queries"] = bench_queries(warehouse, args.repeat)
    if "pages" not in skip:
        result["pages"] = bench_pages(warehouse)
    if "comparisons" not in skip:
        from bench.comparisons import bench_comparisons

        result["comparisons"] = bench_comparisons(warehouse, args.repeat)
    if "seqera" not in skip:
        from bench.seqera import bench_seqera

        result["seqera"] = [bench_seqera(args.work)]
        print(json.dumps(result["seqera"][0]), flush=True)
    if "readers" not in skip:
        result["readers"] = [bench_readers(args.work)]
        print(json.dumps(result["readers"][0]), flush=True)

    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"bench-{result['when'].replace(':', '')}.json"
    path.write_text(json.dumps(result, indent=1))
    print_tables(result)
    print(f"\nwritten: {path}")
    return 0


def print_tables(result: dict) -> None:
    def table(rows: list[dict], columns: list[str]) -> None:
        rows = [{c: r.get(c, "") for c in columns} for r in rows]
        widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
        print("  ".join(c.ljust(widths[c]) for c in columns))
        for r in rows:
            print("  ".join(str(r[c]).ljust(widths[c]) for c in columns))

    if "ingest" in result:
        print("\nIngest of DynamoDB export files (gzip DynamoDB JSON)")
        table(
            result["ingest"],
            [
                "launches",
                "input_mb_gzip",
                "ingest_s",
                "ingest_launches_per_s",
                "ingest_mb_per_s",
                "ingest_peak_rss_mb",
                "reingest_unchanged_s",
                "ceiling_launches_per_s",
                "per_item_launches_per_s",
                "per_item_peak_rss_mb",
                "speedup_vs_per_item",
                "warehouse_mb",
            ],
        )
    if "jobs" in result:
        print("\nJobs after the launch ingest (largest size)")
        table(result["jobs"], ["job", "launches", "seconds", "peak_rss_mb"])
    if "queries" in result:
        print("\nNamed queries (largest size; ms)")
        table(result["queries"], ["query", "p50_ms", "p95_ms", "pandas_p50_ms", "speedup_vs_pandas"])
    if "comparisons" in result:
        print("\nLike for like on Platforms (per workflow type, largest size; ms)")
        columns = ["workflow_type", "launches_compared", "sides", "query_p50_ms", "query_p95_ms", "bootstrap_p50_ms"]
        columns += ["bootstrap_p95_ms", "page_p50_ms", "page_p95_ms", "pandas_p50_ms", "query_speedup_vs_pandas"]
        columns += ["page_speedup_vs_pandas", "page_p95_under_250_ms", "opening_launches"]
        columns += ["opening_page_p50_ms", "opening_page_p95_ms"]
        table(result["comparisons"], columns)
    if "pages" in result:
        print("\nPages, server-side render (AppTest; s)")
        table(result["pages"], ["page", "first_render_s", "cached_render_s", "errors"])
    if "seqera" in result:
        print("\nSeqera runs (1,000 runs x 300 tasks)")
        table(result["seqera"], ["runs", "tasks", "seconds", "tasks_per_s", "peak_rss_mb", "reingest_unchanged_seconds"])
        print("\nTask view per process on that warehouse (process_tasks; ms), against a pandas groupby of the same rows")
        columns = ["task_view_run_tasks", "task_view_run_p50_ms", "task_view_run_p95_ms", "task_view_type_tasks"]
        columns += ["task_view_type_p50_ms", "task_view_type_p95_ms", "pandas_type_p50_ms", "task_view_type_vs_pandas"]
        table(result["seqera"], columns)
    if "readers" in result:
        print("\nDashboard sessions while ingests commit (headless Chromium, loopback)")
        table(result["readers"], ["sessions", "seconds", "page_loads", "failed_loads", "p50_s", "p95_s"])


if __name__ == "__main__":
    sys.exit(main())
