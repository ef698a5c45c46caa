-- budget_bill_spend: the bill from $start to $end (by billing day, both ends included) per billing month,
-- consumer tag (key and value), the charge's tags and currency, at effective cost (amortized, after
-- discounts and credits: what a statement charges). A tag's budget (a grant, a project) counts the rows
-- carrying its tag, matched in Python (estimates.budgets.carries_tag) so any tag of the JSON object works
-- on DuckDB and Athena alike. Rows written before a column existed read it as NULL: Cost Explorer's
-- effective cost is then its net amortized cost. The reader's tagged rows only.
SELECT
    usage_month,
    tag_key,
    consumer,
    tags,
    currency,
    count(*) AS charges,
    COALESCE(sum(COALESCE(effective_cost, net_amortized_cost)), 0) AS spend,
    min(usage_date) AS first_day,
    max(usage_date) AS last_day
FROM costs_daily
WHERE
    usage_month BETWEEN CAST(date_trunc('month', $start) AS DATE) AND $end  -- skips other months' files
    AND usage_date BETWEEN $start AND $end
    AND ($all_consumers OR list_contains($allowed_consumers, consumer))
GROUP BY usage_month, tag_key, consumer, tags, currency
ORDER BY usage_month, tag_key, consumer, tags, currency
