-- process_tasks: the tasks per pipeline process, of one run ($launch_id) or of one workflow type ($task_workflow_type)
-- among the launches in scope; an empty string means any. Tasks, task-hours (realtime), cost (Seqera's estimate and
-- the engine's), failed tasks (status FAILED) and retried tasks (attempt 2 and up). Reads launch_scope (filters, reader).
SELECT
    t.process,
    count(*) AS tasks,
    count(DISTINCT t.launch_id) AS launches,
    sum(t.realtime_hours) AS task_hours,
    CAST(sum(t.seqera_cost) AS DECIMAL(18, 6)) AS seqera_cost,
    CAST(sum(t.engine_cost) AS DECIMAL(18, 6)) AS engine_cost,
    sum(CASE WHEN t.status = 'FAILED' THEN 1 ELSE 0 END) AS failed,
    sum(CASE WHEN t.attempt > 1 THEN 1 ELSE 0 END) AS retried
FROM launch_tasks AS t
INNER JOIN launch_scope AS s ON s.launch_id = t.launch_id AND s.launch_month = t.launch_month
WHERE
    t.launch_month BETWEEN CAST(date_trunc('month', $start) AS DATE) AND $end
    AND ($launch_id = '' OR s.launch_id = $launch_id)
    AND ($task_workflow_type = '' OR s.workflow_type = $task_workflow_type)
GROUP BY t.process
ORDER BY t.process
