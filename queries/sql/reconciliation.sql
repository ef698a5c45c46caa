-- reconciliation: computed cost (list and Spot prices, launch_costs) against billed cost (the bill), per consumer and month.
-- One bill source per month, as chargeback reads it: the first of $bill_sources (the rules file's [bill] sources,
-- default cur, focus, cost-explorer) that has rows; a month loaded from two sources is read from that one only, and
-- a source the list leaves out is never read. The choice is made over the whole month (every consumer), so every
-- reader sees the same bill.
-- Computed: the launches in scope that ran on AWS (OnPremHPC never reaches the bill), by launch month;
-- recorded_cost is what the workflow manager wrote (totalCost), for comparison.
-- Billed: unblended cost under the consumer's tag on the services a launch consumes (EC2 compute,
-- EC2 - Other for EBS, FSx, EKS), by usage month, under the names each source gives them: Cost Explorer's SERVICE,
-- CUR's product name or code (AmazonEC2, AmazonFSx, AmazonEKS), FOCUS ServiceName. Tagged spend on other services,
-- and the discounts (unblended - net amortized), are shown beside it. Untagged spend is the row with no consumer.
-- Only the period and consumer filters reach the billed side: the bill knows no workflow or platform.
-- Both sides keep to the reader's consumers (launch_scope; the scope condition on the bill).
WITH computed AS (
    SELECT
        s.consumer,
        s.launch_month AS month,
        count(*) AS launches,
        count(c.total_cost) AS priced_launches,
        sum(c.total_cost) AS computed_cost,
        sum(s.total_cost) AS recorded_cost
    FROM launch_scope AS s
    LEFT JOIN (
        -- the same months as the scope: lets the engine skip the other months' files
        SELECT launch_id, total_cost FROM launch_costs
        WHERE launch_month BETWEEN CAST(date_trunc('month', $start) AS DATE) AND $end
    ) AS c ON c.launch_id = s.launch_id
    WHERE s.compute_platform <> 'OnPremHPC'
    GROUP BY s.consumer, s.launch_month
),

bill_source AS (  -- per month, the first source of $bill_sources with rows: no source before it in the list has any
    SELECT DISTINCT
        m.usage_month,
        m.source
    FROM costs_monthly AS m
    WHERE
        m.usage_month BETWEEN CAST(date_trunc('month', $start) AS DATE) AND $end
        AND list_contains($bill_sources, m.source)
        AND NOT EXISTS (
            SELECT 1
            FROM costs_monthly AS o
            WHERE
                o.usage_month = m.usage_month
                AND o.usage_month BETWEEN CAST(date_trunc('month', $start) AS DATE) AND $end
                AND list_contains($bill_sources, o.source)
                AND list_position($bill_sources, o.source) < list_position($bill_sources, m.source)
        )
),

billed_by_service AS (  -- costs_monthly: the bill already summed per month (costs_daily would be millions of rows)
    SELECT
        m.consumer,
        m.usage_month AS month,
        m.service IN (
            'Amazon Elastic Compute Cloud - Compute', 'EC2 - Other', 'Amazon FSx', 'Amazon Elastic Kubernetes Service',
            'Amazon Elastic Compute Cloud', 'Amazon Elastic Block Store',
            'AmazonEC2', 'AmazonFSx', 'AmazonEKS'
        ) AS launch_service,
        sum(m.unblended_cost) AS unblended_cost,
        sum(m.net_amortized_cost) AS net_amortized_cost,
        bool_or(m.estimated) AS estimated
    FROM costs_monthly AS m
    INNER JOIN bill_source AS b ON b.usage_month = m.usage_month AND b.source = m.source
    WHERE
        m.usage_month BETWEEN CAST(date_trunc('month', $start) AS DATE) AND $end
        AND (cardinality($consumers) = 0 OR list_contains($consumers, m.consumer))
        -- untagged spend (no consumer) only for finance and admin
        AND ($all_consumers OR list_contains($allowed_consumers, m.consumer))
    GROUP BY 1, 2, 3
),

billed AS (
    SELECT
        consumer,
        month,
        sum(CASE WHEN launch_service THEN unblended_cost ELSE 0 END) AS billed_cost,
        sum(CASE WHEN launch_service THEN 0 ELSE unblended_cost END) AS other_services_cost,
        sum(unblended_cost - net_amortized_cost) AS discounts,
        max(CASE WHEN estimated THEN 1 ELSE 0 END) AS has_estimated_days
    FROM billed_by_service
    GROUP BY consumer, month
)

SELECT
    coalesce(c.consumer, b.consumer) AS consumer,
    coalesce(c.month, b.month) AS month,
    coalesce(c.launches, 0) AS launches,
    coalesce(c.priced_launches, 0) AS priced_launches,
    CAST(c.computed_cost AS DECIMAL(18, 6)) AS computed_cost,
    CAST(c.recorded_cost AS DECIMAL(18, 6)) AS recorded_cost,
    CAST(b.billed_cost AS DECIMAL(18, 6)) AS billed_cost,
    CAST(b.billed_cost - c.computed_cost AS DECIMAL(18, 6)) AS variance,
    CAST(b.billed_cost - c.computed_cost AS DOUBLE) / NULLIF(CAST(c.computed_cost AS DOUBLE), 0) * 100 AS variance_percent,
    CAST(b.other_services_cost AS DECIMAL(18, 6)) AS other_services_cost,
    CAST(b.discounts AS DECIMAL(18, 6)) AS discounts,
    coalesce(b.has_estimated_days, 0) = 1 AS estimated
FROM computed AS c
FULL OUTER JOIN billed AS b ON c.consumer = b.consumer AND c.month = b.month
ORDER BY month, consumer NULLS LAST
