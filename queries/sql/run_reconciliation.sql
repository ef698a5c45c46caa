-- run_reconciliation: per launch in scope that has bill rows (launch_billed_costs) or tasks (launch_tasks), what each
-- side says it cost: the workflow manager's or Seqera's figure (launches.total_cost, with price_source), the pricing
-- engine's (launch_costs.total_cost), the tasks' own estimates, and the bill: CUR split cost allocation (split_cost)
-- and split + unused (the run's share of its instances' idle capacity added).
-- gap = billed (split + unused) - engine; recorded_gap = billed (split + unused) - recorded.
-- Likely reason, where it can be said: the idle capacity of shared instances (split_unused_cost, never in the engine's
-- figure), or the Spot price paid against the Spot price estimated (split_cost - engine cost, Spot launches).
-- Reads launch_scope, so the sidebar filters and the reader's consumers apply.
WITH billed AS (
    SELECT
        b.launch_id,
        sum(b.split_cost) AS split_cost,
        sum(b.split_unused_cost) AS split_unused_cost,
        sum(b.billed_cost) AS billed_cost,
        sum(b.rows) AS bill_rows
    FROM launch_billed_costs AS b
    INNER JOIN launch_scope AS s ON s.launch_id = b.launch_id
    WHERE b.usage_month >= CAST(date_trunc('month', $start) AS DATE)  -- billed in the launch month or later
    GROUP BY b.launch_id
),

tasks AS (
    SELECT
        t.launch_id,
        count(*) AS tasks,
        sum(t.seqera_cost) AS task_seqera_cost,
        sum(t.engine_cost) AS task_engine_cost
    FROM launch_tasks AS t
    INNER JOIN launch_scope AS s ON s.launch_id = t.launch_id AND s.launch_month = t.launch_month
    WHERE t.launch_month BETWEEN CAST(date_trunc('month', $start) AS DATE) AND $end
    GROUP BY t.launch_id
),

lines AS (
    SELECT
        s.launch_id,
        s.consumer,
        s.workflow_type,
        s.compute_platform,
        s.launch_month,
        s.primary_purchase_option AS purchase_option,
        s.price_source,
        s.total_cost AS recorded_cost,
        c.total_cost AS engine_cost,
        coalesce(k.tasks, 0) AS tasks,
        k.task_seqera_cost,
        k.task_engine_cost,
        b.split_cost,
        b.split_unused_cost,
        b.split_cost + b.split_unused_cost AS split_with_unused_cost,
        b.billed_cost,
        coalesce(b.bill_rows, 0) AS bill_rows,
        CASE WHEN s.primary_purchase_option = 'Spot' THEN b.split_cost - c.total_cost END AS spot_price_gap
    FROM launch_scope AS s
    LEFT JOIN billed AS b ON b.launch_id = s.launch_id
    LEFT JOIN tasks AS k ON k.launch_id = s.launch_id
    LEFT JOIN (
        SELECT launch_id, total_cost FROM launch_costs
        WHERE launch_month BETWEEN CAST(date_trunc('month', $start) AS DATE) AND $end
    ) AS c ON c.launch_id = s.launch_id
    WHERE b.launch_id IS NOT NULL OR k.launch_id IS NOT NULL
)

SELECT
    launch_id,
    consumer,
    workflow_type,
    compute_platform,
    launch_month,
    purchase_option,
    price_source,
    tasks,
    bill_rows,
    CAST(recorded_cost AS DECIMAL(18, 6)) AS recorded_cost,
    CAST(engine_cost AS DECIMAL(18, 6)) AS engine_cost,
    CAST(task_seqera_cost AS DECIMAL(18, 6)) AS task_seqera_cost,
    CAST(task_engine_cost AS DECIMAL(18, 6)) AS task_engine_cost,
    CAST(split_cost AS DECIMAL(18, 6)) AS split_cost,
    CAST(split_unused_cost AS DECIMAL(18, 6)) AS split_unused_cost,
    CAST(split_with_unused_cost AS DECIMAL(18, 6)) AS split_with_unused_cost,
    CAST(billed_cost AS DECIMAL(18, 6)) AS billed_cost,
    CAST(split_with_unused_cost - engine_cost AS DECIMAL(18, 6)) AS gap,
    CAST(split_with_unused_cost - recorded_cost AS DECIMAL(18, 6)) AS recorded_gap,
    CAST(split_unused_cost AS DECIMAL(18, 6)) AS idle_capacity_cost,
    CAST(spot_price_gap AS DECIMAL(18, 6)) AS spot_price_gap,
    CASE
        WHEN split_with_unused_cost IS NULL THEN 'no bill rows for the run yet'
        WHEN split_unused_cost > 0 AND (spot_price_gap IS NULL OR split_unused_cost >= abs(spot_price_gap))
            THEN 'idle capacity of shared instances'
        WHEN spot_price_gap <> 0 THEN 'Spot price paid vs estimated'
    END AS likely_reason
FROM lines
ORDER BY launch_month, launch_id
