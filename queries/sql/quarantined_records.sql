-- quarantined_records: the most recently rejected records, with the reason and the raw record.
WITH ranked AS (
    SELECT
        quarantined_at,
        run_id,
        source,
        record_key,
        reason,
        raw_record,
        row_number() OVER (ORDER BY quarantined_at DESC, run_id DESC, record_key DESC) AS recency
    FROM quarantine
)

SELECT quarantined_at, run_id, source, record_key, reason, raw_record
FROM ranked
WHERE recency <= $limit
ORDER BY recency
