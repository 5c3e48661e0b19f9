"""A young person's timeline: one list of dated events that the floors above contribute to.

cases publishes the registry; each app adds its own events with ``@timeline_source`` in a module
its ``AppConfig.ready()`` imports (or that its views import): measures adds episodes, goals and
assessments (``measures.progress``), outcomes adds administrative records (``outcomes.timeline``).
Nothing here imports an app above cases.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mstoutcomes.cases.models import YoungPerson


@dataclass(frozen=True)
class Event:
    on: dt.date
    kind: str  # "episode", "measure", "goal", "school", "justice", "placement", …
    title: str
    detail: str = ""
    url: str = ""


TimelineSource = Callable[[Any, "YoungPerson"], list[Event]]
TIMELINE_SOURCES: list[TimelineSource] = []


def timeline_source(function: TimelineSource) -> TimelineSource:
    """Register a function returning a young person's events for the timeline (once)."""
    if function not in TIMELINE_SOURCES:
        TIMELINE_SOURCES.append(function)
    return function


def timeline(*, user: Any, person: YoungPerson) -> list[Event]:
    """Return every event of a young person the user may see, newest first."""
    events = [event for source in TIMELINE_SOURCES for event in source(user, person)]
    return sorted(events, key=lambda e: (e.on, e.kind), reverse=True)
