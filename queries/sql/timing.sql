-- timing: where the hours go, per compute platform, workflow type and phase.
-- Phases in order: preparing, waiting, queued (READY until RUNNING), running. A launch counts in a
-- phase once it has hours there. Sums add up across groups; the percentiles do not, so with
-- $pool_workflow_types the workflow types in scope are pooled into one distribution per platform
-- (workflow_type NULL): quantiles cannot be combined after the fact, so they are taken here.
-- One scan: each group's four phase columns are aggregated side by side (all five percentiles of a
-- phase from one sort), then the small result is turned into one row per phase.
WITH grouping_mode AS (  -- one row: whether to pool (parameters sit in WHERE clauses, which Athena can bind)
    SELECT pooled FROM (VALUES (true), (false)) AS modes (pooled) WHERE pooled = $pool_workflow_types
),

per_group AS (
    SELECT
        launch_scope.compute_platform,
        CASE WHEN grouping_mode.pooled THEN NULL ELSE launch_scope.workflow_type END AS workflow_type,
        count(preparing_hours) AS preparing_launches,
        sum(preparing_hours) AS preparing_total,
        avg(preparing_hours) AS preparing_mean,
        percentile_cont([0.10, 0.25, 0.50, 0.75, 0.90]) WITHIN GROUP (ORDER BY preparing_hours) AS preparing_percentiles,
        count(waiting_hours) AS waiting_launches,
        sum(waiting_hours) AS waiting_total,
        avg(waiting_hours) AS waiting_mean,
        percentile_cont([0.10, 0.25, 0.50, 0.75, 0.90]) WITHIN GROUP (ORDER BY waiting_hours) AS waiting_percentiles,
        count(queued_hours) AS queued_launches,
        sum(queued_hours) AS queued_total,
        avg(queued_hours) AS queued_mean,
        percentile_cont([0.10, 0.25, 0.50, 0.75, 0.90]) WITHIN GROUP (ORDER BY queued_hours) AS queued_percentiles,
        count(running_hours) AS running_launches,
        sum(running_hours) AS running_total,
        avg(running_hours) AS running_mean,
        percentile_cont([0.10, 0.25, 0.50, 0.75, 0.90]) WITHIN GROUP (ORDER BY running_hours) AS running_percentiles
    FROM launch_scope
    CROSS JOIN grouping_mode
    GROUP BY launch_scope.compute_platform, CASE WHEN grouping_mode.pooled THEN NULL ELSE launch_scope.workflow_type END
),

phases (phase_order, phase) AS (
    VALUES (1, 'preparing'), (2, 'waiting'), (3, 'queued'), (4, 'running')
),

phase_stats AS (
    SELECT
        per_group.compute_platform,
        per_group.workflow_type,
        phases.phase,
        phases.phase_order,
        CASE phases.phase_order
            WHEN 1 THEN per_group.preparing_launches
            WHEN 2 THEN per_group.waiting_launches
            WHEN 3 THEN per_group.queued_launches
            ELSE per_group.running_launches
        END AS launches,
        CASE phases.phase_order
            WHEN 1 THEN per_group.preparing_total
            WHEN 2 THEN per_group.waiting_total
            WHEN 3 THEN per_group.queued_total
            ELSE per_group.running_total
        END AS total_hours,
        CASE phases.phase_order
            WHEN 1 THEN per_group.preparing_mean
            WHEN 2 THEN per_group.waiting_mean
            WHEN 3 THEN per_group.queued_mean
            ELSE per_group.running_mean
        END AS mean_hours,
        CASE phases.phase_order
            WHEN 1 THEN per_group.preparing_percentiles
            WHEN 2 THEN per_group.waiting_percentiles
            WHEN 3 THEN per_group.queued_percentiles
            ELSE per_group.running_percentiles
        END AS percentiles
    FROM per_group
    CROSS JOIN phases
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
WHERE launches > 0
ORDER BY compute_platform, workflow_type, phase_order
