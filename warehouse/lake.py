"""Publish the warehouse to S3 with a Glue catalog, so Athena can run the same named queries.

The lake holds ``<lake_path><table>/<column>=<value>/*.parquet``: one Glue table per warehouse table
(same name, same columns, types from ``schema.sql``: DECIMAL stays DECIMAL), partitioned by the column
the warehouse partitions it by (``warehouse.store.PARTITION_KEYS``). That column is the one the named
queries filter on, so Athena reads only the partitions a query's filter selects: ``launches``,
``launch_resources`` and ``launch_costs`` by ``launch_month`` (a Glue ``date``, ``2025-02-01``),
``costs_daily`` and ``costs_monthly`` by ``usage_month``, ``closed_statements`` by ``statement_month``, the run tables by their
run id and ``prices`` by service. A partition column lives in the S3 path, not in the files.

Only partitions whose live files changed since the last publish are uploaded: ``lake-published.json``
beside the manifest records, per table and local partition, the file list last published. A partition is
read and uploaded on its own (never a whole table in memory) with ``mode="overwrite_partitions"``,
so a partition an ingest rewrote replaces its old objects, and the record advances after each one:
a publish that dies half way resumes where it stopped. Partitions an ingest dropped are deleted. A Glue
table partitioned another way (an older lake, partitioned by ``month``) loses its objects and partitions, is
redefined and published again.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import awswrangler as wr
import boto3
import duckdb
import pandas as pd
import pyarrow as pa
from botocore.exceptions import BotoCoreError, ClientError

from core import aws
from core.errors import WarehouseError
from core.settings import AthenaSettings, Settings
from warehouse.store import (
    PARTITION_KEYS,
    SCHEMA_FILE,
    TABLES,
    _atomic_write,
    files_sql,
    read_manifest,
    schema_columns,
    warehouse_dir,
)

# awswrangler's own errors share no base class: every exception class of awswrangler.exceptions.
WRANGLER_ERRORS = tuple(
    c
    for c in vars(wr.exceptions).values()
    if isinstance(c, type) and issubclass(c, Exception) and c.__module__ == wr.exceptions.__name__
)
RECORD = "lake-published.json"

_SIMPLE_TYPES = {
    "VARCHAR": "string",
    "DOUBLE": "double",
    "INTEGER": "int",
    "BIGINT": "bigint",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "BOOLEAN": "boolean",
}
_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")
# The warehouse's partition expressions this module knows: the column itself, or a DATE column's YYYY-MM.
_KEY_COLUMN = re.compile(r"r\.(\w+)")
_MONTH_KEY = re.compile(r"strftime\((?:CAST\()?r\.(\w+)(?: AS DATE\))?, '%Y-%m'\)")
_MONTH = re.compile(r"\d{4}-\d{2}")
_TABLE_LINE = re.compile(r"^CREATE TABLE (\w+)")
_COLUMN_LINE = re.compile(r"^\s+(\w+)\s+[A-Z][A-Z0-9(), ]*?,?\s*--(.*)$")
# Nullable integers stay integers in pandas (the default turns an INTEGER column with NULLs into floats).
_INTEGERS = {pa.int32(): pd.Int32Dtype(), pa.int64(): pd.Int64Dtype()}


def glue_type(duckdb_type: str) -> str:
    """The Athena/Glue type of a warehouse column type (``DECIMAL(18,6)`` -> ``decimal(18,6)``)."""
    if duckdb_type in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[duckdb_type]
    match = _DECIMAL.fullmatch(duckdb_type)
    if match:
        return f"decimal({match.group(1)},{match.group(2)})"
    raise WarehouseError(
        f"schema.sql uses the type {duckdb_type}, which the lake does not map to Glue yet: add it to ingest/lake.py"
    )


def glue_columns(table: str) -> dict[str, str]:
    """{column: Glue type} of a warehouse table, in schema.sql order."""
    return {column: glue_type(dtype) for column, dtype in schema_columns()[table]}


def partition_column(table: str) -> str:
    """The column a lake table is partitioned by: the one the warehouse partitions it by."""
    key = PARTITION_KEYS[table]
    if (month := _MONTH_KEY.fullmatch(key)) and glue_columns(table)[month.group(1)] == "date":
        return month.group(1)
    if (column := _KEY_COLUMN.fullmatch(key)) and glue_columns(table)[column.group(1)] == "string":
        return column.group(1)
    raise WarehouseError(
        f"the warehouse partitions {table} by {key}, which the lake cannot partition by yet: "
        "teach partition_column and partition_value in ingest/lake.py"
    )


def partition_comment(table: str) -> str:
    """The Glue comment of a table's partition column: its schema.sql comment and what filtering on it does."""
    column = partition_column(table)
    said = column_comments(table).get(column)
    return f"{said}; the partition column: a filter on it limits the files Athena reads" if said else "the partition column"


def partition_value(table: str, partition: str) -> str:
    """The lake partition value of a local partition: ``2025-02`` of launches is ``2025-02-01``; a run id is itself."""
    if glue_columns(table)[partition_column(table)] != "date":
        return partition
    if not _MONTH.fullmatch(partition):
        raise WarehouseError(
            f"the {table} partition {partition!r} is not a YYYY-MM month, so the lake has no {partition_column(table)} "
            "to file it under: correct its rows (or the manifest) and run the ingest again"
        )
    return f"{partition}-01"


def lake_session(athena: AthenaSettings, session: boto3.Session | None = None) -> boto3.Session:
    """``session`` if given, else one for the configured profile and region."""
    aws.configure_wrangler()
    return session if session is not None else aws.make_session(athena.profile, athena.region)


@dataclass
class Published:
    """What one publish did, per table: partitions uploaded, removed, and left alone."""

    uploaded: dict[str, list[str]] = field(default_factory=dict)
    removed: dict[str, list[str]] = field(default_factory=dict)
    unchanged: int = 0
    relaid: list[str] = field(default_factory=list)  # tables found partitioned another way, published anew

    def summary(self, lake_path: str) -> str:
        relaid = f" ({', '.join(self.relaid)} re-partitioned by their query column)" if self.relaid else ""
        return (
            f"lake: {sum(map(len, self.uploaded.values()))} partition(s) uploaded, "
            f"{sum(map(len, self.removed.values()))} removed, {self.unchanged} unchanged in {lake_path}{relaid}"
        )


def read_record(data_dir: os.PathLike | str) -> dict:
    path = warehouse_dir(data_dir) / RECORD
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}  # an unreadable record only costs a full re-upload


@cache
def _schema_comments() -> dict[str, dict[str, str]]:
    comments: dict[str, dict[str, str]] = {}
    table = None
    for line in SCHEMA_FILE.read_text().splitlines():
        if start := _TABLE_LINE.match(line):
            table = start.group(1)
        elif table and (column := _COLUMN_LINE.match(line)):
            comments.setdefault(table, {})[column.group(1)] = column.group(2).strip()
    return comments


def column_comments(table: str) -> dict[str, str]:
    """{column: the comment schema.sql gives it}, so Glue and Athena users see what each column means."""
    return dict(_schema_comments().get(table, {}))


def _read_partition(root: Path, table: str, files: list[str], partition: str) -> pd.DataFrame:
    """One partition's rows as pandas: DECIMAL as Decimal, nullable integers as Int32/Int64.

    Every row must hold the partition's value in the partition column (the lake keeps it in the path only).
    """
    # Through DuckDB with the warehouse's own typed select: files older than a column read it as NULL.
    arrow = duckdb.connect().sql(files_sql(table, [str(root / f) for f in files])).to_arrow_table()
    frame = arrow.to_pandas(types_mapper=_INTEGERS.get)
    column, value = partition_column(table), partition_value(table, partition)
    held = frame[column].map(lambda v: "NULL" if pd.isna(v) else str(v))
    if not (held == value).all():
        others = sorted(set(held) - {value})
        raise WarehouseError(
            f"the {table} partition {partition} holds rows with {column} {', '.join(others[:3])} "
            f"besides {value}; the lake keeps one {column} per partition: correct those rows and run the ingest again"
        )
    return frame


def _partition_keys(session: boto3.Session, database: str, table: str) -> list[dict[str, str]]:
    """The Glue table's partition keys as [{Name, Type}]."""
    described = aws.client("glue", session=session).get_table(DatabaseName=database, Name=table)["Table"]
    return [{"Name": k["Name"], "Type": k["Type"]} for k in described.get("PartitionKeys", [])]


def _fail(action: str, exc: Exception) -> WarehouseError:
    first = aws.error_line(exc)
    return WarehouseError(
        f"{action} failed ({first}): check the [athena] settings and the Glue/S3 permissions in the README, then run the ingest "
        "again; the local warehouse is committed and the next run publishes what is missing"
    )


@dataclass
class _Publishing:
    """One publish under way: the lake it goes to, the record of what is there, and what it has done so far."""

    athena: AthenaSettings
    session: boto3.Session
    root: Path
    record: dict
    result: Published = field(default_factory=Published)

    def save(self) -> None:
        """Write down what the lake holds now, so a publish that dies resumes where it stopped."""
        self.root.mkdir(parents=True, exist_ok=True)
        _atomic_write(self.root / RECORD, json.dumps(self.record, indent=1, sort_keys=True))


def _start_record(data_dir: os.PathLike | str, athena: AthenaSettings) -> dict:
    """The record of what the lake holds, started afresh when the lake path or Glue database changed."""
    record = read_record(data_dir)
    target = {"lake_path": athena.lake_path, "database": athena.database}
    if {k: record.get(k) for k in target} != target:
        record = {**target, "tables": {}}  # a new destination: publish everything
    record.setdefault("tables", {})
    return record


def _define_table(run: _Publishing, table: str, path: str, done: dict[str, list[str]]) -> None:
    """(Re)define a table's Glue table when it is new or partitioned another way, so all its partitions go again."""
    athena, session = run.athena, run.session
    columns = glue_columns(table)
    column = partition_column(table)
    keys = [{"Name": column, "Type": columns[column]}]
    exists = wr.catalog.does_table_exist(athena.database, table, boto3_session=session)
    relay = exists and _partition_keys(session, athena.database, table) != keys
    if relay:  # partitioned another way (an older lake): its objects go, the table is redefined below
        wr.s3.delete_objects(path, boto3_session=session)
        run.result.relaid.append(table)
    if relay or not exists:
        done.clear()  # the Glue table is new (or gone): upload every partition again
        # "overwrite" drops a redefined table's partitions and updates it (no glue:DeleteTable needed).
        wr.catalog.create_parquet_table(
            mode="overwrite",
            database=athena.database,
            table=table,
            path=path,
            columns_types={c: t for c, t in columns.items() if c != column},
            partitions_types={column: columns[column]},
            description=f"Launch Ledger {table} (published from the local warehouse by the ingest)",
            columns_comments={**column_comments(table), column: partition_comment(table)},
            boto3_session=session,
        )


def _upload_partitions(run: _Publishing, table: str, path: str, live: dict, done: dict[str, list[str]]) -> None:
    """Upload each of a table's partitions whose files changed since the last publish, recording each one."""
    columns = glue_columns(table)
    column = partition_column(table)
    for partition in sorted(live):
        files = live[partition]
        if done.get(partition) == files:
            run.result.unchanged += 1
            continue
        wr.s3.to_parquet(
            _read_partition(run.root, table, files, partition),
            path=path,
            dataset=True,
            mode="overwrite_partitions",
            database=run.athena.database,
            table=table,
            partition_cols=[column],
            dtype=columns,
            compression="zstd",
            boto3_session=run.session,
        )
        done[partition] = list(files)
        run.result.uploaded.setdefault(table, []).append(partition)
        run.save()


def _remove_partitions(run: _Publishing, table: str, path: str, live: dict, done: dict[str, list[str]]) -> None:
    """Delete from the lake the partitions of a table that the ingest dropped, recording each one."""
    column = partition_column(table)
    for partition in sorted(set(done) - set(live)):
        value = partition_value(table, partition)
        wr.s3.delete_objects(f"{path}{column}={value}/", boto3_session=run.session)
        wr.catalog.delete_partitions(
            table=table, database=run.athena.database, partitions_values=[[value]], boto3_session=run.session
        )
        del done[partition]
        run.result.removed.setdefault(table, []).append(partition)
        run.save()


def _publish_table(run: _Publishing, manifest: dict, table: str) -> None:
    """Bring one table of the lake up to date with the manifest's live partitions."""
    if table not in TABLES:
        raise WarehouseError(f"there is no warehouse table {table!r}; the tables are: {', '.join(TABLES)}")
    path = f"{run.athena.lake_path}{table}/"
    live: dict[str, list[str]] = manifest["tables"][table]
    done: dict[str, list[str]] = run.record["tables"].setdefault(table, {})
    _define_table(run, table, path, done)
    _upload_partitions(run, table, path, live, done)
    _remove_partitions(run, table, path, live, done)


def publish(
    settings: Settings,
    data_dir: os.PathLike | str,
    tables: tuple[str, ...] | list[str] | None = None,
    session: boto3.Session | None = None,
) -> Published:
    """Copy the manifest's live partitions that changed since the last publish to the lake."""
    athena = settings.athena
    if not athena.lake_path or not athena.database:
        raise WarehouseError(
            "publishing to the lake needs athena.lake_path and athena.database under [athena] in the config file"
        )
    boto3_session = lake_session(athena, session)
    root = warehouse_dir(data_dir)
    manifest = read_manifest(data_dir)
    run = _Publishing(athena, boto3_session, root, _start_record(data_dir, athena))
    try:
        wr.catalog.create_database(athena.database, exist_ok=True, boto3_session=boto3_session)
        for table in tables or TABLES:
            _publish_table(run, manifest, table)
        run.save()
    except (ClientError, BotoCoreError, *WRANGLER_ERRORS) as exc:
        raise _fail(f"publishing the warehouse to {athena.lake_path} (Glue database {athena.database})", exc) from exc
    return run.result
