"""The allocation's one error type: a message on one line that says what to change."""

from ingest.errors import LedgerError


class AllocationError(LedgerError):
    """The rules, a month or the bill cannot give a statement; the message says how to fix it."""
