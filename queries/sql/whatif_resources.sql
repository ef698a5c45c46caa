-- whatif_resources: what the latest ended AWS launches in scope consumed (one row per resource), for
-- repricing them with pricing.engine under another purchase option or instance family.
-- At most $limit launches, the most recent first, so a what-if stays interactive on a big warehouse.
-- Counting launches per month first finds the months that hold the latest $limit launches; only
-- those are ranked, and joining resources on launch_month lets the engine skip the other months.
WITH ended AS (
    SELECT
        launch_id,
        region,
        compute_platform,
        ended_at,
        launch_month,
        launched_at
    FROM launch_scope
    WHERE ended_at IS NOT NULL AND compute_platform <> 'OnPremHPC' AND instance_count > 0
),

months AS (  -- per launch month: its launches and how many are newer (later months)
    SELECT
        launch_month,
        COALESCE(sum(count(*)) OVER (
            ORDER BY launch_month DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ), 0) AS newer
    FROM ended
    GROUP BY launch_month
),

recent AS (
    SELECT
        ended.*,
        row_number() OVER (ORDER BY ended.launched_at DESC, ended.launch_id DESC) AS recency
    FROM ended
    INNER JOIN months ON ended.launch_month = months.launch_month
    WHERE months.newer < $limit
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
INNER JOIN launch_resources AS r ON r.launch_id = l.launch_id AND r.launch_month = l.launch_month
WHERE
    l.recency <= $limit
    AND r.launch_month BETWEEN CAST(date_trunc('month', $start) AS DATE) AND $end  -- skips other months' files
ORDER BY r.launch_id, r.resource_index
