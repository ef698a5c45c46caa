-- statement_months: every month with a bill or a closed statement: how many charges it holds, how
-- many Cost Explorer still marks as estimates, and when it was closed (NULL while open).
WITH bills AS (
    SELECT
        usage_month AS statement_month,
        count(*) AS charges,
        count(CASE WHEN estimated THEN 1 END) AS estimated_charges
    FROM costs_daily
    GROUP BY usage_month
),

closed AS (
    SELECT
        statement_month,
        min(closed_at) AS closed_at,
        min(closed_by_run_id) AS closed_by_run_id,
        min(rules_fingerprint) AS rules_fingerprint,
        min(bill_total) AS closed_bill_total
    FROM closed_statements
    GROUP BY statement_month
)

SELECT
    COALESCE(bills.statement_month, closed.statement_month) AS statement_month,
    COALESCE(bills.charges, 0) AS charges,
    COALESCE(bills.estimated_charges, 0) AS estimated_charges,
    closed.closed_at,
    closed.closed_by_run_id,
    closed.rules_fingerprint,
    closed.closed_bill_total
FROM bills
FULL OUTER JOIN closed ON bills.statement_month = closed.statement_month
ORDER BY statement_month
