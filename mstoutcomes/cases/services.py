"""Every write to young people, families, agency involvement and episodes, each audited."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from mstoutcomes.accounts.models import Site, User
from mstoutcomes.accounts.permissions import Perm, user_has_perm
from mstoutcomes.accounts.services import audit_record
from mstoutcomes.cases import events
from mstoutcomes.cases.models import (
    AgencyInvolvement,
    Contact,
    DesiredOutcome,
    Episode,
    FamilyMember,
    IntermediateGoal,
    MeetingAttendee,
    OverarchingGoal,
    ProfessionalMeeting,
    YoungPerson,
)
from mstoutcomes.cases.protocol import protocol_gate
from mstoutcomes.core.audit import diff, snapshot
from mstoutcomes.core.scoping import scopes_disabled
from mstoutcomes.core.services import assign_fields, clean_and_save, require

YOUNG_PERSON_FIELDS = (
    "given_name",
    "family_name",
    "preferred_name",
    "date_of_birth",
    "sex",
    "gender",
    "ethnicity",
    "school",
    "address",
    "postcode_district",
    "nhs_number",
    "upn",
    "social_care_id",
    "yos_id",
    "referring_agency",
    "referred_on",
)
FAMILY_MEMBER_FIELDS = (
    "given_name",
    "family_name",
    "relationship",
    "is_carer",
    "is_primary_carer",
    "has_parental_responsibility",
    "lives_with_young_person",
    "phone",
    "email",
)
INVOLVEMENT_FIELDS = (
    "agency",
    "worker_name",
    "worker_role",
    "worker_email",
    "worker_phone",
    "started_on",
    "ended_on",
)
EPISODE_FIELDS = ("start_date", "expected_end_date", "therapist", "supervisor")
DISCHARGE_FIELDS = (
    "end_date",
    "discharge_reason",
    "living_at_home",
    "in_school_or_work",
    "no_new_arrests",
    "discharge_notes",
)


def _may(by: User | None, perm: Perm, site: Site | int) -> bool:
    # by=None is the system itself (demo builder, imports run by an operator).
    return by is None or user_has_perm(by, perm, site=site)


def _set_history_user(instance: Any, by: User | None) -> None:
    instance._history_user = by


def _next_study_id(site: Site) -> str:
    # The row lock makes concurrent creations at one site take consecutive numbers, never the same.
    locked = Site.objects.select_for_update().get(pk=site.pk)
    number = locked.next_study_number
    locked.next_study_number = number + 1
    locked.save(update_fields=["next_study_number"])
    return f"{locked.code}-{number:04d}"


@transaction.atomic
def young_person_create(
    *, by: User | None, site: Site, fields: Mapping[str, Any], request: HttpRequest | None = None
) -> YoungPerson:
    """Record a young person at a site and give them the next study ID."""
    require(_may(by, Perm.EDIT_CASE, site), "You cannot add young people at this site.")
    person = YoungPerson(site=site)
    assign_fields(person, fields, allowed=YOUNG_PERSON_FIELDS)
    person.study_id = _next_study_id(site)
    _set_history_user(person, by)
    clean_and_save(person)
    audit_record(
        actor=by,
        action="cases.young_person.created",
        obj=person,
        site=site,
        changes=diff({}, snapshot(person, ("study_id", *_attnames(YOUNG_PERSON_FIELDS)))),
        request=request,
    )
    return person


def _attnames(fields: tuple[str, ...]) -> tuple[str, ...]:
    foreign_keys = {"referring_agency", "agency", "therapist", "supervisor"}
    return tuple(f"{name}_id" if name in foreign_keys else name for name in fields)


@transaction.atomic
def young_person_update(
    *,
    by: User | None,
    young_person: YoungPerson,
    fields: Mapping[str, Any],
    request: HttpRequest | None = None,
) -> YoungPerson:
    """Change a young person's details; the audit event lists each changed field."""
    require(_may(by, Perm.EDIT_CASE, young_person.site_id), "You cannot edit this young person.")
    before = snapshot(young_person, _attnames(YOUNG_PERSON_FIELDS))
    assign_fields(young_person, fields, allowed=YOUNG_PERSON_FIELDS)
    _set_history_user(young_person, by)
    clean_and_save(young_person)
    changes = diff(before, snapshot(young_person, _attnames(YOUNG_PERSON_FIELDS)))
    if changes:
        audit_record(
            actor=by,
            action="cases.young_person.updated",
            obj=young_person,
            site=young_person.site,
            changes=changes,
            request=request,
        )
    return young_person


def young_person_record_view(
    *, by: User, young_person: YoungPerson, request: HttpRequest | None = None, identifiable: bool
) -> None:
    """Record that someone opened a young person's record."""
    audit_record(
        actor=by,
        action="cases.young_person.viewed",
        obj=young_person,
        site=young_person.site,
        data={"identifiable": identifiable},
        request=request,
    )


@transaction.atomic
def family_member_save(
    *,
    by: User | None,
    young_person: YoungPerson,
    fields: Mapping[str, Any],
    member: FamilyMember | None = None,
    request: HttpRequest | None = None,
) -> FamilyMember:
    """Add a carer or household member, or change one."""
    return _case_record_save(  # type: ignore[no-any-return]
        by=by,
        young_person=young_person,
        instance=member or FamilyMember(young_person=young_person),
        fields=fields,
        allowed=FAMILY_MEMBER_FIELDS,
        action="cases.family_member",
        request=request,
    )


@transaction.atomic
def agency_involvement_save(
    *,
    by: User | None,
    young_person: YoungPerson,
    fields: Mapping[str, Any],
    involvement: AgencyInvolvement | None = None,
    request: HttpRequest | None = None,
) -> AgencyInvolvement:
    """Record an agency working with a young person, or change the record."""
    return _case_record_save(  # type: ignore[no-any-return]
        by=by,
        young_person=young_person,
        instance=involvement or AgencyInvolvement(young_person=young_person),
        fields=fields,
        allowed=INVOLVEMENT_FIELDS,
        action="cases.agency_involvement",
        request=request,
    )


def _person(kwargs: dict[str, Any]) -> YoungPerson | None:
    # The young person a treatment write concerns (protocol_gate's person getter).
    person = kwargs.get("young_person")
    return person if isinstance(person, YoungPerson) else None


def _episode_person(kwargs: dict[str, Any]) -> YoungPerson | None:
    episode = kwargs.get("episode")
    return episode.young_person if isinstance(episode, Episode) else None


def _check_episode_staff(episode: Episode, site_id: int) -> None:
    errors = {}
    if episode.therapist_id and not user_has_perm(episode.therapist, Perm.EDIT_CASE, site=site_id):
        errors["therapist"] = "The therapist must be a member of this young person's site."
    if episode.supervisor_id and not user_has_perm(
        episode.supervisor, Perm.MANAGE_EPISODES, site=site_id
    ):
        errors["supervisor"] = "The supervisor must be a supervisor or manager at this site."
    if errors:
        raise ValidationError(errors)


def _schedule_before(person: YoungPerson) -> list[Any]:
    # Floors above compute from the episode's dates (measures' due dates): let them capture
    # their state before an anchor moves, so the move can be recorded (cases.events).
    return events.episode_anchors_before(person)


def _schedule_after(
    by: User | None, person: YoungPerson, before: list[Any], request: HttpRequest | None
) -> None:
    events.episode_anchors_after(by=by, young_person=person, captured=before, request=request)


@protocol_gate("cases.episode.open", _person)
@transaction.atomic
def episode_open(
    *,
    by: User | None,
    young_person: YoungPerson,
    fields: Mapping[str, Any],
    request: HttpRequest | None = None,
) -> Episode:
    """Start an MST episode with a therapist; a young person has at most one open episode."""
    require(
        _may(by, Perm.MANAGE_EPISODES, young_person.site_id),
        "You cannot open episodes at this site.",
    )
    schedule_before = _schedule_before(young_person)
    episode = Episode(young_person=young_person)
    assign_fields(episode, fields, allowed=EPISODE_FIELDS)
    if episode.start_date and not episode.expected_end_date:
        from mstoutcomes.core.dates import add_months

        episode.expected_end_date = add_months(episode.start_date, 4)
    _check_episode_staff(episode, young_person.site_id)
    _set_history_user(episode, by)
    clean_and_save(episode)
    audit_record(
        actor=by,
        action="cases.episode.opened",
        obj=episode,
        site=young_person.site,
        changes=diff({}, snapshot(episode, _attnames(EPISODE_FIELDS))),
        data={"young_person": young_person.study_id},
        request=request,
    )
    _schedule_after(by, young_person, schedule_before, request)
    return episode


@protocol_gate("cases.episode.update", _episode_person)
@transaction.atomic
def episode_update(
    *,
    by: User | None,
    episode: Episode,
    fields: Mapping[str, Any],
    request: HttpRequest | None = None,
) -> Episode:
    """Change an episode's dates or staff (reallocation)."""
    site_id = episode.young_person.site_id
    require(_may(by, Perm.MANAGE_EPISODES, site_id), "You cannot change episodes at this site.")
    names = _attnames(EPISODE_FIELDS)
    before = snapshot(episode, names)
    schedule_before = _schedule_before(episode.young_person)
    assign_fields(episode, fields, allowed=EPISODE_FIELDS)
    _check_episode_staff(episode, site_id)
    _set_history_user(episode, by)
    clean_and_save(episode)
    changes = diff(before, snapshot(episode, names))
    if changes:
        audit_record(
            actor=by,
            action="cases.episode.updated",
            obj=episode,
            site=episode.young_person.site,
            changes=changes,
            data={"young_person": episode.young_person.study_id},
            request=request,
        )
        _schedule_after(by, episode.young_person, schedule_before, request)
    return episode


@transaction.atomic
def episode_discharge(
    *,
    by: User | None,
    episode: Episode,
    fields: Mapping[str, Any],
    request: HttpRequest | None = None,
) -> Episode:
    """Close an episode with its discharge reason and MST's ultimate outcomes."""
    site_id = episode.young_person.site_id
    require(_may(by, Perm.MANAGE_EPISODES, site_id), "You cannot discharge episodes at this site.")
    if not episode.is_open:
        raise ValidationError("This episode has already ended.")
    if not fields.get("end_date"):
        raise ValidationError({"end_date": "Enter the date the episode ended."})
    if not fields.get("discharge_reason"):
        raise ValidationError({"discharge_reason": "Select why the episode ended."})
    before = snapshot(episode, DISCHARGE_FIELDS)
    schedule_before = _schedule_before(episode.young_person)
    assign_fields(episode, fields, allowed=DISCHARGE_FIELDS)
    _set_history_user(episode, by)
    clean_and_save(episode)
    audit_record(
        actor=by,
        action="cases.episode.discharged",
        obj=episode,
        site=episode.young_person.site,
        changes=diff(before, snapshot(episode, DISCHARGE_FIELDS)),
        data={"young_person": episode.young_person.study_id},
        request=request,
    )
    _schedule_after(by, episode.young_person, schedule_before, request)
    return episode


# Family goals, contacts and professional meetings.

DESIRED_OUTCOME_FIELDS = ("episode", "participant", "outcome")
OVERARCHING_GOAL_FIELDS = ("episode", "number", "description", "agreed_on", "status")
INTERMEDIATE_GOAL_FIELDS = (
    "overarching_goal",
    "week_starting",
    "description",
    "status",
    "advances",
    "barriers",
)
CONTACT_FIELDS = ("episode", "staff", "date", "duration_minutes", "kind", "place", "present")
MEETING_FIELDS = ("date", "duration_minutes", "purpose", "notes")


def _case_record_save(
    *,
    by: User | None,
    young_person: YoungPerson,
    instance: Any,
    fields: Mapping[str, Any],
    allowed: tuple[str, ...],
    action: str,
    request: HttpRequest | None,
) -> Any:
    """Validate, save and audit a record hanging off a young person (create or change)."""
    require(_may(by, Perm.EDIT_CASE, young_person.site_id), "You cannot edit this record.")
    if instance.young_person_id != young_person.pk:
        raise ValidationError("That record belongs to another young person.")
    for name in ("episode", "overarching_goal"):
        related = fields.get(name)
        if related is not None and related.young_person_id != young_person.pk:
            raise ValidationError({name: "Choose one of this young person's own records."})
    creating = instance.pk is None
    # Foreign keys are compared by id ("agency" -> "agency_id"), as the model stores them.
    attnames = tuple(instance._meta.get_field(n).attname for n in allowed)
    before = {} if creating else snapshot(instance, attnames)
    assign_fields(instance, fields, allowed=allowed)
    _set_history_user(instance, by)
    clean_and_save(instance)
    changes = diff(before, snapshot(instance, attnames))
    if creating or changes:
        audit_record(
            actor=by,
            action=f"{action}.{'added' if creating else 'updated'}",
            obj=instance,
            site=young_person.site,
            changes=changes,
            data={"young_person": young_person.study_id},
            request=request,
        )
    return instance


@protocol_gate("cases.desired_outcome.save", _person)
@transaction.atomic
def desired_outcome_save(
    *,
    by: User | None,
    young_person: YoungPerson,
    fields: Mapping[str, Any],
    outcome: DesiredOutcome | None = None,
    request: HttpRequest | None = None,
) -> DesiredOutcome:
    """Record what the family or a key participant wants to change, or change it."""
    return _case_record_save(  # type: ignore[no-any-return]
        by=by,
        young_person=young_person,
        instance=outcome or DesiredOutcome(young_person=young_person),
        fields=fields,
        allowed=DESIRED_OUTCOME_FIELDS,
        action="cases.desired_outcome",
        request=request,
    )


@protocol_gate("cases.overarching_goal.save", _person)
@transaction.atomic
def overarching_goal_save(
    *,
    by: User | None,
    young_person: YoungPerson,
    fields: Mapping[str, Any],
    goal: OverarchingGoal | None = None,
    request: HttpRequest | None = None,
) -> OverarchingGoal:
    """Agree an overarching goal with the family, or change it (its status at discharge)."""
    return _case_record_save(  # type: ignore[no-any-return]
        by=by,
        young_person=young_person,
        instance=goal or OverarchingGoal(young_person=young_person),
        fields=fields,
        allowed=OVERARCHING_GOAL_FIELDS,
        action="cases.overarching_goal",
        request=request,
    )


@protocol_gate("cases.intermediate_goal.save", _person)
@transaction.atomic
def intermediate_goal_save(
    *,
    by: User | None,
    young_person: YoungPerson,
    fields: Mapping[str, Any],
    goal: IntermediateGoal | None = None,
    request: HttpRequest | None = None,
) -> IntermediateGoal:
    """Set a weekly intermediate goal, or review it with its advances and barriers."""
    return _case_record_save(  # type: ignore[no-any-return]
        by=by,
        young_person=young_person,
        instance=goal or IntermediateGoal(young_person=young_person),
        fields=fields,
        allowed=INTERMEDIATE_GOAL_FIELDS,
        action="cases.intermediate_goal",
        request=request,
    )


@protocol_gate("cases.contact.save", _person)
@transaction.atomic
def contact_save(
    *,
    by: User | None,
    young_person: YoungPerson,
    fields: Mapping[str, Any],
    contact: Contact | None = None,
    request: HttpRequest | None = None,
) -> Contact:
    """Record a contact with the family, or change it."""
    return _case_record_save(  # type: ignore[no-any-return]
        by=by,
        young_person=young_person,
        instance=contact or Contact(young_person=young_person),
        fields=fields,
        allowed=CONTACT_FIELDS,
        action="cases.contact",
        request=request,
    )


@protocol_gate("cases.professional_meeting.save", _person)
@transaction.atomic
def professional_meeting_save(
    *,
    by: User | None,
    young_person: YoungPerson,
    fields: Mapping[str, Any],
    attendees: list[Mapping[str, Any]],
    meeting: ProfessionalMeeting | None = None,
    request: HttpRequest | None = None,
) -> ProfessionalMeeting:
    """Record a multi-agency professional meeting and who came, by agency and role."""
    if not attendees:
        raise ValidationError("Add at least one agency that attended.")
    meeting = _case_record_save(
        by=by,
        young_person=young_person,
        instance=meeting or ProfessionalMeeting(young_person=young_person),
        fields=fields,
        allowed=MEETING_FIELDS,
        action="cases.professional_meeting",
        request=request,
    )
    MeetingAttendee.objects.unscoped().filter(meeting=meeting).delete()
    rows = [
        MeetingAttendee(
            meeting=meeting,
            agency=row["agency"],
            role=row.get("role", ""),
            people=row.get("people") or 1,
        )
        for row in attendees
    ]
    for row in rows:
        with scopes_disabled():
            row.full_clean(exclude=["meeting"])
    MeetingAttendee.objects.bulk_create(rows)
    audit_record(
        actor=by,
        action="cases.professional_meeting.attendees_set",
        obj=meeting,
        site=young_person.site,
        data={
            "young_person": young_person.study_id,
            "attendees": [[r.agency_id, r.role, r.people] for r in rows],
        },
        request=request,
    )
    return meeting
