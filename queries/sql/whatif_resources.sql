-- whatif_resources: what the latest ended AWS launches in scope consumed (one row per resource), for
-- repricing them with pricing.engine under another purchase option or instance family.
-- At most $limit launches, the most recent first, so a what-if stays interactive on a big warehouse.
WITH recent AS (
    SELECT
        launch_id,
        region,
        compute_platform,
        ended_at,
        row_number() OVER (ORDER BY launched_at DESC, launch_id DESC) AS recency
    FROM launch_scope
    WHERE ended_at IS NOT NULL AND compute_platform <> 'OnPremHPC' AND instance_count > 0
)

SELECT
    r.launch_id,
    l.region,
    l.compute_platform,
    l.ended_at AS launch_ended_at,
    r.resource_index,
    r.kind,
    r.resource_type,
    r.purchase_option,
    r.count,
    r.size_gb,
    r.iops,
    r.throughput_mibps,
    r.availability_zone,
    r.resource_id,
    r.started_at,
    r.ended_at
FROM recent AS l
INNER JOIN launch_resources AS r ON r.launch_id = l.launch_id
WHERE
    l.recency <= $limit
    AND r.launch_month BETWEEN date_trunc('month', $start) AND $end  -- skips other months' files
ORDER BY r.launch_id, r.resource_index
