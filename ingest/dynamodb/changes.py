"""Writes in order: incremental exports' updates and deletes, and launches a full source no longer holds.

Every item read carries ``as_of_us``, the time its state is from: an incremental export line's
``Metadata.WriteTimestampMicros``, a full export's ``exportTime`` (from ``manifest-summary.json``), a
scan's start; NULL for a loose file. A launch read more than once keeps its latest state, and a delete
(an incremental export line with no ``NewImage``) later than every state read removes the launch: its
``launches``, ``launch_resources`` and ``launch_costs`` rows go, and ``launch_deletions`` records it, so
an older copy of the item (a full export from before the delete, a loose file) is quarantined instead of
being charged again. A full export or scan read whole reports the launches it no longer holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from warehouse.store import WarehouseWriter

SAMPLE = 5  # launch ids a note names


def create_tables(con: duckdb.DuckDBPyConnection, track_seen: bool) -> None:
    """The run's record of what it read: each staged launch version, each delete, each launch id seen."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE launch_versions (launch_id VARCHAR, as_of_us BIGINT, batch VARCHAR);"
        "CREATE OR REPLACE TEMP TABLE change_deletes (launch_id VARCHAR, as_of_us BIGINT, source VARCHAR);"
        "CREATE OR REPLACE TEMP TABLE deleted_launches (launch_id VARCHAR, as_of_us BIGINT, source VARCHAR);"
        "CREATE OR REPLACE TEMP TABLE gone_launches (launch_id VARCHAR, month VARCHAR);"
    )
    if track_seen:
        con.execute("CREATE OR REPLACE TEMP TABLE seen_launch_ids (launch_id VARCHAR)")
    else:
        con.execute("DROP TABLE IF EXISTS seen_launch_ids")


def quarantine_bad_deletes(con: duckdb.DuckDBPyConnection, key_name: str) -> None:
    """Deletes that cannot be applied (no key, or no write time) join the batch's rejected records."""
    con.execute(
        """INSERT INTO validated BY NAME
           SELECT rn, source, key_id AS launch_id, as_of_us, CASE WHEN key_id IS NULL
               THEN 'an incremental export delete (a line with no NewImage) whose Keys have no ' || $key
                    || ': nothing to apply'
               ELSE 'an incremental export delete of ' || key_id || ' with no readable Metadata.WriteTimestampMicros '
                    || '(microseconds since the epoch, 2000..2099): cannot tell when it happened' END AS reason
           FROM items WHERE is_delete AND (key_id IS NULL OR ll_at(as_of_us) IS NULL)""",
        {"key": key_name},
    )


def record_batch(con: duckdb.DuckDBPyConnection, batch: str, track_seen: bool, deletes: bool) -> None:
    """Remember the batch's deletes, the launch versions it stages and (for a full source) the ids it held."""
    if deletes:
        con.execute(
            "INSERT INTO change_deletes SELECT key_id, as_of_us, source FROM items "
            "WHERE is_delete AND key_id IS NOT NULL AND ll_at(as_of_us) IS NOT NULL"
        )
    con.execute(
        "INSERT INTO launch_versions SELECT launch_id, as_of_us, $batch FROM validated WHERE reason IS NULL",
        {"batch": batch},
    )
    if track_seen:
        con.execute("INSERT INTO seen_launch_ids SELECT DISTINCT launch_id FROM parsed WHERE launch_id IS NOT NULL")


def add_seen(con: duckdb.DuckDBPyConnection, launch_ids: list[str]) -> None:
    """Launch ids a full source holds that were not staged (a scan's pages unchanged since the last scan)."""
    if not launch_ids:
        return
    import pyarrow as pa

    con.register("seen_elsewhere", pa.table({"launch_id": pa.array(launch_ids, pa.string())}))
    con.execute("INSERT INTO seen_launch_ids SELECT launch_id FROM seen_elsewhere")
    con.unregister("seen_elsewhere")


def count_deletes(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT count(*) FROM change_deletes").fetchone()[0]


def settle_deletes(con: duckdb.DuckDBPyConnection) -> None:
    """``deleted_launches``: launches whose latest event read is a delete; ``gone_launches``: those the warehouse holds.

    A version with no time (a loose file) counts as older than any delete.
    """
    con.execute(
        """CREATE OR REPLACE TEMP TABLE deleted_launches AS
           SELECT d.launch_id, max(d.as_of_us) AS as_of_us, arg_max(d.source, d.as_of_us) AS source
           FROM change_deletes d
           LEFT JOIN (SELECT launch_id, max(coalesce(as_of_us, -1)) AS newest FROM launch_versions GROUP BY ALL) v
                  USING (launch_id)
           GROUP BY d.launch_id HAVING max(d.as_of_us) >= coalesce(any_value(v.newest), -1)"""
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE gone_launches AS SELECT l.launch_id, strftime(l.launch_month, '%Y-%m') AS month "
        "FROM launches l SEMI JOIN deleted_launches d USING (launch_id)"
    )


@dataclass
class Deletions:
    applied: int = 0  # deletes of launches the warehouse held: removed
    not_held: int = 0  # deletes of launches it never held: recorded all the same
    ids: list[str] = field(default_factory=list)  # a few of the removed launches


def apply_deletions(writer: WarehouseWriter) -> Deletions:
    """Record every settled delete in ``launch_deletions`` and drop the deleted launches' ``launch_costs`` rows.

    ``merge_launches`` has already left them out of ``launches`` and ``launch_resources``.
    """
    con = writer.con
    total = con.execute("SELECT count(*) FROM deleted_launches").fetchone()[0]
    if not total:
        return Deletions()
    writer.write_partitions(
        "launch_deletions",
        """SELECT d.launch_id, ll_at(d.as_of_us) AS deleted_at, l.launch_month, l.consumer, l.total_cost, l.currency,
                  d.source, $run_id AS run_id
           FROM deleted_launches d LEFT JOIN launches l USING (launch_id)""",
        {"run_id": writer.run_id},
    )
    months = [
        m
        for (m,) in con.execute(
            "SELECT DISTINCT strftime(CAST(launch_month AS DATE), '%Y-%m') FROM launch_costs "
            "WHERE launch_id IN (SELECT launch_id FROM deleted_launches)"
        ).fetchall()
    ]
    if months:
        written = writer.write_partitions(
            "launch_costs",
            """SELECT * FROM launch_costs WHERE strftime(CAST(launch_month AS DATE), '%Y-%m') IN (SELECT unnest($months))
                 AND launch_id NOT IN (SELECT launch_id FROM deleted_launches)""",
            {"months": months},
        )
        writer.drop_partitions("launch_costs", [m for m in months if m not in written])
    held = [i for (i,) in con.execute("SELECT launch_id FROM gone_launches ORDER BY launch_id").fetchall()]
    return Deletions(applied=len(held), not_held=total - len(held), ids=held[:SAMPLE])


def deletion_note(deleted: Deletions) -> str | None:
    if not (deleted.applied or deleted.not_held):
        return None
    parts = []
    if deleted.applied:
        more = " ..." if deleted.applied > len(deleted.ids) else ""
        parts.append(
            f"{deleted.applied:,} launch(es) deleted from the table were removed ({', '.join(deleted.ids)}{more}): "
            "they are charged no more"
        )
    if deleted.not_held:
        parts.append(f"{deleted.not_held:,} delete(s) were for launches the warehouse did not hold")
    return "; ".join(parts) + "; every delete is recorded in launch_deletions"


def not_in_source(con: duckdb.DuckDBPyConnection) -> tuple[int, list[str]]:
    """Launches a DynamoDB load put in the warehouse that this full export or scan does not hold."""
    rows = con.execute(
        """SELECT launch_id FROM launches
           WHERE ingest_run_id IN (SELECT run_id FROM job_runs WHERE command IN ('dynamodb', 'dynamodb-export'))
             AND launch_id NOT IN (SELECT launch_id FROM seen_launch_ids)
             AND launch_id NOT IN (SELECT launch_id FROM deleted_launches)
           ORDER BY launch_id"""
    ).fetchall()
    return len(rows), [r[0] for r in rows[:SAMPLE]]


def missing_note(count: int, ids: list[str], what: str) -> str | None:
    if not count:
        return None
    more = " ..." if count > len(ids) else ""
    return (
        f"{count:,} launch(es) in the warehouse are not in this {what} (deleted from the table?): {', '.join(ids)}{more}; "
        "they stay loaded and charged: load an incremental export (NEW_AND_OLD_IMAGES or NEW_IMAGE) to apply deletes"
    )
