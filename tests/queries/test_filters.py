"""Filters: the period and the lists every page applies; the previous period of equal length."""

from datetime import date

import pytest

from queries import FilterOptions, Filters, QueryError


def test_previous_period_has_equal_length_and_ends_the_day_before():
    current = Filters(date(2025, 2, 1), date(2025, 3, 31), consumers=("a",), statuses=("FAILED",))
    previous = current.previous_period()
    assert current.days == 59
    assert previous.end == date(2025, 1, 31)
    assert previous.start == date(2024, 12, 4)
    assert previous.days == 59
    assert previous.consumers == ("a",) and previous.statuses == ("FAILED",)


def test_a_one_day_period_is_compared_with_the_day_before():
    previous = Filters(date(2025, 3, 1), date(2025, 3, 1)).previous_period()
    assert (previous.start, previous.end) == (date(2025, 2, 28), date(2025, 2, 28))


def test_a_period_that_ends_before_it_starts_is_refused():
    with pytest.raises(QueryError, match="pick an end date"):
        Filters(date(2025, 3, 2), date(2025, 3, 1))


def test_equal_selections_are_equal_filters_whatever_the_order():
    a = Filters(date(2025, 1, 1), date(2025, 1, 31), consumers=["b", "a", "a"])
    b = Filters(date(2025, 1, 1), date(2025, 1, 31), consumers=("a", "b"))
    assert a == b and hash(a) == hash(b)
    assert a.consumers == ("a", "b")


def test_params_are_the_names_launch_scope_binds():
    params = Filters(date(2025, 1, 1), date(2025, 1, 31), platforms=("EKS",)).params()
    assert params == {
        "start": date(2025, 1, 1),
        "end": date(2025, 1, 31),
        "consumers": [],
        "workflow_types": [],
        "platforms": ["EKS"],
        "statuses": [],
        # the reader's: every consumer unless the dashboard binds the signed-in user's
        "all_consumers": True,
        "allowed_consumers": [],
        "admin": True,
    }


def test_an_empty_warehouse_offers_today_only():
    options = FilterOptions()
    assert options.is_empty
    everything = options.all_time()
    assert everything.start == everything.end == date.today()
