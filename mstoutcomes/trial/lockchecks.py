"""What stops a trial's database from being locked: the trial's own checks and subscribed ones.

The trial itself knows when follow-up windows close. Other apps that can hold the lock back
(data-quality queries still open, say) subscribe a blocker here in their ``AppConfig.ready()``:
``subscribe_lock_blocker(fn)`` where ``fn(trial)`` returns the reasons (plain sentences) that
block locking, or an empty list. The lock service asks every blocker before it locks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mstoutcomes.trial.models import Trial

LockBlocker = Callable[["Trial"], list[str]]

_blockers: list[LockBlocker] = []


def subscribe_lock_blocker(blocker: LockBlocker) -> None:
    """Register a blocker (idempotent: one registered twice is asked once)."""
    if blocker not in _blockers:
        _blockers.append(blocker)


def unsubscribe_lock_blocker(blocker: LockBlocker) -> None:
    """Remove a blocker (tests register their own and remove it afterwards)."""
    if blocker in _blockers:
        _blockers.remove(blocker)


@dataclass(frozen=True)
class OpenWindows:
    """Randomised participants whose last follow-up window has not closed yet."""

    participants: int
    last_closes_on: dt.date | None  # the latest of their last windows' closing dates

    def reason(self) -> str:
        if not self.participants or self.last_closes_on is None:
            return ""
        people = "participant" if self.participants == 1 else "participants"
        return (
            f"Follow-up windows are still open for {self.participants} {people}: the last "
            f"closes on {self.last_closes_on:%-d %B %Y}."
        )


def open_windows(trial: Trial, *, on: dt.date) -> OpenWindows:
    """Count the randomised participants whose last follow-up window is still open on a day.

    Someone who withdrew from further data collection (or from use of their data) needs no more
    follow-up, so their windows do not hold the lock back.
    """
    from django.utils import timezone

    from mstoutcomes.trial.models import Allocation
    from mstoutcomes.trial.selectors import data_collection_stops, follow_up_points

    points = follow_up_points()
    if not points:
        return OpenWindows(0, None)
    rows = list(
        Allocation.objects.unscoped()
        .filter(trial=trial)
        .values_list("participant__young_person_id", "allocated_at")
    )
    stops = data_collection_stops([person for person, _ in rows])
    waiting = 0
    last: dt.date | None = None
    for person, allocated_at in rows:
        if person in stops:
            continue
        randomised_on = timezone.localdate(allocated_at)
        closes = max(point.window(randomised_on)[1] for point in points)
        if closes >= on:
            waiting += 1
            last = closes if last is None else max(last, closes)
    return OpenWindows(waiting, last)


def lock_blockers(trial: Trial, *, on: dt.date) -> list[str]:
    """Return every reason the trial cannot be locked on a day (empty: it can be)."""
    reasons = []
    windows = open_windows(trial, on=on).reason()
    if windows:
        reasons.append(windows)
    for blocker in _blockers:
        reasons.extend(reason for reason in blocker(trial) if reason)
    return reasons
