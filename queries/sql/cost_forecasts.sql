-- cost_forecasts: Cost Explorer's latest spend forecast per consumer (python -m ingest forecast),
-- one row per consumer and period (the first period is the rest of the month the forecast was made).
SELECT
    consumer,
    month,
    period_start,
    period_end,
    metric,
    mean_amount,
    lower_bound,
    upper_bound,
    prediction_interval_level,
    currency,
    forecast_date,
    ingest_run_id
FROM cost_forecasts
WHERE
    ingest_run_id = (SELECT max(ingest_run_id) FROM cost_forecasts)
    AND (cardinality($consumers) = 0 OR list_contains($consumers, consumer))
    AND ($all_consumers OR list_contains($allowed_consumers, consumer))
ORDER BY consumer, period_start
