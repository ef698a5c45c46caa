"""The size curve: log(cost or hours) as a function of log(input size), learnt per group.

Run cost does not grow linearly with input size (Part 6 of the Genomics workflows series): some
steps parallelise and some do not, a fixed overhead dominates small inputs, and when an input
outgrows an instance size the run moves to a bigger (dearer per hour, faster) instance and the
cost steps up. So the curve is a regression in log space on

* ``log(size)``: a power law ``cost = A * size^b`` (b near 1: linear; b < 1: sub-linear),
* hinge terms ``max(0, log(size) - k)`` at knots ``k``: the slope may change (a fixed overhead
  flattens the curve at small sizes),
* step terms ``[log(size) >= k]`` at the same knots: the level may jump (instance size changes),
* optional offsets: one per purchase option or instance family the user named, ``log(samples)`` and
  ``log(output size)`` (the expected output, Part 6's third input).

Knots sit at quantiles of the group's sizes, more of them the more launches the group has. Hinge
and step coefficients carry a ridge penalty chosen by K-fold cross-validation, so a group of 40
launches gets a near power law and a group of 4,000 a curve with sharp steps.

The K-fold out-of-fold residuals are also the calibration scores for the interval (cross-conformal):
the 80% interval is ``fit + [q10, q90]`` of those out-of-sample log residuals, so it is
multiplicative (``median x 0.7 .. median x 1.6``) and as wide as the model's real errors were.
Pure numpy; no Streamlit, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MIN_SIZE_GB = 0.01
LAMBDAS = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)  # ridge penalties, times the total weight


def knots_for(log_size: np.ndarray, launches_per_knot: int = 60, max_knots: int = 10) -> np.ndarray:
    """Interior knots at quantiles of ``log_size``: one per ``launches_per_knot`` launches, at most ``max_knots``."""
    k = int(min(max_knots, len(log_size) // launches_per_knot))
    if k <= 0:
        return np.empty(0)
    knots = np.unique(np.quantile(log_size, np.arange(1, k + 1) / (k + 1)))
    # a knot with (nearly) nothing on one side adds a column the data cannot pin down
    return knots[(knots > log_size.min()) & (knots < log_size.max())]


def size_basis(log_size: np.ndarray, knots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(unpenalised columns, penalised columns) of the size curve: [log size], [hinges..., steps...]."""
    log_size = np.asarray(log_size, dtype=float)
    hinge = np.maximum(0.0, log_size[:, None] - knots[None, :])
    step = (log_size[:, None] >= knots[None, :]).astype(float)
    return log_size[:, None], np.hstack([hinge, step])


@dataclass
class Design:
    """How rows become columns: knots, the category levels of each offset, whether log(samples) and
    log(output size) are used."""

    knots: np.ndarray
    levels: dict[str, tuple[str, ...]] = field(default_factory=dict)  # covariate -> levels (the first is the reference)
    use_samples: bool = False
    use_output: bool = False

    def matrix(
        self,
        log_size: np.ndarray,
        categories: dict[str, np.ndarray],
        log_samples: np.ndarray | None,
        log_output: np.ndarray | None = None,
    ) -> tuple[np.ndarray, int]:
        """The design matrix and the number of its leading columns that are not penalised."""
        n = len(log_size)
        free, penalised = size_basis(log_size, self.knots)
        columns = [np.ones((n, 1)), free]
        for name, levels in self.levels.items():
            values = np.asarray(categories[name])
            columns += [(values == level).astype(float)[:, None] for level in levels[1:]]
        if self.use_samples:
            columns.append(np.asarray(log_samples, dtype=float)[:, None])
        if self.use_output:
            columns.append(np.asarray(log_output, dtype=float)[:, None])
        unpenalised = np.hstack(columns)
        return np.hstack([unpenalised, penalised]), unpenalised.shape[1]


@dataclass
class Curve:
    """A fitted size curve for one group and target, with its out-of-sample residuals."""

    design: Design
    coef: np.ndarray
    residuals: np.ndarray  # out-of-fold log residuals: the calibration scores
    residual_weights: np.ndarray
    penalty: float
    launches: int
    size_range: tuple[float, float]  # GB seen in training
    # A young group's curve (estimates.pooling): ``residuals`` hold both the spread of one run and the
    # uncertainty of the group's level; for a sum over many runs the level is one draw for all of them
    # (``level_sd``, log) and each run draws from ``run_residuals`` (None: ``residuals``, no shared level).
    level_sd: float = 0.0
    run_residuals: np.ndarray | None = None

    def predict_log(
        self,
        log_size: np.ndarray,
        categories: dict[str, np.ndarray],
        log_samples: np.ndarray | None = None,
        log_output: np.ndarray | None = None,
    ) -> np.ndarray:
        x, _ = self.design.matrix(log_size, categories, log_samples, log_output)
        return x @ self.coef

    def residual_quantiles(self, probabilities) -> np.ndarray:
        """Conformal quantiles of the out-of-sample log residuals (finite-sample corrected, weighted)."""
        return conformal_quantiles(self.residuals, self.residual_weights, probabilities)


def weighted_quantile(values: np.ndarray, weights: np.ndarray, probabilities) -> np.ndarray:
    """Quantiles of ``values`` under ``weights``: the smallest value whose cumulative weight reaches p."""
    order = np.argsort(values, kind="stable")
    v = np.asarray(values, dtype=float)[order]
    cw = np.cumsum(np.asarray(weights, dtype=float)[order])
    cw /= cw[-1]
    idx = np.searchsorted(cw, np.asarray(probabilities, dtype=float) - 1e-12, side="left")
    return v[np.clip(idx, 0, len(v) - 1)]


def conformal_quantiles(residuals: np.ndarray, weights: np.ndarray, probabilities) -> np.ndarray:
    """Split-conformal quantile levels: p is stretched to (n + 1) p / n away from the middle.

    With n exchangeable scores, the ceil((n + 1) p)-th smallest is at or above a new score with
    probability at least p; the effective n of weighted scores is (sum w)^2 / sum w^2.
    """
    w = np.asarray(weights, dtype=float)
    n_eff = w.sum() ** 2 / np.square(w).sum()
    p = np.asarray(probabilities, dtype=float)
    stretched = 0.5 + (p - 0.5) * (n_eff + 1) / n_eff
    return weighted_quantile(residuals, w, np.clip(stretched, 0.0, 1.0))


def _solve(gram: np.ndarray, moment: np.ndarray, unpenalised: int, penalty: float) -> np.ndarray:
    ridge = np.full(gram.shape[0], penalty)
    ridge[:unpenalised] = 1e-9 * max(1.0, float(np.trace(gram)) / gram.shape[0])  # keeps a rank-deficient fit solvable
    return np.linalg.solve(gram + np.diag(ridge), moment)


def fit_curve(
    log_size: np.ndarray,
    target: np.ndarray,
    weights: np.ndarray,
    design: Design,
    categories: dict[str, np.ndarray],
    log_samples: np.ndarray | None = None,
    folds: int = 5,
    seed: int = 0,
    log_output: np.ndarray | None = None,
) -> Curve:
    """Fit the curve by weighted ridge least squares; the penalty and the residuals come from K-fold CV."""
    x, unpenalised = design.matrix(log_size, categories, log_samples, log_output)
    y = np.asarray(target, dtype=float)
    w = np.asarray(weights, dtype=float)
    n = len(y)
    fold = np.random.default_rng(seed).permutation(n) % folds
    scale = float(w.sum())
    penalties = [lam * scale for lam in LAMBDAS] if x.shape[1] > unpenalised else [0.0]
    oof = np.empty((len(penalties), n))
    xw = x * w[:, None]
    # Gram matrices per fold: a fold's training Gram is the total minus its own
    grams = [(xw[fold == k].T @ x[fold == k], xw[fold == k].T @ y[fold == k]) for k in range(folds)]
    gram_all = sum(g for g, _ in grams)
    moment_all = sum(m for _, m in grams)
    for k, (gram_k, moment_k) in enumerate(grams):
        test = fold == k
        for j, penalty in enumerate(penalties):
            coef = _solve(gram_all - gram_k, moment_all - moment_k, unpenalised, penalty * (folds - 1) / folds)
            oof[j, test] = x[test] @ coef
    errors = (oof - y[None, :]) ** 2 @ w
    best = int(np.argmin(errors))
    coef = _solve(gram_all, moment_all, unpenalised, penalties[best])
    size = np.exp(log_size)
    return Curve(
        design=design,
        coef=coef,
        residuals=y - oof[best],
        residual_weights=w,
        penalty=penalties[best],
        launches=n,
        size_range=(float(size.min()), float(size.max())),
    )
