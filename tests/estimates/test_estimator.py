"""The estimator on generated histories: it recovers the parameters it was built from, and its ranges hold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from estimates.estimator import Estimator, LaunchSpec
from tests.estimates.histories import SPOT_FACTOR, generate_history


def _median(estimator, size, option="On-Demand", **more):
    return estimator.estimate(LaunchSpec("wf-a", "Batch", size, purchase_option=option, **more)).cost_median


def test_recovers_a_sub_linear_curve_with_a_fixed_overhead():
    def curve(gb):
        return 2.0 + 0.3 * gb**0.6

    estimator = Estimator(generate_history(4_000, seed=1, cost_curve=curve))
    for size in (8, 40, 200, 1_000):
        assert _median(estimator, size) == pytest.approx(curve(size), rel=0.06), size
    # a flat $/GB rate would have it 125x dearer at 1,000 GB than at 8 GB; the curve says about 5x
    assert _median(estimator, 1_000) / _median(estimator, 8) == pytest.approx(curve(1_000) / curve(8), rel=0.1)


def test_recovers_a_power_law_exponent_and_the_spot_discount():
    estimator = Estimator(generate_history(4_000, seed=2, cost_curve=lambda gb: 0.5 * gb**0.7))
    assert _median(estimator, 1_000) / _median(estimator, 10) == pytest.approx(100**0.7, rel=0.06)
    assert _median(estimator, 100, "Spot") / _median(estimator, 100, "On-Demand") == pytest.approx(SPOT_FACTOR, rel=0.04)


def test_recovers_a_step_when_the_input_outgrows_an_instance_size():
    def curve(gb):
        return 0.2 * gb * np.where(gb >= 300, 1.6, 1.0)  # a 60% step up at 300 GB

    estimator = Estimator(generate_history(6_000, seed=3, cost_curve=curve))
    for size in (100, 200, 260, 360, 500, 1_200):
        assert _median(estimator, size) == pytest.approx(curve(size), rel=0.08), size


def test_duration_is_learnt_separately_from_cost():
    estimator = Estimator(generate_history(3_000, seed=4, hours_curve=lambda gb: 1.0 + 0.05 * gb))
    est = estimator.estimate(LaunchSpec("wf-a", "Batch", 400))
    assert est.hours_median == pytest.approx(21.0, rel=0.06)
    assert est.hours_low < est.hours_median < est.hours_high


@pytest.mark.parametrize(
    ("label", "kwargs", "spec"),
    [
        ("log-normal noise, purchase option given", {"sigma": 0.25}, {"purchase_option": "On-Demand"}),
        # purchase option unknown: the residuals are a skewed mixture of Spot and On-Demand launches
        ("Spot/On-Demand mixture, purchase option unknown", {"sigma": 0.15, "spot_share": 0.7}, {}),
    ],
)
def test_80_percent_intervals_hold_80_percent_of_held_out_launches(label, kwargs, spec):
    train = generate_history(3_000, seed=10, **kwargs)
    held_out = generate_history(3_000, seed=11, **kwargs)
    estimator = Estimator(train)
    specs = held_out[["workflow_type", "compute_platform", "input_size_gb"]].copy()
    if spec:
        specs["purchase_option"] = held_out["purchase_option"]
    got = estimator.estimate_many(specs)
    for target, actual in (("cost", held_out["total_cost"].map(float)), ("hours", held_out["total_hours"])):
        inside = (actual.to_numpy() >= got[f"{target}_low"]) & (actual.to_numpy() <= got[f"{target}_high"])
        assert 0.75 <= inside.mean() <= 0.85, (label, target, inside.mean())


def test_a_small_group_falls_back_to_the_workflow_type_on_every_platform():
    history = pd.concat([generate_history(300, seed=5), generate_history(12, seed=6, platform="EKS")], ignore_index=True)
    est = Estimator(history).estimate(LaunchSpec("wf-a", "EKS", 100))
    assert est.enough_history
    assert est.basis == "wf-a on every platform"
    assert est.launches == 312
    assert "fewer than 30 completed launches of wf-a on EKS (12)" in est.notes


def test_not_enough_history_gives_no_number_and_says_how_many_launches():
    est = Estimator(generate_history(20, seed=7)).estimate(LaunchSpec("wf-a", "Batch", 100))
    assert not est.enough_history
    assert est.message.startswith("not enough history (20 launches of wf-a on Batch")
    assert (est.cost_median, est.cost_low, est.hours_median, est.expected_failure_cost) == (None, None, None, None)
    unknown = Estimator(generate_history(200, seed=7)).estimate(LaunchSpec("wf-new", "Batch", 100))
    assert unknown.message.startswith("not enough history (0 launches of wf-new on Batch, 0 on every platform")


def test_an_optional_input_with_too_few_launches_is_left_out_with_a_note():
    estimator = Estimator(generate_history(400, seed=8))
    est = estimator.estimate(LaunchSpec("wf-a", "Batch", 100, instance_family="x2idn", purchase_option="Reserved"))
    assert est.enough_history
    assert "instance family x2idn: 0 launches in this group (fewer than 10); estimated without it" in est.notes
    assert "purchase option Reserved: 0 launches" in est.notes
    assert est.cost_median == pytest.approx(estimator.estimate(LaunchSpec("wf-a", "Batch", 100)).cost_median)


def test_an_input_outside_the_history_is_flagged_as_extrapolated():
    est = Estimator(generate_history(400, seed=9)).estimate(LaunchSpec("wf-a", "Batch", 20_000))
    assert "extrapolated" in est.notes


def test_the_cost_of_failures_is_shown_beside_the_estimate_not_in_it():
    clean = generate_history(3_000, seed=12)
    failing = generate_history(3_000, seed=12, failure_rate=0.2, failed_share=0.5)
    spec = LaunchSpec("wf-a", "Batch", 150, purchase_option="On-Demand")
    without, with_failures = Estimator(clean).estimate(spec), Estimator(failing).estimate(spec)
    assert without.failure_rate == 0.0 and without.expected_failure_cost is None  # no failed run to learn a share from
    # the successful-run estimate does not move when failures are common
    assert with_failures.cost_median == pytest.approx(without.cost_median, rel=0.06)
    assert with_failures.failure_rate == pytest.approx(0.2, abs=0.02)
    assert with_failures.expected_failure_cost == pytest.approx(0.2 * 0.5 * with_failures.cost_median, rel=0.15)
