"""Capacity forecasts with frozen time: places now, 12 weeks ahead, waiting families' starts."""

import datetime as dt

import time_machine

from mstoutcomes.core.dates import today
from mstoutcomes.referrals.forecast import (
    TherapistLoad,
    WaitingFamily,
    effective_cap,
    forecast,
)


def test_cap_is_scaled_by_fte_and_rounded_down():
    assert effective_cap(5, 1.0) == 5
    assert effective_cap(5, 0.8) == 4
    assert effective_cap(6, 0.5) == 3
    assert effective_cap(4, 0.2) == 0


@time_machine.travel(dt.datetime(2026, 3, 2, 9, 0), tick=False)
def test_waiting_families_take_free_places_then_places_as_episodes_end():
    now = today()
    loads = [
        TherapistLoad(1, "Hannah", 5, tuple(now + dt.timedelta(days=d) for d in (3, 10, 20, 60))),
        TherapistLoad(2, "Daniel", 4, tuple(now + dt.timedelta(days=d) for d in (5, 30, 40, 50))),
    ]
    waiting = [
        WaitingFamily(10, "A", now - dt.timedelta(days=21)),
        WaitingFamily(11, "B", now - dt.timedelta(days=7)),
        WaitingFamily(12, "C", now),
    ]

    result = forecast(loads=loads, waiting=waiting, as_of=now)

    assert (result.total_places, result.open_cases, result.free_now) == (9, 8, 1)
    starts = [
        (w.family.label, w.forecast_start, w.therapist_id, w.waited_weeks) for w in result.waiting
    ]
    assert starts == [
        ("A", dt.date(2026, 3, 2), 1, 3),
        ("B", dt.date(2026, 3, 5), 1, 1),
        ("C", dt.date(2026, 3, 7), 2, 0),
    ]
    assert len(result.weeks) == 12
    assert [w.free_places for w in result.weeks[:3]] == [1, 3, 4]
    assert [w.starts_from_waiting_list for w in result.weeks[:2]] == [3, 0]


@time_machine.travel(dt.datetime(2026, 3, 2, 9, 0), tick=False)
def test_overdue_episodes_are_assumed_to_end_within_a_week():
    now = today()
    loads = [TherapistLoad(1, "Hannah", 1, (now - dt.timedelta(days=30),))]

    result = forecast(loads=loads, waiting=[WaitingFamily(1, "A", now)], as_of=now)

    assert result.free_now == 0
    assert result.waiting[0].forecast_start == now + dt.timedelta(days=7)


@time_machine.travel(dt.datetime(2026, 3, 2, 9, 0), tick=False)
def test_a_family_beyond_twelve_weeks_has_no_forecast_start():
    now = today()
    loads = [TherapistLoad(1, "Hannah", 1, (now + dt.timedelta(weeks=20),))]

    result = forecast(loads=loads, waiting=[WaitingFamily(1, "A", now)], as_of=now)

    assert result.waiting[0].forecast_start is None
    assert all(w.free_places == 0 for w in result.weeks)


@time_machine.travel(dt.datetime(2026, 3, 2, 9, 0), tick=False)
def test_a_therapist_over_cap_frees_a_place_only_when_back_under_it():
    now = today()
    ends = (now + dt.timedelta(days=7), now + dt.timedelta(days=14))
    loads = [TherapistLoad(1, "Hannah", 1, ends)]

    result = forecast(loads=loads, waiting=[WaitingFamily(1, "A", now)], as_of=now)

    assert result.waiting[0].forecast_start == now + dt.timedelta(days=14)
