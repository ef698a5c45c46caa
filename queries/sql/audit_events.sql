-- audit_events: the audit trail, newest first: who signed in (a dashboard session started), who was
-- refused, who closed which month, who downloaded which statement. For readers of every consumer
-- ($all_consumers: finance and admin): events name every team's statements. Events the dashboard has
-- recorded but not yet merged into the table are added by dashboard.data.audit_trail.
WITH ranked AS (
    SELECT
        event_at,
        actor,
        role,
        action,
        subject,
        consumers,
        detail,
        provider,
        event_id,
        row_number() OVER (ORDER BY event_at DESC, event_id DESC) AS recency
    FROM audit_events
    WHERE $all_consumers
)

SELECT event_at, actor, role, action, subject, consumers, detail, provider, event_id
FROM ranked
WHERE recency <= $limit
ORDER BY recency
