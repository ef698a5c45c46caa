-- anomalies: what the latest anomalies run (python -m ingest anomalies) found in the sidebar's selection,
-- the furthest off first: launches whose cost or hours fell outside the estimator's 95% interval for their
-- size, and consumer-months whose spend fell outside the spend forecast's 95% interval.
-- A launch is in the selection when it is in launch_scope (the period, every filter, the reader's consumers);
-- a consumer-month when its month overlaps the period and its consumer is picked (or none is) and the
-- reader's. A consumer-month is the consumer's whole spend, so it is left out when a workflow type, platform
-- or status is picked: that view holds part of it only. anomalies_in_selection counts every one found;
-- the first $limit are returned.
WITH launch_rows AS (
    SELECT
        a.kind,
        a.month,
        CAST(s.launched_at AS DATE) AS launch_day,
        a.launch_id,
        a.consumer,
        a.workflow_type,
        a.compute_platform,
        a.outside,
        a.actual_cost,
        a.expected_cost,
        a.cost_low,
        a.cost_high,
        a.cost_ratio,
        a.actual_hours,
        a.expected_hours,
        a.hours_low,
        a.hours_high,
        a.hours_ratio,
        a.how_far_off,
        a.interval_level,
        a.basis,
        a.currency,
        a.computed_at
    FROM anomalies AS a
    INNER JOIN launch_scope AS s ON a.launch_id = s.launch_id
    WHERE
        a.kind = 'launch'
        AND a.month BETWEEN CAST(date_trunc('month', $start) AS DATE) AND $end  -- a launch's month: its launch month
),

month_rows AS (
    SELECT
        kind,
        month,
        CAST(NULL AS DATE) AS launch_day,
        launch_id,
        consumer,
        workflow_type,
        compute_platform,
        outside,
        actual_cost,
        expected_cost,
        cost_low,
        cost_high,
        cost_ratio,
        actual_hours,
        expected_hours,
        hours_low,
        hours_high,
        hours_ratio,
        how_far_off,
        interval_level,
        basis,
        currency,
        computed_at
    FROM anomalies
    WHERE
        kind = 'consumer month'
        AND month BETWEEN CAST(date_trunc('month', $start) AS DATE) AND $end
        AND (cardinality($consumers) = 0 OR list_contains($consumers, consumer))
        AND cardinality($workflow_types) = 0
        AND cardinality($platforms) = 0
        AND cardinality($statuses) = 0
        AND ($all_consumers OR list_contains($allowed_consumers, consumer))
),

found AS (
    SELECT * FROM launch_rows
    UNION ALL
    SELECT * FROM month_rows
),

ranked AS (
    SELECT
        *,
        row_number() OVER (ORDER BY how_far_off DESC, month DESC, launch_id) AS rank,
        count(*) OVER () AS anomalies_in_selection
    FROM found
)

SELECT *
FROM ranked
WHERE rank <= $limit
ORDER BY rank
