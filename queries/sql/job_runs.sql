-- job_runs: the latest ingest runs first, with what each read, loaded, rejected and deleted.
-- For admins only ($admin): a run's source and message may name any team's tables, files and records.
WITH ranked AS (
    SELECT
        run_id,
        command,
        source,
        started_at,
        ended_at,
        date_diff('second', started_at, ended_at) AS duration_seconds,
        records_read,
        records_loaded,
        records_unchanged,
        records_quarantined,
        records_deleted,
        api_requests,
        outcome,
        message,
        row_number() OVER (ORDER BY started_at DESC, run_id DESC) AS recency
    FROM job_runs
    WHERE $admin
)

SELECT
    run_id,
    command,
    source,
    started_at,
    ended_at,
    duration_seconds,
    records_read,
    records_loaded,
    records_unchanged,
    records_quarantined,
    records_deleted,
    api_requests,
    outcome,
    message
FROM ranked
WHERE recency <= $limit
ORDER BY recency
