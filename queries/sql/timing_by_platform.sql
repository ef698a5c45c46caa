-- timing_by_platform: the distribution of hours per compute platform and phase, pooling the
-- workflow types in scope (quantiles cannot be combined after the fact, so they are taken here).
WITH phase_hours AS (
    SELECT compute_platform, 1 AS phase_order, 'preparing' AS phase, preparing_hours AS hours
    FROM launch_scope
    UNION ALL
    SELECT compute_platform, 2 AS phase_order, 'waiting' AS phase, waiting_hours AS hours
    FROM launch_scope
    UNION ALL
    SELECT compute_platform, 3 AS phase_order, 'queued' AS phase, queued_hours AS hours
    FROM launch_scope
    UNION ALL
    SELECT compute_platform, 4 AS phase_order, 'running' AS phase, running_hours AS hours
    FROM launch_scope
)

SELECT
    compute_platform,
    phase,
    phase_order,
    count(hours) AS launches,
    COALESCE(sum(hours), 0) AS total_hours,
    avg(hours) AS mean_hours,
    percentile_cont(0.10) WITHIN GROUP (ORDER BY hours) AS p10_hours,
    percentile_cont(0.25) WITHIN GROUP (ORDER BY hours) AS p25_hours,
    percentile_cont(0.50) WITHIN GROUP (ORDER BY hours) AS p50_hours,
    percentile_cont(0.75) WITHIN GROUP (ORDER BY hours) AS p75_hours,
    percentile_cont(0.90) WITHIN GROUP (ORDER BY hours) AS p90_hours
FROM phase_hours
WHERE hours IS NOT NULL
GROUP BY compute_platform, phase, phase_order
ORDER BY compute_platform, phase_order
