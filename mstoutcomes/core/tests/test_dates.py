"""Ages in completed years, months added with clamping, and today's date in the service's zone."""

import datetime as dt

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from mstoutcomes.core.dates import add_months, age_on, today

D = dt.date


def test_a_young_person_is_a_year_older_on_their_birthday():
    assert age_on(D(2010, 5, 17), D(2024, 5, 17)) == 14


def test_a_young_person_is_not_yet_a_year_older_the_day_before_their_birthday():
    assert age_on(D(2010, 5, 17), D(2024, 5, 16)) == 13


def test_age_on_the_day_of_birth_is_zero():
    assert age_on(D(2010, 5, 17), D(2010, 5, 17)) == 0


def test_a_29_february_birthday_ages_on_1_march_in_a_common_year():
    born = D(2008, 2, 29)
    assert age_on(born, D(2023, 2, 28)) == 14
    assert age_on(born, D(2023, 3, 1)) == 15


def test_a_29_february_birthday_ages_on_29_february_in_a_leap_year():
    born = D(2008, 2, 29)
    assert age_on(born, D(2024, 2, 28)) == 15
    assert age_on(born, D(2024, 2, 29)) == 16


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (D(2023, 1, 31), 1, D(2023, 2, 28)),
        (D(2024, 1, 31), 1, D(2024, 2, 29)),
        (D(2024, 3, 31), 1, D(2024, 4, 30)),
        (D(2024, 1, 15), 4, D(2024, 5, 15)),
        (D(2024, 10, 31), 4, D(2025, 2, 28)),
        (D(2024, 11, 30), 1, D(2024, 12, 30)),
        (D(2024, 12, 31), 1, D(2025, 1, 31)),
        (D(2024, 3, 31), -1, D(2024, 2, 29)),
        (D(2024, 1, 31), -2, D(2023, 11, 30)),
        (D(2024, 2, 29), 12, D(2025, 2, 28)),
        (D(2024, 6, 10), 0, D(2024, 6, 10)),
    ],
)
def test_add_months_keeps_the_day_and_clamps_to_the_end_of_short_months(start, months, expected):
    assert add_months(start, months) == expected


@given(
    st.dates(min_value=D(1990, 1, 1), max_value=D(2100, 12, 31)),
    st.integers(min_value=-240, max_value=240),
)
def test_add_months_lands_in_the_right_month_never_after_the_same_day(start, months):
    result = add_months(start, months)
    assert result.year * 12 + result.month == start.year * 12 + start.month + months
    assert result.day <= start.day
    assert result.day == start.day or (result + dt.timedelta(days=1)).day == 1


@given(
    st.dates(min_value=D(1990, 1, 1), max_value=D(2030, 12, 31)),
    st.dates(min_value=D(1990, 1, 1), max_value=D(2060, 12, 31)),
    st.dates(min_value=D(1990, 1, 1), max_value=D(2060, 12, 31)),
)
def test_age_never_goes_down_as_time_passes(born, first, second):
    earlier, later = sorted((max(first, born), max(second, born)))
    assert age_on(born, earlier) <= age_on(born, later)


@given(st.dates(min_value=D(1990, 1, 1), max_value=D(2030, 12, 31)))
def test_age_rises_by_one_exactly_on_each_anniversary(born):
    for years in (1, 11, 17):
        anniversary = add_months(born, 12 * years)
        if (born.month, born.day) == (2, 29) and anniversary.day == 28:
            anniversary += dt.timedelta(days=1)  # common year: the birthday is taken as 1 March
        assert age_on(born, anniversary) == years
        assert age_on(born, anniversary - dt.timedelta(days=1)) == years - 1


def test_today_is_the_date_in_london_not_utc():
    # 23:30 UTC on 30 June is 00:30 on 1 July in British Summer Time.
    with time_machine.travel(dt.datetime(2024, 6, 30, 23, 30, tzinfo=dt.UTC), tick=False):
        assert today() == D(2024, 7, 1)
    with time_machine.travel(dt.datetime(2024, 12, 31, 23, 30, tzinfo=dt.UTC), tick=False):
        assert today() == D(2024, 12, 31)
