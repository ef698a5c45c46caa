-- statement_launches: one month's launches ($start its first day, $end its last, no other filter) per
-- consumer, workflow type, platform and region: the usage evidence a statement attributes direct cost
-- by and splits PROPORTIONAL shared costs by. Amounts count priced launches only.
SELECT
    consumer,
    workflow_type,
    compute_platform,
    region,
    count(*) AS launches,
    count(total_cost) AS priced_launches,
    COALESCE(sum(total_cost), 0) AS total_cost,
    COALESCE(sum(CASE WHEN total_cost IS NOT NULL THEN instance_cost END), 0) AS instance_cost,
    COALESCE(sum(CASE WHEN total_cost IS NOT NULL THEN volume_cost END), 0) AS volume_cost,
    COALESCE(sum(CASE WHEN total_cost IS NOT NULL THEN filesystem_cost END), 0) AS filesystem_cost,
    COALESCE(sum(CASE WHEN total_cost IS NOT NULL THEN control_plane_cost END), 0) AS control_plane_cost
FROM launch_scope
GROUP BY consumer, workflow_type, compute_platform, region
ORDER BY consumer, workflow_type, compute_platform, region
