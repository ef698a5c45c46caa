-- backtest_results: the latest backtest (python -m ingest backtest). Per month predicted and method:
-- launches scored, MdAPE of the median estimate, share of actual values inside the interval; the same over
-- young groups (young_*), and the model with and without the output size (output_*, no_output_*).
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
    young_launches,
    young_estimated,
    young_mdape,
    young_coverage,
    young_median_interval_ratio,
    output_launches,
    output_mdape,
    output_coverage,
    output_median_interval_ratio,
    no_output_mdape,
    no_output_coverage,
    no_output_median_interval_ratio,
    run_id,
    computed_at
FROM backtest_results
WHERE
    run_id = (SELECT max(run_id) FROM backtest_results)
    AND $all_consumers
ORDER BY target, month NULLS FIRST, method
