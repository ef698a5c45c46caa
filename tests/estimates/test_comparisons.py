"""Like-for-like comparisons (estimates.comparisons): hand-worked size-adjusted cases, the bootstrap, the rules, the sentence."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from core.errors import ConfigError
from core.settings import ComparisonSettings
from estimates import comparisons as c

BY = ("compute_platform", "purchase_option")


def launches(side: str, sizes_and_costs: list[tuple[float, float, int]], workflow_type: str = "nextflow-sarek") -> pd.DataFrame:
    """``count`` launches of ``side`` ("Batch Spot") at each (input GB, cost) given, hours = cost / 10."""
    platform, option = side.split(" ")
    rows = [
        {
            "workflow_type": workflow_type,
            "compute_platform": platform,
            "purchase_option": option,
            "instance_type": "r6i.4xlarge",
            "input_size_gb": gb,
            "sample_count": 1,
            "total_cost": Decimal(str(cost)),
            "total_hours": cost / 10,
        }
        for gb, cost, count in sizes_and_costs
        for _ in range(count)
    ]
    return pd.DataFrame(rows)


# Batch Spot ran mostly small inputs, EKS On-Demand mostly large ones: as the launches fell, Batch Spot looks
# 72% cheaper; size for size it is 35% cheaper (small: 10 vs 20, large: 100 vs 150, pooled mix 40/40).
HAND = pd.concat(
    [
        launches("Batch Spot", [(20, 10, 30), (150, 100, 10)]),
        launches("EKS On-Demand", [(20, 20, 10), (150, 150, 30)]),
    ],
    ignore_index=True,
)


def test_the_size_adjusted_difference_is_the_hand_worked_one():
    result = c.compare(HAND, BY, "Batch Spot", "EKS On-Demand")
    # Common mix: band 10–30 GB holds 30 + 10 launches, band 100–300 GB 10 + 30: half and half.
    adjusted_a = Fraction(1, 2) * 10 + Fraction(1, 2) * 100  # 55
    adjusted_b = Fraction(1, 2) * 20 + Fraction(1, 2) * 150  # 85
    assert result.adjusted_a == pytest.approx(float(adjusted_a), abs=1e-9)
    assert result.adjusted_b == pytest.approx(float(adjusted_b), abs=1e-9)
    assert result.difference == pytest.approx(float(adjusted_a / adjusted_b - 1), abs=1e-12)  # -6/17: 35% less
    as_fell = Fraction(30 * 10 + 10 * 100, 40) / Fraction(10 * 20 + 30 * 150, 40) - 1  # 32.5 / 117.5 - 1: 72% less
    assert result.raw_difference == pytest.approx(float(as_fell), abs=1e-12)
    assert (result.launches_a, result.launches_b) == (40, 40)
    # No spread within a band: every resample is the same launches' mean, so the interval is the point.
    assert result.low == pytest.approx(result.difference, abs=1e-12) and result.high == pytest.approx(result.difference)
    assert result.sentence() == (
        "For nextflow-sarek at matched input sizes (10–300 GB), Batch Spot costs 35% less than EKS On-Demand "
        "(90% interval 35-35%; 40 and 40 launches)"
    )


def test_within_one_band_the_difference_is_that_bands():
    large = c.band_labels().index("100–300 GB")
    result = c.compare(HAND, BY, "Batch Spot", "EKS On-Demand", band=large, min_launches=10)
    assert result.difference == pytest.approx(100 / 150 - 1, abs=1e-12)
    assert (result.launches_a, result.launches_b) == (10, 30)
    assert result.size == "100–300 GB"
    assert not c.compare(HAND, BY, "Batch Spot", "EKS On-Demand", band=large, min_launches=20).enough  # 10 < 20


def test_unequal_weights_and_a_band_only_one_side_ran_in():
    rows = pd.concat(
        [
            launches("Batch Spot", [(5, 4, 10), (50, 30, 25), (500, 200, 5)]),
            launches("EKS Spot", [(50, 40, 15), (500, 300, 15), (5000, 900, 40)]),  # nothing under 10 GB
        ],
        ignore_index=True,
    )
    result = c.compare(rows, BY, "Batch Spot", "EKS Spot", "cost")
    # Matched: 30–100 GB (25 + 15 launches) and 300–1,000 GB (5 + 15); weights 40/60 and 20/60.
    w_mid, w_large = Fraction(40, 60), Fraction(20, 60)
    a = w_mid * 30 + w_large * 200
    b = w_mid * 40 + w_large * 300
    assert result.difference == pytest.approx(float(a / b - 1), abs=1e-12)
    assert (result.launches_a, result.launches_b) == (30, 30)
    assert result.size == "matched input sizes (30–1,000 GB)"
    hours = c.compare(rows, BY, "Batch Spot", "EKS Spot", "hours")
    assert hours.difference == pytest.approx(float(a / b - 1), abs=1e-12)  # hours are cost / 10 here
    assert "takes 32% less time than EKS Spot" in hours.sentence()  # 1 - (2/3*3 + 1/3*20) / (2/3*4 + 1/3*30)


def test_inside_a_band_sizes_are_matched_along_the_size_elasticity():
    # One band (30–100 GB). Batch Spot costs $0.50 a GB at 35 and at 95 GB (elasticity 1, learnt from its spread);
    # EKS On-Demand $0.60 a GB, all at 60 GB. Moved to the pooled reference size, A / B = 0.5 / 0.6 whatever it is.
    rows = pd.concat(
        [
            launches("Batch Spot", [(35, 17.5, 10), (95, 47.5, 10)]),
            launches("EKS On-Demand", [(60, 36, 20)]),
        ],
        ignore_index=True,
    )
    result = c.compare(rows, BY, "Batch Spot", "EKS On-Demand")
    assert result.difference == pytest.approx(0.5 / 0.6 - 1, abs=1e-9)  # 17% less
    assert result.raw_difference == pytest.approx((17.5 + 47.5) / 2 / 36 - 1, abs=1e-12)  # 10% less as they fell
    reference = math.exp((10 * math.log(35) + 10 * math.log(95) + 20 * math.log(60)) / 40)
    assert result.adjusted_a == pytest.approx(0.5 * reference, rel=1e-9)
    assert result.adjusted_b == pytest.approx(0.6 * reference, rel=1e-9)


def test_the_elasticity_is_the_within_group_slope():
    x = np.log([10.0, 20.0, 40.0, 10.0, 20.0])
    y = np.log([3.0, 6.0, 12.0, 50.0, 100.0])  # slope 1 in both groups, whatever their levels
    assert c.size_elasticity(x, y, np.array([0, 0, 0, 1, 1])) == pytest.approx(1.0)
    assert c.size_elasticity(np.log([5.0, 5.0]), np.log([1.0, 2.0]), np.array([0, 0])) == 0.0


def test_a_band_needs_three_launches_a_side_to_count():
    rows = pd.concat(
        [launches("Batch Spot", [(20, 10, 25), (150, 100, 2)]), launches("EKS On-Demand", [(20, 20, 25), (150, 150, 30)])],
        ignore_index=True,
    )
    result = c.compare(rows, BY, "Batch Spot", "EKS On-Demand")
    assert (result.launches_a, result.launches_b) == (25, 25)  # the 100–300 GB band (2 launches) is left out
    assert result.difference == pytest.approx(10 / 20 - 1, abs=1e-12)
    assert result.size == "matched input sizes (10–30 GB)"


def test_under_the_minimum_a_side_there_is_no_number():
    rows = pd.concat(
        [launches("Batch Spot", [(20, 10, 19)]), launches("EKS On-Demand", [(20, 20, 40)])],
        ignore_index=True,
    )
    short = c.compare(rows, BY, "Batch Spot", "EKS On-Demand")
    assert not short.enough and short.difference is None and short.low is None
    assert short.sentence() == (
        "For nextflow-sarek at matched input sizes (10–30 GB), Batch Spot against EKS On-Demand: not enough launches "
        "(19 and 40 launches; at least 20 a side)"
    )
    one_more = pd.concat([rows, launches("Batch Spot", [(20, 10, 1)])], ignore_index=True)
    assert c.compare(one_more, BY, "Batch Spot", "EKS On-Demand").difference == pytest.approx(-0.5)
    assert not c.compare(one_more, BY, "Batch Spot", "EKS On-Demand", min_launches=21).enough  # the setting decides


def test_the_sentence_has_the_form_scientists_paste():
    got = c.Comparison(
        workflow_type="nextflow-sarek",
        measure="cost",
        a="Batch Spot",
        b="EKS On-Demand",
        launches_a=412,
        launches_b=96,
        size="100 GB",
        min_launches=20,
        adjusted_a=69.0,
        adjusted_b=100.0,
        difference=-0.31,
        low=-0.38,
        high=-0.24,
    )
    assert got.sentence() == (
        "For nextflow-sarek at 100 GB, Batch Spot costs 31% less than EKS On-Demand (90% interval 24-38%; 412 and 96 launches)"
    )
    dearer = c.Comparison(**{**got.__dict__, "difference": 0.12, "low": 0.05, "high": 0.2, "launches_a": 1412})
    assert dearer.sentence().endswith("costs 12% more than EKS On-Demand (90% interval 5-20%; 1,412 and 96 launches)")
    unsure = c.Comparison(**{**got.__dict__, "difference": -0.03, "low": -0.1, "high": 0.04})
    assert "costs 3% less than EKS On-Demand (90% interval 10% less to 4% more;" in unsure.sentence()
    same = c.Comparison(**{**got.__dict__, "difference": 0.004, "low": -0.02, "high": 0.03})
    assert "Batch Spot costs about the same as EKS On-Demand (90% interval 2% less to 3% more;" in same.sentence()


def synthetic(n: int, seed: int, ratio: float = 0.8) -> pd.DataFrame:
    """Both sides log-normal around the same size curve, side A at ``ratio`` of B's cost at every size, mixes unequal."""
    rng = np.random.default_rng(seed)

    def side(name: str, count: int, mean_log_gb: float, factor: float) -> pd.DataFrame:
        gb = np.exp(rng.normal(mean_log_gb, 0.8, count)).clip(12, 2900)
        cost = factor * (5 + 0.4 * gb) * np.exp(0.5 * rng.standard_normal(count))
        platform, option = name.split(" ")
        return pd.DataFrame(
            {
                "workflow_type": "wf",
                "compute_platform": platform,
                "purchase_option": option,
                "input_size_gb": gb,
                "total_cost": [Decimal(f"{v:.6f}") for v in cost],
                "total_hours": cost / 3,
            }
        )

    return pd.concat([side("Batch Spot", n, math.log(60), ratio), side("EKS On-Demand", n, math.log(300), 1.0)])


def test_the_interval_holds_the_true_difference_and_narrows_with_more_launches():
    # Size for size, A costs 0.8 of B (noise has the same distribution on both sides): the truth is -20% at any mix.
    small = c.compare(synthetic(150, seed=1), BY, "Batch Spot", "EKS On-Demand")
    large = c.compare(synthetic(6000, seed=2), BY, "Batch Spot", "EKS On-Demand")
    for result in (small, large):
        assert result.low < -0.2 < result.high
    assert (large.high - large.low) < (small.high - small.low) / 3  # 40x the launches: about 1/6 the width
    assert small.raw_difference < -0.5  # as the launches fell, A looks far cheaper: it ran smaller inputs


def test_the_interval_covers_the_truth_about_nine_times_in_ten():
    hits = 0
    trials = 40
    for seed in range(trials):
        result = c.compare(synthetic(120, seed=100 + seed), BY, "Batch Spot", "EKS On-Demand", resamples=400, seed=seed)
        hits += result.low < -0.2 < result.high
    assert 0.78 <= hits / trials <= 1.0


def test_above_the_draw_cap_the_interval_keeps_the_full_samples_spread():
    # One band, 20,000 launches a side (over MAX_DRAWS): compare with the delta method's 90% half-width.
    rng = np.random.default_rng(7)
    n = 20_000
    a = 8 * np.exp(0.6 * rng.standard_normal(n))
    b = 10 * np.exp(0.6 * rng.standard_normal(n))
    rows = pd.DataFrame(
        {
            "workflow_type": "wf",
            "compute_platform": ["Batch"] * n + ["EKS"] * n,
            "purchase_option": ["Spot"] * n + ["On-Demand"] * n,
            "input_size_gb": 50.0,
            "total_cost": list(a) + list(b),
            "total_hours": 1.0,
        }
    )
    result = c.compare(rows, BY, "Batch Spot", "EKS On-Demand")
    ratio = a.mean() / b.mean()
    se = ratio * math.sqrt(a.var() / n / a.mean() ** 2 + b.var() / n / b.mean() ** 2)
    half_width = (result.high - result.low) / 2
    assert half_width == pytest.approx(1.645 * se, rel=0.15)
    assert result.difference == pytest.approx(ratio - 1, abs=1e-12)


def test_the_same_seed_gives_the_same_interval():
    rows = synthetic(200, seed=5)
    first = c.compare(rows, BY, "Batch Spot", "EKS On-Demand")
    assert c.compare(rows, BY, "Batch Spot", "EKS On-Demand") == first
    assert c.compare(rows, BY, "Batch Spot", "EKS On-Demand", seed=99).low != first.low


def test_every_side_against_one():
    rows = pd.concat([HAND, launches("EC2 Spot", [(20, 5, 4)])], ignore_index=True)
    table = c.against(rows, BY, "EKS On-Demand")
    assert list(table["side"]) == ["Batch Spot", "EC2 Spot"]  # most launches first
    assert table.loc[0, "difference"] == pytest.approx(-6 / 17, abs=1e-12)
    assert math.isnan(table.loc[1, "difference"]) and "not enough launches" in table.loc[1, "sentence"]
    assert list(table["launches"]) == [40, 4]


def test_bands_and_their_names():
    assert c.band_labels((10, 100)) == ["under 10 GB", "10–100 GB", "100 GB and over"]
    assert list(c.band_index([9.99, 10, 99, 100, 5000], (10, 100))) == [0, 1, 1, 2, 2]
    assert c.band_labels()[-2:] == ["1,000–3,000 GB", "3,000 GB and over"]


def test_the_settings_say_what_is_wrong():
    assert ComparisonSettings(size_bands_gb=[5, 50]).size_bands_gb == (5.0, 50.0)
    with pytest.raises(ConfigError, match=r"comparisons.size_bands_gb must be increasing .* not \[30, 10\]"):
        ComparisonSettings(size_bands_gb=[30, 10])
    with pytest.raises(ConfigError, match="comparisons.min_launches must be a whole number of at least 1, not 0"):
        ComparisonSettings(min_launches=0)
    with pytest.raises(ValueError, match="measure must be one of cost, hours, not 'dollars'"):
        c.compare(HAND, BY, "Batch Spot", "EKS On-Demand", "dollars")


def test_a_large_baseline_compared_with_several_sides_gives_each_the_interval_it_gets_alone():
    # Over MAX_DRAWS launches a band-side's resampled means come from their normal limit; against several sides at
    # once the baseline's columns are drawn jointly: each side's interval must be the one it gets compared alone.
    rng = np.random.default_rng(3)
    n = 3_000
    sides = {"EKS On-Demand": 10.0, "Batch Spot": 8.0, "EC2 Spot": 6.5}
    rows = pd.DataFrame(
        {
            "workflow_type": "wf",
            "compute_platform": [name.split(" ")[0] for name in sides for _ in range(n)],
            "purchase_option": [name.split(" ")[1] for name in sides for _ in range(n)],
            "input_size_gb": np.exp(rng.uniform(np.log(20), np.log(80), 3 * n)),
            "total_cost": np.concatenate([level * np.exp(0.5 * rng.standard_normal(n)) for level in sides.values()]),
            "total_hours": 1.0,
        }
    )
    table = c.against(rows, BY, "EKS On-Demand").set_index("side")
    for side in ("Batch Spot", "EC2 Spot"):
        alone = c.compare(rows, BY, side, "EKS On-Demand")
        assert table.loc[side, "difference"] == pytest.approx(alone.difference, abs=1e-12)
        width = table.loc[side, "interval_high"] - table.loc[side, "interval_low"]
        assert width == pytest.approx(alone.high - alone.low, rel=0.15)
        assert table.loc[side, "interval_low"] < sides[side] / 10 - 1 < table.loc[side, "interval_high"]
