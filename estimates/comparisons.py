"""Like-for-like comparisons within one workflow type: two sides at matched input size, with a 90% interval.

A side is a compute platform, an instance type, a purchase option or a combination ("Batch Spot"). Launches
are put in input-size bands (``DEFAULT_BAND_EDGES_GB``: under 10, 10–30, 30–100, 100–300, 300–1,000,
1,000–3,000 GB, 3,000 GB and over; ``[comparisons] size_bands_gb``). A band is *matched* when each side has at
least ``MIN_BAND_LAUNCHES`` launches in it. Inside a band the two sides' sizes still differ a little, so each
launch's cost (or hours) is first moved to the band's reference size (the geometric mean of both sides' sizes
in it) along the common size elasticity (the slope of log cost on log size within side x band, one for the
comparison; 0 when sizes do not vary inside a band). Then each side's mean per launch is taken in each matched
band and both sides are re-weighted to one common band mix: the share of the two sides' launches pooled that
fall in each matched band (or one band alone, when one is asked for). So a side that ran mostly small inputs
is not called cheap for it. The difference is ``A / B - 1`` (negative: A costs less).

The 90% interval is a percentile bootstrap, seeded so a page shows the same figures on every run: each
resample redraws the launches of every side within every matched band (with replacement, as many as there
were), re-weights to the same common mix and recomputes the difference. A band-side with more than
``MAX_DRAWS`` launches has its resampled means drawn from their normal limit (the band-side's mean, its
covariance / n): what redrawing all ``n`` gives at that size, so a page at a million launches still answers in
milliseconds; the percentile interval of the ratio is still read off the resamples. The elasticity is held at its estimate (learnt
from every launch of both sides, its own error is small beside the means').

Below ``min_launches`` launches a side in the matched bands, there is no figure: "not enough launches".
DataFrames in, figures out: no Streamlit, no warehouse reads. Cost arrives as Decimal and is averaged as
float: the figures are ratios, and the adjusted costs are shown rounded to the cent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from core.settings import ComparisonSettings

DEFAULTS = ComparisonSettings()  # [comparisons] in the config file
DEFAULT_BAND_EDGES_GB = DEFAULTS.size_bands_gb
DEFAULT_MIN_LAUNCHES = DEFAULTS.min_launches  # per side, over the matched bands
DEFAULT_RESAMPLES = DEFAULTS.resamples
DEFAULT_SEED = DEFAULTS.seed
INTERVAL = 0.90
MIN_BAND_LAUNCHES = 3  # per side, for a band to be matched
MAX_DRAWS = 250
MEASURES = {"cost": "total_cost", "hours": "total_hours"}
# What a side is made of, in the scientists' words: the control label and the columns of comparison_launches.
SIDES = {
    "Platform and purchase option": ("compute_platform", "purchase_option"),
    "Platform": ("compute_platform",),
    "Instance type": ("instance_type",),
    "Purchase option": ("purchase_option",),
}
NOT_ENOUGH = "not enough launches"


def _gb(value: float) -> str:
    return f"{value:,.0f}" if value >= 1 else f"{value:g}"


def band_labels(edges: Sequence[float] = DEFAULT_BAND_EDGES_GB) -> list[str]:
    """The bands' names in order: "under 10 GB", "10–30 GB", ..., "3,000 GB and over"."""
    labels = [f"under {_gb(edges[0])} GB"]
    labels += [f"{_gb(low)}–{_gb(high)} GB" for low, high in zip(edges[:-1], edges[1:], strict=True)]
    return labels + [f"{_gb(edges[-1])} GB and over"]


def band_index(sizes, edges: Sequence[float] = DEFAULT_BAND_EDGES_GB) -> np.ndarray:
    """The band of each input size (0 = under the first edge); a size on an edge belongs to the band above it."""
    return np.searchsorted(np.asarray(edges, dtype=float), np.asarray(sizes, dtype=float), side="right")


def side_codes(rows: pd.DataFrame, by: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Each launch's side as a code into the side names, its values joined by a space ("Batch Spot"; missing: "none").

    Codes follow the order sides first appear in; each column is factorised on its own and the codes combined.
    """
    if not len(rows):
        return np.zeros(0, dtype=np.int64), []
    combined = np.zeros(len(rows), dtype=np.int64)
    labels: list[list[str]] = []
    for column in by:
        codes, uniques = pd.factorize(rows[column], use_na_sentinel=False)
        names = ["none" if pd.isna(u) else str(u) for u in uniques]
        named, distinct = pd.factorize(np.asarray(names, dtype=object))  # a missing value and "none" are one side
        combined = combined * len(distinct) + np.asarray(named)[codes]
        labels.append(list(distinct))
    codes, uniques = pd.factorize(combined)
    names = []
    for unique in uniques:
        parts = []
        for column in reversed(labels):
            unique, part = divmod(int(unique), len(column))
            parts.append(column[part])
        names.append(" ".join(reversed(parts)))
    return np.asarray(codes), names


def side_labels(rows: pd.DataFrame, by: Sequence[str]) -> pd.Series:
    """Each launch's side, its values joined by a space ("Batch Spot"); missing values read "none"."""
    codes, names = side_codes(rows, by)
    return pd.Series(np.asarray(names, dtype=object)[codes] if names else [], index=rows.index, dtype=object)


@dataclass(frozen=True)
class Comparison:
    """Side ``a`` against side ``b`` of one workflow type at matched input size (see the module doc)."""

    workflow_type: str
    measure: str  # "cost" or "hours"
    a: str
    b: str
    launches_a: int  # in the matched bands
    launches_b: int
    size: str  # "100–300 GB" (one band) or "matched input sizes (...)"
    min_launches: int
    adjusted_a: float | None = None  # mean per launch at the common band mix
    adjusted_b: float | None = None
    difference: float | None = None  # adjusted_a / adjusted_b - 1
    low: float | None = None  # the 90% interval of the difference
    high: float | None = None
    raw_difference: float | None = None  # plain means of every launch of each side, sizes as they fell

    @property
    def enough(self) -> bool:
        return self.difference is not None

    def sentence(self) -> str:
        """The sentence a scientist can paste, e.g. "For nextflow-sarek at 100–300 GB, Batch Spot costs 31% less than ..."."""
        counts = f"{self.launches_a:,} and {self.launches_b:,} launches"
        if not self.enough:
            return (
                f"For {self.workflow_type} at {self.size}, {self.a} against {self.b}: {NOT_ENOUGH} "
                f"({counts}; at least {self.min_launches} a side)"
            )
        less, more = ("costs", "less") if self.measure == "cost" else ("takes", "less time")
        grow = "more" if self.measure == "cost" else "more time"
        point = round(abs(self.difference) * 100)
        if point == 0:
            verdict = f"{less} about the same as"
        else:
            verdict = f"{less} {point}% {more if self.difference < 0 else grow} than"
        return (
            f"For {self.workflow_type} at {self.size}, {self.a} {verdict} {self.b} "
            f"(90% interval {self.interval_text()}; {counts})"
        )

    def interval_text(self) -> str:
        """ "24-38%" in the direction of the point estimate; "5% less to 3% more" when it spans no difference."""
        low, high = round(self.low * 100), round(self.high * 100)
        less, more = ("less", "more") if self.measure == "cost" else ("less time", "more time")
        if high <= 0 and self.difference <= 0:
            return f"{-high}-{-low}%"
        if low >= 0 and self.difference >= 0:
            return f"{low}-{high}%"
        return f"{-low}% {less} to {high}% {more}"


def size_elasticity(log_size: np.ndarray, log_value: np.ndarray, groups: np.ndarray) -> float:
    """The common slope of log value on log size within groups (side x band): how value scales with size inside a band.

    0 when no group's sizes vary (nothing to learn it from).
    """
    if not len(groups):
        return 0.0
    counts = np.maximum(np.bincount(groups), 1).astype(float)  # groups: small non-negative integers
    dx = log_size - (np.bincount(groups, log_size) / counts)[groups]
    dy = log_value - (np.bincount(groups, log_value) / counts)[groups]
    spread = float(dx @ dx)
    return float(dx @ dy) / spread if spread > 1e-12 else 0.0


@dataclass(frozen=True)
class Groups:
    """The launches sorted by side x band (key ``code * bands + band``): each group a slice, with the sums the
    point figures need, computed once for every comparison of the same launches."""

    bands: int
    start: np.ndarray  # per key: where its launches begin in the sorted arrays
    count: np.ndarray  # launches per key
    values: np.ndarray  # sorted by key
    log_size: np.ndarray
    total: np.ndarray  # per key: sum of values
    positive: np.ndarray  # per key: launches with a value above 0 (the elasticity and reference sizes use those)
    sum_log_size: np.ndarray  # over those
    sxy: np.ndarray  # within-key centred cross products of log size and log value, over those
    sxx: np.ndarray

    @classmethod
    def of(cls, codes: np.ndarray, values: np.ndarray, sizes: np.ndarray, bands: np.ndarray, sides: int, nbands: int):
        keys = codes * nbands + bands
        length = max(sides, 1) * nbands
        small = keys.astype(np.int16) if length < 2**15 else keys  # small integers: a radix sort
        order = np.argsort(small, kind="stable")
        keys, values, log_size = keys[order], values[order], np.log(sizes[order])
        count = np.bincount(keys, minlength=length)
        above = values > 0
        k, x, y = keys[above], log_size[above], np.log(values[above])
        positive = np.bincount(k, minlength=length)
        sum_x, sum_y = np.bincount(k, x, minlength=length), np.bincount(k, y, minlength=length)
        dx = x - (sum_x / np.maximum(positive, 1))[k]
        dy = y - (sum_y / np.maximum(positive, 1))[k]
        return cls(
            bands=nbands,
            start=np.concatenate([[0], np.cumsum(count)[:-1]]),
            count=count,
            values=values,
            log_size=log_size,
            total=np.bincount(keys, values, minlength=length),
            positive=positive,
            sum_log_size=sum_x,
            sxy=np.bincount(k, dx * dy, minlength=length),
            sxx=np.bincount(k, dx * dx, minlength=length),
        )

    def launches(self, key: int) -> tuple[np.ndarray, np.ndarray]:
        """(values, log sizes) of one side x band."""
        span = slice(self.start[key], self.start[key] + self.count[key])
        return self.values[span], self.log_size[span]


@dataclass(frozen=True)
class _Plan:
    """One comparison before its figures: the matched bands, their weights, the elasticity and reference sizes."""

    base: dict
    code_a: int
    matched: list[int]
    weights: np.ndarray
    slope: float
    reference: dict  # band -> pooled mean log size
    raw: float | None


def _plan(groups: Groups, launches: Launches, a: str, b: str, code_b: int, band, edges, min_launches: int) -> _Plan:
    code_a = launches.names.index(a) if a in launches.names else -1
    nbands = groups.bands
    key_a, key_b = (np.arange(nbands) + code * nbands if code >= 0 else None for code in (code_a, code_b))

    def per_band(table: np.ndarray, keys) -> np.ndarray:
        return table[keys] if keys is not None else np.zeros(nbands, dtype=table.dtype)

    count_a, count_b = per_band(groups.count, key_a), per_band(groups.count, key_b)
    candidates = range(nbands) if band is None else [band]
    matched = [i for i in candidates if count_a[i] >= MIN_BAND_LAUNCHES and count_b[i] >= MIN_BAND_LAUNCHES]
    names = band_labels(edges)
    base = dict(
        workflow_type=launches.workflow_type,
        measure=launches.measure,
        a=a,
        b=b,
        launches_a=int(count_a[matched].sum()),
        launches_b=int(count_b[matched].sum()),
        size=names[band] if band is not None else _mix_text(matched, edges),
        min_launches=min_launches,
    )
    if base["launches_a"] < min_launches or base["launches_b"] < min_launches:
        return _Plan(base, code_a, [], np.zeros(0), 0.0, {}, None)
    pooled = (count_a + count_b)[matched].astype(float)
    raw = (per_band(groups.total, key_a).sum() / count_a.sum()) / (per_band(groups.total, key_b).sum() / count_b.sum()) - 1
    both = [key_a[matched], key_b[matched]]
    spread = float(sum(groups.sxx[k].sum() for k in both))
    slope = float(sum(groups.sxy[k].sum() for k in both)) / spread if spread > 1e-12 else 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = (groups.sum_log_size[both[0]] + groups.sum_log_size[both[1]]) / (
            groups.positive[both[0]] + groups.positive[both[1]]
        )
    reference = dict(zip(matched, centre.tolist(), strict=True))
    return _Plan(base, code_a, matched, pooled / pooled.sum(), slope, reference, float(raw))


def _group_means(groups: Groups, key: int, adjust: list[tuple[float, float]], resamples: int, rng) -> tuple:
    """One side x band's mean at each (elasticity, reference size) in ``adjust``, and its bootstrap means (resamples x K).

    Up to ``MAX_DRAWS`` launches are redrawn with replacement; above that, the means come from their normal
    limit (``_normal_means``).
    """
    values, log_size = groups.launches(key)
    slopes = np.array([s for s, _ in adjust])
    references = np.array([r for _, r in adjust])
    with np.errstate(invalid="ignore"):
        factors = np.where(slopes == 0.0, 1.0, np.exp(slopes * (references - log_size[:, None])))
    adjusted = values[:, None] * factors  # launches x K
    n = len(values)
    centre = adjusted.mean(axis=0)
    if n > MAX_DRAWS:
        return centre, _normal_means(adjusted, centre, resamples, rng)
    picks = rng.integers(0, n, size=(resamples, n), dtype=np.int32)
    if len(adjust) == 1:
        means = adjusted[:, 0].take(picks).mean(axis=1)[:, None]
    else:
        rows = np.arange(resamples)[:, None] * n
        counts = np.bincount((picks + rows).ravel(), minlength=resamples * n).reshape(resamples, n)
        means = (counts.astype(float) @ adjusted) / n
    return centre, means


def _normal_means(adjusted: np.ndarray, centre: np.ndarray, resamples: int, rng) -> np.ndarray:
    """Resampled means of more than ``MAX_DRAWS`` launches, drawn from their normal limit (resamples x K).

    Redrawing n launches with replacement gives means whose distribution is, for n this large, the normal
    one with the sample's covariance / n; its K columns (one per elasticity and reference size) move together
    as the same launches' would. Drawn through the covariance's eigen-decomposition, which takes identical
    columns (two comparisons at the same adjustment) as they are.
    """
    n = len(adjusted)
    draws = rng.standard_normal((resamples, len(centre)))
    if len(centre) == 1:
        return centre + draws * (adjusted[:, 0].std() / math.sqrt(n))
    deviations = adjusted - centre
    covariance = (deviations.T @ deviations) / n / n
    eigenvalues, vectors = np.linalg.eigh(covariance)
    root = vectors * np.sqrt(np.clip(eigenvalues, 0.0, None))
    return centre + draws @ root.T


@dataclass(frozen=True)
class Launches:
    """One workflow type's launches as arrays, ready to compare: side, value, size, band (usable rows only)."""

    workflow_type: str
    measure: str
    codes: np.ndarray  # into names
    names: list[str]
    values: np.ndarray
    sizes: np.ndarray
    bands: np.ndarray
    nbands: int
    side_counts: pd.Series  # launches per side over every row given, most first (the choices a page offers)

    @classmethod
    def of(cls, rows: pd.DataFrame, by: Sequence[str], measure: str, edges: Sequence[float]) -> Launches:
        if measure not in MEASURES:
            raise ValueError(f"measure must be one of {', '.join(MEASURES)}, not {measure!r}")
        workflow_types = rows["workflow_type"].dropna().unique() if len(rows) else []
        column = rows[MEASURES[measure]]
        if column.dtype == object:  # Decimal money: to float for the ratios
            column = column.map(lambda v: None if v is None else float(v))
        values = pd.to_numeric(column, errors="coerce")
        usable = values.notna().to_numpy() & (pd.to_numeric(rows["input_size_gb"], errors="coerce") > 0).to_numpy()
        sizes = rows["input_size_gb"].to_numpy(dtype=float)[usable]
        codes, names = side_codes(rows, by)
        return cls(
            workflow_type=str(workflow_types[0]) if len(workflow_types) == 1 else "these workflow types",
            measure=measure,
            codes=codes[usable],
            names=names,
            values=values.to_numpy(dtype=float)[usable],
            sizes=sizes,
            bands=band_index(sizes, edges),
            nbands=len(edges) + 1,
            side_counts=_side_counts(codes, names),
        )

    @cached_property
    def groups(self) -> Groups:
        return Groups.of(self.codes, self.values, self.sizes, self.bands, len(self.names), self.nbands)


def compare(
    rows: pd.DataFrame,
    by: Sequence[str],
    a: str,
    b: str,
    measure: str = "cost",
    band: int | None = None,
    edges: Sequence[float] = DEFAULT_BAND_EDGES_GB,
    min_launches: int = DEFAULT_MIN_LAUNCHES,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> Comparison:
    """Side ``a`` against side ``b`` (labels of ``side_labels(rows, by)``) of one workflow type's launches.

    ``rows`` are ``comparison_launches`` rows of one workflow type (input_size_gb, the ``by`` columns,
    total_cost, total_hours). ``band`` (an index of ``band_labels(edges)``) compares within that band alone;
    None re-weights every matched band to the common mix.
    """
    return _evaluate(Launches.of(rows, by, measure, edges), [a], b, band, edges, min_launches, resamples, seed)[0]


def _evaluate(
    launches: Launches, sides_a: list[str], b: str, band, edges, min_launches: int, resamples: int, seed: int
) -> list[Comparison]:
    """Each of ``sides_a`` against ``b``, from one seeded stream: every side's bands in turn, then the baseline's,
    whose launches in a band are redrawn once for every comparison against it (each at its own elasticity)."""
    groups, nbands = launches.groups, launches.nbands
    code_b = launches.names.index(b) if b in launches.names else -1
    plans = [_plan(groups, launches, a, b, code_b, band, edges, min_launches) for a in sides_a]
    rng = np.random.default_rng(seed)
    sides = {}
    uses: dict[int, list[tuple[int, float, float]]] = {}  # band -> (plan, elasticity, reference) against the baseline
    for i, plan in enumerate(plans):
        for matched in plan.matched:
            adjust = [(plan.slope, plan.reference[matched])]
            centre, means = _group_means(groups, plan.code_a * nbands + matched, adjust, resamples, rng)
            sides[i, matched] = (float(centre[0]), means[:, 0])
            uses.setdefault(matched, []).append((i, plan.slope, plan.reference[matched]))
    baseline = {}
    for matched, used in uses.items():
        centre, means = _group_means(groups, code_b * nbands + matched, [(s, r) for _, s, r in used], resamples, rng)
        for column, (i, _, _) in enumerate(used):
            baseline[i, matched] = (float(centre[column]), means[:, column])
    tail = (1 - INTERVAL) / 2 * 100
    results = []
    for i, plan in enumerate(plans):
        if not plan.matched:
            results.append(Comparison(**plan.base))
            continue
        adjusted_a = adjusted_b = 0.0
        boot_a = boot_b = np.zeros(resamples)
        for weight, matched in zip(plan.weights, plan.matched, strict=True):
            adjusted_a += weight * sides[i, matched][0]
            boot_a = boot_a + weight * sides[i, matched][1]
            adjusted_b += weight * baseline[i, matched][0]
            boot_b = boot_b + weight * baseline[i, matched][1]
        differences = boot_a / boot_b - 1
        results.append(
            Comparison(
                **plan.base,
                adjusted_a=adjusted_a,
                adjusted_b=adjusted_b,
                difference=adjusted_a / adjusted_b - 1,
                low=float(np.percentile(differences, tail)),
                high=float(np.percentile(differences, 100 - tail)),
                raw_difference=plan.raw,
            )
        )
    return results


def _mix_text(matched: Sequence[int], edges: Sequence[float]) -> str:
    """ "matched input sizes (10–300 GB)": the span of the matched bands (their launches, re-weighted)."""
    if not matched:
        return "matched input sizes (no size band with launches on both sides)"
    bounds = [0.0, *edges, math.inf]
    low, high = bounds[min(matched)], bounds[max(matched) + 1]
    if low == 0 and high == math.inf:
        span = "every size"
    elif low == 0:
        span = f"under {_gb(high)} GB"
    elif high == math.inf:
        span = f"{_gb(low)} GB and over"
    else:
        span = f"{_gb(low)}–{_gb(high)} GB"
    return f"matched input sizes ({span})"


def _side_counts(codes: np.ndarray, names: list[str]) -> pd.Series:
    counts = pd.Series(np.bincount(codes, minlength=len(names)), index=names, name="count")
    return counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")


def sides(rows: pd.DataFrame, by: Sequence[str]) -> pd.Series:
    """Launches per side, most first (the choices a page offers)."""
    return _side_counts(*side_codes(rows, by))


def against(
    rows: pd.DataFrame,
    by: Sequence[str],
    baseline: str,
    measure: str = "cost",
    band: int | None = None,
    **options,
) -> pd.DataFrame:
    """Every other side against ``baseline``: one row each with the difference, its interval and the launches."""
    edges = options.pop("edges", DEFAULT_BAND_EDGES_GB)
    settings = {"min_launches": DEFAULT_MIN_LAUNCHES, "resamples": DEFAULT_RESAMPLES, "seed": DEFAULT_SEED, **options}
    prepared = Launches.of(rows, by, measure, edges)
    others = [side for side in prepared.side_counts.index if side != baseline]
    lines = []
    for c in _evaluate(prepared, others, baseline, band, edges, **settings):
        lines.append(
            {
                "side": c.a,
                "against": baseline,
                "input_size": c.size,
                "launches": c.launches_a,
                "baseline_launches": c.launches_b,
                "adjusted": c.adjusted_a,
                "baseline_adjusted": c.adjusted_b,
                "difference": c.difference,
                "interval_low": c.low,
                "interval_high": c.high,
                "as_fell_difference": c.raw_difference,
                "sentence": c.sentence(),
            }
        )
    return pd.DataFrame(lines)
