-- monthly_billed_spend: what Cost Explorer billed per consumer tag value and month, the series the
-- spend forecast learns from, with the first and last day the bill covers (to tell whole months).
-- Untagged spend (consumer NULL) is left out: no consumer plans it, but its days count as covered.
-- Months wholly inside the period come summed from costs_monthly; only the (at most two) months the
-- period cuts are read day by day from costs_daily, so a 10M-row bill costs thousands of rows here.
-- UnblendedCost only (what the forecast learns from), grouped by currency: amounts in different
-- currencies are never added together.
WITH billed_days AS (
    SELECT
        usage_month,
        consumer,
        currency,
        unblended_cost,
        first_day,
        last_day
    FROM costs_monthly
    WHERE
        usage_month BETWEEN CAST(date_trunc('month', $start) AS DATE) AND $end
        AND usage_month >= $start AND usage_month + INTERVAL 1 MONTH <= $end + INTERVAL 1 DAY  -- a whole month
        AND (cardinality($consumers) = 0 OR list_contains($consumers, consumer))
        AND ($all_consumers OR list_contains($allowed_consumers, consumer))
    UNION ALL
    SELECT
        usage_month,
        consumer,
        currency,
        unblended_cost,
        usage_date AS first_day,
        usage_date AS last_day
    FROM costs_daily
    WHERE
        usage_month BETWEEN CAST(date_trunc('month', $start) AS DATE) AND $end  -- skips other months' files
        AND NOT (usage_month >= $start AND usage_month + INTERVAL 1 MONTH <= $end + INTERVAL 1 DAY)  -- a month cut
        AND usage_date BETWEEN $start AND $end
        AND (cardinality($consumers) = 0 OR list_contains($consumers, consumer))
        AND ($all_consumers OR list_contains($allowed_consumers, consumer))
),

per_month AS (
    SELECT
        usage_month AS month,
        consumer,
        currency,
        sum(unblended_cost) AS unblended_cost,
        min(first_day) AS first_day,
        max(last_day) AS last_day
    FROM billed_days
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
