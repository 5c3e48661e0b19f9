"""Every write to assessments: recorded, scored and audited in one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NoReturn

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from mstoutcomes.accounts.models import User
from mstoutcomes.accounts.permissions import Perm, user_has_perm
from mstoutcomes.accounts.services import audit_record
from mstoutcomes.cases.events import person_data_changed
from mstoutcomes.cases.models import Episode, YoungPerson
from mstoutcomes.cases.protocol import Check, protocol_check
from mstoutcomes.core.dates import today
from mstoutcomes.core.services import clean_and_save, require
from mstoutcomes.measures import blinding, registry
from mstoutcomes.measures.anchors import ResearchAnchors, anchor_dates, anchors_for_person
from mstoutcomes.measures.models import (
    Assessment,
    AssessmentStatus,
    Entry,
    ResponseLink,
    ScaleScore,
)
from mstoutcomes.measures.scoring import ScoringInputError, ScoringResult, score
from mstoutcomes.measures.windows import (
    DueTask,
    due_tasks,
    match_timepoint,
    nearest_task,
    window_changes,
    window_text,
)


def _may(by: User | None, young_person: YoungPerson) -> bool:
    return by is None or user_has_perm(by, Perm.ENTER_MEASURES, site=young_person.site_id)


def anchors_for(
    young_person: YoungPerson, episode: Episode | None, research: ResearchAnchors | None = None
) -> dict[str, dt.date | None]:
    """Return the dates the schedules are anchored on for one young person."""
    return anchor_dates(
        referred_on=young_person.referred_on,
        episode_start=episode.start_date if episode else None,
        episode_end=episode.end_date if episode else None,
        research=research if research is not None else anchors_for_person(young_person.pk),
    )


def latest_episode(young_person: YoungPerson) -> Episode | None:
    return (
        Episode.objects.unscoped().filter(young_person=young_person).order_by("-start_date").first()
    )


def tasks_for(
    young_person: YoungPerson, episode: Episode | None, research: ResearchAnchors | None = None
) -> list[DueTask]:
    """Return every scheduled task for a young person, computed from their anchors now."""
    anchors = anchors_for(young_person, episode, research)
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


@dataclass(frozen=True)
class EntryContext:
    """What the entry rules need to know about who enters what for whom."""

    by: User | None
    young_person: YoungPerson
    research: ResearchAnchors
    tasks: list[DueTask]
    assessor: bool  # may enter the trial's outcome measures (an outcome assessor)
    blinded: bool  # blind to this participant's arm (so never enters a treatment measure)

    def usable(self, task: DueTask) -> bool:
        """Return whether this user may record against a task."""
        if task.schedule in blinding.research_schedules():
            return self.assessor or not self.research.in_trial
        return not (self.blinded and blinding.is_treatment_schedule(task.schedule))

    @property
    def entry_tasks(self) -> list[DueTask]:
        return [t for t in self.tasks if self.usable(t)]


def entry_context(by: User | None, young_person: YoungPerson) -> EntryContext:
    """Return the tasks and the standing of a user entering measures for a young person."""
    research = anchors_for_person(young_person.pk)
    site = young_person.site_id
    return EntryContext(
        by=by,
        young_person=young_person,
        research=research,
        tasks=tasks_for(young_person, latest_episode(young_person), research),
        assessor=by is None or user_has_perm(by, Perm.ENTER_TRIAL_OUTCOMES, site=site),
        blinded=is_blinded(by, young_person, research),
    )


def is_blinded(by: Any, young_person: YoungPerson, research: ResearchAnchors | None = None) -> bool:
    """Return whether a user is blind to a trial participant's arm (no treatment view).

    Blinding matters for trial participants: for anyone else a research worker keeps entering
    the service's measures as before.
    """
    if by is None or user_has_perm(by, Perm.VIEW_TREATMENT, site=young_person.site_id):
        return False
    research = research if research is not None else anchors_for_person(young_person.pk)
    return research.in_trial


def _refuse(
    context: EntryContext,
    *,
    attempt: str,
    code: str,
    message: str,
    field: str | None = None,
    data: Mapping[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> NoReturn:
    """Audit a refused entry (committed although nothing is saved), then refuse it."""
    person = context.young_person
    with transaction.atomic():
        audit_record(
            actor=context.by,
            action="measures.assessment.refused",
            obj=person,
            site=person.site,
            data={
                "young_person": person.study_id,
                "attempt": attempt,
                "reason": code,
                **(data or {}),
            },
            request=request,
        )
    raise ValidationError({field: message} if field else message, code=code)


def _short_name(instrument: str) -> str:
    definition = registry.instruments().get(instrument)
    return definition.short_name if definition else instrument


def _check_instrument(
    context: EntryContext,
    *,
    attempt: str,
    instrument: str,
    respondent: str,
    data: Mapping[str, Any],
    request: HttpRequest | None,
) -> None:
    """Refuse treatment measures to blinded staff and trial outcomes to non-assessors."""
    name = _short_name(instrument)
    if context.blinded and not blinding.blinded_may_enter(instrument, respondent):
        _refuse(
            context,
            attempt=attempt,
            code="treatment_measure_blinded",
            message=f"{name} is not one of the trial's outcome measures: staff blind to "
            "allocation enter only those.",
            data=data,
            request=request,
        )
    if _assessor_only(context, instrument, respondent):
        _refuse(
            context,
            attempt=attempt,
            code="assessor_only",
            message=_assessor_only_message(context, name),
            data=data,
            request=request,
        )


def _assessor_only_message(context: EntryContext, name: str) -> str:
    return (
        f"{name} is one of the trial's outcome measures and {context.young_person.study_id} is "
        "a trial participant: only a research worker or the trial manager enters it."
    )


def assessor_only_refusal(context: EntryContext, instrument: str, respondent: str) -> str | None:
    """Return why this user may not enter a trial outcome measure here (pages say it up front).

    Blinded staff never get this far for a treatment measure (their pages answer "not found"
    alike for both arms); the service still refuses and audits any attempt to save.
    """
    if not _assessor_only(context, instrument, respondent):
        return None
    return _assessor_only_message(context, _short_name(instrument))


def _assessor_only(context: EntryContext, instrument: str, respondent: str) -> bool:
    """Return whether only an outcome assessor may enter this for this young person."""
    pair = (instrument, respondent)
    return (
        context.research.in_trial
        and not context.assessor
        and pair in blinding.research_pairs()
        and pair not in _service_pairs()
    )


def may_enter_instrument(context: EntryContext, instrument: str, respondent: str) -> bool:
    """Return whether the entry rules let this user enter an instrument at all (for menus)."""
    if context.blinded and not blinding.blinded_may_enter(instrument, respondent):
        return False
    return not _assessor_only(context, instrument, respondent)


def _service_pairs() -> set[tuple[str, str]]:
    """Return the (instrument, respondent) pairs the service's own schedules collect."""
    research = blinding.research_schedules()
    return {
        (task.instrument, task.respondent)
        for code, schedule in registry.schedules().items()
        if code not in research
        for timepoint in schedule.timepoints
        for task in timepoint.tasks
    }


def _seam_check(
    context: EntryContext,
    *,
    attempt: str,
    instrument: str,
    task: DueTask | None,
    request: HttpRequest | None,
) -> None:
    """Ask the trial (through the seam) whether this is allowed: treatment, or locked data.

    A treatment measure, a treatment timepoint, or anything a non-assessor enters for a trial
    participant outside the trial's schedule belongs to treatment, which the trial allows only
    after randomisation to MST.
    """
    treatment = (
        instrument in blinding.TREATMENT_INSTRUMENTS
        or (task is not None and blinding.is_treatment_schedule(task.schedule))
        or (task is None and context.research.in_trial and not context.assessor)
    )
    protocol_check(
        by=context.by,
        young_person=context.young_person,
        action=attempt,
        check=Check.TREATMENT if treatment else Check.DATA,
        request=request,
    )


def _choose_task(
    context: EntryContext,
    *,
    instrument: str,
    respondent: str,
    on: dt.date,
    timepoint: str,
    data: Mapping[str, Any],
    request: HttpRequest | None,
) -> DueTask | None:
    """Return the task an entry is recorded against, never the nearest one silently.

    A chosen timepoint must be one this user may record against. Without one, the entry goes to
    the window its date falls in; a date in no window is refused, naming the nearest window,
    unless nothing of the kind is scheduled (an unscheduled measure) or it came through a
    respondent's link (kept unscheduled: there is nobody to ask).
    """
    attempt = "measures.assessment.recorded"
    if timepoint:
        for task in context.tasks:
            if (task.timepoint, task.instrument, task.respondent) == (
                timepoint,
                instrument,
                respondent,
            ):
                if not context.usable(task):
                    _refuse(
                        context,
                        attempt=attempt,
                        code="assessor_only",
                        message=f"{task.label} is a trial outcome timepoint: only a research "
                        "worker or the trial manager enters it.",
                        field="timepoint",
                        data=data,
                        request=request,
                    )
                return task
        raise ValidationError({"timepoint": "Choose a timepoint this instrument is due at."})
    usable = context.entry_tasks
    matched = match_timepoint(usable, instrument=instrument, respondent=respondent, on=on)
    if matched is not None:
        return matched
    nearest = nearest_task(usable, instrument=instrument, respondent=respondent, on=on)
    if nearest is not None and context.by is not None:
        _refuse(
            context,
            attempt=attempt,
            code="no_window",
            message=f"This entry is in no window. The nearest: {window_text(nearest, on)}. "
            + (
                "Choose the timepoint, and give the reason it was collected outside the window."
                if nearest.schedule in blinding.research_schedules()
                else "Choose the timepoint it belongs to."
            ),
            field="timepoint",
            data={**data, "nearest": nearest.timepoint},
            request=request,
        )
    return None


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
    out_of_window_reason: str = "",
    request: HttpRequest | None = None,
) -> Assessment:
    """Score and store a completed instrument against its scheduled timepoint.

    Item responses (by item id) or scale scores from a scored paper form (by scale code); a
    partly completed form is scored by the instrument's missing-item rule. Bad values raise
    ValidationError naming ``item_<id>`` or ``scale_<code>``.

    For a trial participant only outcome assessors record at the trial's timepoints, blinded
    staff record only the trial's outcome measures, and treatment measures follow the trial's
    treatment rule. A trial timepoint dated outside its window is refused, showing the window,
    unless ``out_of_window_reason`` is given: then it is saved flagged out of window. Refusals
    are audited (``measures.assessment.refused``) before anything is written.
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
    if completed_on > today():
        raise ValidationError({"completed_on": "The date completed cannot be in the future."})
    context = entry_context(by, young_person)
    data = {
        "instrument": definition.code,
        "respondent": respondent,
        "timepoint": timepoint,
        "completed_on": completed_on,
    }
    attempt = "measures.assessment.recorded"
    _check_instrument(
        context,
        attempt=attempt,
        instrument=definition.code,
        respondent=respondent,
        data=data,
        request=request,
    )
    task = _choose_task(
        context,
        instrument=definition.code,
        respondent=respondent,
        on=completed_on,
        timepoint=timepoint,
        data=data,
        request=request,
    )
    outside = task is not None and not task.contains(completed_on)
    reason = out_of_window_reason.strip() if outside else ""
    if outside and task is not None and not reason:
        in_trial_schedule = task.schedule in blinding.research_schedules()
        if in_trial_schedule:
            _refuse(
                context,
                attempt=attempt,
                code="out_of_window",
                message=f"{window_text(task, completed_on)}. Correct the date, or give the "
                "reason it was collected outside the window to save it as out of window.",
                field="out_of_window_reason",
                data={**data, "opens": task.opens, "closes": task.closes},
                request=request,
            )
    _seam_check(context, attempt=attempt, instrument=definition.code, task=task, request=request)
    return _assessment_save(
        by=by,
        young_person=young_person,
        definition=definition,
        result=result,
        respondent=respondent,
        respondent_name=respondent_name,
        task=task,
        completed_on=completed_on,
        mode=mode,
        answered=answered,
        given=given,
        out_of_window=outside,
        out_of_window_reason=reason,
        request=request,
    )


@transaction.atomic
def _assessment_save(
    *,
    by: User | None,
    young_person: YoungPerson,
    definition: Any,
    result: ScoringResult,
    respondent: str,
    respondent_name: str,
    task: DueTask | None,
    completed_on: dt.date,
    mode: str,
    answered: Mapping[str, Any],
    given: Mapping[str, Any],
    out_of_window: bool,
    out_of_window_reason: str,
    request: HttpRequest | None,
) -> Assessment:
    assessment = Assessment(
        young_person=young_person,
        episode=latest_episode(young_person),
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
        responses={"items": dict(answered), "scales": {k: str(v) for k, v in given.items()}},
        scores=result.as_dict(),
        entered_by=by,
        out_of_window=out_of_window,
        out_of_window_reason=out_of_window_reason,
    )
    assessment._history_user = by  # type: ignore[attr-defined]
    clean_and_save(assessment)
    _store_scores(assessment, result)
    data: dict[str, Any] = {
        "young_person": young_person.study_id,
        "instrument": definition.code,
        "respondent": respondent,
        "timepoint": assessment.timepoint,
        "scoring_version": definition.scoring_version,
        "entry": assessment.entry,
        "mode": mode,
    }
    if task is not None:
        data["window"] = [task.opens, task.closes]
    if out_of_window:
        data["out_of_window"] = True
        data["out_of_window_reason"] = out_of_window_reason
    audit_record(
        actor=by,
        action="measures.assessment.recorded",
        obj=assessment,
        site=young_person.site,
        data=data,
        request=request,
    )
    person_data_changed(young_person)  # re-checks (data-quality rules) run after the commit
    return assessment


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
    """Record that a scheduled instrument was missed (with a reason) or refused.

    The same rules as entering it: trial timepoints by outcome assessors only, treatment
    timepoints by the trial's treatment rule and never by blinded staff.
    """
    require(_may(by, young_person), "You cannot enter measures for this young person.")
    if status not in (AssessmentStatus.MISSED, AssessmentStatus.REFUSED):
        raise ValidationError({"status": "Choose missed or refused."})
    if status == AssessmentStatus.MISSED and not reason.strip():
        raise ValidationError({"reason": "Enter why it was missed."})
    context = entry_context(by, young_person)
    task = next(
        (t for t in context.tasks if t.key == (schedule, timepoint, instrument, respondent)), None
    )
    if task is None:
        raise ValidationError("That instrument is not scheduled at that timepoint.")
    attempt = f"measures.assessment.{status}"
    data = {"instrument": instrument, "respondent": respondent, "timepoint": timepoint}
    _check_instrument(
        context,
        attempt=attempt,
        instrument=instrument,
        respondent=respondent,
        data=data,
        request=request,
    )
    if not context.usable(task):
        _refuse(
            context,
            attempt=attempt,
            code="assessor_only",
            message=f"{task.label} is a trial outcome timepoint: only a research worker or the "
            "trial manager records it.",
            data=data,
            request=request,
        )
    _seam_check(context, attempt=attempt, instrument=instrument, task=task, request=request)
    return _not_done_save(
        by=by,
        young_person=young_person,
        task=task,
        status=status,
        reason=reason,
        request=request,
    )


@transaction.atomic
def _not_done_save(
    *,
    by: User | None,
    young_person: YoungPerson,
    task: DueTask,
    status: str,
    reason: str,
    request: HttpRequest | None,
) -> Assessment:
    definition = registry.instrument(task.instrument)
    assessment = Assessment(
        young_person=young_person,
        episode=latest_episode(young_person),
        instrument=task.instrument,
        instrument_version=definition.version,
        respondent=task.respondent,
        schedule=task.schedule,
        timepoint=task.timepoint,
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
            "instrument": task.instrument,
            "respondent": task.respondent,
            "timepoint": task.timepoint,
            "reason": assessment.reason,
        },
        request=request,
    )
    person_data_changed(young_person)
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


def response_link_create(
    *,
    by: User,
    young_person: YoungPerson,
    instrument: str,
    respondent: str,
    request: HttpRequest | None = None,
) -> tuple[ResponseLink, str]:
    """Make a single-use link that expires in 7 days; return it with its token (shown once).

    Only instruments whose licence allows online completion with wording on screen qualify, and
    the entry rules apply as to entering it (trial outcomes by assessors, treatment measures
    through the trial's treatment rule); refusals are audited before anything is written.
    """
    require(_may(by, young_person), "You cannot send measures for this young person.")
    definition = registry.instrument(instrument)
    if not (definition.licence.online_completion and definition.shows_wording):
        raise ValidationError(f"{definition.short_name} cannot be completed online.")
    if respondent not in definition.respondents:
        raise ValidationError(f"{definition.short_name} has no version for that respondent.")
    context = entry_context(by, young_person)
    attempt = "measures.response_link.created"
    _check_instrument(
        context,
        attempt=attempt,
        instrument=instrument,
        respondent=respondent,
        data={"instrument": instrument, "respondent": respondent},
        request=request,
    )
    _seam_check(context, attempt=attempt, instrument=instrument, task=None, request=request)
    return _response_link_save(
        by=by,
        young_person=young_person,
        instrument=instrument,
        respondent=respondent,
        request=request,
    )


@transaction.atomic
def _response_link_save(
    *,
    by: User,
    young_person: YoungPerson,
    instrument: str,
    respondent: str,
    request: HttpRequest | None,
) -> tuple[ResponseLink, str]:
    import secrets

    from django.utils import timezone

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
