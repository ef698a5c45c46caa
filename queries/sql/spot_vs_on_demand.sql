-- spot_vs_on_demand: the same instance type bought as Spot and as On-Demand, side by side.
-- Only instance types with launches under both purchase options appear. Savings compare the
-- price of an instance-hour, which does not depend on how big each launch was.
WITH instance_launches AS (
    SELECT
        primary_instance_type AS instance_type,
        primary_purchase_option AS purchase_option,
        total_cost,
        total_hours,
        CASE WHEN total_cost IS NOT NULL THEN instance_cost END AS priced_instance_cost,
        CASE WHEN total_cost IS NOT NULL THEN instance_hours END AS priced_instance_hours
    FROM launch_scope
    WHERE primary_instance_type IS NOT NULL
        AND primary_purchase_option IN ('Spot', 'On-Demand')
),

by_type AS (
    SELECT
        instance_type,
        count(CASE WHEN purchase_option = 'Spot' THEN 1 END) AS spot_launches,
        count(CASE WHEN purchase_option = 'On-Demand' THEN 1 END) AS on_demand_launches,
        percentile_cont(0.5) WITHIN GROUP (
            ORDER BY CASE WHEN purchase_option = 'Spot' THEN total_cost END
        ) AS spot_median_cost_per_launch,
        percentile_cont(0.5) WITHIN GROUP (
            ORDER BY CASE WHEN purchase_option = 'On-Demand' THEN total_cost END
        ) AS on_demand_median_cost_per_launch,
        percentile_cont(0.5) WITHIN GROUP (
            ORDER BY CASE WHEN purchase_option = 'Spot' THEN total_hours END
        ) AS spot_median_hours,
        percentile_cont(0.5) WITHIN GROUP (
            ORDER BY CASE WHEN purchase_option = 'On-Demand' THEN total_hours END
        ) AS on_demand_median_hours,
        sum(CASE WHEN purchase_option = 'Spot' THEN priced_instance_cost END) AS spot_instance_cost,
        sum(CASE WHEN purchase_option = 'Spot' THEN priced_instance_hours END) AS spot_instance_hours,
        sum(CASE WHEN purchase_option = 'On-Demand' THEN priced_instance_cost END) AS on_demand_instance_cost,
        sum(CASE WHEN purchase_option = 'On-Demand' THEN priced_instance_hours END) AS on_demand_instance_hours
    FROM instance_launches
    GROUP BY instance_type
),

hourly AS (
    SELECT
        *,
        CAST(spot_instance_cost / NULLIF(spot_instance_hours, 0) AS DECIMAL(18, 6)) AS spot_cost_per_instance_hour,
        CAST(on_demand_instance_cost / NULLIF(on_demand_instance_hours, 0) AS DECIMAL(18, 6))
            AS on_demand_cost_per_instance_hour
    FROM by_type
    WHERE spot_launches > 0 AND on_demand_launches > 0
)

SELECT
    instance_type,
    spot_launches,
    on_demand_launches,
    spot_median_cost_per_launch,
    on_demand_median_cost_per_launch,
    spot_median_hours,
    on_demand_median_hours,
    spot_cost_per_instance_hour,
    on_demand_cost_per_instance_hour,
    1 - CAST(spot_cost_per_instance_hour AS DOUBLE) / NULLIF(CAST(on_demand_cost_per_instance_hour AS DOUBLE), 0)
        AS spot_saving_per_instance_hour
FROM hourly
ORDER BY instance_type
