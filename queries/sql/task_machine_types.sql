-- task_machine_types: the tasks of the launches in scope (launch_tasks) per machine type and price model:
-- tasks, task-hours (realtime), and their cost as Seqera estimated it and as the pricing engine priced it.
-- A task without a known machine type or price model is counted under NULL. Reads launch_scope (filters, reader).
SELECT
    t.machine_type,
    t.price_model,
    count(*) AS tasks,
    count(DISTINCT t.launch_id) AS launches,
    sum(t.realtime_hours) AS task_hours,
    CAST(sum(t.seqera_cost) AS DECIMAL(18, 6)) AS seqera_cost,
    CAST(sum(t.engine_cost) AS DECIMAL(18, 6)) AS engine_cost
FROM launch_tasks AS t
INNER JOIN launch_scope AS s ON s.launch_id = t.launch_id AND s.launch_month = t.launch_month
WHERE t.launch_month BETWEEN CAST(date_trunc('month', $start) AS DATE) AND $end
GROUP BY t.machine_type, t.price_model
ORDER BY t.machine_type NULLS LAST, t.price_model NULLS LAST
