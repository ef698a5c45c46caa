"""``launch-ledger COMMAND`` (or ``python -m ingest COMMAND``): one dispatch table, one small function a command.

Each command is a row of ``cli.commands.COMMANDS``: its name, what it does, the options it adds and
the function that runs it. That function only turns options into settings and calls the package that
owns the work (the sources in ``ingest``, pricing in ``pricing``, the backtest in ``estimates``,
closing a month in ``chargeback``). Errors a person can fix print one line and exit 1; a run that read
records and loaded none (every one quarantined) exits 2, after a summary that says so first.
"""

from __future__ import annotations

import argparse
import sys

from core import aws
from core.errors import LedgerError
from core.settings import load_settings

EPILOG = (
    "Settings come from --config, $LAUNCH_LEDGER_CONFIG or ./launch-ledger.toml; see README.md. "
    "Exit codes: 0 done; 1 the run failed (one line: error: ...); 2 records were read but none loaded "
    "(all quarantined: the summary's first lines say why and which setting to look at); 130 interrupted."
)
DESCRIPTION = "Load workflow launches and what AWS billed into the Launch Ledger warehouse, price them, close months."


def _shared_options() -> dict[str, argparse.ArgumentParser]:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", help="TOML settings file (attribute names, table, pricing, ...)")
    common.add_argument("--data-dir", help="warehouse folder (default $LAUNCH_LEDGER_DATA_DIR or ./data)")
    aws_options = argparse.ArgumentParser(add_help=False)
    aws_options.add_argument("--profile", help="AWS named profile")
    aws_options.add_argument("--region", help="AWS region")
    aws_options.add_argument("--endpoint-url", help="a local endpoint (DynamoDB Local, moto server)")
    return {"common": common, "aws": aws_options}


def parser(prog: str = "launch-ledger") -> argparse.ArgumentParser:
    """The argument parser: one sub-command per row of the dispatch table."""
    from cli.commands import COMMANDS

    shared = _shared_options()
    top = argparse.ArgumentParser(prog=prog, description=DESCRIPTION, epilog=EPILOG)
    sub = top.add_subparsers(dest="command", required=True, metavar="command")
    for command in COMMANDS:
        p = sub.add_parser(
            command.name,
            parents=[shared[name] for name in command.options],
            help=command.help,
            description=command.description,
            epilog=EPILOG,
        )
        command.arguments(p)
        p.set_defaults(run=command.run)
    return top


def main(argv: list[str] | None = None, prog: str = "launch-ledger") -> int:
    """Run one command; 0 on success, 1 on an error a person can fix (printed on one line), 2 when it read records
    but loaded none (the run's ``exit_code``), 130 on Ctrl-C."""
    args = parser(prog).parse_args(argv)
    try:
        result = args.run(args, load_settings(args.config, args.data_dir))
        return getattr(result, "exit_code", 0) or 0
    except LedgerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; the warehouse is unchanged", file=sys.stderr)
        return 130
    except Exception as exc:  # AWS errors become one line a person can act on
        message = aws.user_message(exc, getattr(args, "profile", None), getattr(args, "table", None))
        if message is None:
            raise
        print(f"error: {message}", file=sys.stderr)
        return 1
