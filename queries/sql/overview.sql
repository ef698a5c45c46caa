-- overview: the headline figures of one period.
-- The overview page runs it for the chosen period and for the previous period of equal length.
-- Spend counts priced launches only; a launch whose price is pending (total_cost NULL) is counted
-- in launches and in pending_price_launches. computed_price_launches counts the priced launches the
-- workflow manager left unpriced: their price is the pricing engine's. Median hours are over ended launches.
WITH launch_facts AS (
    SELECT
        total_cost,
        price_source,
        CASE WHEN status = 'FAILED' THEN total_cost END AS failed_cost,
        CASE WHEN ended_at IS NOT NULL THEN total_hours END AS ended_hours
    FROM launch_scope
),

totals AS (
    SELECT
        count(*) AS launches,
        count(total_cost) AS priced_launches,
        count(CASE WHEN price_source = 'computed' THEN 1 END) AS computed_price_launches,
        COALESCE(sum(total_cost), 0) AS total_spend,
        COALESCE(sum(failed_cost), 0) AS failed_spend,
        count(ended_hours) AS ended_launches,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY ended_hours) AS median_hours
    FROM launch_facts
)

SELECT
    total_spend,
    launches,
    priced_launches,
    launches - priced_launches AS pending_price_launches,
    computed_price_launches,
    CAST(total_spend / NULLIF(priced_launches, 0) AS DECIMAL(18, 6)) AS cost_per_launch,
    ended_launches,
    median_hours,
    failed_spend
FROM totals
