-- bill_lines: one month's bill ($start its first day, $end its last), summed per source, tag and charge.
-- A statement (allocation/) takes one source per month, resolves the consumer from the tag value or
-- the tags, and splits what the rules share. Rows written before a column existed read it as NULL:
-- Cost Explorer's billed and effective cost then come from unblended and net amortized cost.
WITH charges AS (
    SELECT
        source,
        tag_key,
        consumer AS tag_value,
        tags,
        service,
        account_id,
        resource_id,
        split_parent_resource_id,
        currency,
        COALESCE(provider, 'AWS') AS provider,
        estimated,
        COALESCE(effective_cost, net_amortized_cost, 0) AS effective_cost,
        COALESCE(billed_cost, unblended_cost, 0) AS billed_cost,
        list_cost,
        COALESCE(split_cost, 0) + COALESCE(split_unused_cost, 0) AS split_cost,
        COALESCE(split_unused_cost, 0) AS split_unused_cost,
        COALESCE(
            charge_category,
            CASE WHEN COALESCE(effective_cost, net_amortized_cost) < 0 THEN 'Credit' ELSE 'Usage' END
        ) AS charge_category
    FROM costs_daily
    WHERE
        usage_month BETWEEN CAST(date_trunc('month', $start) AS DATE) AND $end
        AND ($all_consumers OR list_contains($allowed_consumers, consumer))  -- the reader's tagged rows (a statement reads them all, then shows a reader their lines)
)

SELECT
    source,
    tag_key,
    tag_value,
    tags,
    service,
    account_id,
    resource_id,
    split_parent_resource_id,
    charge_category,
    currency,
    provider,
    count(*) AS charges,
    count(CASE WHEN estimated THEN 1 END) AS estimated_charges,
    sum(effective_cost) AS effective_cost,
    sum(billed_cost) AS billed_cost,
    sum(list_cost) AS list_cost,
    sum(split_cost) AS split_cost,  -- split + unused: the weight of a task or pod on its instance
    sum(split_unused_cost) AS split_unused_cost  -- of which the share of unused capacity ([runs] splits it by rule)
FROM charges
GROUP BY
    source, tag_key, tag_value, tags, service, account_id, resource_id, split_parent_resource_id, charge_category, currency, provider
ORDER BY
    source, tag_key, tag_value, tags, service, account_id, resource_id, split_parent_resource_id, charge_category, currency, provider
