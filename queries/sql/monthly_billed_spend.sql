-- monthly_billed_spend: what Cost Explorer billed per consumer tag value and month, the series the
-- spend forecast learns from, with the first and last day the bill covers (to tell whole months).
-- Untagged spend (consumer NULL) is left out: no consumer plans it, but its days count as covered.
-- One pass over costs_daily: the days covered come from the per-month rows, not a second scan.
-- UnblendedCost only (what the forecast learns from): at 10M cost rows every summed column costs ~65 ms.
WITH per_month AS (
    SELECT
        usage_month AS month,
        consumer,
        currency,  -- a group key: amounts in different currencies are never added together
        sum(unblended_cost) AS unblended_cost,
        min(usage_date) AS first_day,
        max(usage_date) AS last_day
    FROM costs_daily
    WHERE
        usage_month BETWEEN date_trunc('month', $start) AND $end  -- skips other months' files
        AND usage_date BETWEEN $start AND $end
        AND (cardinality($consumers) = 0 OR list_contains($consumers, consumer))
    GROUP BY usage_month, consumer, currency
),

covered AS (
    SELECT
        min(first_day) AS first_day,
        max(last_day) AS last_day
    FROM per_month
)

SELECT
    per_month.month,
    per_month.consumer,
    per_month.unblended_cost,
    per_month.currency,
    covered.first_day,
    covered.last_day
FROM per_month
CROSS JOIN covered
WHERE per_month.consumer IS NOT NULL
ORDER BY per_month.month, per_month.consumer, per_month.currency
