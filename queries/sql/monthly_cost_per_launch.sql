-- monthly_cost_per_launch: what a launch cost, month by month, and what failures wasted.
-- Median and mean are over priced launches; failed_spend is the price of launches that FAILED.
WITH monthly AS (
    SELECT
        launch_month,
        count(*) AS launches,
        count(total_cost) AS priced_launches,
        COALESCE(sum(total_cost), 0) AS spend,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY total_cost) AS median_cost_per_launch,
        COALESCE(sum(CASE WHEN status = 'FAILED' THEN total_cost END), 0) AS failed_spend,
        count(CASE WHEN status = 'FAILED' THEN 1 END) AS failed_launches
    FROM launch_scope
    GROUP BY launch_month
)

SELECT
    launch_month,
    launches,
    priced_launches,
    spend,
    median_cost_per_launch,
    CAST(spend / NULLIF(priced_launches, 0) AS DECIMAL(18, 6)) AS mean_cost_per_launch,
    failed_launches,
    failed_spend
FROM monthly
ORDER BY launch_month
