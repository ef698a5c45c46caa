"""How figures are shown: money to the cent (half to even), hours, counts, changes. Display only."""

from __future__ import annotations

import math
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}
MISSING = "—"


def cents(value: Decimal | float | int | None) -> Decimal | None:
    """``value`` rounded to the cent, half to even (banker's rounding), as a Decimal."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_EVEN)


def money(value: Decimal | float | None, currency: str = "USD") -> str:
    """``$1,234.57`` (or ``1,234.57 CHF`` for currencies without a symbol here)."""
    amount = cents(value)
    if amount is None:
        return MISSING
    sign = "-" if amount < 0 else ""
    symbol = SYMBOLS.get(currency)
    return f"{sign}{symbol}{abs(amount):,.2f}" if symbol else f"{sign}{abs(amount):,.2f} {currency}"


def hours(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    return f"{value:,.2f} h"


def count(value: int | None) -> str:
    return MISSING if value is None else f"{int(value):,}"


def percent(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    return f"{value * 100:.{digits}f}%"


def change(current, previous, kind: str = "money", currency: str = "USD") -> str | None:
    """The change from ``previous`` to ``current`` as a ``st.metric`` delta, e.g. ``+$12.00 (+5.0%)``.

    None when either side is unknown; the relative part is left out when ``previous`` is zero.
    """
    if current is None or previous is None:
        return None
    if any(isinstance(v, float) and math.isnan(v) for v in (current, previous)):
        return None
    if kind == "money":
        diff = cents(current) - cents(previous)
        text = ("+" if diff >= 0 else "-") + money(abs(diff), currency)
    elif kind == "hours":
        diff = float(current) - float(previous)
        text = f"{diff:+,.2f} h"
    else:
        diff = int(current) - int(previous)
        text = f"{diff:+,}"
    if previous:
        text += f" ({(float(current) - float(previous)) / float(previous) * 100:+.1f}%)"
    return text


def period(start: date, end: date) -> str:
    return f"{start.isoformat()} – {end.isoformat()}"


def month(value: date) -> str:
    return value.strftime("%Y-%m")


# Abbreviated figures, for a metric's narrow column: (size, suffix, decimals), smallest first.
UNITS = ((Decimal(10**3), "K", 1), (Decimal(10**6), "M", 2), (Decimal(10**9), "B", 2))
WHOLE_BELOW = {"money": Decimal(10_000), "hours": Decimal(1_000), "count": Decimal(1_000_000)}


def abbreviated(value: Decimal | float | int, whole_below: Decimal) -> str | None:
    """``679.9K`` for 679,935.12 (half to even; ``1.00M`` for 999,950), or None below ``whole_below`` (shown whole)."""
    amount = abs(Decimal(str(value)))
    if amount < whole_below:
        return None
    for size, suffix, digits in UNITS:
        scaled = (amount / size).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_EVEN)
        if scaled < 1000 or suffix == UNITS[-1][1]:
            return f"{scaled:,}{suffix}"
    return None


def figure(value, kind: str = "money", currency: str = "USD") -> tuple[str, str]:
    """(what a metric shows, the exact figure): ``("$679.9K", "$679,935.12")``; the same twice when it fits whole.

    ``kind`` is money, hours, count or percent; text is shown as given; a (low, high) tuple is a range of them.
    """
    if isinstance(value, str):  # already in words ("3 of 5", a platform's name)
        return value, value
    if isinstance(value, tuple):  # a range: (low, high)
        (low, low_exact), (high, high_exact) = (figure(v, kind, currency) for v in value)
        return f"{low} – {high}", f"{low_exact} – {high_exact}"
    exact = {"money": lambda: money(value, currency), "hours": lambda: hours(value), "count": lambda: count(value)}
    if kind == "percent":
        return percent(value), percent(value)
    if kind not in exact:
        return str(value), str(value)
    whole = exact[kind]()
    if whole == MISSING:
        return whole, whole
    amount = cents(value) if kind == "money" else Decimal(str(value))
    short = abbreviated(amount, WHOLE_BELOW[kind])
    if short is None:
        return whole, whole
    sign = "-" if amount < 0 else ""
    if kind == "money":
        symbol = SYMBOLS.get(currency)
        return (f"{sign}{symbol}{short}" if symbol else f"{sign}{short} {currency}"), whole
    return (f"{sign}{short} h" if kind == "hours" else f"{sign}{short}"), whole


def times(ratio: float | None) -> str:
    """A ratio as "4.2x" (how many times the expected)."""
    if ratio is None or (isinstance(ratio, float) and math.isnan(ratio)):
        return MISSING
    return f"{ratio:.1f}x"
