"""Partial pooling: an estimate for a young group (5 to 29 completed launches) that stands on related launches.

A young workflow type × platform group is too small for a size curve of its own, but it is rarely alone:

* the same workflow type ran on other platforms (a platform moves the level, rarely the shape), or
* other workflow types ran (a size-only prior: their curve's shape, with a level per type).

The pooled curve ``P`` is fitted on those related launches (never the young group's own). The young
group's launches give its offset from it in log space, ``d̂`` = the weighted mean of ``y - P(x)`` (less the
pooled residuals' own mean). That offset is shrunk toward 0 by how far groups' levels usually stray
from the pooled curve (empirical Bayes): ``d = B d̂`` with ``B = τ² / (τ² + σ²/n)``, where ``τ²`` is the
between-group variance of the levels (measured on the big groups: each one's offset from the curve of
its type's other platforms) and ``σ²/n`` the sampling variance of ``d̂`` from ``n`` launches. Against other
workflow types there is no prior for the level (``τ² = ∞``, ``B = 1``): only the shape is borrowed.

The interval is honest about both: the pooled out-of-sample residuals (their shape, e.g. a skewed
Spot/On-Demand mixture) are scaled to the predictive spread ``sqrt(σ_g² + V)``, where ``σ_g²`` blends the
group's own residual variance with the pooled one (``prior_launches`` pseudo-launches of the latter) and
``V = B σ_g²/n`` is the uncertainty of the offset, then widened by the Student-t quantile over the
normal one for ``n - 1 + prior_launches`` degrees of freedom (few launches: wider). Pure numpy.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from statistics import NormalDist

import numpy as np

from estimates.model import Curve

OTHER_PLATFORMS = "other platforms"
OTHER_TYPES = "other workflow types"


@dataclass(frozen=True)
class Offset:
    """How a young group's level was set: the raw and shrunk offset (log), its variance, the widening."""

    raw: float
    offset: float
    shrinkage: float  # B: 1 = the group's own level, 0 = the pooled curve's
    offset_variance: float
    scale: float  # the pooled residuals are scaled by this about their mean
    widening: float  # for the few launches: the offset's uncertainty and the t quantile (> 1)
    launches: int


def t_quantile(p: float, dof: float) -> float:
    """Student-t quantile by the Cornish-Fisher expansion (Abramowitz & Stegun 26.7.5); within 1e-3 for dof >= 3."""
    z = NormalDist().inv_cdf(p)
    v = float(dof)
    return (
        z
        + (z**3 + z) / (4 * v)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * v**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * v**3)
        + (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / (92160 * v**4)
    )


def _moments(values: np.ndarray, weights: np.ndarray) -> tuple[float, float, float]:
    """(weighted mean, weighted variance with the effective-n correction, effective n)."""
    w = np.asarray(weights, dtype=float)
    n_eff = float(w.sum() ** 2 / np.square(w).sum())
    mean = float(w @ values / w.sum())
    var = float(w @ np.square(values - mean) / w.sum())
    return mean, var * n_eff / max(n_eff - 1.0, 1.0), n_eff


def group_offset(pooled: Curve, residuals: np.ndarray, weights: np.ndarray) -> tuple[float, float, float]:
    """(a group's offset from the pooled curve, its sampling variance, the variance about it): for the level spread."""
    centre, _, _ = _moments(pooled.residuals, pooled.residual_weights)
    mean, var, n_eff = _moments(residuals, weights)
    return mean - centre, var / n_eff, var


@dataclass(frozen=True)
class Spread:
    """How big groups sit about their pooled curves: the variance of their levels (τ²) and within them."""

    level: float
    within: float | None  # None: too few big groups to measure it (the pooled residuals' own variance is used)


def level_spread(offsets: list[tuple[float, float, float]], floor: float, default: float, minimum_groups: int = 3) -> Spread:
    """τ²: the spread of big groups' levels about their pooled curves, less the part their sampling explains;
    and the mean variance of launches about their own group's level. Fewer than ``minimum_groups``: ``default²``."""
    if len(offsets) < minimum_groups:
        return Spread(default**2, None)
    d, sampling, within = (np.array(column) for column in zip(*offsets, strict=True))
    return Spread(max(float(np.mean(d**2) - np.mean(sampling)), floor**2), float(np.mean(within)))


def young_curve(
    pooled: Curve,
    residuals: np.ndarray,
    weights: np.ndarray,
    sizes_gb: np.ndarray,
    spread: Spread | None,
    level: float,
    prior_launches: float,
) -> tuple[Curve, Offset]:
    """The pooled curve moved to the young group's (shrunk) level, with residuals widened for it.

    ``residuals``: the young group's ``y - P(x)``; ``spread``: τ² and the within-group variance the big
    groups show (None: no prior for the level; the pooled residuals' variance stands for the within one).
    """
    centre, pooled_var, _ = _moments(pooled.residuals, pooled.residual_weights)
    mean, own_var, n_eff = _moments(residuals, weights)
    raw = mean - centre
    own = max(n_eff - 1.0, 0.0)
    typical = spread.within if spread is not None and spread.within is not None else pooled_var
    level_var = None if spread is None else spread.level
    blended = (own * own_var + prior_launches * typical) / (own + prior_launches)
    sampling = blended / n_eff
    shrink = 1.0 if level_var is None else level_var / (level_var + sampling)
    offset_var = shrink * sampling
    upper = 0.5 + level / 2
    widen = t_quantile(upper, own + prior_launches) / NormalDist().inv_cdf(upper)
    scale = float(np.sqrt((blended + offset_var) / pooled_var) * widen) if pooled_var > 0 else widen
    widening = float(np.sqrt((blended + offset_var) / blended) * widen) if blended > 0 else widen
    coef = pooled.coef.copy()
    coef[0] += shrink * raw  # the intercept: every prediction moves by the offset
    lo, hi = pooled.size_range
    run_scale = float(np.sqrt(blended / pooled_var) * widen) if pooled_var > 0 else widen
    curve = replace(
        pooled,
        coef=coef,
        residuals=centre + scale * (pooled.residuals - centre),
        launches=pooled.launches + len(residuals),
        size_range=(min(lo, float(np.min(sizes_gb))), max(hi, float(np.max(sizes_gb)))),
        level_sd=float(np.sqrt(offset_var) * widen),
        run_residuals=centre + run_scale * (pooled.residuals - centre),
    )
    return curve, Offset(raw, shrink * raw, shrink, offset_var, scale, widening, len(residuals))


def history_sentence(launches: int, group: str, pooled_launches: int, pooled: str) -> str:
    """How much history a young group's estimate stands on, in words."""
    return f"based on {launches:,} launches of {group} and {pooled_launches:,} of {pooled}"
