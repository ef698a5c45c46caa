"""The one error the query layer raises: a failed question, in words a person can act on."""

from __future__ import annotations

from ingest.errors import LedgerError


class QueryError(LedgerError):
    """A named query could not run: a missing parameter, an engine error, an unreadable warehouse file."""
