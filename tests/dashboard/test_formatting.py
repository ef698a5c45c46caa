"""Display formatting: money to the cent (half to even), changes, hours."""

from decimal import Decimal

from dashboard import formatting


def test_money_rounds_half_to_even_and_groups_thousands():
    assert formatting.money(Decimal("1234.565")) == "$1,234.56"
    assert formatting.money(Decimal("1234.575")) == "$1,234.58"
    assert formatting.money(Decimal("-3.5")) == "-$3.50"
    assert formatting.money(Decimal("2"), "EUR") == "€2.00"
    assert formatting.money(Decimal("2"), "CHF") == "2.00 CHF"
    assert formatting.money(None) == "—"


def test_change_is_absolute_and_relative():
    assert formatting.change(Decimal("110"), Decimal("100")) == "+$10.00 (+10.0%)"
    assert formatting.change(Decimal("90"), Decimal("100")) == "-$10.00 (-10.0%)"
    assert formatting.change(5, 0, "count") == "+5"
    assert formatting.change(2.5, 2.0, "hours") == "+0.50 h (+25.0%)"
    assert formatting.change(None, Decimal("1")) is None


def test_hours_counts_percent():
    assert formatting.hours(6.1) == "6.10 h"
    assert formatting.count(12345) == "12,345"
    assert formatting.percent(0.1234) == "12.3%"
    assert formatting.hours(float("nan")) == "—"
