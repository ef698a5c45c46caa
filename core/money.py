"""Exact money for statements: amounts as Fractions until they are cents, cents as ints, one rounding rule.

Warehouse amounts are DECIMAL(18,6) and arrive as ``Decimal``; shares of them (a third of an FSx bill)
are not decimals, so arithmetic is done on ``Fraction`` and nothing is lost before the one rounding
to the cent. Two rules, both deterministic (same input, same cents, on every machine):

- ``to_cents``: half to even (banker's rounding), like ``decimal.ROUND_HALF_EVEN``.
- ``split_cents``: a whole number of cents shared by weights with the largest-remainder method:
  everyone gets the floor of their exact share, and the cents left over go one each to the largest
  remainders, ties broken by name. The shares add up to the total exactly, each is within one cent
  of its exact share, and none has the opposite sign of the total.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from decimal import Decimal
from fractions import Fraction

Amount = Fraction | Decimal | int
CENT = Decimal("0.01")


def exact(value: Amount | None) -> Fraction:
    """Any amount as an exact Fraction (None is zero)."""
    if value is None:
        return Fraction(0)
    return value if isinstance(value, Fraction) else Fraction(value)


def to_cents(value: Amount | None) -> int:
    """``value`` (dollars) in whole cents, half to even."""
    return round(exact(value) * 100)


def as_money(cents: int) -> Decimal:
    """Whole cents as a Decimal with two places (1234 -> Decimal('12.34'))."""
    return (Decimal(cents) / 100).quantize(CENT)


def _order(key: Hashable) -> tuple:
    # None (unallocated) sorts last; everything else by its text, so ties break the same way everywhere.
    return (key is None, str(key))


def split_cents(total: int, weights: Mapping[Hashable, Amount]) -> dict[Hashable, int] | None:
    """Share ``total`` cents by non-negative ``weights``; None when every weight is zero.

    Largest remainder (Hamilton): floors first, then one cent each to the largest remainders, ties by key.
    """
    clean = {k: exact(w) for k, w in weights.items()}
    if any(w < 0 for w in clean.values()):
        raise ValueError("split weights must not be negative")
    whole = sum(clean.values(), Fraction(0))
    if whole == 0:
        return None
    sign = -1 if total < 0 else 1
    size = abs(total)
    shares: dict[Hashable, int] = {}
    remainders: list[tuple[Fraction, tuple, Hashable]] = []
    for key, weight in clean.items():
        share = size * weight / whole
        floor = share.numerator // share.denominator
        shares[key] = floor
        remainders.append((share - floor, _order(key), key))
    left = size - sum(shares.values())
    remainders.sort(key=lambda r: (-r[0], r[1]))
    for _, _, key in remainders[:left]:
        shares[key] += 1
    return {k: sign * v for k, v in shares.items()}
