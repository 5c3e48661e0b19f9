"""The research dates a trial lends the measures schedules, through a published interface.

Measures sit below the trial and never import it. A trial (or any study) subscribes a provider
at start-up; given many young people, the provider answers in one query with each one's research
anchors: the consent date, the randomisation date and the dates data collection stopped. The
schedules then anchor the trial's timepoints on those dates (``consent``, ``randomisation``) and
stop research timepoints at the first stop, without knowing what a trial is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

# The anchors only a study provides; schedules anchored on them alone are research schedules.
RESEARCH_ANCHORS = frozenset({"consent", "randomisation"})


@dataclass(frozen=True)
class Stop:
    """A day research data collection stopped for a young person, and why (for the audit)."""

    on: dt.date
    reason: str = ""


@dataclass(frozen=True)
class ResearchAnchors:
    """One young person's research dates: what the study schedule hangs on."""

    in_trial: bool = False
    consented_on: dt.date | None = None
    randomised_on: dt.date | None = None
    stops: tuple[Stop, ...] = ()

    @property
    def data_stopped_on(self) -> dt.date | None:
        """Return the first day research collection stopped, or None."""
        return min((s.on for s in self.stops), default=None)

    @property
    def consent_anchor(self) -> dt.date | None:
        """Return the date baseline is anchored on: consent, else randomisation.

        A participant randomised with no consent on record (data imported from before consent
        was recorded here) keeps a baseline, anchored on the randomisation date.
        """
        return self.consented_on or self.randomised_on


NOT_IN_TRIAL = ResearchAnchors()

# person_ids: a collection of primary keys or a queryset of them (used as a subquery).
Provider = Callable[[Collection[int] | Any], dict[int, ResearchAnchors]]

_providers: list[Provider] = []


def subscribe_research_anchors(provider: Provider) -> None:
    """Register a provider of research anchors (idempotent)."""
    if provider not in _providers:
        _providers.append(provider)


def research_anchors(person_ids: Collection[int] | Any) -> dict[int, ResearchAnchors]:
    """Return the research anchors of the young people any provider knows (one query each)."""
    found: dict[int, ResearchAnchors] = {}
    for provider in _providers:
        for person_id, anchors in provider(person_ids).items():
            found.setdefault(person_id, anchors)
    return found


def anchors_for_person(person_id: int) -> ResearchAnchors:
    """Return one young person's research anchors (NOT_IN_TRIAL when no provider knows them)."""
    return research_anchors([person_id]).get(person_id, NOT_IN_TRIAL)


def anchor_dates(
    *,
    referred_on: dt.date | None,
    episode_start: dt.date | None,
    episode_end: dt.date | None,
    research: ResearchAnchors,
) -> dict[str, dt.date | None]:
    """Return the anchor dates the schedules hang on, by anchor code."""
    return {
        "referral": referred_on,
        "episode_start": episode_start,
        "episode_end": episode_end,
        "randomisation": research.randomised_on,
        "consent": research.consent_anchor,
    }
