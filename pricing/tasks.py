"""Task prices: every task of a Nextflow or Seqera run priced by the engine, and its run priced as their sum.

``price-launches`` prices each task of ``launch_tasks`` that ran (not CACHED, with a start) as one
instance line of ``pricing.bulk``, so a task is charged exactly as a launch's instance is: its
``machine_type`` at the price of its ``price_model`` (On-Demand list price, Reserved rate, Spot history
in its ``zone`` or the Spot fallback fraction) in the run's region, per second with the 60-second
minimum, rounded half-up once to the micro-dollar. The time it held its machine is start to complete,
else its ``realtime`` (a trace without a complete time), else until the run ended. On premises
(``OnPremHPC``) the rate card charges cores: the task's node-seconds are cpus x that time /
``[pricing] onprem_cores_per_node``, as the Nextflow importer counts a run's.

A task that did not run (CACHED: the run that computed it paid; or never started) costs 0 in this run.
A task that ran but cannot be priced (no machine type, no price for it, no cpus on premises) keeps
``engine_cost`` NULL, and its run is PENDING: the run's instance cost is the sum of its tasks' engine
costs, never a part of them. Runs with no task that ran are priced from ``launch_resources`` as before.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from pricing import bulk
from pricing.engine import Rules
from warehouse.store import WarehouseWriter

# The resources price-launches prices: each run's tasks in place of its instance lines, the rest as held.
RESOURCES_WITH_TASKS = """(
    SELECT *, CAST(NULL AS BIGINT) AS line_key FROM launch_resources
    WHERE NOT (kind = 'instance' AND launch_id IN (SELECT launch_id FROM task_lines))
    UNION ALL BY NAME SELECT * FROM task_lines)"""

_HELD_END = """greatest(coalesce(t.completed_at,
                            t.started_at + to_microseconds(CAST(round(t.realtime_hours * 3600000000) AS BIGINT)),
                            l.ended_at), t.started_at)"""
_HELD_MS = f"(epoch_ms({_HELD_END}) - epoch_ms(t.started_at))"


@dataclass(frozen=True)
class TaskPrices:
    priced: int  # tasks that ran and have an engine cost
    unpriced: int  # tasks that ran and could not be priced
    not_run: int  # CACHED or never started: 0 in this run
    months: list[str]  # launch months whose task rows were rewritten


def prepare_task_lines(con: duckdb.DuckDBPyConnection, cores_per_node: int) -> int:
    """Number every task (``priced_tasks``) and make one instance line per task that ran (``task_lines``)."""
    con.execute(
        """CREATE OR REPLACE TEMP TABLE priced_tasks AS
           SELECT row_number() OVER (ORDER BY launch_id, task_id, attempt, name) AS line_key, * FROM launch_tasks"""
    )
    den = 2 * cores_per_node * 1000
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE task_lines AS
            SELECT t.line_key, t.launch_id, 'instance' AS kind,
                   CASE WHEN l.compute_platform = 'OnPremHPC' THEN 'onprem-node' ELSE t.machine_type END AS resource_type,
                   t.price_model AS purchase_option, 1 AS count, t.zone AS availability_zone,
                   CAST(NULL AS DOUBLE) AS size_gb, CAST(NULL AS INTEGER) AS iops, CAST(NULL AS INTEGER) AS throughput_mibps,
                   CAST(NULL AS VARCHAR) AS resource_id, t.started_at,
                   CASE WHEN l.compute_platform <> 'OnPremHPC' THEN {_HELD_END}
                        WHEN t.cpus IS NOT NULL  -- node-seconds, half up
                        THEN t.started_at + to_seconds((2 * t.cpus * {_HELD_MS} + {den // 2}) // {den})
                   END AS ended_at
            FROM priced_tasks t JOIN launches l USING (launch_id)
            WHERE t.status IS DISTINCT FROM 'CACHED' AND t.started_at IS NOT NULL"""
    )
    return con.execute("SELECT count(*) FROM task_lines").fetchone()[0]


def write_task_costs(writer: WarehouseWriter, rules: Rules) -> TaskPrices:
    """Price the task lines and rewrite the ``launch_tasks`` months whose engine costs changed."""
    con = writer.con
    params = bulk.prepare(con, rules)
    con.sql(bulk.line_costs_sql("task_lines"), params=params).create("task_line_costs")
    con.execute(
        """CREATE OR REPLACE TEMP TABLE new_task_costs AS
           SELECT t.line_key,
                  CASE WHEN t.status = 'CACHED' OR t.started_at IS NULL THEN CAST(0 AS DECIMAL(18,6))
                       WHEN c.micro IS NOT NULL
                       THEN CAST(CAST(c.micro AS DECIMAL(18,0)) * CAST(0.000001 AS DECIMAL(7,6)) AS DECIMAL(18,6))
                  END AS engine_cost,
                  t.status = 'CACHED' OR t.started_at IS NULL AS not_run
           FROM priced_tasks t LEFT JOIN task_line_costs c USING (line_key)"""
    )
    priced, unpriced, not_run = con.execute(
        """SELECT count(*) FILTER (WHERE NOT not_run AND engine_cost IS NOT NULL),
                  count(*) FILTER (WHERE NOT not_run AND engine_cost IS NULL), count(*) FILTER (WHERE not_run)
           FROM new_task_costs"""
    ).fetchone()
    months = [
        m
        for (m,) in con.execute(
            """SELECT DISTINCT strftime(t.launch_month, '%Y-%m') FROM priced_tasks t JOIN new_task_costs n USING (line_key)
               WHERE t.engine_cost IS DISTINCT FROM n.engine_cost ORDER BY 1"""
        ).fetchall()
    ]
    if months:
        writer.write_partitions(
            "launch_tasks",
            """SELECT t.* EXCLUDE (line_key) REPLACE (n.engine_cost AS engine_cost)
               FROM priced_tasks t JOIN new_task_costs n USING (line_key)
               WHERE strftime(t.launch_month, '%Y-%m') IN (SELECT unnest($months))""",
            {"months": months},
        )
    for table in ("task_line_costs", "new_task_costs", "task_lines", "priced_tasks"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return TaskPrices(priced, unpriced, not_run, months)
