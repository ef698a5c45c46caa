"""Cents: half-even rounding and the largest-remainder split that never loses or invents a cent."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.money import as_money, split_cents, to_cents


def test_half_a_cent_rounds_to_even():
    assert [to_cents(Decimal(v)) for v in ("0.125", "0.135", "-0.125", "10.004999", "139.3450")] == [12, 14, -12, 1000, 13934]
    assert as_money(13934) == Decimal("139.34") and as_money(-5) == Decimal("-0.05")


def test_a_worked_split_gives_the_leftover_cents_to_the_largest_remainders():
    # 100 cents by 1:1:1 -> 33.33 each; one cent left, ties broken by name
    assert split_cents(100, {"b": 1, "a": 1, "c": 1}) == {"a": 34, "b": 33, "c": 33}
    assert split_cents(-100, {"a": 1, "b": 1, "c": 1}) == {"a": -34, "b": -33, "c": -33}
    assert split_cents(1000, {"x": Fraction(2, 3), "y": Fraction(1, 3), "z": 0}) == {"x": 667, "y": 333, "z": 0}
    assert split_cents(5, {"a": 0, "b": 0}) is None
    with pytest.raises(ValueError):
        split_cents(5, {"a": -1, "b": 2})


weights = st.dictionaries(
    st.text("abcdef", min_size=1, max_size=3),
    st.decimals(min_value=0, max_value=10**6, places=6, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(total=st.integers(-(10**9), 10**9), weights=weights)
def test_shares_add_up_have_the_totals_sign_and_stay_within_a_cent(total, weights):
    shares = split_cents(total, weights)
    if not any(weights.values()):
        assert shares is None
        return
    assert sum(shares.values()) == total
    whole = sum(Fraction(w) for w in weights.values())
    for key, share in shares.items():
        assert share * total >= 0, "a share never has the opposite sign of what is split"
        assert abs(share - Fraction(total) * Fraction(weights[key]) / whole) < 1
        if weights[key] == 0:
            assert share == 0
    # the same input gives the same cents, whatever order the weights come in
    assert split_cents(total, dict(reversed(list(weights.items())))) == shares
