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
