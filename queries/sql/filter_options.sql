-- filter_options: every value the sidebar filters offer, over the launches the reader may see
-- (every consumer's for finance and admin; a viewer is offered only their consumers and what they ran).
WITH visible AS (
    SELECT consumer, workflow_type, compute_platform, status, currency
    FROM launches
    WHERE ($all_consumers OR list_contains($allowed_consumers, consumer))
),

dimension_values AS (
    SELECT 'consumer' AS dimension, consumer AS value FROM visible
    UNION ALL
    SELECT 'workflow_type' AS dimension, workflow_type AS value FROM visible
    UNION ALL
    SELECT 'compute_platform' AS dimension, compute_platform AS value FROM visible
    UNION ALL
    SELECT 'status' AS dimension, status AS value FROM visible
    UNION ALL
    SELECT 'currency' AS dimension, currency AS value FROM visible
)

SELECT dimension, value, count(*) AS launches
FROM dimension_values
WHERE value IS NOT NULL
GROUP BY dimension, value
ORDER BY dimension, value
