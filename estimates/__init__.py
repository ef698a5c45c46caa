"""Launch Ledger estimates: what a planned launch, or a quarter of launches, will cost, with an honest range.

* ``estimator``: per workflow type × platform, cost and duration against input size (``model``), with
  80% intervals from out-of-sample residuals and a documented fallback (``Estimator``, ``LaunchSpec``);
* ``baselines`` and ``backtest``: month by month, learn from the past and score the model against the
  median of the group and a nearest-neighbour band (MdAPE, interval coverage);
* ``plan``: a CSV of planned launches checked line by line, then totals per month and consumer;
* ``forecast``: spend per consumer for the next months, with an interval from its own backtest;
* ``views``: the frames the Estimates page shows.

Pure pandas/numpy over DataFrames: no Streamlit, no I/O. Data comes in through the named queries
(``estimate_history``, ``monthly_billed_spend``, ...).
"""

from estimates.estimator import Estimate, Estimator, EstimatorSettings, LaunchSpec

__all__ = ["Estimate", "Estimator", "EstimatorSettings", "LaunchSpec"]
