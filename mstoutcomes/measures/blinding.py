"""What a user blinded to allocation may see of a young person's measures.

At a trial site, anything that exists only for families in MST reveals the arm: the MST service's
schedule (anchored on the episode), measures therapists collect, goal and adherence instruments,
episode and goal events on the timeline. A blinded user (without can_view_treatment) sees only
schedules anchored on arm-neutral dates (randomisation, referral) and what was recorded at them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mstoutcomes.measures import registry

ARM_NEUTRAL_ANCHORS = frozenset({"randomisation", "referral"})
TREATMENT_INSTRUMENTS = frozenset({"gbo", "tam-r", "mst-discharge"})


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
