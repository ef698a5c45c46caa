-- statement_runs: the workflow runs the bill matched by their run tag in one month ($start its first day,
-- $end its last): one row per run tag and bill source, with its launch's consumer, workflow type, platform
-- and region, and what the bill says it cost. A statement with [runs] charges each run to its launch's
-- consumer at its split cost; run tags that match no launch are not here (they stay on the bill by their tags).
SELECT
    b.run_tag,
    b.launch_id,
    b.source,
    l.consumer,
    l.workflow_type,
    l.compute_platform,
    l.region,
    sum(b.split_cost) AS split_cost,
    sum(b.split_unused_cost) AS split_unused_cost,
    sum(b.effective_cost) AS effective_cost,
    max(b.currency) AS currency
FROM launch_billed_costs AS b
INNER JOIN launches AS l ON b.launch_id = l.launch_id
WHERE
    b.usage_month BETWEEN CAST(date_trunc('month', $start) AS DATE) AND $end
    AND ($all_consumers OR list_contains($allowed_consumers, l.consumer))  -- the reader's runs (a statement reads them all)
GROUP BY b.run_tag, b.launch_id, b.source, l.consumer, l.workflow_type, l.compute_platform, l.region
ORDER BY b.run_tag, b.source
