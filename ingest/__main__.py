"""``python -m ingest <command>``: the command line, and only that."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

from ingest.config import load_settings
from ingest.errors import LedgerError

EPILOG = "Settings come from --config, $LAUNCH_LEDGER_CONFIG or ./launch-ledger.toml; see README.md."


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", help="TOML settings file (attribute names, table, tag key, ...)")
    common.add_argument("--data-dir", help="warehouse folder (default $LAUNCH_LEDGER_DATA_DIR or ./data)")
    aws = argparse.ArgumentParser(add_help=False)
    aws.add_argument("--profile", help="AWS named profile")
    aws.add_argument("--region", help="AWS region")
    aws.add_argument("--endpoint-url", help="a local endpoint (DynamoDB Local, moto server)")

    parser = argparse.ArgumentParser(
        prog="python -m ingest",
        description="Load workflow launches and Cost Explorer spend into the Launch Ledger warehouse.",
        epilog=EPILOG,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")

    p = sub.add_parser("dynamodb", parents=[common, aws], help="scan the launches table", epilog=EPILOG,
                       description="Scan the workflow manager's launches table (paginated, parallel segments).")  # fmt: skip
    p.add_argument("--table", help="table name (default from config: workflow-launches)")
    p.add_argument("--segments", type=int, help="parallel scan segments (default 4)")
    p.add_argument("--full", action="store_true", help="re-parse every page, even pages unchanged since the last scan")

    p = sub.add_parser("dynamodb-export", parents=[common, aws], help="load a DynamoDB export to S3", epilog=EPILOG,
                       description="Load the gzip DynamoDB JSON files of an 'export to S3', from a local path or s3://.")  # fmt: skip
    p.add_argument("location", help="export folder, a data file, or s3://bucket/prefix")
    p.add_argument("--full", action="store_true", help="read every file, even files unchanged since they were loaded")

    p = sub.add_parser("cost-explorer", parents=[common, aws], help="pull daily spend from Cost Explorer", epilog=EPILOG,
                       description="GetCostAndUsage, DAILY, grouped by the consumer tag and SERVICE. Each request "
                       "costs $0.01: days already final are never asked for again; the trailing window is.")  # fmt: skip
    p.add_argument("--start", type=date.fromisoformat, help="first day (YYYY-MM-DD; default: where the final range starts)")
    p.add_argument("--end", type=date.fromisoformat, help="day after the last (default today)")
    p.add_argument("--trailing-days", type=int, help="recent days always pulled again (default 14)")
    p.add_argument("--tag-key", help="cost-allocation tag naming the consumer (default consumer)")
    p.add_argument("--responses", type=Path, help="load saved GetCostAndUsage response files (*.json) instead of calling AWS")

    p = sub.add_parser("demo", parents=[common], help="write and load a synthetic history", epilog=EPILOG,
                       description="Write a realistic synthetic history in the real wire formats (DynamoDB export "
                       "files, Cost Explorer responses), then load it through the same code as real sources.")  # fmt: skip
    p.add_argument("--launches", type=int, default=20_000, help="launches to generate (default 20,000)")
    p.add_argument("--seed", type=int, default=7, help="random seed (same seed, same history)")
    p.add_argument("--end-date", type=date.fromisoformat, help="last day of the history (default yesterday)")
    p.add_argument("--source-dir", type=Path, help="where to write the wire-format files (default <data-dir>/demo-source)")

    p = sub.add_parser("prices", parents=[common, aws], help="fetch unit prices (Price List, Spot history)", epilog=EPILOG,
                       description="Load the offline price snapshot, then fetch the list prices (Price List GetProducts) "
                       "and Spot price history the launches need and the warehouse lacks. A price point is never fetched twice.")  # fmt: skip
    p.add_argument("--offline", action="store_true", help="use the offline snapshot only (no AWS calls)")
    p.add_argument("--spot-responses", type=Path, metavar="DIR",
                   help="also load saved DescribeSpotPriceHistory response files (*.json, e.g. the demo's spot-price-history)")  # fmt: skip

    sub.add_parser("price-launches", parents=[common], help="compute every launch's cost from its resources", epilog=EPILOG,
                   description="Price every launch from launch_resources + prices into launch_costs "
                   "(PENDING / ESTIMATED / FINAL). Idempotent: the table is recomputed whole.")  # fmt: skip

    p = sub.add_parser("backtest", parents=[common], help="score the run estimator month by month", epilog=EPILOG,
                       description="For each of the last N launch months, learn from the launches before it and estimate "
                       "its launches: MdAPE and 80%-interval coverage of the model and two baselines (group median, nearest "
                       "neighbours), for cost and duration. Stored in backtest_results (the Estimates page shows it).")  # fmt: skip
    p.add_argument("--months", type=int, default=12, help="launch months to backtest, the latest first (default 12)")

    p = sub.add_parser("forecast", parents=[common, aws], help="pull Cost Explorer's spend forecast per consumer", epilog=EPILOG,
                       description="GetCostForecast (MONTHLY, 80% prediction interval) filtered on each consumer tag value, "
                       "for the rest of this month and the next N months, into cost_forecasts; printed beside Launch Ledger's "
                       "own forecast. One request per consumer: $0.01 each.")  # fmt: skip
    p.add_argument("--months", type=int, default=3, help="whole months after this one to forecast (default 3)")
    p.add_argument("--metric", default="UNBLENDED_COST", help="UNBLENDED_COST (default), NET_AMORTIZED_COST, AMORTIZED_COST, ...")
    p.add_argument("--tag-key", help="cost-allocation tag naming the consumer (default consumer)")
    p.add_argument("--consumer", action="append", help="forecast only this tag value (repeatable; default: every consumer billed lately)")

    for name, what, description in (
        ("focus", "load a FOCUS 1.x billing export (CSV or Parquet)",
         "Load a FOCUS 1.x export (CSV or Parquet; a file, a folder or s3://bucket/prefix) into costs_daily: hourly "
         "rows rolled up to days, Tags parsed, EffectiveCost, BilledCost and ListCost kept. Re-importing a billing month "
         "replaces that month's FOCUS rows."),
        ("cur", "load a CUR 2.0 export (Parquet)",
         "Load an AWS Cost and Usage Report 2.0 export (Parquet; a file, a folder or s3://bucket/prefix) into costs_daily: "
         "hourly line items rolled up to days, resource tags parsed, amortized (effective) and unblended (billed) cost kept, "
         "with the split cost allocation columns for ECS/Batch and EKS when present."),
    ):  # fmt: skip
        p = sub.add_parser(name, parents=[common, aws], help=what, epilog=EPILOG, description=description)
        p.add_argument("location", help="export file, folder of export files, or s3://bucket/prefix")
        p.add_argument("--month", action="append", type=_month_arg, metavar="YYYY-MM",
                       help="load only this billing month (repeatable); the scan skips the rest of the export")  # fmt: skip
        p.add_argument("--tag-key", help="cost-allocation tag naming the consumer (default: consumer.tag of the allocation rules)")

    p = sub.add_parser("close-month", parents=[common], help="freeze a month's chargeback statement", epilog=EPILOG,
                       description="Freeze the month's chargeback statement in closed_statements (append-only). A closed "
                       "statement never changes: later restatements of its bill are charged as adjustment lines in the "
                       "first open month. Months close in order, once each, after they have ended.")  # fmt: skip
    p.add_argument("month", type=_month_arg, metavar="YYYY-MM", help="the month to close, e.g. 2026-10")
    p.add_argument("--rules", help="allocation rules TOML (default: [allocation] rules in the config, or allocation-rules.toml)")
    return parser


def _month_arg(text: str) -> date:
    try:
        return date.fromisoformat(f"{text}-01" if len(text) == 7 else text).replace(day=1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a month: write YYYY-MM, e.g. 2026-10") from None


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except LedgerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; the warehouse is unchanged", file=sys.stderr)
        return 130
    except Exception as exc:  # AWS errors become one line a person can act on
        message = _aws_message(exc, args)
        if message is None:
            raise
        print(f"error: {message}", file=sys.stderr)
        return 1


def _run(args) -> int:
    from ingest import jobs  # the other jobs are imported by their commands: a quick command starts quickly

    settings = load_settings(args.config, args.data_dir)
    if args.command == "dynamodb":
        ddb = settings.dynamodb
        ddb = replace(
            ddb,
            table=args.table or ddb.table,
            segments=args.segments or ddb.segments,
            region=args.region or ddb.region,
            profile=args.profile or ddb.profile,
            endpoint_url=args.endpoint_url or ddb.endpoint_url,
        )
        if ddb.segments < 1:
            raise LedgerError("--segments must be at least 1")
        jobs.ingest_dynamodb(replace(settings, dynamodb=ddb), full=args.full)
    elif args.command == "dynamodb-export":
        jobs.ingest_dynamodb_export(settings, args.location, _session(args.profile, args.region), full=args.full)
    elif args.command == "cost-explorer":
        cfg = _cost_explorer_settings(settings, args)
        if args.trailing_days is not None:
            cfg = replace(cfg, trailing_days=args.trailing_days)
        if args.start and args.end and args.start >= args.end:
            raise LedgerError(f"--start {args.start} must be before --end {args.end}")
        jobs.ingest_cost_explorer(replace(settings, cost_explorer=cfg), args.start, args.end, args.responses)
    elif args.command == "demo":
        from ingest import prices
        from ingest.demo import generate

        if args.launches < 1:
            raise LedgerError("--launches must be at least 1")
        source_dir = args.source_dir or settings.data_dir / "demo-source"
        print(f"writing {args.launches:,} demo launches (seed {args.seed}) to {source_dir} ...", file=sys.stderr)
        files = generate(source_dir, launches=args.launches, seed=args.seed, end_date=args.end_date)
        jobs.ingest_dynamodb_export(settings, str(files.export_dir))
        jobs.ingest_cost_explorer(settings, responses_dir=files.cost_explorer_dir)
        prices.fetch_prices(settings, offline=True, spot_responses=files.spot_history_dir)
        prices.price_launches(settings)
    elif args.command == "prices":
        from ingest import prices

        pricing = replace(settings.pricing, profile=args.profile or settings.pricing.profile)
        prices.fetch_prices(
            replace(settings, pricing=pricing),
            offline=args.offline,
            session=_session(args.profile, args.region),
            spot_responses=args.spot_responses,
        )
    elif args.command == "price-launches":
        from ingest import prices

        prices.price_launches(settings)
    elif args.command == "backtest":
        from ingest.estimate_jobs import run_backtest

        if args.months < 1:
            raise LedgerError("--months must be at least 1")
        run_backtest(settings, months=args.months)
    elif args.command == "forecast":
        from ingest.estimate_jobs import pull_forecasts

        cfg = _cost_explorer_settings(settings, args)
        pull_forecasts(replace(settings, cost_explorer=cfg), metric=args.metric.upper(), months=args.months, consumers=args.consumer)
    elif args.command in ("focus", "cur"):
        from ingest.billing_exports import ingest_export

        session = _session(args.profile, args.region)
        ingest_export(settings, args.command, args.location, args.month, args.tag_key, session, args.endpoint_url)
    elif args.command == "close-month":
        from allocation.closing import close_month
        from allocation.rules import load_rules, rules_for

        close_month(settings, args.month, load_rules(args.rules) if args.rules else rules_for(settings))
    return 0


def _cost_explorer_settings(settings, args):
    """The [cost_explorer] settings with the command line's tag key, profile, region and endpoint on top."""
    cfg = settings.cost_explorer
    return replace(
        cfg,
        tag_key=args.tag_key or cfg.tag_key,
        profile=args.profile or cfg.profile,
        region=args.region or cfg.region,
        endpoint_url=args.endpoint_url or cfg.endpoint_url,
    )


def _session(profile: str | None, region: str | None):
    """A boto3 session for --profile/--region, or None for the default credential chain."""
    if not (profile or region):
        return None
    import boto3

    return boto3.Session(profile_name=profile, region_name=region)


def _aws_message(exc: Exception, args) -> str | None:
    from botocore import exceptions as bx

    if isinstance(exc, bx.NoCredentialsError):
        return "no AWS credentials found: set AWS_PROFILE (or pass --profile) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
    if isinstance(exc, bx.ProfileNotFound):
        return f"AWS profile {getattr(args, 'profile', None)!r} is not in ~/.aws/config: check the name or run 'aws configure --profile NAME'"
    if isinstance(exc, bx.NoRegionError):
        return "no AWS region set: pass --region or set AWS_DEFAULT_REGION"
    if isinstance(exc, bx.EndpointConnectionError):
        return f"cannot reach the AWS endpoint ({exc.kwargs.get('endpoint_url')}): check the network, region or --endpoint-url"
    if isinstance(exc, bx.ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        text = exc.response.get("Error", {}).get("Message", "")
        op = getattr(exc, "operation_name", "the request")
        if code == "ResourceNotFoundException":
            return f"DynamoDB table {getattr(args, 'table', None) or 'from the config'} not found: check --table and --region ({text})"
        if code in ("AccessDeniedException", "AccessDenied", "UnauthorizedOperation"):
            return f"access denied for {op}: the IAM policy in README.md lists what Launch Ledger needs ({text})"
        if code in ("UnrecognizedClientException", "InvalidClientTokenId", "ExpiredTokenException", "ExpiredToken"):
            return f"AWS rejected the credentials for {op} ({code}): refresh them (e.g. aws sso login) and run again"
        if code == "DataUnavailableException":
            return "Cost Explorer has no data for this account yet: enable Cost Explorer and wait 24 hours"
        return f"{op} failed: {code}: {text}"
    if isinstance(exc, bx.BotoCoreError):
        return f"AWS error: {exc}"
    return None


if __name__ == "__main__":
    sys.exit(main())
