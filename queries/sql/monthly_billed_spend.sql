-- monthly_billed_spend: what Cost Explorer billed per consumer tag value and month, the series the
-- spend forecast learns from, with the first and last day the bill covers (to tell whole months).
-- Untagged spend (consumer NULL) is left out: no consumer plans it.
WITH billed AS (
    SELECT *
    FROM costs_daily
    WHERE
        usage_date BETWEEN $start AND $end
        AND (cardinality($consumers) = 0 OR list_contains($consumers, consumer))
),

covered AS (
    SELECT
        min(usage_date) AS first_day,
        max(usage_date) AS last_day
    FROM billed
)

SELECT
    billed.usage_month AS month,
    billed.consumer,
    sum(billed.unblended_cost) AS unblended_cost,
    sum(billed.amortized_cost) AS amortized_cost,
    sum(billed.net_amortized_cost) AS net_amortized_cost,
    min(billed.currency) AS currency,
    covered.first_day,
    covered.last_day
FROM billed
CROSS JOIN covered
WHERE billed.consumer IS NOT NULL
GROUP BY billed.usage_month, billed.consumer, covered.first_day, covered.last_day
ORDER BY month, consumer
