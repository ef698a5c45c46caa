-- backtest_results: the latest backtest (python -m ingest backtest). Per month predicted and method:
-- launches scored, MdAPE of the median estimate, share of actual values inside the interval.
-- The rows with month NULL pool every month of the run. Scored over every consumer's launches, so only
-- for readers of every consumer ($all_consumers); a viewer's estimates learn from their own launches only.
SELECT
    month,
    method,
    target,
    launches,
    estimated,
    training_launches,
    mdape,
    coverage,
    median_interval_ratio,
    interval_level,
    run_id,
    computed_at
FROM backtest_results
WHERE
    run_id = (SELECT max(run_id) FROM backtest_results)
    AND $all_consumers
ORDER BY target, month NULLS FIRST, method
