-- instance_types: cost and duration per launch by primary instance type and purchase option.
-- A launch is filed under the instance type with the most instance-hours (primary_instance_type);
-- launches without EC2 instances (on premises) are left out. Cost per launch is over priced
-- launches; cost per instance-hour is instance cost / instance-hours of priced launches.
WITH instance_launches AS (
    SELECT
        primary_instance_type AS instance_type,
        primary_purchase_option AS purchase_option,
        total_cost,
        total_hours,
        instance_hours,
        CASE WHEN total_cost IS NOT NULL THEN instance_cost END AS priced_instance_cost,
        CASE WHEN total_cost IS NOT NULL THEN instance_hours END AS priced_instance_hours
    FROM launch_scope
    WHERE primary_instance_type IS NOT NULL
)

SELECT
    instance_type,
    purchase_option,
    count(*) AS launches,
    count(total_cost) AS priced_launches,
    percentile_cont(0.25) WITHIN GROUP (ORDER BY total_cost) AS p25_cost_per_launch,
    percentile_cont(0.50) WITHIN GROUP (ORDER BY total_cost) AS median_cost_per_launch,
    percentile_cont(0.75) WITHIN GROUP (ORDER BY total_cost) AS p75_cost_per_launch,
    percentile_cont(0.50) WITHIN GROUP (ORDER BY total_hours) AS median_hours,
    COALESCE(sum(instance_hours), 0) AS instance_hours,
    CAST(sum(priced_instance_cost) / NULLIF(sum(priced_instance_hours), 0) AS DECIMAL(18, 6)) AS cost_per_instance_hour
FROM instance_launches
GROUP BY instance_type, purchase_option
ORDER BY instance_type, purchase_option
