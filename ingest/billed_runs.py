"""What the bill says each run cost: ``launch_billed_costs``, one row per run tag value × billing month × source.

A bill import (``python -m ingest cur`` / ``focus``) sums the rows carrying the run tag (``[runs] tag`` in the allocation rules,
default ``unique_run_id``: the resource label Nextflow and Seqera put on a run's jobs, which CUR writes as
``user_unique_run_id``) and replaces that source's rows of the months it holds. ``match_runs`` then sets each
row's ``launch_id`` to the launch whose ``launch_id`` is the tag value, or NULL when no launch has it: a row is
never dropped and never attached to another launch. The Nextflow and Seqera importers call ``match_runs`` after
they load launches, so bill rows imported before their runs find them.

Both read what the warehouse holds plus what the run has staged (``held_rows_sql``), so a launch loaded a
moment ago in the same run is matched.
"""

from __future__ import annotations

from warehouse.store import WarehouseWriter, files_sql, schema_columns

TABLE = "launch_billed_costs"
MONTH = "strftime(CAST(usage_month AS DATE), '%Y-%m')"


def held_rows_sql(writer: WarehouseWriter, table: str) -> str:
    """A SELECT of ``table`` as this run would commit it: the manifest's partitions with the staged ones on top."""
    parts = dict(writer.manifest["tables"][table])
    parts.update(writer.pending.get(table, {}))
    files = [str((writer.root / f).resolve()) for part in sorted(parts) for f in parts[part]]
    return files_sql(table, files)


def _launch_ids(writer: WarehouseWriter) -> str:
    return f"SELECT DISTINCT launch_id FROM ({held_rows_sql(writer, 'launches')}) WHERE launch_id IS NOT NULL"


def replace_billed_runs(writer: WarehouseWriter, source: str, months: list[str], incoming: str) -> bool:
    """Make ``incoming`` (launch_billed_costs rows of ``source``) that source's rows of ``months`` (YYYY-MM).

    Rows of other sources are kept. Returns False, writing nothing, when the source's rows of those
    months already hold the same figures (the same export imported twice).
    """
    con = writer.con
    held = held_rows_sql(writer, TABLE)
    content = ", ".join(f'"{c}"' for c, _ in schema_columns()[TABLE] if c not in ("launch_id", "ingest_run_id"))
    existing = f"SELECT {content} FROM ({held}) WHERE source = $source AND {MONTH} IN (SELECT unnest($months))"
    params = {"source": source, "months": months}
    different = con.execute(
        f"""SELECT count(*) FROM (
            (SELECT {content} FROM {incoming} EXCEPT ALL {existing})
            UNION ALL
            ({existing} EXCEPT ALL SELECT {content} FROM {incoming}))""",
        params,
    ).fetchall()[0][0]
    if not different:
        return False
    written = writer.write_partitions(
        TABLE,
        f"""SELECT * FROM ({held}) WHERE {MONTH} IN (SELECT unnest($months)) AND source IS DISTINCT FROM $source
            UNION ALL BY NAME
            SELECT r.* REPLACE (l.launch_id AS launch_id) FROM {incoming} r LEFT JOIN ({_launch_ids(writer)}) l
                ON l.launch_id = r.run_tag""",
        params,
    )
    writer.drop_partitions(TABLE, [m for m in months if m not in written])
    return True


def match_runs(writer: WarehouseWriter) -> int:
    """Set ``launch_billed_costs.launch_id`` from the launches held; returns the rows whose launch_id changed.

    ``launch_id`` becomes the launch whose ``launch_id`` equals the row's ``run_tag``, or NULL when there is
    none. Only the months with a change are rewritten; call it after loading launches or bill rows, in the
    same run (``WarehouseWriter``), before the run commits.
    """
    con = writer.con
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE matched_runs AS
        SELECT b.* REPLACE (l.launch_id AS launch_id), b.launch_id IS DISTINCT FROM l.launch_id AS changed
        FROM ({held_rows_sql(writer, TABLE)}) b LEFT JOIN ({_launch_ids(writer)}) l ON l.launch_id = b.run_tag"""
    )
    changed, months = con.execute(f"SELECT count(*), list(DISTINCT {MONTH}) FROM matched_runs WHERE changed").fetchall()[0]
    if changed:
        writer.write_partitions(
            TABLE, f"SELECT * EXCLUDE (changed) FROM matched_runs WHERE {MONTH} IN (SELECT unnest($months))", {"months": months}
        )
    con.execute("DROP TABLE matched_runs")
    return int(changed)
