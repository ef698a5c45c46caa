"""Estimate a planned launch: cost and duration of a successful run, a median and an 80% interval.

``Estimator(history)`` learns from the launch history (rows of the ``estimate_history`` query) and
answers ``estimate(LaunchSpec(...))`` or, for many launches at once, ``estimate_many(frame)``.

Which launches it learns from (the fallback order):

1. the same workflow type on the same compute platform, when at least ``min_launches`` (30)
   completed, priced launches match;
2. a young group (``min_young_launches`` (5) to 29 completed launches): partial pooling
   (``estimates.pooling``): the size curve of the same type on the other platforms (else of the
   other workflow types, with a level per type) moved to the group's own level, shrunk toward the
   pooled one, with a wider interval; ``history`` says how many launches of each it stands on;
3. otherwise the same workflow type on every platform (the note says so);
4. otherwise nothing: "not enough history (n launches)" instead of a number.

Optional inputs (sample count, output size, instance family, purchase option) enter the curve as
offsets: the categories when the group holds at least ``min_level_launches`` (10) launches with that
value, the numbers (log samples, log output GB) when ``min_launches`` of its launches recorded one;
otherwise they are left out and a note says so. The estimate is for a run that completes; the expected cost of
failures (the group's failure rate x what a failed run costs, as a share of a successful one of its
size) is returned beside it, never added in. Pure pandas/numpy: no Streamlit, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from estimates import pooling
from estimates.model import Curve, Design, fit_curve, knots_for

TARGETS = ("cost", "hours")
COVARIATES = ("sample_count", "output_size_gb", "instance_family", "purchase_option")
CATEGORICAL = ("instance_family", "purchase_option")
BY_PLATFORM = "workflow type × platform"
BY_TYPE = "workflow type"
YOUNG_BY_PLATFORMS = "young group, pooled with the type's other platforms"
YOUNG_BY_TYPES = "young group, pooled with the other workflow types"
OTHER_PLATFORMS = "the type on the other platforms"  # internal: the launches a young group is pooled with
OTHER_TYPES = "the other workflow types"
YOUNG = (YOUNG_BY_PLATFORMS, YOUNG_BY_TYPES)
MIN_FAILED_FOR_SHARE = 5
EXACT_SUM_UP_TO = 50  # runs of one spec summed draw by draw; more use the normal approximation


@dataclass(frozen=True)
class EstimatorSettings:
    min_launches: int = 30  # completed, priced launches a group needs before it gives a number
    min_level_launches: int = 10  # launches a purchase option or instance family needs to become an offset
    level: float = 0.80  # the interval's nominal coverage
    half_life_months: float | None = 12.0  # older launches count less (prices and instance generations drift)
    folds: int = 5
    seed: int = 0
    max_launches_per_group: int = 5_000  # the most recent; older ones weigh little and cost time
    min_young_launches: int = 5  # a younger group gets a pooled estimate (with a wider interval) from this many
    young_prior_launches: float = 4.0  # pseudo-launches of the pooled residual spread blended into a young group's
    young_level_sd: float = 0.3  # log spread of group levels when too few big groups measure it (0.3: about ±35%)

    @property
    def history_per_group(self) -> int:
        """Ended launches of a group to read (estimate_history's recent_per_group): the weighed ones, and as
        many again to cover the failures among them."""
        return 2 * self.max_launches_per_group

    @property
    def probabilities(self) -> tuple[float, float, float]:
        tail = (1 - self.level) / 2
        return (tail, 0.5, 1 - tail)


@dataclass(frozen=True)
class LaunchSpec:
    """A planned launch. Optional fields are None when unknown."""

    workflow_type: str
    compute_platform: str
    input_size_gb: float
    sample_count: int | None = None
    instance_family: str | None = None
    purchase_option: str | None = None
    output_size_gb: float | None = None  # the expected output (Part 6's third input)


@dataclass(frozen=True)
class Estimate:
    """One planned launch's estimate; the numbers are None when there is not enough history."""

    enough_history: bool
    message: str  # "" or "not enough history (n launches ...)"
    basis: str  # which launches it learnt from, in words
    launches: int
    cost_low: float | None
    cost_median: float | None
    cost_high: float | None
    hours_low: float | None
    hours_median: float | None
    hours_high: float | None
    failure_rate: float | None
    expected_failure_cost: float | None
    notes: str
    history: str = ""  # how much history it stands on: "based on 7 launches of ... and 412 of ..."


def _month_index(values) -> np.ndarray:
    codes, months = pd.factorize(pd.Series(values))  # a few dozen distinct months: convert those once
    months = pd.to_datetime(pd.Series(months))
    return (months.dt.year * 12 + months.dt.month - 1).to_numpy(dtype=float)[codes]


def _text(values: pd.Series) -> pd.Series:
    """A text column as Python strings in an object column (NaN where missing): the estimator indexes
    its numpy array often, which an Arrow-backed column would copy each time. A few distinct values,
    each converted once."""
    codes, uniques = pd.factorize(values)
    return pd.Series(np.append(np.asarray(uniques, dtype=object), np.nan)[codes], index=values.index, dtype=object)


def prepare_history(history: pd.DataFrame) -> pd.DataFrame:
    """The columns the estimator uses, as plain floats and strings (money arrives as Decimal). Idempotent."""
    if "cost" in history.columns and "total_cost" not in history.columns:
        return history if "output_size_gb" in history else history.assign(output_size_gb=np.nan)
    h = pd.DataFrame(
        {
            "workflow_type": _text(history["workflow_type"]),
            "compute_platform": _text(history["compute_platform"]),
            "status": _text(history["status"]),
            "input_size_gb": pd.to_numeric(history["input_size_gb"], errors="coerce").to_numpy(dtype=float),
            "sample_count": pd.to_numeric(history["sample_count"], errors="coerce").to_numpy(dtype=float),
            "output_size_gb": _optional_number(history, "output_size_gb"),
            "instance_family": _text(history["instance_family"]),
            "purchase_option": _text(history["purchase_option"]),
            "cost": history["total_cost"].to_numpy(dtype=object).astype(float),  # Decimal or None: float or NaN
            "hours": pd.to_numeric(history["total_hours"], errors="coerce").to_numpy(dtype=float),
            "month": _month_index(history["launch_month"]) if len(history) else np.empty(0),
        }
    )
    return h


def _optional_number(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A numeric column as floats, NaN where missing or not positive; all NaN when the frame lacks it (older warehouses)."""
    if column not in frame:
        return np.full(len(frame), np.nan)
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    return np.where(values > 0, values, np.nan)


def learnable(h: pd.DataFrame) -> pd.Series:
    """Launches a curve can learn from: completed, priced, timed, with an input size."""
    return (h["status"] == "COMPLETE") & h["cost"].gt(0) & h["hours"].gt(0) & h["input_size_gb"].gt(0)


def normalise_specs(specs: pd.DataFrame | list[LaunchSpec]) -> pd.DataFrame:
    """Planned launches as a frame with every spec column; unknown optional values as NaN/None."""
    frame = pd.DataFrame([s.__dict__ for s in specs]) if isinstance(specs, list) else specs.copy()
    for column in ("sample_count", "instance_family", "purchase_option", "output_size_gb"):
        if column not in frame:
            frame[column] = None
    out = pd.DataFrame(
        {
            "workflow_type": frame["workflow_type"].astype(object),
            "compute_platform": frame["compute_platform"].astype(object),
            "input_size_gb": pd.to_numeric(frame["input_size_gb"], errors="coerce").astype(float),
            "sample_count": pd.to_numeric(frame["sample_count"], errors="coerce").astype(float),
            "output_size_gb": _optional_number(frame, "output_size_gb"),
            "instance_family": frame["instance_family"].where(frame["instance_family"].notna(), None).astype(object),
            "purchase_option": frame["purchase_option"].where(frame["purchase_option"].notna(), None).astype(object),
        },
        index=frame.index,
    )
    out.loc[out["sample_count"] <= 0, "sample_count"] = np.nan
    for column in CATEGORICAL:
        out[column] = out[column].map(lambda v: None if v is None or (isinstance(v, str) and not v.strip()) else str(v).strip())
    return out


def _describe(key: tuple) -> str:
    level, workflow_type, platform = key
    if level == BY_PLATFORM:
        return f"{workflow_type} on {platform}"
    if level == YOUNG_BY_TYPES:
        return f"{workflow_type} on {platform}, with the size curve of the other workflow types"
    return f"{workflow_type} on every platform"


class Estimator:
    """Learns per group on first use and remembers each fitted curve."""

    def __init__(self, history: pd.DataFrame, settings: EstimatorSettings | None = None):
        self.settings = settings or EstimatorSettings()
        h = prepare_history(history)
        self.ended = h[h["status"].isin(("COMPLETE", "FAILED"))].reset_index(drop=True)
        done = h[learnable(h)]
        self.completed = done.reset_index(drop=True)
        newest = self.completed["month"].max() if len(self.completed) else 0.0
        age = newest - self.completed["month"].to_numpy()
        half_life = self.settings.half_life_months
        self._weights = np.power(0.5, age / half_life) if half_life else np.ones(len(self.completed))
        self._log_size = np.log(self.completed["input_size_gb"].to_numpy())
        self._log_samples = np.log(self.completed["sample_count"].to_numpy())
        self._log_output = np.log(self.completed["output_size_gb"].to_numpy())
        self._rows = {
            BY_PLATFORM: {
                k: np.asarray(v) for k, v in self.completed.groupby(["workflow_type", "compute_platform"]).indices.items()
            },
            BY_TYPE: {k: np.asarray(v) for k, v in self.completed.groupby("workflow_type").indices.items()},
        }
        self._ended_rows = {
            BY_PLATFORM: {k: np.asarray(v) for k, v in self.ended.groupby(["workflow_type", "compute_platform"]).indices.items()},
            BY_TYPE: {k: np.asarray(v) for k, v in self.ended.groupby("workflow_type").indices.items()},
        }
        self._ended_option = self.ended["purchase_option"].to_numpy()
        self._ended_failed = (self.ended["status"] == "FAILED").to_numpy()
        self._ended_cost = self.ended["cost"].to_numpy()
        self._curves: dict[tuple, Curve | None] = {}
        self._offsets: dict[tuple, pooling.Offset] = {}  # (young key, covariates, target) -> how its level was set
        self._pooled_rows: dict[tuple, np.ndarray] = {}
        self._level_var: dict[tuple, pooling.Spread] = {}
        self._failure: dict[tuple, tuple[float | None, float | None, int]] = {}

    # -- which launches a spec learns from ---------------------------------------------------------

    def group_rows(self, key: tuple) -> np.ndarray:
        """The completed launches a group key learns from (a young group's: its own and those it is pooled with)."""
        level, workflow_type, platform = key
        if level in (OTHER_PLATFORMS, OTHER_TYPES, *YOUNG):
            return self._pooled(key)
        lookup = (workflow_type, platform) if level == BY_PLATFORM else workflow_type
        return self._rows[level].get(lookup, np.empty(0, dtype=int))

    def _pooled(self, key: tuple) -> np.ndarray:
        if key not in self._pooled_rows:
            level, workflow_type, platform = key
            empty = np.empty(0, dtype=int)
            own = self._rows[BY_PLATFORM].get((workflow_type, platform), empty)
            if level in (OTHER_PLATFORMS, YOUNG_BY_PLATFORMS):
                rows = np.setdiff1d(self._rows[BY_TYPE].get(workflow_type, empty), own)
            else:
                rows = np.setdiff1d(np.arange(len(self.completed)), self._rows[BY_TYPE].get(workflow_type, empty))
            self._pooled_rows[key] = np.union1d(rows, own) if level in YOUNG else rows
        return self._pooled_rows[key]

    def _young_key(self, spec: dict, launches: int) -> tuple | None:
        """The pooled key for a young group, when it has enough launches and related ones to pool with."""
        if not self.settings.min_young_launches <= launches < self.settings.min_launches:
            return None
        wt, pf = spec["workflow_type"], spec["compute_platform"]
        for level, pooled in ((YOUNG_BY_PLATFORMS, OTHER_PLATFORMS), (YOUNG_BY_TYPES, OTHER_TYPES)):
            if len(self.group_rows((pooled, wt, pf))) >= self.settings.min_launches:
                return (level, wt, pf)
        return None

    def choose(self, spec: dict) -> tuple[tuple | None, tuple[str, ...], list[str], str]:
        """(group key, covariates used, notes, message) for one spec; key None when there is not enough history."""
        need = self.settings.min_launches
        counts = []
        for level in (BY_PLATFORM, BY_TYPE):
            key = (level, spec["workflow_type"], spec["compute_platform"] if level == BY_PLATFORM else None)
            rows = self.group_rows(key)
            counts.append(len(rows))
            young = self._young_key(spec, len(rows)) if level == BY_PLATFORM else None
            if young is not None:
                key, rows = young, self.group_rows(young)
            if len(rows) >= need or young is not None:
                notes = (
                    []
                    if level == BY_PLATFORM and young is None
                    else [
                        f"fewer than {need} completed launches of {spec['workflow_type']} on {spec['compute_platform']} "
                        f"({counts[0]}): learnt from {_describe(key)}"
                    ]
                )
                covariates = self._covariates(rows, spec, notes)
                return key, covariates, notes, ""
        message = (
            f"not enough history ({counts[0]} launches of {spec['workflow_type']} on {spec['compute_platform']}, "
            f"{counts[1]} on every platform; {need} needed)"
        )
        return None, (), [], message

    def _covariates(self, rows: np.ndarray, spec: dict, notes: list[str]) -> tuple[str, ...]:
        used = []
        minimum = self.settings.min_level_launches
        for column, label, logs in (
            ("sample_count", "sample count", self._log_samples),
            ("output_size_gb", "output size", self._log_output),
        ):
            if np.isnan(spec.get(column, np.nan)):
                continue
            known = int(np.isfinite(logs[rows]).sum())
            if known >= self.settings.min_launches:
                used.append(column)
            else:
                notes.append(f"{label}: only {known} launches recorded one; estimated without it")
        for column, label in (("instance_family", "instance family"), ("purchase_option", "purchase option")):
            value = spec[column]
            if value is None:
                continue
            n = int((self.completed[column].to_numpy()[rows] == value).sum())
            if n >= minimum:
                used.append(column)
            else:
                notes.append(f"{label} {value}: {n} launches in this group (fewer than {minimum}); estimated without it")
        return tuple(used)

    # -- fitting ---------------------------------------------------------------------------------

    def curve(self, key: tuple, covariates: tuple[str, ...], target: str) -> Curve | None:
        cache_key = (key, covariates, target)
        if cache_key not in self._curves:
            self._curves[cache_key] = self._fit(key, covariates, target)
        return self._curves[cache_key]

    def _fit(self, key: tuple, covariates: tuple[str, ...], target: str) -> Curve | None:
        if key[0] in YOUNG:
            return self._fit_young(key, covariates, target)
        rows = self.group_rows(key)
        keep = np.ones(len(rows), dtype=bool)
        levels: dict[str, tuple[str, ...]] = {}
        if "sample_count" in covariates:
            keep &= np.isfinite(self._log_samples[rows])
        if "output_size_gb" in covariates:
            keep &= np.isfinite(self._log_output[rows])
        offsets = [c for c in CATEGORICAL if c in covariates] + (["workflow_type"] if key[0] == OTHER_TYPES else [])
        for column in offsets:
            values = self.completed[column].to_numpy()[rows]
            counts = pd.Series(values[keep]).value_counts()
            common = tuple(counts[counts >= self.settings.min_level_launches].index)
            levels[column] = common  # most frequent first: the reference level
            keep &= np.isin(values, common)
        rows = rows[keep]
        if len(rows) < self.settings.min_launches:
            return None
        if len(rows) > self.settings.max_launches_per_group:
            newest = np.argsort(-self.completed["month"].to_numpy()[rows], kind="stable")
            rows = np.sort(rows[newest[: self.settings.max_launches_per_group]])
        log_size = self._log_size[rows]
        design = Design(
            knots=knots_for(log_size),
            levels=levels,
            use_samples="sample_count" in covariates,
            use_output="output_size_gb" in covariates,
        )
        categories = {c: self.completed[c].to_numpy()[rows] for c in levels}
        y = np.log(self.completed[target].to_numpy()[rows])
        samples = self._log_samples[rows] if design.use_samples else None
        output = self._log_output[rows] if design.use_output else None
        s = self.settings
        return fit_curve(log_size, y, self._weights[rows], design, categories, samples, s.folds, s.seed, output)

    def _fit_young(self, key: tuple, covariates: tuple[str, ...], target: str) -> Curve | None:
        """A young group's curve: the pooled curve at the group's shrunk level, with a wider interval."""
        level, workflow_type, platform = key
        pooled_level = OTHER_PLATFORMS if level == YOUNG_BY_PLATFORMS else OTHER_TYPES
        pooled = self.curve((pooled_level, workflow_type, platform), covariates, target)
        if pooled is None:
            return None
        rows = self._placeable(pooled, self.group_rows((BY_PLATFORM, workflow_type, platform)))
        if len(rows) < self.settings.min_young_launches:
            return None
        residuals = np.log(self.completed[target].to_numpy()[rows]) - self._predict_rows(pooled, rows)
        spread = self._level_spread(target, covariates) if level == YOUNG_BY_PLATFORMS else None
        curve, offset = pooling.young_curve(
            pooled,
            residuals,
            self._weights[rows],
            self.completed["input_size_gb"].to_numpy()[rows],
            spread,
            self.settings.level,
            self.settings.young_prior_launches,
        )
        self._offsets[(key, covariates, target)] = offset
        return curve

    def _placeable(self, curve: Curve, rows: np.ndarray) -> np.ndarray:
        """The launches among ``rows`` a curve can place: with its numeric inputs, on categories it has offsets for."""
        keep = np.ones(len(rows), dtype=bool)
        if curve.design.use_samples:
            keep &= np.isfinite(self._log_samples[rows])
        if curve.design.use_output:
            keep &= np.isfinite(self._log_output[rows])
        for column in CATEGORICAL:
            if column in curve.design.levels:
                keep &= np.isin(self.completed[column].to_numpy()[rows], curve.design.levels[column])
        return rows[keep]

    def _predict_rows(self, curve: Curve, rows: np.ndarray) -> np.ndarray:
        """A curve's log fit at completed launches ``rows``."""
        categories = {c: self.completed[c].to_numpy()[rows] for c in curve.design.levels}
        return curve.predict_log(self._log_size[rows], categories, self._log_samples[rows], self._log_output[rows])

    def _level_spread(self, target: str, covariates: tuple[str, ...]) -> pooling.Spread:
        """τ²: how far big groups' levels stray from the curve of their type's other platforms (log, squared),
        and how far their launches stray from their own level (with the same inputs as the estimate)."""
        if (target, covariates) not in self._level_var:
            offsets = []
            need = self.settings.min_launches
            for (workflow_type, platform), rows in self._rows[BY_PLATFORM].items():
                other = (OTHER_PLATFORMS, workflow_type, platform)
                if len(rows) < need or len(self.group_rows(other)) < need:
                    continue
                pooled = self.curve(other, covariates, target)
                rows = rows if pooled is None else self._placeable(pooled, rows)
                if pooled is not None and len(rows) >= need:
                    residuals = np.log(self.completed[target].to_numpy()[rows]) - self._predict_rows(pooled, rows)
                    offsets.append(pooling.group_offset(pooled, residuals, self._weights[rows]))
            spread = pooling.level_spread(offsets, floor=0.02, default=self.settings.young_level_sd)
            self._level_var[(target, covariates)] = spread
        return self._level_var[(target, covariates)]

    def failure(self, key: tuple, purchase_option: str | None) -> tuple[float | None, float | None, int]:
        """(failure rate, a failed run's cost as a share of a successful one of its size, ended launches)."""
        cache_key = (key, purchase_option)
        if cache_key not in self._failure:
            level, workflow_type, platform = key
            level = level if level in self._ended_rows else BY_TYPE  # a young group: its type's failures
            lookup = (workflow_type, platform) if level == BY_PLATFORM else workflow_type
            rows = self._ended_rows[level].get(lookup, np.empty(0, dtype=int))
            if purchase_option is not None:
                subset = rows[self._ended_option[rows] == purchase_option]
                if len(subset) >= self.settings.min_launches:
                    rows = subset
            failed = rows[self._ended_failed[rows]]
            rate = float(len(failed) / len(rows)) if len(rows) else None
            failed = failed[np.isfinite(self._ended_cost[failed])]
            share = None
            if len(failed) >= MIN_FAILED_FOR_SHARE:
                # what each failed run cost, against what a successful run with its inputs would have (same group)
                result = self.predictive(self.ended.iloc[failed])
                median = np.full(len(failed), np.nan)
                for positions, curve in result.curves["cost"]:
                    median[positions] = np.exp(result.fits["cost"][positions] + curve.residual_quantiles([0.5])[0])
                ratio = self._ended_cost[failed] / median
                share = float(np.nanmean(ratio)) if np.isfinite(ratio).any() else None
            self._failure[cache_key] = (rate, share, len(rows))
        return self._failure[cache_key]

    # -- answers ---------------------------------------------------------------------------------

    def estimate(self, spec: LaunchSpec) -> Estimate:
        row = self.estimate_many([spec]).iloc[0]
        values = {k: row[k] for k in Estimate.__dataclass_fields__}
        return Estimate(**{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in values.items()})

    def predictive(self, specs: pd.DataFrame | list[LaunchSpec]) -> Predictive:
        """Per spec: the decision (group, covariates, notes) and the log fits of cost and hours."""
        specs = normalise_specs(specs).reset_index(drop=True)
        shape = specs[["workflow_type", "compute_platform", "instance_family", "purchase_option"]].astype(object)
        shape = shape.where(shape.notna(), None)
        shape["has_samples"] = specs["sample_count"].notna()
        shape["has_output"] = specs["output_size_gb"].notna()
        decided: dict[tuple, tuple] = {}
        decisions = []
        for row in shape.itertuples(index=False):
            if row not in decided:
                known = {"sample_count": 1.0 if row.has_samples else np.nan, "output_size_gb": 1.0 if row.has_output else np.nan}
                spec = dict(row._asdict(), **known)
                decided[row] = self.choose(spec)
            decisions.append(decided[row])
        result = Predictive(specs=specs, decisions=decisions, fits={t: np.full(len(specs), np.nan) for t in TARGETS})
        chunks: dict[tuple, list[int]] = {}
        for position, (key, covariates, _, _) in enumerate(decisions):
            if key is not None:
                chunks.setdefault((key, covariates), []).append(position)
        log_size = np.log(specs["input_size_gb"].to_numpy())
        log_samples = np.log(specs["sample_count"].to_numpy())
        log_output = np.log(specs["output_size_gb"].to_numpy())
        for (key, covariates), positions in chunks.items():
            positions = np.asarray(positions)
            for target in TARGETS:
                used = covariates if self.curve(key, covariates, target) is not None else ()
                curve = self.curve(key, used, target)
                if curve is None:  # a young group whose launches the pooled curve cannot place: no number
                    continue
                categories = {c: specs[c].to_numpy()[positions] for c in curve.design.levels}
                result.fits[target][positions] = curve.predict_log(
                    log_size[positions], categories, log_samples[positions], log_output[positions]
                )
                result.curves[target].append((positions, curve))
                result.used[target].append((positions, key, used))
        return result

    def estimate_many(self, specs: pd.DataFrame | list[LaunchSpec]) -> pd.DataFrame:
        """One row per spec: cost and hours low/median/high, failure rate and expected failure cost, notes."""
        result = self.predictive(specs)
        specs = result.specs
        n = len(specs)
        columns: dict[str, np.ndarray] = {f"{t}_{q}": np.full(n, np.nan) for t in TARGETS for q in ("low", "median", "high")}
        for target in TARGETS:
            for positions, curve in result.curves[target]:
                shifts = curve.residual_quantiles(self.settings.probabilities)
                for name, shift in zip(("low", "median", "high"), shifts, strict=True):
                    columns[f"{target}_{name}"][positions] = np.exp(result.fits[target][positions] + shift)
        notes = [list(d[2]) for d in result.decisions]
        sizes = specs["input_size_gb"].to_numpy()
        for positions, curve in result.curves["cost"]:
            lo, hi = curve.size_range
            for i in positions[(sizes[positions] < lo * 0.999) | (sizes[positions] > hi * 1.001)]:
                notes[i].append(f"input size outside the {lo:,.1f}–{hi:,.1f} GB these launches had: extrapolated")
        rate = np.full(n, np.nan)
        failure_cost = np.full(n, np.nan)
        options = specs["purchase_option"].to_numpy()
        for i, (key, _, _, _) in enumerate(result.decisions):
            if key is not None:
                r, share, _ = self.failure(key, options[i])
                rate[i] = np.nan if r is None else r
                failure_cost[i] = np.nan if r is None or share is None else r * share * columns["cost_median"][i]
        keys = [d[0] for d in result.decisions]
        return pd.DataFrame(
            {
                "enough_history": [k is not None for k in keys],
                "message": [d[3] for d in result.decisions],
                "basis": [_describe(k) if k is not None else "" for k in keys],
                "launches": [len(self.group_rows(k)) if k is not None else 0 for k in keys],
                **columns,
                "failure_rate": rate,
                "expected_failure_cost": failure_cost,
                "notes": ["; ".join(x) for x in notes],
                "history": [self.history(k) for k in keys],
                "pooled": [k is not None and k[0] in YOUNG for k in keys],
                "output_size_used": self._uses(result, n, "output_size_gb"),
            }
        )

    @staticmethod
    def _uses(result: Predictive, n: int, covariate: str) -> np.ndarray:
        """Per spec: whether its cost curve used ``covariate``."""
        out = np.zeros(n, dtype=bool)
        for positions, _, used in result.used["cost"]:
            out[positions] = covariate in used
        return out

    def history(self, key: tuple | None) -> str:
        """How much history an estimate for group ``key`` stands on, in words ("" without one)."""
        if key is None:
            return ""
        level, workflow_type, platform = key
        own = len(self._rows[BY_PLATFORM].get((workflow_type, platform), ()))
        if level == BY_PLATFORM:
            return f"based on {own:,} launches of {workflow_type} on {platform}"
        if level == BY_TYPE:
            return f"based on {len(self.group_rows(key)):,} launches of {workflow_type} on every platform ({own:,} on {platform})"
        pooled_level = OTHER_PLATFORMS if level == YOUNG_BY_PLATFORMS else OTHER_TYPES
        pooled = len(self.group_rows((pooled_level, workflow_type, platform)))
        where = f"{workflow_type} on other platforms" if level == YOUNG_BY_PLATFORMS else "other workflow types"
        words = pooling.history_sentence(own, f"this group ({workflow_type} on {platform})", pooled, where)
        offset = next((o for (k, _, t), o in self._offsets.items() if k == key and t == "cost"), None)
        if offset is None:
            return words
        if level == YOUNG_BY_PLATFORMS:
            words += f"; its level {offset.shrinkage:.0%} its own launches', {1 - offset.shrinkage:.0%} the other platforms'"
        else:
            words += "; their size curve, its level from its own launches"
        return words + f"; its interval widened {offset.widening:.2f}x for so few launches"

    def sample_totals(self, specs: pd.DataFrame, counts: np.ndarray, draws: int, rng: np.random.Generator) -> np.ndarray:
        """(specs x draws): the summed cost of ``counts[i]`` successful runs of spec i, per draw; NaN without history.

        Each run draws its own out-of-sample residual (runs vary independently); for more than
        ``EXACT_SUM_UP_TO`` runs of one spec the sum is drawn from the normal approximation. A young
        group's level is uncertain for all its runs alike: one draw of it per draw, shared by every run
        and spec on that curve (``Curve.level_sd``), so many runs do not average it away.
        """
        result = self.predictive(specs)
        counts = np.asarray(counts, dtype=int)
        out = np.full((len(result.specs), draws), np.nan)
        for positions, curve in result.curves["cost"]:
            w = curve.residual_weights / curve.residual_weights.sum()
            factors = np.exp(curve.residuals if curve.run_residuals is None else curve.run_residuals)
            mean, second = float(w @ factors), float(w @ factors**2)
            level = np.exp(rng.normal(0.0, curve.level_sd, draws)) if curve.level_sd > 0 else 1.0
            for i in positions:
                scale = np.exp(result.fits["cost"][i]) * level
                c = counts[i]
                if c <= EXACT_SUM_UP_TO:
                    picks = rng.choice(len(factors), size=(draws, c), p=w)
                    out[i] = scale * factors[picks].sum(axis=1)
                else:
                    sd = np.sqrt(c * max(second - mean**2, 0.0))
                    out[i] = scale * np.maximum(rng.normal(c * mean, sd, draws), 0.0)
        return out


@dataclass
class Predictive:
    """What ``Estimator.predictive`` decided for each spec, positionally."""

    specs: pd.DataFrame
    decisions: list[tuple]  # (group key or None, covariates, notes, message)
    fits: dict[str, np.ndarray]  # target -> log fit (NaN without history)
    curves: dict[str, list[tuple[np.ndarray, Curve]]] = field(default_factory=lambda: {t: [] for t in TARGETS})
    used: dict[str, list[tuple[np.ndarray, tuple, tuple]]] = field(default_factory=lambda: {t: [] for t in TARGETS})
