-- estimate_history: the ended launches the estimator learns from (and the backtest replays).
-- COMPLETE launches with a price and a duration teach the cost and duration curves; FAILED ones give
-- each group's failure rate and what a failed run costs. instance_family is primary_instance_type
-- up to the dot (r6i of r6i.4xlarge; onprem-node as it is). output_size_gb: NULL where not recorded.
-- $recent_per_group keeps the most recent ended launches of each workflow type x platform (the page
-- passes a few thousand: the estimator weighs older launches little; the backtest keeps them all).
-- Counting launches per group and month first finds the months a group keeps whole and the one
-- month it keeps in part; only that month's launches are ranked (ranking them all was 3x slower).
WITH ended AS (
    SELECT
        launch_id,
        consumer,
        workflow_type,
        compute_platform,
        input_size_gb,
        sample_count,
        output_size_gb,
        CASE
            WHEN strpos(primary_instance_type, '.') > 0 THEN split_part(primary_instance_type, '.', 1)
            ELSE primary_instance_type
        END AS instance_family,
        primary_purchase_option AS purchase_option,
        total_cost,
        total_hours,
        launch_month,
        status,
        currency,
        launched_at
    FROM launch_scope
    WHERE status IN ('COMPLETE', 'FAILED')
),

-- per group and launch month: its ended launches and how many of the group's are newer (later months)
months AS (
    SELECT
        workflow_type,
        compute_platform,
        launch_month,
        count(*) AS launches,
        COALESCE(sum(count(*)) OVER (
            PARTITION BY workflow_type, compute_platform ORDER BY launch_month DESC
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ), 0) AS newer
    FROM ended
    GROUP BY workflow_type, compute_platform, launch_month
),

candidates AS (
    SELECT
        ended.*,
        months.newer,
        months.launches AS month_launches
    FROM ended
    INNER JOIN months
        ON
            ended.workflow_type = months.workflow_type
            AND ended.compute_platform = months.compute_platform
            AND ended.launch_month = months.launch_month
    WHERE months.newer < $recent_per_group
),

-- the month kept in part: rank its launches, newest first, after the newer months' launches
part_month AS (
    SELECT
        *,
        newer + row_number() OVER (
            PARTITION BY workflow_type, compute_platform ORDER BY launched_at DESC, launch_id DESC
        ) AS recency
    FROM candidates
    WHERE newer + month_launches > $recent_per_group
),

kept AS (
    SELECT
        launch_id, consumer, workflow_type, compute_platform, input_size_gb, sample_count, output_size_gb, instance_family,
        purchase_option, total_cost, total_hours, launch_month, status, currency, launched_at
    FROM candidates
    WHERE newer + month_launches <= $recent_per_group
    UNION ALL
    SELECT
        launch_id, consumer, workflow_type, compute_platform, input_size_gb, sample_count, output_size_gb, instance_family,
        purchase_option, total_cost, total_hours, launch_month, status, currency, launched_at
    FROM part_month
    WHERE recency <= $recent_per_group
)

SELECT
    launch_id,
    consumer,
    workflow_type,
    compute_platform,
    input_size_gb,
    sample_count,
    output_size_gb,
    instance_family,
    purchase_option,
    total_cost,
    total_hours,
    launch_month,
    status,
    currency
FROM kept
ORDER BY launched_at, launch_id
