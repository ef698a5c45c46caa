"""The two kinds of random draw the simulation makes over and over, one value per launch."""

from __future__ import annotations

import numpy as np


def pick(rng: np.random.Generator, table, rows) -> np.ndarray:
    """One categorical draw per launch: launch i draws from the weights in ``table[rows[i]]``.

    ``table`` is (m x k) unnormalised weights, or one weight vector for all; ``rows`` the row per launch,
    or the number of launches when ``table`` is a single vector. Works in O(n) memory, not O(n x k).
    """
    table = np.atleast_2d(np.asarray(table, dtype=float))
    cum = np.cumsum(table, axis=1)
    cum /= cum[:, -1:]
    single = np.ndim(rows) == 0
    n = int(rows) if single else len(rows)
    u = rng.random(n)
    codes = np.zeros(n, dtype=np.int8)
    for k in range(table.shape[1] - 1):
        codes += u >= (cum[0, k] if single else cum[rows, k])
    return codes


def lognormal(rng: np.random.Generator, median, sigma, size) -> np.ndarray:
    """Lognormal draws given by their median (not their mean) and the sigma of the log."""
    return np.exp(np.log(median) + sigma * rng.standard_normal(size))
