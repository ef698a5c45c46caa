-- monthly_spend_by_consumer: spend and launches per launch month and consumer.
-- Spend counts priced launches; launches counts every launch started that month.
SELECT
    launch_month,
    consumer,
    count(*) AS launches,
    count(total_cost) AS priced_launches,
    COALESCE(sum(total_cost), 0) AS spend
FROM launch_scope
GROUP BY launch_month, consumer
ORDER BY launch_month, consumer
