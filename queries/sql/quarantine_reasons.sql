-- quarantine_reasons: why records were rejected, the most frequent reason first.
-- For readers of every consumer ($all_consumers: finance, admin): a rejected record's consumer cannot be trusted.
WITH reasons AS (
    SELECT
        reason,
        count(*) AS records,
        count(DISTINCT run_id) AS ingest_runs,
        min(quarantined_at) AS first_quarantined_at,
        max(quarantined_at) AS last_quarantined_at
    FROM quarantine
    WHERE $all_consumers
    GROUP BY reason
),

ranked AS (
    SELECT
        *,
        row_number() OVER (ORDER BY records DESC, reason) AS frequency_rank
    FROM reasons
)

SELECT reason, records, ingest_runs, first_quarantined_at, last_quarantined_at
FROM ranked
WHERE frequency_rank <= $limit
ORDER BY frequency_rank
