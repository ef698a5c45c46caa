-- launch_scope: the launches a page looks at, after the shared sidebar filters.
-- Page queries say FROM launch_scope and the loader puts this statement in front of them as the
-- first CTE, so the filters live here and nowhere else.
-- The period counts launches by the day they started (launched_at, UTC), both ends included.
-- The launch_month condition says the same thing coarsely: launches are stored one file per
-- launch month, so it lets the engine skip the files of other months. The CAST matters: date_trunc
-- gives a TIMESTAMP, and a DATE column compared with one is cast row by row and cannot be pruned.
-- An empty list parameter means "no filter" (every consumer, workflow type, platform, status).
-- The reader's consumers come last and are never empty-means-all: $all_consumers (finance, admin, the
-- command line) or the consumers in $allowed_consumers, decided in Python from the signed-in user and
-- never from the URL; a consumer picked outside them selects nothing.
SELECT *
FROM launches
WHERE
    launch_month BETWEEN CAST(date_trunc('month', $start) AS DATE) AND $end
    AND CAST(launched_at AS DATE) BETWEEN $start AND $end
    AND (cardinality($consumers) = 0 OR list_contains($consumers, consumer))
    AND (cardinality($workflow_types) = 0 OR list_contains($workflow_types, workflow_type))
    AND (cardinality($platforms) = 0 OR list_contains($platforms, compute_platform))
    AND (cardinality($statuses) = 0 OR list_contains($statuses, status))
    AND ($all_consumers OR list_contains($allowed_consumers, consumer))
