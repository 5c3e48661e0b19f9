"""The protocol order, read from the records: baseline before randomisation, treatment after it.

Two readers the trial's services and pages share:

- ``baseline_missing(participant)`` names the trial baseline tasks (timepoint ``t0`` of the trial
  schedule, read through ``measures.registry``) that have no completed assessment yet;
  ``participant_randomise`` refuses until it is empty (or a waiver is given).
- ``order_breaches(trial=, site_ids=)`` finds records already in the database that break the
  order (imported, or from before the order was enforced): MST episodes, contacts, goals or
  treatment-schedule assessments dated before randomisation, any treatment for a family allocated
  to management as usual, and any treatment for a participant not randomised. It runs a fixed
  number of queries (one for the participants, one per kind of treatment record) whatever the
  number of participants. The deviations page lists them; a data-quality rule can reuse them.

Both read the arm, so their results are for unblinded users only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Max, Min
from django.utils import timezone

if TYPE_CHECKING:
    from collections.abc import Iterable

    from mstoutcomes.trial.models import Participant, Trial

TRIAL_SCHEDULE = "trial"
BASELINE = "t0"

# Kinds of breach, with the words the deviations page uses.
BEFORE_RANDOMISATION = "before_randomisation"
MANAGEMENT_AS_USUAL = "management_as_usual"
NOT_RANDOMISED = "not_randomised"
KIND_LABELS = {
    BEFORE_RANDOMISATION: "Treatment before randomisation",
    MANAGEMENT_AS_USUAL: "MST treatment in the management-as-usual arm",
    NOT_RANDOMISED: "Treatment for a participant not randomised",
}


def baseline_tasks() -> list[tuple[str, str, str]]:
    """Return (instrument, respondent, label) for every task of the trial's baseline timepoint."""
    from mstoutcomes.measures import registry

    schedule = registry.schedules().get(TRIAL_SCHEDULE)
    if schedule is None:
        return []
    instruments = registry.instruments()
    tasks: list[tuple[str, str, str]] = []
    for timepoint in schedule.timepoints:
        if timepoint.code != BASELINE:
            continue
        for task in timepoint.tasks:
            known = instruments.get(task.instrument)
            name = known.short_name or known.name if known else task.instrument
            who = task.respondent.replace("_", " ")
            tasks.append((task.instrument, task.respondent, f"{name} ({who})"))
    return tasks


def baseline_missing(participant: Participant) -> list[str]:
    """Name the trial baseline tasks still without a completed assessment (empty: complete)."""
    from mstoutcomes.measures.models import Assessment, AssessmentStatus

    done = set(
        Assessment.objects.unscoped()
        .filter(
            young_person=participant.young_person_id,
            schedule=TRIAL_SCHEDULE,
            timepoint=BASELINE,
            status=AssessmentStatus.COMPLETED,
        )
        .values_list("instrument", "respondent")
    )
    return [label for code, who, label in baseline_tasks() if (code, who) not in done]


@dataclass(frozen=True)
class OrderBreach:
    """One participant's records of one kind that break the protocol order."""

    participant_id: int
    young_person_id: int
    study_id: str
    site_id: int
    kind: str
    on: dt.date
    detail: str

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


@dataclass(frozen=True)
class _Span:
    first: dt.date
    last: dt.date
    n: int


def _spans(rows: Iterable[dict[str, Any]]) -> dict[int, _Span]:
    return {
        row["young_person"]: _Span(row["first"], row["last"], row["n"])
        for row in rows
        if row["first"] is not None
    }


def _treatment_records(person_ids: list[int]) -> list[tuple[str, dict[int, _Span]]]:
    """(what, spans by young person) for each kind of treatment record: one query each."""
    from mstoutcomes.cases.models import Contact, Episode, IntermediateGoal, OverarchingGoal
    from mstoutcomes.measures import registry
    from mstoutcomes.measures.models import Assessment

    treatment_schedules = sorted(code for code in registry.schedules() if code != TRIAL_SCHEDULE)
    sources: list[tuple[str, Any, str, dict[str, Any]]] = [
        ("MST episode", Episode, "start_date", {}),
        ("contact", Contact, "date", {}),
        ("overarching goal", OverarchingGoal, "agreed_on", {}),
        ("weekly goal", IntermediateGoal, "week_starting", {}),
        (
            "treatment measure",
            Assessment,
            "completed_on",
            {"schedule__in": treatment_schedules, "completed_on__isnull": False},
        ),
    ]
    found = []
    for what, model, field, extra in sources:
        rows = (
            model.objects.unscoped()
            .filter(young_person__in=person_ids, **extra)
            .values("young_person")
            .annotate(first=Min(field), last=Max(field), n=Count("pk"))
            .order_by("young_person")
        )
        found.append((what, _spans(rows)))
    return found


def _day(on: dt.date) -> str:
    return f"{on.day} {on:%B %Y}"


def _plural(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def order_breaches(
    *,
    trial: Trial,
    site_ids: Iterable[int] | None = None,
    young_person_ids: Iterable[int] | None = None,
) -> list[OrderBreach]:
    """Find treatment records that break the protocol order, for a live trial's participants.

    Ordered by site, study ID and kind of record. A test-mode trial has no order to break.
    ``young_person_ids`` narrows the check to some participants (a re-check after one save).
    """
    from mstoutcomes.trial.models import Participant

    if trial.is_test_mode:
        return []
    participants = Participant.objects.unscoped().filter(trial=trial)
    if site_ids is not None:
        participants = participants.filter(site__in=list(site_ids))
    if young_person_ids is not None:
        participants = participants.filter(young_person__in=sorted(young_person_ids))
    rows = list(
        participants.values(
            "pk",
            "young_person",
            "young_person__study_id",
            "site",
            "allocation__arm",
            "allocation__allocated_at",
        ).order_by("site", "young_person__study_id", "pk")
    )
    if not rows:
        return []
    reference = trial.spec.reference_arm.code
    records = _treatment_records([row["young_person"] for row in rows])
    breaches: list[OrderBreach] = []
    for row in rows:
        allocated_at = row["allocation__allocated_at"]
        randomised_on = timezone.localdate(allocated_at) if allocated_at else None
        arm = row["allocation__arm"]
        for what, spans in records:
            span = spans.get(row["young_person"])
            if span is None:
                continue
            records_text = _plural(span.n, what)
            if randomised_on is None:
                kind = NOT_RANDOMISED
                detail = (
                    f"{records_text} recorded (first on {_day(span.first)}) but not randomised."
                )
            elif arm == reference:
                kind = MANAGEMENT_AS_USUAL
                detail = (
                    f"{records_text} recorded (first on {_day(span.first)}) although "
                    f"allocated to management as usual."
                )
            elif span.first < randomised_on:
                kind = BEFORE_RANDOMISATION
                detail = (
                    f"{what[0].upper()}{what[1:]} dated {_day(span.first)}, before "
                    f"randomisation on {_day(randomised_on)}."
                )
            else:
                continue
            breaches.append(
                OrderBreach(
                    participant_id=row["pk"],
                    young_person_id=row["young_person"],
                    study_id=row["young_person__study_id"],
                    site_id=row["site"],
                    kind=kind,
                    on=span.first,
                    detail=detail,
                )
            )
    return breaches
