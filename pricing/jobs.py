"""The pricing job: ``price-launches`` computes every launch's cost from its resources and the prices held.

A recorded, atomic run over the warehouse (no AWS calls): ``launch_costs`` is recomputed whole each
time, and a launch the workflow manager left unpriced takes the engine's price in ``launches`` too.
Each task of a Nextflow or Seqera run gets its own engine cost in ``launch_tasks`` and its run's instance
cost is their sum (``pricing.tasks``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from core.settings import Settings
from pricing import bulk, tasks
from pricing.engine import Rules
from warehouse.runs import JobRun, job_run, print_summary
from warehouse.store import WarehouseWriter


def price_launches(settings: Settings, quiet: bool = False) -> JobRun:
    """Compute ``launch_costs`` for every launch from ``launch_resources`` + ``prices`` (replaces it whole)."""
    with job_run(settings.data_dir, "price-launches", "launch_resources + prices", settings=settings) as run:
        con = run.writer.con
        priced_at = datetime.now(UTC).replace(tzinfo=None)
        rules = Rules.from_settings(settings.pricing)
        tasks.prepare_task_lines(con, settings.pricing.onprem_cores_per_node)
        bulk.launch_costs(
            con, rules, run.writer.run_id, priced_at, settings.currency, resources=tasks.RESOURCES_WITH_TASKS
        ).create("new_launch_costs")
        written = run.writer.write_partitions("launch_costs", "SELECT * FROM new_launch_costs")
        stale = [p for p in run.writer.partitions_of("launch_costs") if p not in written]
        run.writer.drop_partitions("launch_costs", stale)
        counts = dict(con.execute("SELECT price_status, count(*) FROM new_launch_costs GROUP BY 1").fetchall())
        total = sum(counts.values())
        run.stats.records_read += total
        run.stats.records_loaded += total
        run.stats.notes.append(", ".join(f"{counts.get(s, 0):,} {s}" for s in ("ESTIMATED", "FINAL", "PENDING")))
        no_item_price = con.execute(
            "SELECT count(*) FROM new_launch_costs c JOIN launches l USING (launch_id) "
            "WHERE l.total_cost IS NULL AND c.total_cost IS NOT NULL"
        ).fetchall()[0][0]
        run.stats.notes.append(f"{no_item_price:,} launch(es) without a price from the workflow manager priced by the engine")
        task_prices = tasks.write_task_costs(run.writer, rules)
        run.stats.notes.append(
            f"launch_tasks: {task_prices.priced:,} task(s) priced, {task_prices.unpriced:,} that ran without a price"
            f" (no machine type, price or cpus), {task_prices.not_run:,} cached or never started at 0"
        )
        months = _write_back_computed(run.writer)
        run.stats.notes.append(f"launches: computed prices written into {len(months)} launch month(s)")
        con.execute("DROP TABLE new_launch_costs")
    if not quiet:
        print_summary(run)
    return run


# A launch the workflow manager left unpriced takes the engine's price in ``launches``: its parts and
# total, price_source 'computed'. Its row_hash stays the item's, so re-ingesting the same item changes
# nothing; a changed item comes back 'pending' until the next price-launches.
_ENGINE_PRICED = "l.price_source IN ('pending', 'computed')"
_COST_PARTS = ("instance_cost", "volume_cost", "filesystem_cost", "control_plane_cost", "total_cost")


def _write_back_computed(writer: WarehouseWriter) -> list[str]:
    """Rewrite the launch months where an unpriced launch's computed price changed; return those months."""
    con = writer.con
    differs = " OR ".join(f"l.{c} IS DISTINCT FROM c.{c}" for c in _COST_PARTS)
    months = [
        m
        for (m,) in con.execute(
            f"""SELECT DISTINCT strftime(l.launch_month, '%Y-%m') FROM launches l
                LEFT JOIN new_launch_costs c USING (launch_id)
                WHERE {_ENGINE_PRICED} AND ({differs}) ORDER BY 1"""
        ).fetchall()
    ]
    if not months:
        return []
    replaced = ", ".join(f"CASE WHEN {_ENGINE_PRICED} THEN c.{c} ELSE l.{c} END AS {c}" for c in _COST_PARTS)
    writer.write_partitions(
        "launches",
        f"""SELECT l.* REPLACE (
                {replaced},
                CASE WHEN NOT {_ENGINE_PRICED} THEN l.price_source
                     WHEN c.total_cost IS NULL THEN 'pending' ELSE 'computed' END AS price_source)
            FROM launches l LEFT JOIN new_launch_costs c USING (launch_id)
            WHERE strftime(l.launch_month, '%Y-%m') IN (SELECT unnest($months))""",
        {"months": months},
    )
    return months
