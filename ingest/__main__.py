"""``python -m ingest COMMAND``: the same command line as ``launch-ledger COMMAND`` (see ``cli``)."""

import sys

from cli import main as _main


def main(argv: list[str] | None = None) -> int:
    return _main(argv, prog="python -m ingest")


if __name__ == "__main__":
    sys.exit(main())
