-- comparison_launches: one row per completed, priced launch with an input size, for the like-for-like
-- comparisons of the Platforms page (estimates/comparisons.py puts them in size bands and compares sides).
-- Only COMPLETE launches: a failed launch stops part-way, so its cost says little about the platform.
-- The side columns: compute platform, the primary instance type and its purchase option (NULL without EC2).
-- Cost arrives as DOUBLE, not DECIMAL: the comparisons are ratios of means (shown rounded to the cent), and a
-- million Decimal objects in Python would cost more than the query (the like-for-like target: 250 ms p95 at 1M).
SELECT
    workflow_type,
    compute_platform,
    primary_instance_type AS instance_type,
    primary_purchase_option AS purchase_option,
    input_size_gb,
    sample_count,
    CAST(total_cost AS DOUBLE) AS total_cost,
    total_hours
FROM launch_scope
WHERE
    status = 'COMPLETE'
    AND total_cost IS NOT NULL
    AND input_size_gb > 0
