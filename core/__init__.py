"""The core every Launch Ledger package may use, and that uses none of them.

- ``core.settings``: the one settings loader (``launch-ledger.toml``), the consumer tag included.
- ``core.errors``: the one error hierarchy; every message is a line a person can act on.
- ``core.vocabulary``: statuses, phases, compute platforms, purchase options, hours per month.
- ``core.months``: month arithmetic and labels.
- ``core.money``: exact money (Fractions until cents, one rounding rule).
- ``core.aws``: one way to build boto3 sessions and clients (retry mode stated) and one line per AWS error.
"""
