"""Reads of the trial, scoped by the user."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from mstoutcomes.accounts.permissions import Perm, site_ids_with_perm
from mstoutcomes.cases.models import Episode
from mstoutcomes.trial.consort import Disposition
from mstoutcomes.trial.models import Participant, Trial, WithdrawalLevel


def trials_visible_to(*, user: Any) -> QuerySet[Trial]:
    """Return the trials at sites where the user may see trial reports."""
    site_ids = site_ids_with_perm(user, Perm.RANDOMISE) | site_ids_with_perm(
        user, Perm.VIEW_DASHBOARDS
    )
    return Trial.objects.filter(sites__in=site_ids).distinct()


def _follow_up(participant: Participant) -> tuple[dict[str, str], dict[str, str]]:
    # Seam for the measures schedule: follow-up status per timepoint comes from it once the
    # measures app records assessments against the trial's schedule. Until then: none.
    return {}, {}


def consort_dispositions(
    *, trial: Trial, cut_off: dt.date, site_id: int | None = None
) -> list[Disposition]:
    """Return one disposition per person assessed for the trial by the cut-off date."""
    participants = (
        Participant.objects.unscoped()
        .filter(trial=trial, created_at__date__lte=cut_off)
        .select_related("young_person", "allocation")
        .prefetch_related("consents", "withdrawals")
    )
    if site_id is not None:
        participants = participants.filter(site_id=site_id)
    started = set(
        Episode.objects.unscoped()
        .filter(young_person__trial_participations__trial=trial)
        .values_list("young_person_id", flat=True)
    )
    out = []
    for p in participants:
        allocation = getattr(p, "allocation", None)
        if allocation is not None and allocation.allocated_at.date() > cut_off:
            allocation = None
        withdrawals = {w.level for w in p.withdrawals.all() if w.withdrawn_on <= cut_off}
        if allocation is None:
            declined = any(c.given is False for c in p.consents.all() if c.recorded_on <= cut_off)
            reason = (
                "not_meeting_criteria"
                if p.is_eligible is False
                else "declined"
                if declined
                else "other"
                if withdrawals
                else None
            )
            out.append(Disposition(p.young_person.study_id, excluded_reason=reason))
            continue
        reference = trial.spec.reference_arm.code
        if allocation.arm == reference:
            received, why_not = True, ""
        else:
            received = p.young_person_id in started
            why_not = (
                ""
                if received
                else (
                    "Withdrew from treatment"
                    if WithdrawalLevel.TREATMENT in withdrawals
                    else "Not started"
                )
            )
        follow_up, lost = _follow_up(p)
        out.append(
            Disposition(
                p.young_person.study_id,
                arm=allocation.arm,
                received_allocated=received,
                not_received_reason=why_not,
                follow_up=follow_up,
                lost_reasons=lost,
                analysed=WithdrawalLevel.DATA_USE not in withdrawals,
                not_analysed_reason="Withdrew use of their data"
                if WithdrawalLevel.DATA_USE in withdrawals
                else "",
            )
        )
    return out


def participants_visible_to(*, user: Any, trial: Trial) -> QuerySet[Participant]:
    """Return the trial's participants whose young person the user may see."""
    return (
        Participant.objects.visible_to(user)
        .filter(trial=trial)
        .select_related("young_person", "site", "allocation")
        .order_by("-created_at")
    )


def enrolable_choices(*, user: Any, trial: Trial) -> list[tuple[str, str]]:
    """Return (study ID, label) for visible young people at the trial's sites not yet enrolled."""
    from mstoutcomes.cases.models import YoungPerson

    people = (
        YoungPerson.objects.visible_to(user)
        .filter(site__in=trial.sites.all())
        .exclude(trial_participations__trial=trial)
        .order_by("study_id")
        .values_list("study_id", flat=True)
    )
    return [(study_id, study_id) for study_id in people]


def box_members(*, user: Any, trial: Trial, box: str, cut_off: dt.date) -> list[str] | None:
    """Return the study IDs behind a CONSORT box that the user may see, or None if no such box."""
    visible = set(
        participants_visible_to(user=user, trial=trial).values_list(
            "young_person__study_id", flat=True
        )
    )
    dispositions = [
        d for d in consort_dispositions(trial=trial, cut_off=cut_off) if d.participant_id in visible
    ]
    if box == "assessed":
        chosen = dispositions
    elif box == "excluded":
        chosen = [d for d in dispositions if d.arm is None and d.excluded_reason is not None]
    elif box == "randomised":
        chosen = [d for d in dispositions if d.arm is not None]
    elif box.startswith("allocated:") and box.split(":", 1)[1] in trial.spec.arm_codes:
        chosen = [d for d in dispositions if d.arm == box.split(":", 1)[1]]
    else:
        return None
    return sorted(d.participant_id for d in chosen)


@dataclass(frozen=True)
class Recruitment:
    """Recruitment against target, arm balance and follow-up, for the recruitment page."""

    months: list[str]
    by_site: dict[str, dict[str, int]]  # site name -> month -> randomised
    target_per_site_month: int
    balance: list[tuple[str, str, dict[str, int]]]  # (factor, level, arm -> n)
    follow_up: list[tuple[str, str, int, int]]  # (timepoint label, arm, due, completed)


def recruitment(*, trial: Trial, today: dt.date, arms_visible: bool) -> Recruitment:
    """Return randomisations by site and month, and, for unblinded users, balance and follow-up.

    Follow-up counts, per trial timepoint and arm, the randomised participants whose timepoint is
    due by today, and how many of them have a completed assessment at that timepoint.
    """
    from django.utils import timezone

    from mstoutcomes.core.dates import add_months
    from mstoutcomes.measures import blinding, registry
    from mstoutcomes.measures.models import Assessment, AssessmentStatus
    from mstoutcomes.trial.models import Allocation

    rows = list(
        Allocation.objects.filter(trial=trial, is_test=False).values_list(
            "participant__site__name",
            "allocated_at",
            "arm",
            "participant__levels",
            "participant__young_person_id",
        )
    )
    by_site: dict[str, dict[str, int]] = {}
    months: set[str] = set()
    for site_name, at, _, _, _ in rows:
        month = timezone.localtime(at).strftime("%Y-%m")
        months.add(month)
        by_site.setdefault(site_name, {}).setdefault(month, 0)
        by_site[site_name][month] += 1
    balance: list[tuple[str, str, dict[str, int]]] = []
    follow_up: list[tuple[str, str, int, int]] = []
    if arms_visible:
        spec = trial.spec
        for factor in spec.factors:
            for level in factor.categories:
                counts = {arm: 0 for arm in spec.arm_codes}
                for _site, _at, arm, levels, _person in rows:
                    if levels.get(factor.name) == level:
                        counts[arm] += 1
                balance.append((factor.name, level, counts))
        done = set(
            Assessment.objects.unscoped()
            .filter(
                young_person_id__in=[r[4] for r in rows],
                status=AssessmentStatus.COMPLETED,
                schedule__in=blinding.arm_neutral_schedules(),
            )
            .values_list("young_person_id", "timepoint")
        )
        for schedule in registry.schedules().values():
            for tp in schedule.timepoints:
                if tp.anchor != "randomisation":
                    continue
                for arm in spec.arm_codes:
                    due = [
                        r[4]
                        for r in rows
                        if r[2] == arm
                        and add_months(timezone.localdate(r[1]), tp.offset_months) <= today
                    ]
                    completed = sum((person, tp.code) in done for person in due)
                    follow_up.append((tp.label, arm, len(due), completed))
    return Recruitment(
        sorted(months), by_site, trial.spec.target_per_site_month, balance, follow_up
    )
