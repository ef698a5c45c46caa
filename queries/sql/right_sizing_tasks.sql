-- right_sizing_tasks: every task of one workflow type ($task_workflow_type) or of one run ($launch_id) among the
-- launches in scope (an empty string means any), with what it requested (cpus, memory), what it used (%cpu, peak
-- RSS), how it ended (status, exit, attempt, Spot interruptions), where it ran (machine type, zone, price model, the
-- launch's region) and when (for pricing). pricing.rightsizing computes the recommendations from these rows.
-- Reads launch_scope (filters, reader).
SELECT
    t.launch_id,
    s.workflow_type,
    s.region,
    t.launch_month,
    t.task_id,
    t.process,
    coalesce(t.name, t.task_id) AS name,
    t.status,
    t.attempt,
    t.exit_code,
    t.machine_type,
    t.zone,
    t.price_model,
    t.cpus,
    t.memory_gb,
    t.submitted_at,
    t.started_at,
    t.completed_at,
    t.realtime_hours,
    t.cpu_percent,
    t.peak_rss_gb,
    t.spot_interruptions,
    t.seqera_cost,
    t.currency
FROM launch_tasks AS t
INNER JOIN launch_scope AS s ON s.launch_id = t.launch_id AND s.launch_month = t.launch_month
WHERE
    t.launch_month BETWEEN CAST(date_trunc('month', $start) AS DATE) AND $end
    AND t.process IS NOT NULL
    AND ($launch_id = '' OR s.launch_id = $launch_id)
    AND ($task_workflow_type = '' OR s.workflow_type = $task_workflow_type)
ORDER BY t.launch_id, t.process, name, t.attempt, t.submitted_at, t.task_id
