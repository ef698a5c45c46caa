-- filter_options: every value the sidebar filters offer, over the whole warehouse.
WITH dimension_values AS (
    SELECT 'consumer' AS dimension, consumer AS value FROM launches
    UNION ALL
    SELECT 'workflow_type' AS dimension, workflow_type AS value FROM launches
    UNION ALL
    SELECT 'compute_platform' AS dimension, compute_platform AS value FROM launches
    UNION ALL
    SELECT 'status' AS dimension, status AS value FROM launches
    UNION ALL
    SELECT 'currency' AS dimension, currency AS value FROM launches
)

SELECT dimension, value, count(*) AS launches
FROM dimension_values
WHERE value IS NOT NULL
GROUP BY dimension, value
ORDER BY dimension, value
