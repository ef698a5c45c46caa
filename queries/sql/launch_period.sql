-- launch_period: the first and last day launches started on, and how many there are.
SELECT
    count(*) AS launches,
    min(CAST(launched_at AS DATE)) AS first_day,
    max(CAST(launched_at AS DATE)) AS last_day
FROM launches
