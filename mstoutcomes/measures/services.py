"""Every write to assessments: recorded, scored and audited in one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from mstoutcomes.accounts.models import User
from mstoutcomes.accounts.permissions import Perm, user_has_perm
from mstoutcomes.accounts.services import audit_record
from mstoutcomes.cases.models import Episode, YoungPerson
from mstoutcomes.core.services import clean_and_save, require
from mstoutcomes.measures import registry
from mstoutcomes.measures.models import (
    Assessment,
    AssessmentStatus,
    Entry,
    ResponseLink,
    ScaleScore,
)
from mstoutcomes.measures.scoring import ScoringInputError, ScoringResult, score
from mstoutcomes.measures.windows import DueTask, due_tasks, match_timepoint, window_changes


def _may(by: User | None, young_person: YoungPerson) -> bool:
    return by is None or user_has_perm(by, Perm.ENTER_MEASURES, site=young_person.site_id)


def anchors_for(young_person: YoungPerson, episode: Episode | None) -> dict[str, dt.date | None]:
    """Return the dates the schedules are anchored on for one young person."""
    return {
        "referral": young_person.referred_on,
        "episode_start": episode.start_date if episode else None,
        "episode_end": episode.end_date if episode else None,
        "randomisation": _randomised_on(young_person),
    }


def _randomised_on(young_person: YoungPerson) -> dt.date | None:
    from django.utils import timezone

    from mstoutcomes.trial.models import Allocation

    allocation = (
        Allocation.objects.filter(participant__young_person=young_person, is_test=False)
        .order_by("allocated_at")
        .first()
    )
    return timezone.localdate(allocation.allocated_at) if allocation else None


def latest_episode(young_person: YoungPerson) -> Episode | None:
    return (
        Episode.objects.unscoped().filter(young_person=young_person).order_by("-start_date").first()
    )


def tasks_for(young_person: YoungPerson, episode: Episode | None) -> list[DueTask]:
    """Return every scheduled task for a young person, computed from their anchors now."""
    anchors = anchors_for(young_person, episode)
    return [task for s in registry.schedules().values() for task in due_tasks(s, anchors)]


def _field_errors(error: ScoringInputError, prefix: str) -> ValidationError:
    return ValidationError({f"{prefix}{key}": message for key, message in error.errors.items()})


def _store_scores(assessment: Assessment, result: ScoringResult) -> None:
    ScaleScore.objects.bulk_create(
        ScaleScore(
            assessment=assessment,
            scale=code,
            value=None if s.value is None else Decimal(str(s.value)),
            prorated=s.prorated,
        )
        for code, s in result.scores.items()
    )


@transaction.atomic
def assessment_record(
    *,
    by: User | None,
    young_person: YoungPerson,
    instrument: str,
    respondent: str,
    completed_on: dt.date,
    mode: str,
    responses: Mapping[str, Any] | None = None,
    entered: Mapping[str, Any] | None = None,
    respondent_name: str = "",
    timepoint: str = "",
    request: HttpRequest | None = None,
) -> Assessment:
    """Score and store a completed instrument, matched to its scheduled timepoint.

    Item responses (by item id) or scale scores from a scored paper form (by scale code); a
    partly completed form is scored by the instrument's missing-item rule. Bad values raise
    ValidationError naming ``item_<id>`` or ``scale_<code>``.
    """
    require(_may(by, young_person), "You cannot enter measures for this young person.")
    definition = registry.instrument(instrument)
    try:
        result = score(definition, respondent, responses=responses, entered=entered)
    except ScoringInputError as error:
        prefix = "scale_" if entered and not responses else "item_"
        raise _field_errors(error, prefix) from error
    answered = {k: v for k, v in (responses or {}).items() if v not in (None, "")}
    given = {k: v for k, v in (entered or {}).items() if v not in (None, "")}
    if not answered and not given:
        raise ValidationError("Enter at least one answer or score.")
    episode = latest_episode(young_person)
    tasks = tasks_for(young_person, episode)
    task = _chosen_task(tasks, timepoint, instrument, respondent, completed_on)
    assessment = Assessment(
        young_person=young_person,
        episode=episode,
        instrument=definition.code,
        instrument_version=definition.version,
        scoring_version=definition.scoring_version,
        respondent=respondent,
        respondent_name=respondent_name,
        schedule=task.schedule if task else "",
        timepoint=task.timepoint if task else "",
        status=AssessmentStatus.COMPLETED,
        completed_on=completed_on,
        mode=mode,
        entry=Entry.ITEMS if answered else Entry.SCORES,
        responses={"items": answered, "scales": {k: str(v) for k, v in given.items()}},
        scores=result.as_dict(),
        entered_by=by,
    )
    assessment._history_user = by  # type: ignore[attr-defined]
    clean_and_save(assessment)
    _store_scores(assessment, result)
    audit_record(
        actor=by,
        action="measures.assessment.recorded",
        obj=assessment,
        site=young_person.site,
        data={
            "young_person": young_person.study_id,
            "instrument": definition.code,
            "respondent": respondent,
            "timepoint": assessment.timepoint,
            "scoring_version": definition.scoring_version,
            "entry": assessment.entry,
            "mode": mode,
        },
        request=request,
    )
    return assessment


def _chosen_task(
    tasks: Sequence[DueTask], timepoint: str, instrument: str, respondent: str, on: dt.date
) -> DueTask | None:
    if timepoint:
        for task in tasks:
            if (task.timepoint, task.instrument, task.respondent) == (
                timepoint,
                instrument,
                respondent,
            ):
                return task
        raise ValidationError({"timepoint": "Choose a timepoint this instrument is due at."})
    return match_timepoint(tasks, instrument=instrument, respondent=respondent, on=on)


@transaction.atomic
def assessment_mark_not_done(
    *,
    by: User | None,
    young_person: YoungPerson,
    schedule: str,
    timepoint: str,
    instrument: str,
    respondent: str,
    status: str,
    reason: str,
    request: HttpRequest | None = None,
) -> Assessment:
    """Record that a scheduled instrument was missed (with a reason) or refused."""
    require(_may(by, young_person), "You cannot enter measures for this young person.")
    if status not in (AssessmentStatus.MISSED, AssessmentStatus.REFUSED):
        raise ValidationError({"status": "Choose missed or refused."})
    if status == AssessmentStatus.MISSED and not reason.strip():
        raise ValidationError({"reason": "Enter why it was missed."})
    episode = latest_episode(young_person)
    keys = {t.key for t in tasks_for(young_person, episode)}
    if (schedule, timepoint, instrument, respondent) not in keys:
        raise ValidationError("That instrument is not scheduled at that timepoint.")
    definition = registry.instrument(instrument)
    assessment = Assessment(
        young_person=young_person,
        episode=episode,
        instrument=instrument,
        instrument_version=definition.version,
        respondent=respondent,
        schedule=schedule,
        timepoint=timepoint,
        status=status,
        entry=Entry.NONE,
        reason=reason.strip(),
        entered_by=by,
    )
    clean_and_save(assessment)
    audit_record(
        actor=by,
        action=f"measures.assessment.{status}",
        obj=assessment,
        site=young_person.site,
        data={
            "young_person": young_person.study_id,
            "instrument": instrument,
            "respondent": respondent,
            "timepoint": timepoint,
            "reason": assessment.reason,
        },
        request=request,
    )
    return assessment


@transaction.atomic
def schedule_recompute(
    *,
    by: User | None,
    young_person: YoungPerson,
    before: Sequence[DueTask],
    request: HttpRequest | None = None,
) -> dict[str, list[str]]:
    """Record how a young person's due dates moved after an anchor changed.

    Windows are never stored, so nothing is rewritten: the caller passes the tasks it computed
    before changing the anchor, and the moved due dates go into the audit trail.
    """
    after = tasks_for(young_person, latest_episode(young_person))
    changes = window_changes(before, after)
    if changes:
        audit_record(
            actor=by,
            action="measures.schedule.recomputed",
            obj=young_person,
            site=young_person.site,
            changes=changes,
            data={"young_person": young_person.study_id},
            request=request,
        )
    return changes


LINK_DAYS = 7


def _token_hash(token: str) -> str:
    import hashlib

    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def response_link_create(
    *,
    by: User,
    young_person: YoungPerson,
    instrument: str,
    respondent: str,
    request: HttpRequest | None = None,
) -> tuple[ResponseLink, str]:
    """Make a single-use link that expires in 7 days; return it with its token (shown once).

    Only instruments whose licence allows online completion with wording on screen qualify.
    """
    import secrets

    from django.utils import timezone

    require(_may(by, young_person), "You cannot send measures for this young person.")
    definition = registry.instrument(instrument)
    if not (definition.licence.online_completion and definition.shows_wording):
        raise ValidationError(f"{definition.short_name} cannot be completed online.")
    if respondent not in definition.respondents:
        raise ValidationError(f"{definition.short_name} has no version for that respondent.")
    token = secrets.token_urlsafe(32)
    link = ResponseLink.objects.create(
        young_person=young_person,
        instrument=instrument,
        respondent=respondent,
        token_sha256=_token_hash(token),
        expires_at=timezone.now() + dt.timedelta(days=LINK_DAYS),
        created_by=by,
    )
    audit_record(
        actor=by,
        action="measures.response_link.created",
        obj=link,
        site=young_person.site,
        data={
            "young_person": young_person.study_id,
            "instrument": instrument,
            "respondent": respondent,
            "expires_at": link.expires_at,
        },
        request=request,
    )
    return link, token


def response_link_open(token: str) -> ResponseLink | None:
    """Return the unused, unexpired link for a token, or None (never saying which it was)."""
    from django.utils import timezone

    link = (
        ResponseLink.objects.unscoped()
        .select_related("young_person__site")
        .filter(
            token_sha256=_token_hash(token), used_at__isnull=True, expires_at__gt=timezone.now()
        )
        .first()
    )
    return link  # type: ignore[no-any-return]


@transaction.atomic
def response_link_submit(
    *,
    token: str,
    responses: Mapping[str, Any],
    request: HttpRequest | None = None,
) -> Assessment:
    """Record a respondent's answers through a link and use the link up, in one transaction."""
    from django.utils import timezone

    link = (
        ResponseLink.objects.unscoped()
        .select_for_update()
        .filter(
            token_sha256=_token_hash(token), used_at__isnull=True, expires_at__gt=timezone.now()
        )
        .first()
    )
    if link is None:
        raise ValidationError("This link has expired or has already been used.")
    assessment = assessment_record(
        by=None,
        young_person=link.young_person,
        instrument=link.instrument,
        respondent=link.respondent,
        completed_on=timezone.localdate(),
        mode="online",
        responses=responses,
        respondent_name="Online link",
        request=request,
    )
    link.used_at = timezone.now()
    link.assessment = assessment
    link.save(update_fields=["used_at", "assessment", "updated_at"])
    audit_record(
        actor=None,
        action="measures.response_link.used",
        obj=link,
        site=link.young_person.site,
        data={"young_person": link.young_person.study_id, "assessment": assessment.pk},
        request=request,
    )
    return assessment
