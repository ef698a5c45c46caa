"""The warehouse: Parquet files under ``<data_dir>/warehouse`` and a manifest that names the live ones.

Writers never touch a live file. Each ingest writes new Parquet files for the partitions it changes,
then swaps in a new manifest with one atomic rename. A run that dies before the swap leaves the
previous warehouse whole; readers that opened the previous manifest keep reading its files, which
are only removed one version later. So the dashboard never sees a lock or a half-written table.

A run stages in ``.tmp-<run id>/`` (with ``run.json``: its pid, command, source and start) and writes its
new files under ``<table>/<run id>/``. A run killed before it finishes (``kill -9``, out of memory, power)
leaves both behind; the next writer, holding the lock (so none of them is running), removes them
(``recover``) and ``warehouse.runs.job_run`` records each such run in ``job_runs`` with outcome ``died``.

``connect()`` gives readers an in-memory DuckDB with one view per table over the manifest's files.
``warehouse.duckdb`` beside it holds the same views for people who query with the DuckDB CLI.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import duckdb

from core.crash import crash_point
from core.errors import WarehouseError

SCHEMA_FILE = Path(__file__).with_name("schema.sql")
# Each table is split into partitions (expressions over the rows aliased r); a write replaces whole partitions.
PARTITION_KEYS = {
    "launches": "strftime(r.launch_month, '%Y-%m')",
    "launch_resources": "strftime(r.launch_month, '%Y-%m')",
    "costs_daily": "strftime(r.usage_month, '%Y-%m')",
    "costs_monthly": "strftime(r.usage_month, '%Y-%m')",
    "job_runs": "r.run_id",
    "quarantine": "r.run_id",
    "launch_deletions": "r.run_id",
    "closed_statements": "strftime(CAST(r.statement_month AS DATE), '%Y-%m')",
    "prices": "r.service",
    "launch_costs": "strftime(CAST(r.launch_month AS DATE), '%Y-%m')",
    "backtest_results": "r.run_id",
    "cost_forecasts": "r.ingest_run_id",
    "launch_tasks": "strftime(CAST(r.launch_month AS DATE), '%Y-%m')",
    "launch_billed_costs": "strftime(CAST(r.usage_month AS DATE), '%Y-%m')",
    "audit_events": "strftime(CAST(r.event_month AS DATE), '%Y-%m')",
    "anomalies": "strftime(CAST(r.month AS DATE), '%Y-%m')",
}
TABLES = tuple(PARTITION_KEYS)  # every table of schema.sql (a test keeps the two in step)
# Derived tables: {table: (the table it sums, the SELECT over that table's rows, a relation named "daily")}.
# Same partitions as the source; the writer rebuilds a partition whenever the source's changes.
ROLLUPS = {
    "costs_monthly": (
        "costs_daily",
        """SELECT usage_month, consumer, tag_key, service, currency, source,
                  sum(unblended_cost) AS unblended_cost, sum(amortized_cost) AS amortized_cost,
                  sum(net_amortized_cost) AS net_amortized_cost, bool_or(estimated) AS estimated,
                  min(usage_date) AS first_day, max(usage_date) AS last_day, count(*) AS daily_rows
           FROM daily GROUP BY ALL""",
    ),
}
# Tables renamed since a warehouse may have been written: {old name: new name}. A manifest that still
# names the old table is read under the new name (its files stay where they are), and the DuckDB
# catalog keeps a view under the old name, so SQL written before the rename still runs.
RENAMED_TABLES = {"ingest_runs": "job_runs"}
MANIFEST = "manifest.json"
PREVIOUS_MANIFEST = "manifest.prev.json"
CATALOG = "warehouse.duckdb"
STAGING_PREFIX = ".tmp-"  # a run's staging directory: .tmp-<run id>
RUN_FILE = "run.json"  # in the staging directory: who the run is, for the run that finds it dead


@cache
def schema_columns() -> dict[str, list[tuple[str, str]]]:
    """{table: [(column, type), ...]} read from schema.sql by DuckDB itself."""
    con = duckdb.connect()
    con.execute(SCHEMA_FILE.read_text())
    rows = con.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns ORDER BY table_name, ordinal_position"
    ).fetchall()
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, dtype in rows:
        out.setdefault(table, []).append((column, dtype))
    return out


def select_list(table: str, source_alias: str = "") -> str:
    """Columns of ``table`` cast to their warehouse types, in warehouse order."""
    prefix = f"{source_alias}." if source_alias else ""
    return ", ".join(f'CAST({prefix}"{c}" AS {t}) AS "{c}"' for c, t in schema_columns()[table])


def warehouse_dir(data_dir: os.PathLike | str) -> Path:
    return Path(data_dir) / "warehouse"


def read_manifest(data_dir: os.PathLike | str) -> dict:
    path = warehouse_dir(data_dir) / MANIFEST
    if not path.exists():
        return {"version": 0, "updated_at": None, "tables": {t: {} for t in TABLES}}
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise WarehouseError(f"cannot read {path}: {exc}; restore it or delete the warehouse and ingest again") from None
    return migrate(manifest)


def migrate(manifest: dict) -> dict:
    """The manifest in this version's table names (``RENAMED_TABLES``), every table present."""
    tables = manifest.setdefault("tables", {})
    for old, new in RENAMED_TABLES.items():
        if old in tables:
            held = tables.pop(old)
            tables[new] = {**held, **tables.get(new, {})}
    for t in TABLES:
        tables.setdefault(t, {})
    return manifest


def warehouse_version(data_dir: os.PathLike | str) -> str:
    """A cheap token that changes whenever an ingest commits: use it to key caches."""
    path = warehouse_dir(data_dir) / MANIFEST
    try:
        st = path.stat()
    except FileNotFoundError:
        return "empty"
    return f"{st.st_mtime_ns}-{st.st_size}"


def files_sql(table: str, files: list[str]) -> str:
    """A SELECT of ``table``'s rows from these Parquet files, in schema order and types.

    The typed empty row comes first: files written before a column was added read it as NULL
    (UNION BY NAME fills what a side lacks).
    """
    typed = ", ".join(f'CAST(NULL AS {t}) AS "{c}"' for c, t in schema_columns()[table])
    if not files:
        return f"SELECT {typed} WHERE false"
    listing = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    return (
        f"SELECT {typed} WHERE false UNION ALL BY NAME "
        f"SELECT * FROM read_parquet([{listing}], hive_partitioning = false, union_by_name = true)"
    )


def _view_sql(root: Path, manifest: dict, table: str) -> str:
    files = [str(root / f) for part in sorted(manifest["tables"][table]) for f in manifest["tables"][table][part]]
    if not files:
        cols = ", ".join(f'"{c}" {t}' for c, t in schema_columns()[table])
        return f"CREATE OR REPLACE TABLE {table} ({cols})"
    return f"CREATE OR REPLACE VIEW {table} AS {files_sql(table, files)}"


def attach_views(con: duckdb.DuckDBPyConnection, data_dir: os.PathLike | str, manifest: dict | None = None) -> dict:
    root = warehouse_dir(data_dir).resolve()
    manifest = manifest if manifest is not None else read_manifest(data_dir)
    for table in TABLES:
        con.execute(_view_sql(root, manifest, table))
    for old, new in RENAMED_TABLES.items():
        con.execute(f"CREATE OR REPLACE VIEW {old} AS SELECT * FROM {new}")
    return manifest


def connect(data_dir: os.PathLike | str, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only view of the current warehouse: in-memory DuckDB, one view per table."""
    con = duckdb.connect(config={"threads": threads} if threads else {})
    attach_views(con, data_dir)
    return con


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


@dataclass(frozen=True)
class DeadRun:
    """A run that stopped without cleaning up after itself, as the next writer found it."""

    run_id: str
    about: dict  # its run.json: pid, command, source, started_at ({} when it had none)
    freed_bytes: int  # what its staging directory and unadopted files held, now removed
    last_seen: datetime  # the newest modification time among what it left: about when it died (UTC)
    recorded: bool  # it has a job_runs row already (it died after its manifest swap, or is from before run.json)


@dataclass
class WarehouseWriter:
    """One ingest run's view of the warehouse: stage changes, then commit them all or none."""

    data_dir: Path
    run_id: str
    memory_limit: str = "1GB"
    about: dict = field(default_factory=dict)  # command and source, written to the staging directory's run.json
    con: duckdb.DuckDBPyConnection = field(init=False)
    pending: dict[str, dict[str, list[str]]] = field(init=False, default_factory=dict)
    pending_cursors: dict[str, dict | None] = field(init=False, default_factory=dict)
    recovered: list[DeadRun] = field(init=False, default_factory=list)

    def __enter__(self) -> WarehouseWriter:
        self.root = warehouse_dir(self.data_dir)
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.root / ".lock", "w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise WarehouseError(f"another ingest is writing to {self.root}; wait for it to finish and run again") from None
        try:
            self.manifest = read_manifest(self.data_dir)
            self.recovered = recover(self.data_dir, self.manifest)
            self.tmp = self.root / f"{STAGING_PREFIX}{self.run_id}"
            self.tmp.mkdir()
            about = {"run_id": self.run_id, "pid": os.getpid(), "started_at": datetime.now(UTC).isoformat(), **self.about}
            (self.tmp / RUN_FILE).write_text(json.dumps(about, default=str))
        except BaseException:
            self._release()
            raise
        self.con = duckdb.connect(
            config={
                "memory_limit": self.memory_limit,
                "temp_directory": str(self.tmp / "spill"),
                "preserve_insertion_order": False,
            }
        )
        attach_views(self.con, self.data_dir, self.manifest)
        return self

    def __exit__(self, *exc) -> None:
        crash_point("exit.begin")
        self.con.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        self._release()

    def _release(self) -> None:
        fcntl.flock(self._lock, fcntl.LOCK_UN)
        self._lock.close()

    def partitions_of(self, table: str) -> list[str]:
        return sorted(self.manifest["tables"][table])

    def write_partitions(self, table: str, rows_sql: str, params: dict | None = None) -> list[str]:
        """Write ``rows_sql`` (the complete new content of every partition it touches) as new files.

        The rows must carry every column of the table; they are cast to the warehouse types.
        Returns the partitions written. Nothing is live until ``commit``.
        """
        tag = f"w{sum(len(p) for p in self.pending.values())}"
        written = self.write_files(table, rows_sql, params, tag)
        for part, files in written.items():
            self.adopt(table, part, files)
        return list(written)

    def write_files(self, table: str, rows_sql: str, params: dict | None = None, tag: str = "w") -> dict[str, list[str]]:
        """Write rows as Parquet files in the table's layout without making them part of anything yet.

        Returns {partition: [files relative to the warehouse root]}; ``adopt`` makes a partition of
        them, and files never adopted are removed as garbage after the next commit.
        """
        key = PARTITION_KEYS[table]
        out = self.root / table / self.run_id / tag
        out.parent.mkdir(parents=True, exist_ok=True)
        self.con.execute(
            f"COPY (SELECT {select_list(table, 'r')}, {key} AS part "
            f"FROM ({rows_sql}) r) TO '{out}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (part), ROW_GROUP_SIZE 122880)",
            params or {},
        )
        crash_point("write.files")
        if not out.exists():
            return {}
        return {
            part_dir.name.split("=", 1)[1]: sorted(str(f.relative_to(self.root)) for f in part_dir.glob("*.parquet"))
            for part_dir in sorted(out.iterdir())
        }

    def adopt(self, table: str, part: str, files: list[str]) -> None:
        """Make these files (from ``write_files``) the partition's complete content at commit."""
        self.pending.setdefault(table, {})[part] = list(files)

    def drop_partitions(self, table: str, parts: list[str]) -> None:
        """Mark partitions as emptied (every row in them was replaced elsewhere)."""
        for part in parts:
            self.pending.setdefault(table, {}).setdefault(part, [])

    def set_cursor(self, name: str, value: dict | None) -> None:
        """Remember where an incremental source got to; saved in the manifest with the data."""
        self.pending_cursors[name] = value

    def commit(self, keep_only: tuple[str, ...] | None = None) -> dict:
        """Swap in a manifest with the pending partitions. ``keep_only`` commits just those tables."""
        crash_point("commit.begin")
        if keep_only is None:
            self._rebuild_rollups()
        crash_point("commit.rolled-up")
        tables = {t: dict(p) for t, p in self.manifest["tables"].items()}
        for table, parts in self.pending.items():
            if keep_only is not None and table not in keep_only:
                continue
            for part, files in parts.items():
                if files:
                    tables[table][part] = files
                else:
                    tables[table].pop(part, None)
        cursors = dict(self.manifest.get("cursors", {}))
        if keep_only is None:
            cursors.update(self.pending_cursors)
        new = {
            "version": self.manifest["version"] + 1,
            "cursors": cursors,
            "updated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "run_id": self.run_id,
            "tables": tables,
        }
        current = self.root / MANIFEST
        if current.exists():
            shutil.copyfile(current, self.root / PREVIOUS_MANIFEST)
        crash_point("commit.prev-saved")
        _atomic_write(current, json.dumps(new, indent=1, sort_keys=True))
        crash_point("commit.swapped")
        self._write_catalog(new)
        crash_point("commit.catalog")
        self._collect_garbage(new)
        crash_point("commit.collected")
        for dead in self.recovered:  # their job_runs rows are in this manifest: the last trace can go
            shutil.rmtree(self.root / f"{STAGING_PREFIX}{dead.run_id}", ignore_errors=True)
        self.recovered = []
        self.manifest = new
        self.pending = {}
        self.pending_cursors = {}
        return new

    def _rebuild_rollups(self) -> None:
        """Recompute each derived table's partitions whose source partition changed in this run, or that it lacks."""
        for table, (source, select) in ROLLUPS.items():
            held = self.manifest["tables"][source]
            changed = self.pending.get(source, {})
            after = {**held, **changed}
            parts = set(changed) | (set(after) - set(self.manifest["tables"][table]))
            live = sorted(p for p in parts if after.get(p))
            self.drop_partitions(table, sorted(p for p in parts if not after.get(p)))
            if not live:
                continue
            files = [str(self.root / f) for p in live for f in after[p]]
            rows = f"WITH daily AS ({files_sql(source, files)}) {select}"
            written = self.write_files(table, rows, tag=f"rollup-{source}")
            for part in live:
                self.adopt(table, part, written.get(part, []))

    def _write_catalog(self, manifest: dict) -> None:
        tmp = self.root.parent / f".{CATALOG}.{self.run_id}"
        con = duckdb.connect(str(tmp))
        try:
            attach_views(con, self.data_dir, manifest)
        finally:
            con.close()
        os.replace(tmp, self.root.parent / CATALOG)

    def _collect_garbage(self, manifest: dict) -> None:
        """Delete files that neither this manifest nor the previous one names."""
        live = live_files(self.root, manifest)
        for table in (*TABLES, *RENAMED_TABLES):
            base = self.root / table
            if not base.exists():
                continue
            for f in base.rglob("*.parquet"):
                rel = str(f.relative_to(self.root))
                if rel not in live and self.run_id not in rel:
                    f.unlink(missing_ok=True)
            for d in sorted((p for p in base.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
                if not any(d.iterdir()):
                    d.rmdir()


def live_files(root: Path, manifest: dict) -> set[str]:
    """Files (relative to the warehouse root) that ``manifest`` or the previous manifest names: what readers may open."""
    live = {f for parts in manifest["tables"].values() for files in parts.values() for f in files}
    prev_path = root / PREVIOUS_MANIFEST
    if prev_path.exists():
        prev = migrate(json.loads(prev_path.read_text()))
        live |= {f for parts in prev["tables"].values() for files in parts.values() for f in files}
    return live


def recover(data_dir: os.PathLike | str, manifest: dict) -> list[DeadRun]:
    """Remove what runs that died left: their staging directories and the files they wrote but never committed.

    Call it holding the writer lock: every run holds it from start to end, so no run that left a
    staging directory is still running. A dead run's ``<table>/<run id>/`` files are removed unless a
    manifest names them (it died after its swap); ``run.json`` stays until the caller's commit, which
    records the run in ``job_runs``, so a recovery that is itself killed loses nothing. Stray temporary
    files of an atomic write (``.manifest.json.*``, ``.warehouse.duckdb.*``) go too.
    """
    root = warehouse_dir(data_dir)
    live = live_files(root, manifest)
    found = []
    for staging in sorted(root.glob(f"{STAGING_PREFIX}*")):
        run_id = staging.name[len(STAGING_PREFIX) :]
        if not staging.is_dir():
            staging.unlink(missing_ok=True)
            continue
        freed, last_seen = _tree_size(staging)
        for table in (*TABLES, *RENAMED_TABLES):
            written = root / table / run_id
            if written.is_dir() and not any(f.startswith(f"{table}/{run_id}/") for f in live):
                size, seen = _tree_size(written)
                freed, last_seen = freed + size, max(last_seen, seen)
                shutil.rmtree(written, ignore_errors=True)
        about = _read_run_file(staging / RUN_FILE)
        for child in staging.iterdir():
            if child.name == RUN_FILE:
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
        recorded = run_id in manifest["tables"]["job_runs"] or not about
        found.append(DeadRun(run_id, about, freed, datetime.fromtimestamp(last_seen, UTC), recorded))
    for stray in [*root.glob(".*.json.*"), *Path(data_dir).glob(f".{CATALOG}.*")]:
        stray.unlink(missing_ok=True)
    return found


def _tree_size(path: Path) -> tuple[int, float]:
    """Bytes of the files under ``path`` and the newest modification time (epoch seconds) in it."""
    size, newest = 0, path.stat().st_mtime
    for f in path.rglob("*"):
        try:
            st = f.lstat()
        except FileNotFoundError:
            continue
        newest = max(newest, st.st_mtime)
        if not f.is_dir():
            size += st.st_size
    return size, newest


def _read_run_file(path: Path) -> dict:
    try:
        about = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return about if isinstance(about, dict) else {}


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
