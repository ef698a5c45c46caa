"""Run the named queries on Athena: the same ``.sql`` files, translated from DuckDB to Trino at run time.

There is one source of SQL. ``to_trino`` transpiles a named query with sqlglot (read ``duckdb``, write
``trino``); DuckDB's ``$name`` parameters come out as ``:name`` (awswrangler's named style).

Values are then bound on the server, never formatted into the statement: ``bind_qmark`` turns each
``:name`` into Athena's positional ``?`` and gives, in order, one execution parameter per ``?``
(``StartQueryExecution``'s ``ExecutionParameters``, via awswrangler's ``paramstyle="qmark"``). Athena
binds each one to its own ``?`` (AWS's documented guard against SQL injection), so the statement text
never holds a user's value. Execution parameters are strings holding literals, so each is still
written as a correctly quoted Trino literal (``'it''s'``, ``DATE '2025-01-31'``, ``42``). A list
parameter (the sidebar filters: consumers, workflow types, platforms, statuses) becomes ``ARRAY[?, ?, ...]``
with one parameter per element,
or a typed empty array when nothing is picked, so only scalar literals are ever bound. Athena accepts
``?`` only in WHERE clauses; ``tests/queries/test_athena.py`` checks every named query keeps to that.

The lake is partitioned by the columns the queries filter on (``warehouse.lake.partition_column``), so a
filter such as ``launch_month BETWEEN date_trunc('month', $start) AND $end`` makes Athena read only those
months. ``partition_reads`` finds, for each lake table a statement reads, the condition that prunes it.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING

import awswrangler as wr
import boto3
import pandas as pd
import pyarrow as pa
import sqlglot
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError

from core import aws
from core.errors import QueryError
from queries.engine import QueryEngine, bind, load
from warehouse.lake import WRANGLER_ERRORS, partition_column
from warehouse.store import TABLES

if TYPE_CHECKING:
    from core.settings import AthenaSettings, Settings

# Athena's limit on one execution parameter (StartQueryExecution ExecutionParameters: 1..1024 characters).
MAX_PARAMETER_LENGTH = 1024
# Strings, quoted identifiers and comments are copied as they are; only a ``:name`` outside them is a parameter.
_TOKENS = re.compile(
    r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|/\*.*?\*/|(?<![:\w]):([A-Za-z_][A-Za-z0-9_]*)""",
    re.DOTALL,
)


@cache
def to_trino(sql: str) -> str:
    """A DuckDB statement in Trino SQL, its ``$name`` parameters as ``:name``."""
    try:
        (translated,) = sqlglot.transpile(
            sql, read="duckdb", write="trino", pretty=True, comments=False, unsupported_level=ErrorLevel.RAISE
        )
    except (SqlglotError, ValueError) as exc:
        first = " ".join(str(exc).split()) or type(exc).__name__
        raise QueryError(
            f"the statement does not translate from DuckDB to Trino ({first}): keep DuckDB-only syntax out of named queries"
        ) from exc
    return translated


def trino_literal(value: object) -> str:
    """One scalar value as a Trino literal (strings quoted with '' doubled, dates and times typed)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise QueryError(f"the decimal parameter {value} is not a finite number")
        return f"DECIMAL '{value:f}'"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise QueryError(f"the number parameter {value} is not finite")
        return f"DOUBLE '{value!r}'"
    if isinstance(value, datetime):  # before date: a datetime is a date
        if value.tzinfo is not None:
            raise QueryError(
                f"the time parameter {value} carries a time zone; pass UTC without tzinfo, as the warehouse stores it"
            )
        return f"TIMESTAMP '{value.isoformat(sep=' ', timespec='microseconds')}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise QueryError(
        f"a query parameter of type {type(value).__name__} cannot be sent to Athena: "
        "pass str, int, float, Decimal, date or datetime"
    )


def bind_qmark(trino_sql: str, params: dict[str, object]) -> tuple[str, list[str]]:
    """``trino_sql`` with every ``:name`` made positional, and the execution parameters in order.

    A list value becomes ``ARRAY[?, ...]`` (one parameter per element) or a typed empty array.
    """
    values: list[str] = []

    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name is None or name not in params:
            return match.group(0)
        value = params[name]
        if isinstance(value, list | tuple | set | frozenset):
            items = sorted(value) if isinstance(value, set | frozenset) else list(value)
            if not items:
                return "CAST(ARRAY[] AS ARRAY(VARCHAR))"
            values.extend(trino_literal(v) for v in items)
            return "ARRAY[" + ", ".join("?" for _ in items) + "]"
        values.append(trino_literal(value))
        return "?"

    sql = _TOKENS.sub(replace, trino_sql)
    for literal in values:
        if len(literal) > MAX_PARAMETER_LENGTH:
            raise QueryError(
                f"a filter value is longer than Athena allows ({len(literal)} > {MAX_PARAMETER_LENGTH} characters): shorten it"
            )
    return sql, values


@dataclass(frozen=True)
class PartitionRead:
    """One read of a lake table in a statement, and the condition that limits it to some partitions."""

    table: str
    column: str  # the table's partition column
    predicate: str | None  # a condition on that column alone (Trino SQL), or None: Athena reads every partition


def _conjuncts(condition: exp.Expression | None) -> list[exp.Expression]:
    """The parts of ``a AND b AND ...``; anything under an OR stays whole."""
    if condition is None:
        return []
    if isinstance(condition, exp.Paren):
        return _conjuncts(condition.this)
    if isinstance(condition, exp.And):
        return _conjuncts(condition.left) + _conjuncts(condition.right)
    return [condition]


def _prunes(condition: exp.Expression, column: str, alias: str, sole_source: bool) -> bool:
    """True if ``condition`` refers to the partition column and nothing else that varies per row or needs a query.

    Athena evaluates such a condition on the partition values before it reads a file.
    """
    if condition.find(exp.Query) is not None:
        return False  # a subquery's value is not known when partitions are chosen
    columns = list(condition.find_all(exp.Column))
    return bool(columns) and all(c.name == column and (c.table == alias or (not c.table and sole_source)) for c in columns)


def partition_reads(trino_sql: str) -> list[PartitionRead]:
    """Every lake table ``trino_sql`` reads (CTE names aside), each with the condition that prunes it.

    A condition counts when it is one of the ANDed terms of the WHERE or of the JOIN ... ON of the SELECT
    that reads the table, and refers only to that table's partition column (parameters and constants aside).
    """
    tree = sqlglot.parse_one(trino_sql, read="trino")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    reads = []
    for table in tree.find_all(exp.Table):
        if table.name in ctes or table.name not in TABLES:
            continue
        select = table.find_ancestor(exp.Select)
        column, alias = partition_column(table.name), table.alias_or_name
        sources = [n for n in select.find_all(exp.From, exp.Join) if n.parent is select]
        conditions = _conjuncts(select.args["where"].this if select.args.get("where") else None)
        for join in select.args.get("joins") or []:
            conditions += _conjuncts(join.args.get("on"))
        found = [c for c in conditions if _prunes(c, column, alias, len(sources) == 1)]
        reads.append(PartitionRead(table.name, column, " AND ".join(c.sql("trino") for c in found) or None))
    return reads


def _hint(exc: Exception) -> str:
    text = aws.error_line(exc, limit=2000)
    if isinstance(exc, NoCredentialsError) or re.search(
        r"ExpiredToken|UnrecognizedClient|InvalidClientTokenId|security token", text
    ):
        return "no valid AWS credentials: set athena.profile in the config file or refresh your credentials"
    if re.search(r"AccessDenied|not authorized", text):
        return "the credentials lack a permission: grant the Athena, Glue and S3 actions listed in the README"
    if re.search(
        r"(?i)(database|schema|table) \S+ (not found|does not exist)|EntityNotFound|TABLE_NOT_FOUND|SCHEMA_NOT_FOUND", text
    ):
        return "the Glue database or a table is missing: check athena.database and run an ingest, which publishes the tables"
    if re.search(r"NoSuchBucket|output bucket", text):
        return "check athena.output_location: its bucket must exist, in athena.region, and be writable"
    if re.search(r"(?i)workgroup (\S+ )?(does not exist|not found|is disabled)", text):
        return "check athena.workgroup in the config file"
    if re.search(r"COLUMN_NOT_FOUND|cannot be resolved", text):
        return "the Glue tables are older than this version: run an ingest to publish the current schema"
    return "check the filters and try again; if it persists, report the query name and this message"


class AthenaEngine(QueryEngine):
    """Runs named queries on Athena through awswrangler; pass it wherever a DuckDB connection goes."""

    def __init__(
        self,
        database: str,
        output_location: str,
        workgroup: str = "primary",
        region: str | None = None,
        profile: str | None = None,
        session: boto3.Session | None = None,
    ) -> None:
        self.database = database
        self.output_location = output_location
        self.workgroup = workgroup
        self.region = region
        self.profile = profile
        self._session = session
        self._local = threading.local()

    @classmethod
    def from_settings(cls, settings: Settings | AthenaSettings, session: boto3.Session | None = None) -> AthenaEngine:
        """From the ``[athena]`` settings (a ``Settings`` or its ``athena`` section)."""
        athena = getattr(settings, "athena", settings)
        if not athena.database or not athena.output_location:
            raise QueryError(
                "running queries on Athena needs athena.database and athena.output_location under [athena] in the config file"
            )
        return cls(athena.database, athena.output_location, athena.workgroup, athena.region, athena.profile, session)

    def __repr__(self) -> str:
        return f"AthenaEngine(database={self.database!r}, workgroup={self.workgroup!r}, output_location={self.output_location!r})"

    @property
    def session(self) -> boto3.Session:
        """The session given, else one per thread (a boto3 Session is not safe to share between threads)."""
        if self._session is not None:
            return self._session
        if getattr(self._local, "session", None) is None:
            aws.configure_wrangler()
            self._local.session = aws.make_session(self.profile, self.region)
        return self._local.session

    def statement(self, name: str, params: dict[str, object] | None = None) -> tuple[str, list[str]]:
        """The Trino statement of a named query and its execution parameters, as sent to Athena."""
        sql = load(name)
        bound = bind(sql, params or {}, name)
        try:
            return bind_qmark(to_trino(sql), bound)
        except QueryError as exc:
            raise QueryError(f"the {name} query cannot run on Athena: {exc}") from None

    def run(self, name: str, params: dict[str, object] | None = None) -> pd.DataFrame:
        """Like ``queries.engine.run``: the named query's rows; DECIMAL columns arrive as Decimal."""
        sql, values = self.statement(name, params)
        try:
            frame = wr.athena.read_sql_query(
                sql,
                database=self.database,
                params=values or None,
                paramstyle="qmark",
                ctas_approach=False,
                s3_output=self.output_location,
                workgroup=self.workgroup,
                keep_files=False,
                boto3_session=self.session,
            )
        except (ClientError, BotoCoreError, *WRANGLER_ERRORS) as exc:
            raise QueryError(f"the {name} query failed on Athena ({aws.error_line(exc)}): {_hint(exc)}") from exc
        return _like_duckdb(frame)


def _like_duckdb(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with the dtypes the DuckDB path gives (through Arrow): str, int64/float64, Decimal objects."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for i, column in enumerate(table.schema):
        if pa.types.is_timestamp(column.type) and column.type.unit != "us":  # DuckDB's TIMESTAMP is microseconds
            table = table.set_column(i, column.name, table.column(i).cast(pa.timestamp("us")))
    return table.to_pandas(ignore_metadata=True)
