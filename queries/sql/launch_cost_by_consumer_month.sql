-- launch_cost_by_consumer_month: what the launches cost, one row per consumer and launch month, by part.
-- Amounts are the prices the workflow manager wrote on each launch, or the pricing engine's for a
-- launch it left unpriced (price_source 'computed'); instance + volume + filesystem + control plane =
-- total. Launches still pending a price are counted but carry no amount.
WITH priced_parts AS (
    SELECT
        consumer,
        launch_month,
        total_cost,
        CASE WHEN total_cost IS NOT NULL THEN instance_cost END AS instance_cost,
        CASE WHEN total_cost IS NOT NULL THEN volume_cost END AS volume_cost,
        CASE WHEN total_cost IS NOT NULL THEN filesystem_cost END AS filesystem_cost,
        CASE WHEN total_cost IS NOT NULL THEN control_plane_cost END AS control_plane_cost
    FROM launch_scope
),

statement_lines AS (
    SELECT
        consumer,
        launch_month,
        count(*) AS launches,
        count(total_cost) AS priced_launches,
        COALESCE(sum(instance_cost), 0) AS instance_cost,
        COALESCE(sum(volume_cost), 0) AS volume_cost,
        COALESCE(sum(filesystem_cost), 0) AS filesystem_cost,
        COALESCE(sum(control_plane_cost), 0) AS control_plane_cost,
        COALESCE(sum(total_cost), 0) AS total_cost
    FROM priced_parts
    GROUP BY consumer, launch_month
)

SELECT
    consumer,
    launch_month,
    launches,
    priced_launches,
    launches - priced_launches AS pending_launches,
    instance_cost,
    volume_cost,
    filesystem_cost,
    control_plane_cost,
    total_cost,
    CAST(total_cost / NULLIF(priced_launches, 0) AS DECIMAL(18, 6)) AS cost_per_launch
FROM statement_lines
ORDER BY consumer, launch_month
