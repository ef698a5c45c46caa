"""The dispatch table: every command, the options it adds, and the small function that runs it.

A run function takes the parsed options and the settings, puts the options on top of the settings,
and calls the package that owns the work. Job modules are imported inside the run functions, so a
quick command (``--help``, ``close-month``) starts without loading boto3 or the demo generator.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from core import aws
from core.errors import ConfigError
from core.months import parse_month
from core.settings import Settings


@dataclass(frozen=True)
class Command:
    name: str
    help: str  # one line, in the command list
    description: str  # the command's own --help
    arguments: Callable[[argparse.ArgumentParser], None]  # adds the command's own options
    run: Callable[[argparse.Namespace, Settings], object]
    options: tuple[str, ...] = ("common", "aws")  # shared option groups: --config/--data-dir, --profile/--region/...


def month_argument(text: str) -> date:
    try:
        return parse_month(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _session(args):
    """A boto3 session for --profile/--region, or None for the default credential chain."""
    return aws.make_session(args.profile, args.region) if (args.profile or args.region) else None


def _at_least_one(value: int, option: str) -> None:
    if value < 1:
        raise ConfigError(f"{option} must be at least 1")


def _cost_explorer(settings: Settings, args) -> Settings:
    """``[cost_explorer]`` with the command line's tag key, profile, region and endpoint on top."""
    cfg = settings.cost_explorer_for(args.tag_key)
    cfg = replace(
        cfg,
        profile=args.profile or cfg.profile,
        region=args.region or cfg.region,
        endpoint_url=args.endpoint_url or cfg.endpoint_url,
    )
    return replace(settings, cost_explorer=cfg)


# --- dynamodb --------------------------------------------------------------------------------------


def _dynamodb_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--table", help="table name (default from config: workflow-launches)")
    p.add_argument("--segments", type=int, help="parallel scan segments (default 4)")
    p.add_argument("--full", action="store_true", help="re-parse every page, even pages unchanged since the last scan")


def _table_options(args, ddb):
    """``[dynamodb]`` with the table, region, profile and endpoint the command line gives in place of the config's."""
    return replace(
        ddb,
        table=args.table or ddb.table,
        region=args.region or ddb.region,
        profile=args.profile or ddb.profile,
        endpoint_url=args.endpoint_url or ddb.endpoint_url,
    )


def _dynamodb(args, settings: Settings):
    from ingest.dynamodb import jobs

    ddb = _table_options(args, settings.dynamodb)
    ddb = replace(ddb, segments=args.segments or ddb.segments)
    _at_least_one(ddb.segments, "--segments")
    return jobs.ingest_dynamodb(replace(settings, dynamodb=ddb), full=args.full)


def _export_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("location", help="export folder, a data file, or s3://bucket/prefix")
    p.add_argument("--full", action="store_true", help="read every file, even files unchanged since they were loaded")


def _export(args, settings: Settings):
    from ingest.dynamodb import jobs

    return jobs.ingest_dynamodb_export(settings, args.location, _session(args), full=args.full)


def _check_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("location", nargs="?", help="export folder, a data file, or s3://bucket/prefix (default: scan the table)")
    p.add_argument("--table", help="sample the table instead (default from config: workflow-launches)")
    p.add_argument("--sample", type=int, default=100, metavar="N", help="items to read (default 100)")


def _check(args, settings: Settings):
    from ingest.dynamodb.check import check_source

    _at_least_one(args.sample, "--sample")
    if args.location and args.table:
        raise ConfigError("give an export LOCATION or --table, not both")
    ddb = _table_options(args, settings.dynamodb)
    session = _session(args) if args.location else aws.make_session(ddb.profile, ddb.region)
    return check_source(replace(settings, dynamodb=ddb), args.location, args.sample, session)


# --- Cost Explorer ---------------------------------------------------------------------------------


def _cost_explorer_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--start", type=date.fromisoformat, help="first day (YYYY-MM-DD; default: where the final range starts)")
    p.add_argument("--end", type=date.fromisoformat, help="day after the last (default today)")
    p.add_argument("--trailing-days", type=int, help="recent days always pulled again (default 14)")
    p.add_argument("--tag-key", help="cost-allocation tag naming the consumer (default: [consumer] tag of the allocation rules)")
    p.add_argument("--responses", type=Path, help="load saved GetCostAndUsage response files (*.json) instead of calling AWS")


def _cost_explorer_run(args, settings: Settings):
    from ingest.cost_explorer import jobs

    settings = _cost_explorer(settings, args)
    if args.trailing_days is not None:
        settings = replace(settings, cost_explorer=replace(settings.cost_explorer, trailing_days=args.trailing_days))
    if args.start and args.end and args.start >= args.end:
        raise ConfigError(f"--start {args.start} must be before --end {args.end}")
    return jobs.ingest_cost_explorer(settings, args.start, args.end, args.responses)


def _forecast_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--months", type=int, default=3, help="whole months after this one to forecast (default 3)")
    p.add_argument("--metric", default="UNBLENDED_COST", help="UNBLENDED_COST (default), NET_AMORTIZED_COST, AMORTIZED_COST, ...")
    p.add_argument("--tag-key", help="cost-allocation tag naming the consumer (default: [consumer] tag of the allocation rules)")
    p.add_argument(
        "--consumer", action="append", help="forecast only this tag value (repeatable; default: every consumer billed lately)"
    )


def _forecast(args, settings: Settings):
    from ingest.cost_explorer import jobs

    settings = _cost_explorer(settings, args)
    return jobs.pull_forecasts(settings, metric=args.metric.upper(), months=args.months, consumers=args.consumer)


# --- billing exports -------------------------------------------------------------------------------


def _export_file_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("location", help="export file, folder of export files, or s3://bucket/prefix")
    p.add_argument(
        "--month",
        action="append",
        type=month_argument,
        metavar="YYYY-MM",
        help="load only this billing month (repeatable); the scan skips the rest of the export",
    )
    p.add_argument("--tag-key", help="cost-allocation tag naming the consumer (default: [consumer] tag of the allocation rules)")


def _billing_export(args, settings: Settings):
    from ingest.billing_exports import ingest_export

    return ingest_export(settings, args.command, args.location, args.month, args.tag_key, _session(args), args.endpoint_url)


# --- demo and prices -------------------------------------------------------------------------------


def _demo_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--launches", type=int, default=20_000, help="launches to generate (default 20,000)")
    p.add_argument("--seed", type=int, default=7, help="random seed (same seed, same history)")
    p.add_argument("--end-date", type=date.fromisoformat, help="last day of the history (default yesterday)")
    p.add_argument("--source-dir", type=Path, help="where to write the wire-format files (default <data-dir>/demo-source)")


def _demo(args, settings: Settings):
    from ingest.cost_explorer import jobs as cost_explorer
    from ingest.demo import generate
    from ingest.demo.tasks import load_demo_tasks
    from ingest.dynamodb import jobs as dynamodb
    from ingest.prices import fetch_prices
    from pricing.jobs import price_launches

    _at_least_one(args.launches, "--launches")
    source_dir = args.source_dir or settings.data_dir / "demo-source"
    print(f"writing {args.launches:,} demo launches (seed {args.seed}) to {source_dir} ...", file=sys.stderr)
    files = generate(source_dir, launches=args.launches, seed=args.seed, end_date=args.end_date)
    dynamodb.ingest_dynamodb_export(settings, str(files.export_dir))
    load_demo_tasks(settings, args.seed)  # task records for a share of the Nextflow runs (the Right-sizing page)
    cost_explorer.ingest_cost_explorer(settings, responses_dir=files.cost_explorer_dir)
    fetch_prices(settings, offline=True, spot_responses=files.spot_history_dir)
    return price_launches(settings)


def _prices_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--offline", action="store_true", help="use the offline snapshot only (no AWS calls)")
    p.add_argument(
        "--spot-responses",
        type=Path,
        metavar="DIR",
        help="also load saved DescribeSpotPriceHistory response files (*.json, e.g. the demo's spot-price-history)",
    )


def _prices(args, settings: Settings):
    from ingest.prices import fetch_prices

    pricing = replace(settings.pricing, profile=args.profile or settings.pricing.profile)
    return fetch_prices(
        replace(settings, pricing=pricing), offline=args.offline, session=_session(args), spot_responses=args.spot_responses
    )


def _price_launches(args, settings: Settings):
    from pricing.jobs import price_launches

    return price_launches(settings)


# --- estimates and chargeback ----------------------------------------------------------------------


def _backtest_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--months", type=int, default=12, help="launch months to backtest, the latest first (default 12)")


def _backtest(args, settings: Settings):
    from estimates.jobs import run_backtest

    _at_least_one(args.months, "--months")
    return run_backtest(settings, months=args.months)


def _anomalies_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--months", type=int, default=12, help="months to look for anomalies in, the latest first (default 12)")


def _anomalies(args, settings: Settings):
    from estimates.anomalies.jobs import run_anomalies

    _at_least_one(args.months, "--months")
    return run_anomalies(settings, months=args.months)


def _close_month_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("month", type=month_argument, metavar="YYYY-MM", help="the month to close, e.g. 2026-10")
    p.add_argument("--rules", help="allocation rules TOML (default: [allocation] rules in the config, or allocation-rules.toml)")


def _close_month(args, settings: Settings):
    from chargeback.closing import close_month
    from chargeback.rules import load_rules, rules_for

    return close_month(settings, args.month, load_rules(args.rules) if args.rules else rules_for(settings))


def _statements_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("month", type=month_argument, metavar="YYYY-MM", help="the month, e.g. 2026-10 (closed: its frozen snapshot)")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder to write the files into (created)")
    p.add_argument("--format", default="pdf,xlsx,csv", help="pdf, xlsx and/or csv, comma-separated (default all three)")
    p.add_argument("--rules", help="allocation rules TOML (default: [allocation] rules in the config, or allocation-rules.toml)")


def _statements(args, settings: Settings):
    from chargeback.rules import load_rules, rules_for
    from chargeback.statements import parse_formats, write_statements
    from warehouse.store import connect

    rules = load_rules(args.rules) if args.rules else rules_for(settings)
    written = write_statements(connect(settings.data_dir), args.month, rules, args.out, parse_formats(args.format))
    print(written.text())
    return written


def _budgets_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--check", action="store_true", help="print only the budgets at risk; exit 1 when one is forecast to overrun")
    p.add_argument("--json", action="store_true", help="print a JSON document (money as strings) a webhook can take")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--month", type=month_argument, metavar="YYYY-MM", help="as of that month's last day")
    when.add_argument(
        "--as-of", type=date.fromisoformat, metavar="DATE", help="as of this day (default: the last day launches are held)"
    )


def _budgets(args, settings: Settings):
    from estimates.budgets.jobs import as_of_for, run_check
    from warehouse.store import connect

    return run_check(settings, connect(settings.data_dir), args.check, args.json, as_of_for(args.month, args.as_of))


# --- Seqera Platform --------------------------------------------------------------------------------


def _seqera_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "paths", nargs="+", metavar="PATH", help="tw runs dump archive (.tar.gz, .tar.xz), its folder, API run JSON, or a folder"
    )
    p.add_argument("--full", action="store_true", help="read every file, even files unchanged since they were loaded")


def _seqera(args, settings: Settings):
    from ingest.seqera import ingest_seqera

    return ingest_seqera(settings, args.paths, full=args.full)


# --- Nextflow traces -------------------------------------------------------------------------------


def _nextflow_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH", help="trace file (nextflow run -with-trace), or a folder of them")
    run = p.add_argument_group("the run", "what the trace lacks; beats the trace's sidecar TOML (see README)")
    run.add_argument("--consumer", help="who ran it: team, project or cost centre (required)")
    run.add_argument("--workflow-type", help="e.g. nf-core/rnaseq (required)")
    run.add_argument("--platform", help="EC2, Batch, ParallelCluster, EKS or OnPremHPC (required)")
    run.add_argument("--run-id", help="the launch id (default: derived from the file's path and its first submit)")
    run.add_argument("--region", help="AWS region it ran in (needed with --instance-type)")
    run.add_argument("--instance-type", help="what every task ran on (m5.2xlarge): one priced instance line per task attempt")
    run.add_argument("--purchase-option", help="Spot, On-Demand or Reserved (default: priced On-Demand)")
    run.add_argument("--availability-zone", help="where it ran (us-east-1a), for Spot prices")
    run.add_argument("--input-path", help="where the input data set lives (s3://...)")
    run.add_argument("--input-size-gb", type=float, help="size of the input data set in GB")
    run.add_argument("--sample-count", type=int, help="samples in the input")
    run.add_argument("--timezone", help="of the machine that ran Nextflow: human trace dates are its local time (default UTC)")


def _nextflow(args, settings: Settings):
    from ingest.nextflow.jobs import ingest_nextflow
    from ingest.nextflow.options import KEYS, RunOptions

    return ingest_nextflow(settings, args.paths, RunOptions(**{k: getattr(args, k) for k in KEYS}))


def _no_arguments(p: argparse.ArgumentParser) -> None:
    return None


COMMANDS: tuple[Command, ...] = (
    Command(
        "nextflow",
        "load Nextflow trace files (one launch per run)",
        "Load Nextflow trace files (nextflow run -with-trace; any trace.fields, human or trace.raw numbers): one launch "
        "per run, its tasks in launch_tasks. What a trace lacks (consumer, workflow type, platform, instance type, ...) "
        "comes from these options or a TOML file beside the trace.",
        _nextflow_arguments,
        _nextflow,
        options=("common",),
    ),
    Command(
        "dynamodb",
        "scan the launches table",
        "Scan the workflow manager's launches table (paginated, parallel segments).",
        _dynamodb_arguments,
        _dynamodb,
    ),
    Command(
        "dynamodb-export",
        "load a DynamoDB export to S3",
        "Load the gzip DynamoDB JSON files of an 'export to S3', from a local path or s3://.",
        _export_arguments,
        _export,
    ),
    Command(
        "dynamodb-check",
        "show how the configured attributes map onto a sample of items",
        "Read a sample of launch items (an export LOCATION, or the table with --table) and print, for each setting of "
        "[dynamodb.attributes] and [dynamodb.shapes]: in how many items it was found, the DynamoDB type or shape found, "
        "an example, and a hint when it is missing or of another shape; then how many of the sampled items would load "
        "and why the others would not. Writes nothing. Exit code 2 when none would load.",
        _check_arguments,
        _check,
    ),
    Command(
        "cost-explorer",
        "pull daily spend from Cost Explorer",
        "GetCostAndUsage, DAILY, grouped by the consumer tag and SERVICE. Each request costs $0.01: days already "
        "final are never asked for again; the trailing window is.",
        _cost_explorer_arguments,
        _cost_explorer_run,
    ),
    Command(
        "demo",
        "write and load a synthetic history",
        "Write a realistic synthetic history in the real wire formats (DynamoDB export files, Cost Explorer "
        "responses), then load it through the same code as real sources.",
        _demo_arguments,
        _demo,
        options=("common",),
    ),
    Command(
        "prices",
        "fetch unit prices (Price List, Spot history)",
        "Load the offline price snapshot, then fetch the list prices (Price List GetProducts) and Spot price history "
        "the launches need and the warehouse lacks. A price point is never fetched twice.",
        _prices_arguments,
        _prices,
    ),
    Command(
        "price-launches",
        "compute every launch's cost from its resources",
        "Price every launch from launch_resources + prices into launch_costs (PENDING / ESTIMATED / FINAL). "
        "Idempotent: the table is recomputed whole.",
        _no_arguments,
        _price_launches,
        options=("common",),
    ),
    Command(
        "backtest",
        "score the run estimator month by month",
        "For each of the last N launch months, learn from the launches before it and estimate its launches: MdAPE "
        "and 80%-interval coverage of the model and two baselines (group median, nearest neighbours), for cost and "
        "duration. Stored in backtest_results (the Estimates page shows it).",
        _backtest_arguments,
        _backtest,
        options=("common",),
    ),
    Command(
        "anomalies",
        "find unusual launches and consumer-months",
        "Launches of the last N months whose cost or hours fall outside the estimator's 95% interval for their size "
        "(judged by an estimator learnt from the other months), and consumer-months whose spend falls outside the "
        "spend forecast's 95% interval (forecast from the months before). Stored in anomalies, replacing the last "
        "run's (Overview and Data health list them).",
        _anomalies_arguments,
        _anomalies,
        options=("common",),
    ),
    Command(
        "forecast",
        "pull Cost Explorer's spend forecast per consumer",
        "GetCostForecast (MONTHLY, 80% prediction interval) filtered on each consumer tag value, for the rest of this "
        "month and the next N months, into cost_forecasts; printed beside Launch Ledger's own forecast. One request "
        "per consumer: $0.01 each.",
        _forecast_arguments,
        _forecast,
    ),
    Command(
        "focus",
        "load a FOCUS 1.x billing export (CSV or Parquet)",
        "Load a FOCUS 1.x export (CSV or Parquet; a file, a folder or s3://bucket/prefix) into costs_daily: hourly "
        "rows rolled up to days, Tags parsed, EffectiveCost, BilledCost and ListCost kept. Re-importing a billing "
        "month replaces that month's FOCUS rows.",
        _export_file_arguments,
        _billing_export,
    ),
    Command(
        "cur",
        "load a CUR 2.0 export (Parquet)",
        "Load an AWS Cost and Usage Report 2.0 export (Parquet; a file, a folder or s3://bucket/prefix) into "
        "costs_daily: hourly line items rolled up to days, resource tags parsed, amortized (effective) and unblended "
        "(billed) cost kept, with the split cost allocation columns for ECS/Batch and EKS when present.",
        _export_file_arguments,
        _billing_export,
    ),
    Command(
        "budgets",
        "budgets per consumer or tag: spend to date, forecast, chance of overrunning",
        "Each budget of the budgets file ([budgets] file) with a period running on the as-of day: spent to date, the "
        "forecast to the period's end with its 80% interval, the chance of overrunning and its status. --check prints "
        "only those at risk and exits 1 when one is forecast to overrun (over already, or its chance at least "
        "[budgets] alert_chance, default 0.5: the forecast's median exceeds the budget), 0 otherwise; 2 on a bad budgets file.",
        _budgets_arguments,
        _budgets,
        options=("common",),
    ),
    Command(
        "seqera",
        "load Seqera Platform runs (tw runs dump, API JSON)",
        "Load Seqera Platform runs: tw runs dump archives (.tar.gz, .tar.xz), their unpacked folders or the Platform "
        "API's run JSON (workflow, tasks, progress). One launch per run, priced by Seqera (price_source seqera), and "
        "one launch_tasks row per task, failed and retried ones included.",
        _seqera_arguments,
        _seqera,
        options=("common",),
    ),
    Command(
        "close-month",
        "freeze a month's chargeback statement",
        "Freeze the month's chargeback statement in closed_statements (append-only). A closed statement never "
        "changes: later restatements of its bill are charged as adjustment lines in the first open month. Months "
        "close in order, once each, after they have ended.",
        _close_month_arguments,
        _close_month,
        options=("common",),
    ),
    Command(
        "statements",
        "write every consumer's statement of a month (PDF, XLSX, CSV)",
        "Write the month's statement as files: one per consumer and format with only its lines, one for the lines "
        "charged to nobody, and the summary; together they add up to the statement total, to the cent. A closed month "
        "comes from its frozen snapshot; an open month is computed now and every file says so.",
        _statements_arguments,
        _statements,
        options=("common",),
    ),
)
