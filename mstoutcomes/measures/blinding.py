"""What a user blinded to allocation may see of a young person's measures.

At a trial site, anything that exists only for families in MST reveals the arm: the MST service's
schedule (anchored on the episode), measures therapists collect, goal and adherence instruments,
episode and goal events on the timeline. A blinded user (without can_view_treatment) sees only
schedules anchored on arm-neutral dates (consent, randomisation, referral) and what was recorded
at them; a page or entry URL for anything else answers a blinded user the same way (404) whatever
the arm, and "entered by" names a role, not a person.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mstoutcomes.measures import registry
from mstoutcomes.measures.anchors import RESEARCH_ANCHORS

ARM_NEUTRAL_ANCHORS = frozenset({"randomisation", "consent", "referral"})
TREATMENT_INSTRUMENTS = frozenset({"gbo", "tam-r", "mst-discharge"})


def research_schedules() -> set[str]:
    """Return the codes of the trial's outcome schedules: every timepoint on a research anchor."""
    return {
        code
        for code, schedule in registry.schedules().items()
        if all(t.anchor in RESEARCH_ANCHORS for t in schedule.timepoints)
    }


def research_pairs() -> set[tuple[str, str]]:
    """Return the (instrument, respondent) pairs the trial's outcome schedules collect."""
    schedules = registry.schedules()
    return {
        (task.instrument, task.respondent)
        for code in research_schedules()
        for timepoint in schedules[code].timepoints
        for task in timepoint.tasks
    }


def blinded_may_enter(instrument: str, respondent: str) -> bool:
    """Return whether a blinded user may open entry for an instrument: trial outcomes only."""
    return instrument not in TREATMENT_INSTRUMENTS and (instrument, respondent) in research_pairs()


def is_treatment_schedule(schedule: str) -> bool:
    """Return whether a schedule exists only for families in treatment (not arm-neutral)."""
    return schedule not in arm_neutral_schedules()


def role_phrase(role_label: str) -> str:
    """Return "a research worker", "an MST therapist" from a role's label."""
    words = role_label.split(" (")[0].split(" / ")[0]
    if not words[:2].isupper():
        words = words[0].lower() + words[1:]
    article = "an" if words[0].lower() in "aeiou" or words[:3] == "MST" else "a"
    return f"{article} {words}"


def arm_neutral_schedules() -> set[str]:
    """Return the codes of schedules whose every timepoint hangs on an arm-neutral date."""
    return {
        code
        for code, schedule in registry.schedules().items()
        if all(t.anchor in ARM_NEUTRAL_ANCHORS for t in schedule.timepoints)
    }


def blind_rows(rows: Iterable[Any]) -> list[Any]:
    """Keep schedule or worklist rows (with .task) that belong to arm-neutral schedules."""
    neutral = arm_neutral_schedules()
    return [
        row
        for row in rows
        if row.task.schedule in neutral and row.task.instrument not in TREATMENT_INSTRUMENTS
    ]


def blind_assessments(assessments: Iterable[Any]) -> list[Any]:
    """Keep assessments recorded at arm-neutral schedules' timepoints."""
    neutral = arm_neutral_schedules()
    return [
        a
        for a in assessments
        if a.schedule in neutral and a.instrument not in TREATMENT_INSTRUMENTS
    ]


def blind_progress(progress: dict[str, Any]) -> dict[str, Any]:
    """Return a person's progress-page context with everything arm-revealing removed."""
    return {
        **progress,
        "schedule": blind_rows(progress["schedule"]),
        "assessments": blind_assessments(progress["assessments"]),
        # Charts and the timeline mix treatment-time points in; blinded users see neither.
        "charts": [],
        "timeline": [
            e for e in progress["timeline"] if e.kind not in {"episode", "goal", "measure"}
        ],
        "blinded": True,
    }
