"""The two baselines the model is backtested against, on the same groups and the same minimum history.

* ``group_median``: the median of the group's past launches, with their 10th–90th percentiles as the
  80% band (what a "typical cost of this workflow" number gives).
* ``nearest_neighbours``: the 9 past launches of the group closest in input size (log scale), shown
  as low / median / high = their minimum / median / maximum, the band tools such as easy-genomics
  show. With 9 exchangeable neighbours a new launch falls between their minimum and maximum with
  probability 8/10: nominally the same 80% as the model's interval.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from estimates.estimator import BY_PLATFORM, BY_TYPE, learnable, normalise_specs, prepare_history

NEIGHBOURS = 9


def _groups(history: pd.DataFrame, specs: pd.DataFrame, min_launches: int):
    """(training rows, spec index) per group, with the estimator's fallback: type × platform, then type."""
    done = history[learnable(history)]
    by_platform = done.groupby(["workflow_type", "compute_platform"]).indices
    by_type = done.groupby("workflow_type").indices
    keys = []
    for workflow_type, platform in zip(specs["workflow_type"], specs["compute_platform"], strict=True):
        rows = by_platform.get((workflow_type, platform), ())
        if len(rows) >= min_launches:
            keys.append((BY_PLATFORM, workflow_type, platform))
        elif len(by_type.get(workflow_type, ())) >= min_launches:
            keys.append((BY_TYPE, workflow_type, None))
        else:
            keys.append(None)
    chosen = pd.Series(keys, index=specs.index, dtype=object)
    for key, idx in chosen[chosen.notna()].groupby(chosen[chosen.notna()]).groups.items():
        level, workflow_type, platform = key
        rows = by_platform[(workflow_type, platform)] if level == BY_PLATFORM else by_type[workflow_type]
        yield done.iloc[rows], idx


def _empty(specs: pd.DataFrame) -> pd.DataFrame:
    columns = [f"{t}_{q}" for t in ("cost", "hours") for q in ("low", "median", "high")]
    return pd.DataFrame(np.nan, index=specs.index, columns=columns)


def group_median(history: pd.DataFrame, specs: pd.DataFrame, min_launches: int = 30, level: float = 0.8) -> pd.DataFrame:
    """Median of the group's past launches; band = their (1-level)/2 .. (1+level)/2 percentiles."""
    history = prepare_history(history)
    specs = normalise_specs(specs)
    out = _empty(specs)
    tail = (1 - level) / 2
    for rows, idx in _groups(history, specs, min_launches):
        for target in ("cost", "hours"):
            low, median, high = np.quantile(rows[target].to_numpy(), [tail, 0.5, 1 - tail])
            out.loc[idx, [f"{target}_low", f"{target}_median", f"{target}_high"]] = (low, median, high)
    return out


def nearest_neighbours(history: pd.DataFrame, specs: pd.DataFrame, min_launches: int = 30, k: int = NEIGHBOURS) -> pd.DataFrame:
    """Min / median / max of the ``k`` past launches of the group nearest in log input size."""
    history = prepare_history(history)
    specs = normalise_specs(specs)
    out = _empty(specs)
    for rows, idx in _groups(history, specs, min_launches):
        order = np.argsort(rows["input_size_gb"].to_numpy(), kind="stable")
        sizes = np.log(rows["input_size_gb"].to_numpy()[order])
        query = np.log(specs.loc[idx, "input_size_gb"].to_numpy())
        pos = np.searchsorted(sizes, query)
        window = np.clip(pos[:, None] + np.arange(-k, k)[None, :], 0, len(sizes) - 1)
        # the k nearest of the 2k candidates around each query (duplicates at the edges are dropped by rank)
        distance = np.abs(sizes[window] - query[:, None])
        distance[:, 1:][window[:, 1:] == window[:, :-1]] = np.inf
        nearest = np.take_along_axis(window, np.argsort(distance, axis=1, kind="stable")[:, :k], axis=1)
        for target in ("cost", "hours"):
            values = rows[target].to_numpy()[order][nearest]
            out.loc[idx, f"{target}_low"] = values.min(axis=1)
            out.loc[idx, f"{target}_median"] = np.median(values, axis=1)
            out.loc[idx, f"{target}_high"] = values.max(axis=1)
    return out
