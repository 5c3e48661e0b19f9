"""Forecast free places in the team and when each waiting family can start (no Django).

- A therapist's places = their caseload cap scaled by FTE (``effective_cap``).
- An open episode frees its place on its expected end; one already past its expected end is
  assumed to end within the coming week (``OVERDUE_GRACE_DAYS``), because it has not ended yet.
- Waiting families take freed places in waiting-list order; a family that starts holds its place for
  the expected episode length, then frees it again.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
from dataclasses import dataclass

OVERDUE_GRACE_DAYS = 7


def effective_cap(cap: int, fte: float) -> int:
    """Return the families a therapist can hold: the cap scaled by FTE, rounded down."""
    return math.floor(cap * fte + 1e-9)


@dataclass(frozen=True)
class TherapistLoad:
    therapist_id: int
    name: str
    cap: int  # effective cap (families)
    expected_ends: tuple[dt.date, ...]  # one per open episode

    @property
    def open_cases(self) -> int:
        return len(self.expected_ends)

    @property
    def free_now(self) -> int:
        return max(0, self.cap - self.open_cases)


@dataclass(frozen=True)
class WaitingFamily:
    key: int
    label: str
    waiting_since: dt.date


@dataclass(frozen=True)
class WaitingForecast:
    family: WaitingFamily
    position: int
    waited_days: int
    forecast_start: dt.date | None  # None: not within the horizon
    therapist_id: int | None

    @property
    def waited_weeks(self) -> int:
        return self.waited_days // 7


@dataclass(frozen=True)
class WeekForecast:
    week_start: dt.date
    free_places: int  # if nobody new started
    starts_from_waiting_list: int


@dataclass(frozen=True)
class CapacityForecast:
    as_of: dt.date
    total_places: int
    open_cases: int
    free_now: int
    weeks: tuple[WeekForecast, ...]
    waiting: tuple[WaitingForecast, ...]


def _effective_end(end: dt.date, as_of: dt.date) -> dt.date:
    return end if end >= as_of else as_of + dt.timedelta(days=OVERDUE_GRACE_DAYS)


def _still_open(load: TherapistLoad, on: dt.date, as_of: dt.date) -> int:
    return sum(1 for end in load.expected_ends if _effective_end(end, as_of) > on)


def _place_events(loads: list[TherapistLoad], as_of: dt.date) -> list[tuple[dt.date, int]]:
    """Return (date, therapist) for each place that is free now or frees later."""
    events: list[tuple[dt.date, int]] = []
    for load in loads:
        ends = sorted(_effective_end(end, as_of) for end in load.expected_ends)
        events.extend((as_of, load.therapist_id) for _ in range(load.free_now))
        # Over cap (an override): the first ends only bring the therapist back to the cap.
        over = max(0, load.open_cases - load.cap)
        events.extend((end, load.therapist_id) for end in ends[over:])
    return events


def next_place(loads: list[TherapistLoad], as_of: dt.date) -> dt.date | None:
    """Return when the next place frees up: today if a therapist has room, else the earliest
    expected end of an open episode that brings a therapist below their cap (None: no team)."""
    events = _place_events(loads, as_of)
    return min(day for day, _ in events) if events else None


def _add_days(date: dt.date, months: int) -> dt.date:
    return date + dt.timedelta(days=round(months * 30.44))


def forecast(
    *,
    loads: list[TherapistLoad],
    waiting: list[WaitingFamily],
    as_of: dt.date,
    weeks: int = 12,
    episode_months: int = 4,
) -> CapacityForecast:
    """Return places now, free places week by week, and a forecast start for each family."""
    horizon = as_of + dt.timedelta(weeks=weeks)
    heap = _place_events(loads, as_of)
    heapq.heapify(heap)
    starts: list[WaitingForecast] = []
    for position, family in enumerate(waiting, start=1):
        start, therapist = None, None
        if heap and heap[0][0] <= horizon:
            start, therapist = heapq.heappop(heap)
            heapq.heappush(heap, (_add_days(start, episode_months), therapist))
        waited = (as_of - family.waiting_since).days
        starts.append(WaitingForecast(family, position, waited, start, therapist))
    week_rows = []
    for n in range(weeks):
        week_start = as_of + dt.timedelta(weeks=n)
        week_end = week_start + dt.timedelta(days=7)
        free = sum(max(0, load.cap - _still_open(load, week_start, as_of)) for load in loads)
        begun = sum(
            1 for s in starts if s.forecast_start and week_start <= s.forecast_start < week_end
        )
        week_rows.append(WeekForecast(week_start, free, begun))
    return CapacityForecast(
        as_of=as_of,
        total_places=sum(load.cap for load in loads),
        open_cases=sum(load.open_cases for load in loads),
        free_now=sum(load.free_now for load in loads),
        weeks=tuple(week_rows),
        waiting=tuple(starts),
    )
