-- quarantined_records: the most recently rejected records, with the reason and the raw record.
-- For admins only ($admin): a raw record may carry any team's data, and it failed validation, so its
-- consumer cannot be trusted to scope it.
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
    WHERE $admin
)

SELECT quarantined_at, run_id, source, record_key, reason, raw_record
FROM ranked
WHERE recency <= $limit
ORDER BY recency
