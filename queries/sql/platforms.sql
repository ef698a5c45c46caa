-- platforms: the same workflow type on each compute platform, side by side.
-- Cost per launch is over priced launches, hours over ended launches; the failure rate is
-- FAILED launches / ended (COMPLETE or FAILED) launches. Per GB and per sample divide each launch's cost
-- (or hours) by its input size (or sample count), over the launches that record one, then take the median.
WITH platform_launches AS (
    SELECT
        workflow_type,
        compute_platform,
        total_cost,
        CASE WHEN ended_at IS NOT NULL THEN total_hours END AS ended_hours,
        CAST(total_cost / NULLIF(input_size_gb, 0) AS DECIMAL(18, 6)) AS cost_per_gb,
        CAST(total_cost / NULLIF(sample_count, 0) AS DECIMAL(18, 6)) AS cost_per_sample,
        CASE WHEN ended_at IS NOT NULL THEN total_hours / NULLIF(input_size_gb, 0) END AS hours_per_gb,
        CASE WHEN ended_at IS NOT NULL THEN total_hours / NULLIF(sample_count, 0) END AS hours_per_sample,
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
        percentile_cont(0.75) WITHIN GROUP (ORDER BY ended_hours) AS p75_hours,
        percentile_cont(0.50) WITHIN GROUP (ORDER BY cost_per_gb) AS median_cost_per_gb,
        percentile_cont(0.50) WITHIN GROUP (ORDER BY cost_per_sample) AS median_cost_per_sample,
        percentile_cont(0.50) WITHIN GROUP (ORDER BY hours_per_gb) AS median_hours_per_gb,
        percentile_cont(0.50) WITHIN GROUP (ORDER BY hours_per_sample) AS median_hours_per_sample
    FROM platform_launches
    GROUP BY workflow_type, compute_platform
)

SELECT
    *,
    CAST(failed_launches AS DOUBLE) / NULLIF(ended_launches, 0) AS failure_rate
FROM by_platform
ORDER BY workflow_type, compute_platform
