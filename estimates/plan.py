"""Plan a quarter: a CSV of planned launches in, totals with 80% intervals per month and per consumer out.

The plan has one row per kind of launch:

    workflow_type,input_size_gb,compute_platform,count,month,consumer[,sample_count,instance_family,purchase_option,output_size_gb]
    nextflow-rnaseq,40,Batch,12,2026-01,oncology-research,,,Spot

``read_plan`` checks every row and returns what is wrong with each (line numbers as in the file),
never raising on bad content. ``plan_totals`` draws every planned launch from its predictive
distribution (the estimator's out-of-sample residuals) and sums the draws, so a total's interval
is the interval of the sum, not the sum of the intervals (that would assume every launch lands at
its high end together). Launches vary independently in these draws; a price change that hits every
launch at once would move them together, and the note under the totals says so.
"""

from __future__ import annotations

import csv
import difflib
import io
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.vocabulary import PLATFORMS, PURCHASE_OPTIONS
from estimates.estimator import Estimator

REQUIRED_COLUMNS = ("workflow_type", "input_size_gb", "compute_platform", "count", "month", "consumer")
OPTIONAL_COLUMNS = ("sample_count", "instance_family", "purchase_option", "output_size_gb")
ALIASES = {
    "platform": "compute_platform",
    "input_gb": "input_size_gb",
    "launches": "count",
    "samples": "sample_count",
    "output_gb": "output_size_gb",
}
MAX_ROWS = 5_000
MAX_COUNT = 100_000
DRAWS = 4_000
TEMPLATE = (
    "workflow_type,input_size_gb,compute_platform,count,month,consumer,sample_count,instance_family,purchase_option,"
    "output_size_gb\n"
    "nextflow-rnaseq,40,Batch,12,2026-01,oncology-research,12,,Spot,25\n"
    "wdl-gatk-germline,150,ParallelCluster,30,2026-02,pop-genomics,,,,\n"
)


@dataclass
class Plan:
    """A checked plan: the valid rows, or the problems found (one line per problem)."""

    rows: pd.DataFrame
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and len(self.rows) > 0


def _suggest(value: str, known) -> str:
    close = difflib.get_close_matches(value, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def _month(text: str) -> pd.Timestamp | None:
    text = text.strip()
    for fmt in ("%Y-%m", "%Y-%m-%d"):
        try:
            moment = pd.to_datetime(text, format=fmt)
        except (ValueError, TypeError):
            continue
        if pd.isna(moment):  # "nan", "NaT" parse as a missing time
            return None
        return moment.to_period("M").to_timestamp()
    return None


def _number(text: str) -> float | None:
    try:
        value = float(text.replace(",", "").strip())
    except ValueError:
        return None
    return value if np.isfinite(value) else None


class _Unreadable(Exception):
    """Why a plan file cannot be read at all: the one problem its Plan reports."""


def _plan_lines(content: bytes | str) -> tuple[list[str], list[list[str]]]:
    """The plan's column names (aliases resolved) and its lines of values; raises _Unreadable when it has none."""
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise _Unreadable("the file is not UTF-8 text: save the plan as CSV (UTF-8) and upload it again") from None
    reader = csv.reader(io.StringIO(content))
    try:
        header = next(reader)
    except StopIteration:
        raise _Unreadable("the file is empty: it needs a header line and one line per planned launch") from None
    except csv.Error as exc:
        raise _Unreadable(f"line 1: not CSV ({exc})") from None
    names = [ALIASES.get(h.strip().lower(), h.strip().lower()) for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise _Unreadable(f"the header lacks the column(s) {', '.join(missing)}; a plan needs {', '.join(REQUIRED_COLUMNS)}")
    try:
        lines = list(reader)
    except csv.Error as exc:
        raise _Unreadable(f"line {reader.line_num}: not CSV ({exc})") from None
    if len(lines) > MAX_ROWS:
        raise _Unreadable(f"the plan has {len(lines):,} lines; split it into files of at most {MAX_ROWS:,}")
    return names, lines


def _plan_row(number: int, raw: dict[str, str], platforms) -> tuple[dict | None, list[str]]:
    """One line of planned launches as a plan row, or what is wrong with its values."""
    issues = []
    for column in REQUIRED_COLUMNS:
        if not raw[column]:
            issues.append(f"{column} is empty")
    size = _number(raw["input_size_gb"]) if raw["input_size_gb"] else None
    if raw["input_size_gb"] and (size is None or size <= 0):
        issues.append(f"input_size_gb {raw['input_size_gb']!r} is not a positive number of GB")
    count = _number(raw["count"]) if raw["count"] else None
    if raw["count"] and (count is None or count < 1 or count != int(count) or count > MAX_COUNT):
        issues.append(f"count {raw['count']!r} is not a whole number of launches between 1 and {MAX_COUNT:,}")
    month = _month(raw["month"]) if raw["month"] else None
    if raw["month"] and month is None:
        issues.append(f"month {raw['month']!r} is not a month like 2026-01")
    platform = raw["compute_platform"]
    if platform and platform not in platforms:
        issues.append(f"compute_platform {platform!r} is not one of {', '.join(platforms)}{_suggest(platform, platforms)}")
    samples = raw.get("sample_count", "")
    sample_count = _number(samples) if samples else None
    if samples and (sample_count is None or sample_count < 1 or sample_count != int(sample_count)):
        issues.append(f"sample_count {samples!r} is not a whole number of samples (leave it empty when unknown)")
    output = raw.get("output_size_gb", "")
    output_gb = _number(output) if output else None
    if output and (output_gb is None or output_gb <= 0):
        issues.append(f"output_size_gb {output!r} is not a positive number of GB (leave it empty when unknown)")
    option = raw.get("purchase_option", "")
    if option and option not in PURCHASE_OPTIONS:
        issues.append(
            f"purchase_option {option!r} is not one of {', '.join(PURCHASE_OPTIONS)}{_suggest(option, PURCHASE_OPTIONS)}"
        )
    if issues:
        return None, issues
    row = {
        "line": number,
        "workflow_type": raw["workflow_type"],
        "input_size_gb": size,
        "compute_platform": platform,
        "count": int(count),
        "month": month,
        "consumer": raw["consumer"],
        "sample_count": sample_count,
        "instance_family": raw.get("instance_family") or None,
        "purchase_option": option or None,
        "output_size_gb": output_gb,
    }
    return row, []


def read_plan(content: bytes | str, workflow_types=(), platforms=PLATFORMS) -> Plan:
    """Parse and check a plan CSV. ``workflow_types``: the types the history knows (for "did you mean")."""
    try:
        names, lines = _plan_lines(content)
    except _Unreadable as exc:
        return Plan(pd.DataFrame(), [str(exc)])
    problems: list[str] = []
    rows = []
    for number, values in enumerate(lines, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(names):
            problems.append(f"line {number}: {len(values)} values for {len(names)} columns")
            continue
        row, issues = _plan_row(number, dict(zip(names, (v.strip() for v in values), strict=True)), platforms)
        if issues:
            problems.append(f"line {number}: " + "; ".join(issues))
            continue
        rows.append(row)
    if not rows and not problems:
        problems.append("the plan has a header but no launches: add one line per kind of planned launch")
    frame = pd.DataFrame(rows)
    if len(frame) and workflow_types:
        frame["hint"] = [
            "" if t in workflow_types else f"no launches of {t} in the history{_suggest(t, workflow_types)}"
            for t in frame["workflow_type"]
        ]
    return Plan(frame, problems)


@dataclass
class PlanEstimate:
    lines: pd.DataFrame  # one row per plan line: per-launch and line totals, or why it was not estimated
    by_month: pd.DataFrame
    by_consumer: pd.DataFrame
    total: pd.DataFrame
    not_estimated: int  # planned launches without enough history (left out of the totals)


def _interval(samples: np.ndarray, probabilities) -> np.ndarray:
    return np.quantile(samples, probabilities, axis=-1)


def plan_totals(estimator: Estimator, plan: Plan, draws: int = DRAWS, seed: int = 0) -> PlanEstimate:
    """Per-line estimates and totals (median, 80% interval, expected failure cost) per month, consumer and overall."""
    rows = plan.rows.reset_index(drop=True)
    per_launch = estimator.estimate_many(rows)
    sums = estimator.sample_totals(rows, rows["count"].to_numpy(), draws, np.random.default_rng(seed))
    p = estimator.settings.probabilities
    ok = per_launch["enough_history"].to_numpy()
    lines = rows.drop(columns=[c for c in ("hint",) if c in rows]).copy()
    for name in ("cost_low", "cost_median", "cost_high", "hours_median", "expected_failure_cost"):
        lines[f"{name}_per_launch"] = per_launch[name]
    low, median, high = _interval(sums, p) if len(rows) else (np.empty(0),) * 3
    lines["total_cost_low"], lines["total_cost_median"], lines["total_cost_high"] = low, median, high
    lines["total_expected_failure_cost"] = per_launch["expected_failure_cost"].to_numpy() * rows["count"].to_numpy()
    hints = rows["hint"] if "hint" in rows else pd.Series("", index=rows.index)
    lines["note"] = [
        m + (f"; {h}" if h else "") if m else n for m, n, h in zip(per_launch["message"], per_launch["notes"], hints, strict=True)
    ]
    lines["month"] = lines["month"].dt.date

    def totals(by: list[str]) -> pd.DataFrame:
        out = []
        keyed = lines.assign(_all="all launches")
        for key, part in keyed.groupby(by or ["_all"], sort=True):
            positions = part.index.to_numpy()
            good = positions[ok[positions]]
            total = sums[good].sum(axis=0) if len(good) else np.zeros(draws)
            lo, med, hi = _interval(total, p)
            values = dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True)) if by else {}
            out.append(
                {
                    **values,
                    "launches": int(part["count"].sum()),
                    "estimated_launches": int(part.loc[good, "count"].sum()),
                    "cost_median": med,
                    "cost_low": lo,
                    "cost_high": hi,
                    "expected_failure_cost": float(np.nansum(part.loc[good, "total_expected_failure_cost"])),
                }
            )
        return pd.DataFrame(out)

    return PlanEstimate(
        lines=lines,
        by_month=totals(["month"]),
        by_consumer=totals(["consumer"]),
        total=totals([]),
        not_estimated=int(rows.loc[~ok, "count"].sum()) if len(rows) else 0,
    )


def totals_csv(result: PlanEstimate, currency: str = "USD") -> str:
    """One CSV with the totals per month, per consumer and overall (what finance downloads)."""
    parts = [
        result.by_month.assign(level="month", consumer=None),
        result.by_consumer.assign(level="consumer", month=None),
        result.total.assign(level="total", month=None, consumer=None),
    ]
    table = pd.concat(parts, ignore_index=True)
    table["currency"] = currency
    columns = [
        "level",
        "month",
        "consumer",
        "launches",
        "estimated_launches",
        "cost_median",
        "cost_low",
        "cost_high",
        "expected_failure_cost",
        "currency",
    ]
    return table[columns].round(2).to_csv(index=False)
