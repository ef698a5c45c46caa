-- platforms: the same workflow type on each compute platform, side by side.
-- Cost per launch is over priced launches, hours over ended launches; the failure rate is
-- FAILED launches / ended (COMPLETE or FAILED) launches.
WITH platform_launches AS (
    SELECT
        workflow_type,
        compute_platform,
        total_cost,
        CASE WHEN ended_at IS NOT NULL THEN total_hours END AS ended_hours,
        CASE WHEN ended_at IS NOT NULL THEN 1 END AS ended,
        CASE WHEN status = 'FAILED' THEN 1 END AS failed
    FROM launch_scope
),

by_platform AS (
    SELECT
        workflow_type,
        compute_platform,
        count(*) AS launches,
        count(total_cost) AS priced_launches,
        count(ended) AS ended_launches,
        count(failed) AS failed_launches,
        percentile_cont(0.25) WITHIN GROUP (ORDER BY total_cost) AS p25_cost_per_launch,
        percentile_cont(0.50) WITHIN GROUP (ORDER BY total_cost) AS median_cost_per_launch,
        percentile_cont(0.75) WITHIN GROUP (ORDER BY total_cost) AS p75_cost_per_launch,
        percentile_cont(0.25) WITHIN GROUP (ORDER BY ended_hours) AS p25_hours,
        percentile_cont(0.50) WITHIN GROUP (ORDER BY ended_hours) AS median_hours,
        percentile_cont(0.75) WITHIN GROUP (ORDER BY ended_hours) AS p75_hours
    FROM platform_launches
    GROUP BY workflow_type, compute_platform
)

SELECT
    *,
    CAST(failed_launches AS DOUBLE) / NULLIF(ended_launches, 0) AS failure_rate
FROM by_platform
ORDER BY workflow_type, compute_platform
