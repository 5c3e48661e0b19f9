"""Writes about blinding: emergency unblinding and the outcome assessors' guesses of the arm.

Kept beside trial/services.py (which holds enrolment and randomisation) so that module stays
below the size the house style allows.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from mstoutcomes.accounts.models import User
from mstoutcomes.accounts.permissions import Perm, user_has_perm, user_perms
from mstoutcomes.accounts.services import audit_record
from mstoutcomes.core.services import clean_and_save, require
from mstoutcomes.trial.errors import NotEligible
from mstoutcomes.trial.models import (
    DONT_KNOW,
    Allocation,
    BlindingGuess,
    EmergencyUnblinding,
    Participant,
)
from mstoutcomes.trial.selectors import follow_up_points


def emergency_unblind(
    *, by: User, participant: Participant, unblinded_person: User, reason: str
) -> tuple[EmergencyUnblinding, str]:
    """Record that a named person is told a participant's arm in an emergency; return the arm.

    The audit event names who was unblinded, by whom and why, never the arm. The unblinded
    person's later assessments of this participant are flagged (trial.blinding). A refused
    attempt is audited too (`trial.participant.emergency_unblinding_refused`).
    """
    try:
        return _emergency_unblind(
            by=by, participant=participant, unblinded_person=unblinded_person, reason=reason
        )
    except (PermissionDenied, ValidationError, NotEligible) as error:
        audit_record(
            actor=by,
            action="trial.participant.emergency_unblinding_refused",
            obj=participant,
            site=participant.site,
            data={
                "young_person": participant.young_person.study_id,
                "unblinded_person": unblinded_person.username,
                "refused": "; ".join(getattr(error, "messages", [str(error)])),
            },
        )
        raise


@transaction.atomic
def _emergency_unblind(
    *, by: User, participant: Participant, unblinded_person: User, reason: str
) -> tuple[EmergencyUnblinding, str]:
    require(
        user_has_perm(by, Perm.EMERGENCY_UNBLIND, site=participant.site_id),
        "Emergency unblinding needs the emergency unblinding permission at this site.",
    )
    if not reason.strip():
        raise ValidationError({"reason": "Enter why the arm must be revealed."})
    if not user_perms(unblinded_person, site=participant.site_id):
        raise ValidationError(
            {"unblinded_person": "Choose someone who works at this participant's site."}
        )
    allocation = Allocation.objects.unscoped().filter(participant_id=participant.pk).first()
    if allocation is None:
        raise NotEligible(f"{participant.young_person.study_id} has not been randomised.")
    record = EmergencyUnblinding(
        participant=participant, unblinded_person=unblinded_person, unblinded_by=by, reason=reason
    )
    record.reason = reason.strip()
    clean_and_save(record)
    audit_record(
        actor=by,
        action="trial.participant.emergency_unblinded",
        obj=participant,
        site=participant.site,
        data={
            "young_person": participant.young_person.study_id,
            "unblinded_person": unblinded_person.username,
            "reason": record.reason,
        },
    )
    return record, allocation.arm


@transaction.atomic
def blinding_guess_record(
    *,
    by: User,
    participant: Participant,
    timepoint: str,
    guess: str,
    confidence: str = "",
    recorded_on: dt.date,
) -> BlindingGuess:
    """Record an outcome assessor's guess of a participant's arm at a follow-up (audited)."""
    require(
        user_has_perm(by, Perm.ENTER_TRIAL_OUTCOMES, site=participant.site_id),
        "Only outcome assessors record a guess of the arm.",
    )
    arms = {arm.code for arm in participant.trial.spec.arms}
    if guess not in arms | {DONT_KNOW}:
        raise ValidationError({"guess": "Choose one of the arms, or don't know."})
    if timepoint not in {point.code for point in follow_up_points()}:
        raise ValidationError({"timepoint": "Choose one of the trial's follow-ups."})
    if (
        BlindingGuess.objects.unscoped()
        .filter(participant=participant, timepoint=timepoint)
        .exists()
    ):
        raise ValidationError({"timepoint": "A guess is already recorded for this follow-up."})
    record = BlindingGuess(
        participant=participant,
        timepoint=timepoint,
        assessor=by,
        guess=guess,
        confidence=confidence,
        recorded_on=recorded_on,
    )
    clean_and_save(record)
    # Never the guess itself: the audit log is readable by people the assessor reports to.
    audit_record(
        actor=by,
        action="trial.participant.blinding_guess_recorded",
        obj=participant,
        site=participant.site,
        data={"young_person": participant.young_person.study_id, "timepoint": timepoint},
    )
    return record
