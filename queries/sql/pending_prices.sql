-- pending_prices: launches in scope that carry no price yet (total_cost NULL), the oldest first.
-- A running launch is priced when it ends; an ended launch still pending has no price from the
-- workflow manager and none from the pricing engine yet (price-launches writes the engine's price
-- into launches as price_source 'computed'). pending_launches counts all of them.
WITH pending AS (
    SELECT
        launch_id,
        consumer,
        workflow_type,
        compute_platform,
        status,
        launched_at,
        ended_at,
        price_source,
        ingest_run_id
    FROM launch_scope
    WHERE total_cost IS NULL
),

ranked AS (
    SELECT
        *,
        count(*) OVER () AS pending_launches,
        row_number() OVER (ORDER BY launched_at, launch_id) AS age_rank
    FROM pending
)

SELECT
    launch_id,
    consumer,
    workflow_type,
    compute_platform,
    status,
    launched_at,
    ended_at,
    price_source,
    ingest_run_id,
    pending_launches
FROM ranked
WHERE age_rank <= $limit
ORDER BY age_rank
