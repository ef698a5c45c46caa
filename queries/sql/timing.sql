-- timing: where the hours go, per compute platform, workflow type and phase.
-- Phases in order: preparing, waiting, queued (READY until RUNNING), running. A launch counts in a
-- phase once it has hours there. Sums add up across groups; the percentiles do not (see
-- timing_by_platform for distributions pooled over workflow types).
WITH phase_hours AS (
    SELECT compute_platform, workflow_type, 1 AS phase_order, 'preparing' AS phase, preparing_hours AS hours
    FROM launch_scope
    UNION ALL
    SELECT compute_platform, workflow_type, 2 AS phase_order, 'waiting' AS phase, waiting_hours AS hours
    FROM launch_scope
    UNION ALL
    SELECT compute_platform, workflow_type, 3 AS phase_order, 'queued' AS phase, queued_hours AS hours
    FROM launch_scope
    UNION ALL
    SELECT compute_platform, workflow_type, 4 AS phase_order, 'running' AS phase, running_hours AS hours
    FROM launch_scope
),

-- One sort per group for all five percentiles (percentile_cont over a list), then unpacked.
phase_stats AS (
    SELECT
        compute_platform,
        workflow_type,
        phase,
        phase_order,
        count(hours) AS launches,
        COALESCE(sum(hours), 0) AS total_hours,
        avg(hours) AS mean_hours,
        percentile_cont([0.10, 0.25, 0.50, 0.75, 0.90]) WITHIN GROUP (ORDER BY hours) AS percentiles
    FROM phase_hours
    WHERE hours IS NOT NULL
    GROUP BY compute_platform, workflow_type, phase, phase_order
)

SELECT
    compute_platform,
    workflow_type,
    phase,
    phase_order,
    launches,
    total_hours,
    mean_hours,
    percentiles[1] AS p10_hours,
    percentiles[2] AS p25_hours,
    percentiles[3] AS p50_hours,
    percentiles[4] AS p75_hours,
    percentiles[5] AS p90_hours
FROM phase_stats
ORDER BY compute_platform, workflow_type, phase_order
