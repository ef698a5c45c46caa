-- launch_period: the first and last day the launches the reader may see started on, and how many there are.
SELECT
    count(*) AS launches,
    min(CAST(launched_at AS DATE)) AS first_day,
    max(CAST(launched_at AS DATE)) AS last_day
FROM launches
WHERE ($all_consumers OR list_contains($allowed_consumers, consumer))
