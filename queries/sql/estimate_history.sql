-- estimate_history: the ended launches the estimator learns from (and the backtest replays).
-- COMPLETE launches with a price and a duration teach the cost and duration curves; FAILED ones give
-- each group's failure rate and what a failed run costs. instance_family is primary_instance_type
-- up to the dot (r6i of r6i.4xlarge; onprem-node as it is).
-- $recent_per_group keeps the most recent ended launches of each workflow type x platform (the page
-- passes a few thousand: the estimator weighs older launches little; the backtest keeps them all).
WITH ended AS (
    SELECT
        launch_id,
        consumer,
        workflow_type,
        compute_platform,
        input_size_gb,
        sample_count,
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
        launched_at,
        row_number() OVER (
            PARTITION BY workflow_type, compute_platform ORDER BY launched_at DESC, launch_id DESC
        ) AS recency
    FROM launch_scope
    WHERE status IN ('COMPLETE', 'FAILED')
)

SELECT
    launch_id,
    consumer,
    workflow_type,
    compute_platform,
    input_size_gb,
    sample_count,
    instance_family,
    purchase_option,
    total_cost,
    total_hours,
    launch_month,
    status,
    currency
FROM ended
WHERE recency <= $recent_per_group
ORDER BY launched_at, launch_id
