-- closed_statements: the frozen statement lines of the months closed between $start and $end.
SELECT
    statement_month,
    consumer,
    line_kind,
    line,
    workflow_type,
    compute_platform,
    rule,
    adjusts_month,
    amount,
    billed_amount,
    launches,
    currency,
    bill_source,
    bill_total,
    rules_fingerprint,
    closed_at,
    closed_by_run_id
FROM closed_statements
WHERE
    statement_month BETWEEN $start AND $end
    AND ($all_consumers OR list_contains($allowed_consumers, consumer))  -- a viewer gets their consumers' lines only (never the lines for nobody)
ORDER BY statement_month, consumer, line_kind, line
