-- statement_months: every month with a bill or a closed statement: how many charges it holds, how
-- many Cost Explorer still marks as estimates, and when it was closed (NULL while open).
-- Every reader is offered every billed month (a viewer's statement may hold shared lines even in a month
-- none of their own charges is tagged in); the charge counts are of the reader's tagged charges, and the
-- closed bill's total is for readers of every consumer only ($all_consumers).
WITH months AS (
    SELECT usage_month AS statement_month FROM costs_daily
    UNION
    SELECT statement_month FROM closed_statements
),

bills AS (
    SELECT
        usage_month AS statement_month,
        count(*) AS charges,
        count(CASE WHEN estimated THEN 1 END) AS estimated_charges
    FROM costs_daily
    WHERE ($all_consumers OR list_contains($allowed_consumers, consumer))
    GROUP BY usage_month
),

closed AS (
    SELECT
        statement_month,
        min(closed_at) AS closed_at,
        min(closed_by_run_id) AS closed_by_run_id,
        min(rules_fingerprint) AS rules_fingerprint
    FROM closed_statements
    GROUP BY statement_month
),

closed_totals AS (
    SELECT
        statement_month,
        min(bill_total) AS closed_bill_total
    FROM closed_statements
    WHERE $all_consumers
    GROUP BY statement_month
)

SELECT
    months.statement_month,
    COALESCE(bills.charges, 0) AS charges,
    COALESCE(bills.estimated_charges, 0) AS estimated_charges,
    closed.closed_at,
    closed.closed_by_run_id,
    closed.rules_fingerprint,
    closed_totals.closed_bill_total
FROM months
LEFT JOIN bills ON months.statement_month = bills.statement_month
LEFT JOIN closed ON months.statement_month = closed.statement_month
LEFT JOIN closed_totals ON months.statement_month = closed_totals.statement_month
ORDER BY months.statement_month
