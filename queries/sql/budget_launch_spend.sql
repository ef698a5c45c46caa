-- budget_launch_spend: what each consumer's launches cost per launch month and currency, from $start to $end
-- (by the day a launch started, both ends included): the spend a consumer's budget counts, and the monthly
-- history its forecast learns from. Priced launches only (what chargeback attributes directly); the first
-- and last day a launch started in each group tell whole months from cut ones.
SELECT
    launch_month,
    consumer,
    currency,
    count(*) AS launches,
    count(total_cost) AS priced_launches,
    COALESCE(sum(total_cost), 0) AS spend,
    min(CAST(launched_at AS DATE)) AS first_day,
    max(CAST(launched_at AS DATE)) AS last_day
FROM launch_scope
WHERE consumer IS NOT NULL
GROUP BY launch_month, consumer, currency
ORDER BY launch_month, consumer, currency
