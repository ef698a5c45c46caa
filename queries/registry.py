"""The one registry of named queries: name, SQL files, how it is scoped, its options, the function.

A query function is registered where it is written, with ``@named_query``; the dashboard
(``dashboard.data.fetch``), the bench and the tests read ``REGISTRY`` and call each entry through
``NamedQuery.call``. To add a question: write ``queries/sql/<name>.sql`` and one decorated function.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

SCOPES = ("filters", "month", "none")


@dataclass(frozen=True)
class NamedQuery:
    name: str
    function: Callable
    sql: tuple[str, ...]  # the queries/sql files it runs (without .sql)
    scope: str  # "filters": fn(con, filters, **options); "month": fn(con, month); "none": fn(con, **options)

    @property
    def options(self) -> dict[str, object]:
        """The keyword options the function takes beyond its scope, with their defaults (``limit=50``)."""
        params = list(inspect.signature(self.function).parameters.values())[1 + (self.scope != "none") :]
        return {p.name: p.default for p in params}

    def call(self, con, filters=None, month: date | None = None, **options):
        """Run the query as a page does: ``filters`` for a filtered question, ``month`` for a statement's."""
        if self.scope == "filters":
            return self.function(con, filters, **options)
        if self.scope == "month":
            return self.function(con, month, **options)
        return self.function(con, **options)


REGISTRY: dict[str, NamedQuery] = {}


def named_query(*sql: str, scope: str):
    """Register the decorated function as the named query of its name (running ``sql``, default its own file)."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}, not {scope!r}")

    def register(function: Callable) -> Callable:
        name = function.__name__
        if name in REGISTRY:
            raise ValueError(f"the named query {name!r} is registered twice")
        REGISTRY[name] = NamedQuery(name, function, tuple(sql) or (name,), scope)
        return function

    return register
