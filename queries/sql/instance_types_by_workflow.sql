-- instance_types_by_workflow: cost and duration per launch by workflow type, primary instance type and
-- purchase option, with each line's spend (the Instance types chart shows one workflow type, or the top
-- types by spend, one panel each). Filed and counted as in instance_types.sql.
WITH instance_launches AS (
    SELECT
        workflow_type,
        primary_instance_type AS instance_type,
        primary_purchase_option AS purchase_option,
        total_cost,
        total_hours
    FROM launch_scope
    WHERE primary_instance_type IS NOT NULL
)

SELECT
    workflow_type,
    instance_type,
    purchase_option,
    count(*) AS launches,
    count(total_cost) AS priced_launches,
    COALESCE(sum(total_cost), 0) AS spend,
    percentile_cont(0.25) WITHIN GROUP (ORDER BY total_cost) AS p25_cost_per_launch,
    percentile_cont(0.50) WITHIN GROUP (ORDER BY total_cost) AS median_cost_per_launch,
    percentile_cont(0.75) WITHIN GROUP (ORDER BY total_cost) AS p75_cost_per_launch,
    percentile_cont(0.50) WITHIN GROUP (ORDER BY total_hours) AS median_hours
FROM instance_launches
GROUP BY workflow_type, instance_type, purchase_option
ORDER BY workflow_type, instance_type, purchase_option
