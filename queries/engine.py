"""Load a named query from ``queries/sql``, bind its parameters and run it.

Every page question reads ``FROM launch_scope``: the loader puts ``launch_scope.sql`` in front as the
first CTE, so the shared filters are written once. Only the parameters a statement references are
bound (DuckDB rejects extra named parameters), and results come back through Arrow so DECIMAL
money arrives as ``decimal.Decimal``, never as float.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd

from core.errors import QueryError

SQL_DIR = Path(__file__).with_name("sql")
SCOPE = "launch_scope"

_COMMENT = re.compile(r"--[^\n]*")
_STRING = re.compile(r"'(?:[^']|'')*'")
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_LEADING_WITH = re.compile(r"^\s*WITH\s+", re.IGNORECASE)


def query_names() -> list[str]:
    """Every named query (``launch_scope`` is a building block, not a question)."""
    return sorted(p.stem for p in SQL_DIR.glob("*.sql") if p.stem != SCOPE)


def _code_only(sql: str) -> str:
    """The SQL without comments and string literals: what is left is code."""
    return _STRING.sub("''", _COMMENT.sub("", sql))


def referenced_params(sql: str) -> set[str]:
    """The named parameters (``$name``) a statement uses."""
    return set(_PARAM.findall(_code_only(sql)))


def _split_header(sql: str) -> tuple[str, str]:
    """(leading comment lines, the statement)."""
    lines = sql.splitlines()
    i = 0
    while i < len(lines) and (not lines[i].strip() or lines[i].lstrip().startswith("--")):
        i += 1
    return "\n".join(lines[:i]), "\n".join(lines[i:])


def _indent(sql: str) -> str:
    return "\n".join(f"    {line}" if line.strip() else line for line in sql.splitlines())


@cache
def load(name: str) -> str:
    """The complete statement of a named query, with ``launch_scope`` merged in when it is used."""
    path = SQL_DIR / f"{name}.sql"
    if not path.is_file():
        raise QueryError(f"there is no named query {name!r}; the named queries are: {', '.join(query_names())}")
    header, body = _split_header(path.read_text())
    body = body.strip().rstrip(";")
    if name == SCOPE or not re.search(rf"\b{SCOPE}\b", _code_only(body)):
        return f"{header}\n{body}\n".lstrip("\n")
    scope = _split_header((SQL_DIR / f"{SCOPE}.sql").read_text())[1].strip().rstrip(";")
    scope_cte = f"{SCOPE} AS (\n{_indent(scope)}\n)"
    if _LEADING_WITH.match(body):
        merged = f"WITH {scope_cte},\n{_LEADING_WITH.sub('', body, count=1)}"
    else:
        merged = f"WITH {scope_cte}\n{body}"
    return f"{header}\n{merged}\n".lstrip("\n")


def bind(sql: str, params: dict[str, object], name: str = "query") -> dict[str, object]:
    """The parameters ``sql`` references, taken from ``params``; a missing one is an error."""
    wanted = referenced_params(sql)
    missing = sorted(wanted - params.keys())
    if missing:
        raise QueryError(f"the {name} query needs the parameter(s) {', '.join(missing)}; pass them to the query function")
    return {k: params[k] for k in sorted(wanted)}


def _hint(exc: duckdb.Error) -> str:
    if isinstance(exc, duckdb.CatalogException | duckdb.BinderException):
        return (
            "the warehouse schema is not what this version expects: run the ingest again (`make run` or `python -m ingest demo`)"
        )
    if isinstance(exc, duckdb.IOException | duckdb.HTTPException):
        return "a warehouse file could not be read (an ingest may have replaced it): reload the page"
    if isinstance(exc, duckdb.OutOfMemoryException):
        return "narrow the filters (a shorter period or fewer consumers) and try again"
    return "check the filters and try again; if it persists, report the query name and this message"


class QueryEngine(ABC):
    """An engine that runs named queries itself (``queries.athena.AthenaEngine``); ``run`` hands them over."""

    @abstractmethod
    def run(self, name: str, params: dict[str, object] | None = None) -> pd.DataFrame:
        """The named query's rows, with the contract of ``queries.engine.run``."""


def run(con: duckdb.DuckDBPyConnection | QueryEngine, name: str, params: dict[str, object] | None = None) -> pd.DataFrame:
    """Run the named query with the parameters it references; DECIMAL columns arrive as Decimal.

    ``con`` is a DuckDB connection (the embedded warehouse) or a ``QueryEngine`` such as Athena.
    """
    if isinstance(con, QueryEngine):
        return con.run(name, params)
    sql = load(name)
    bound = bind(sql, params or {}, name)
    try:
        table = con.sql(sql, params=bound).to_arrow_table()
    except duckdb.Error as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise QueryError(f"the {name} query failed ({first_line}): {_hint(exc)}") from exc
    return table.to_pandas()
