"""``python -m cli COMMAND``: the ``launch-ledger`` console script without installing it."""

import sys

from cli import main

if __name__ == "__main__":
    sys.exit(main())
