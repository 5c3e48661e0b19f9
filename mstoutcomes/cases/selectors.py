"""Reads that show young people to a user: every one is scoped by the user it is given."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Concat
from django.shortcuts import get_object_or_404

from mstoutcomes.accounts.permissions import Perm, site_ids_with_perm
from mstoutcomes.cases.models import Episode, YoungPerson, YoungPersonStatus

SORTS: dict[str, tuple[str, ...]] = {
    "name": ("family_name", "given_name", "study_id"),
    "-name": ("-family_name", "-given_name", "-study_id"),
    "study_id": ("study_id",),
    "-study_id": ("-study_id",),
    "referred": ("referred_on", "study_id"),
    "-referred": ("-referred_on", "-study_id"),
    "age": ("-date_of_birth", "study_id"),
    "-age": ("date_of_birth", "study_id"),
}
# Sorting by name would reveal names to pseudonymised users, so they may only use these.
PSEUDONYMISED_SORTS = ("study_id", "-study_id", "referred", "-referred")


@dataclass(frozen=True)
class CaseloadQuery:
    """What a person asked the caseload list for, already validated."""

    search: str = ""
    status: str = ""
    therapist_id: int | None = None
    sort: str = "name"


def identifiable_site_ids(user: Any) -> set[int]:
    """Return the sites where the user may see names, dates of birth and addresses."""
    return site_ids_with_perm(user, Perm.VIEW_IDENTIFIABLE)


def _with_status(queryset: QuerySet[YoungPerson]) -> QuerySet[YoungPerson]:
    open_episodes = Episode.objects.unscoped().filter(
        young_person=OuterRef("pk"), end_date__isnull=True
    )
    any_episode = Episode.objects.unscoped().filter(young_person=OuterRef("pk"))
    therapist_name = open_episodes.values(
        name=Concat(
            "therapist__first_name", Value(" "), "therapist__last_name", output_field=CharField()
        )
    )[:1]
    return queryset.annotate(
        status=Case(
            When(Exists(open_episodes), then=Value(YoungPersonStatus.IN_TREATMENT)),
            When(Exists(any_episode), then=Value(YoungPersonStatus.DISCHARGED)),
            default=Value(YoungPersonStatus.REFERRED),
            output_field=CharField(),
        ),
        current_therapist_id=Subquery(open_episodes.values("therapist_id")[:1]),
        current_therapist_name=Subquery(therapist_name),
    )


def young_person_list_visible_to(*, user: Any, query: CaseloadQuery) -> QuerySet[YoungPerson]:
    """Return the young people the user may see, searched, filtered and sorted as asked.

    Names are searched only at sites where the user may see names; elsewhere only study IDs.
    """
    queryset = _with_status(YoungPerson.objects.visible_to(user).select_related("site"))
    term = query.search.strip()
    if term:
        by_name = Q()
        for word in term.split():
            by_name &= (
                Q(given_name__icontains=word)
                | Q(family_name__icontains=word)
                | Q(preferred_name__icontains=word)
            )
        queryset = queryset.filter(
            Q(study_id__icontains=term) | (Q(site_id__in=identifiable_site_ids(user)) & by_name)
        )
    if query.status in YoungPersonStatus.values:
        queryset = queryset.filter(status=query.status)  # type: ignore[misc]
    if query.therapist_id is not None:
        queryset = queryset.filter(  # type: ignore[misc]
            current_therapist_id=query.therapist_id
        )
    sort = query.sort if query.sort in SORTS else "name"
    if not _sees_names_everywhere(user) and sort not in PSEUDONYMISED_SORTS:
        sort = "study_id"
    return queryset.order_by(*SORTS[sort])


def _sees_names_everywhere(user: Any) -> bool:
    visible_sites = site_ids_with_perm(user, Perm.VIEW_YOUNG_PEOPLE)
    return visible_sites <= identifiable_site_ids(user)


def allowed_sorts(user: Any) -> tuple[str, ...]:
    """Return the sort keys this user may use."""
    return tuple(SORTS) if _sees_names_everywhere(user) else PSEUDONYMISED_SORTS


def young_person_get_visible(*, user: Any, study_id: str) -> YoungPerson:
    """Return one young person the user may see, or raise Http404 (never 403: no existence leak)."""
    return get_object_or_404(  # type: ignore[no-any-return]
        YoungPerson.objects.visible_to(user).select_related("site", "referring_agency"),
        study_id=study_id,
    )


def young_person_detail(person: YoungPerson) -> dict[str, Any]:
    """Return the family, agencies and episodes of a young person already fetched for a user."""
    return {
        "family_members": list(person.family_members.all()),
        "involvements": list(person.agency_involvements.select_related("agency")),
        "episodes": list(person.episodes.select_related("therapist", "supervisor")),
    }


def caseload_of_therapist(*, user: Any) -> QuerySet[Episode]:
    """Return the open episodes the user holds as therapist, among those the user may see."""
    return (  # type: ignore[no-any-return]
        Episode.objects.visible_to(user)
        .filter(therapist=user, end_date__isnull=True)
        .select_related("young_person")
        .order_by("start_date")
    )


def status_counts(*, user: Any) -> dict[str, int]:
    """Return how many visible young people are referred, in treatment and discharged."""
    rows = (
        _with_status(YoungPerson.objects.visible_to(user))
        .values("status")  # type: ignore[misc]
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = {status: 0 for status in YoungPersonStatus.values}
    for row in rows:
        counts[row["status"]] = row["n"]
    return counts


def team_caseloads(*, user: Any) -> list[dict[str, Any]]:
    """Return open episodes per therapist at the sites the user manages."""
    site_ids = site_ids_with_perm(user, Perm.MANAGE_EPISODES)
    rows = (
        Episode.objects.visible_to(user)
        .filter(end_date__isnull=True, young_person__site_id__in=site_ids)
        .values("therapist_id", "therapist__first_name", "therapist__last_name")
        .annotate(open_episodes=Count("pk"))
        .order_by("therapist__first_name", "therapist__last_name")
    )
    return [
        {
            "therapist_id": row["therapist_id"],
            "name": f"{row['therapist__first_name']} {row['therapist__last_name']}".strip(),
            "open_episodes": row["open_episodes"],
        }
        for row in rows
    ]


def audit_events_for_young_person(*, user: Any, person: YoungPerson) -> QuerySet[Any]:
    """Return the audit trail of a young person and the records under them, for auditors only."""
    from mstoutcomes.accounts.models import AuditEvent

    if person.site_id not in site_ids_with_perm(user, Perm.VIEW_AUDIT):
        return AuditEvent.objects.none()
    return AuditEvent.objects.filter(
        Q(object_type=person._meta.label_lower, object_id=str(person.pk))
        | Q(data__young_person=person.study_id)
    ).select_related("actor")


# Family goals, contacts and professional meetings of a young person already fetched for a user.


def goals_for_person(*, user: Any, person: YoungPerson) -> dict[str, Any]:
    """Return desired outcomes and overarching goals with their intermediate goals (3 queries)."""
    from django.db.models import Prefetch

    from mstoutcomes.cases.models import DesiredOutcome, IntermediateGoal, OverarchingGoal

    weekly = IntermediateGoal.objects.visible_to(user).order_by("-week_starting", "pk")
    return {
        "desired_outcomes": list(
            DesiredOutcome.objects.visible_to(user).filter(young_person=person)
        ),
        "goals": list(
            OverarchingGoal.objects.visible_to(user)
            .filter(young_person=person)
            .select_related("episode")
            .prefetch_related(Prefetch("intermediate_goals", queryset=weekly))
            .order_by("episode__start_date", "number")
        ),
    }


@dataclass(frozen=True)
class PhaseSummary:
    """Contacts, meetings and staff hours in one phase: before, during or after MST."""

    phase: str
    days: int
    meetings: int
    meeting_staff_hours: float
    contacts: int
    contact_hours: float
    hours_by_agency: dict[str, float]

    @property
    def meetings_per_month(self) -> float:
        return round(self.meetings / self.days * 30.44, 2) if self.days else 0.0


def phase_of(day: Any, start: Any, end: Any) -> str:
    """Return "before", "during" or "after" MST for a day (no episode: "before")."""
    if start is None or day < start:
        return "before"
    if end is None or day <= end:
        return "during"
    return "after"


def contacts_and_meetings(*, user: Any, person: YoungPerson, today: Any) -> dict[str, Any]:
    """Return a young person's contacts and meetings, and staff time before, during, after MST.

    Phases are taken from the first episode; "before" and "after" run 12 months either side.
    """
    import datetime as dt

    from django.db.models import Prefetch

    from mstoutcomes.cases.models import Contact, MeetingAttendee, ProfessionalMeeting

    episode = person.episodes.order_by("start_date").first()
    meetings = list(
        ProfessionalMeeting.objects.visible_to(user)
        .filter(young_person=person)
        .prefetch_related(
            Prefetch(
                "attendees",
                queryset=MeetingAttendee.objects.visible_to(user).select_related("agency"),
            )
        )
    )
    contacts = list(
        Contact.objects.visible_to(user).filter(young_person=person).select_related("staff")
    )
    start = episode.start_date if episode else None
    end = episode.end_date if episode else None
    year = dt.timedelta(days=365)
    spans = {
        "before": (start - year, start) if start else (today - year, today),
        "during": (start, end or today) if start else None,
        "after": (end, min(end + year, today)) if end else None,
    }
    summaries = []
    for phase, span in spans.items():
        if span is None:
            continue
        in_phase = [m for m in meetings if phase_of(m.date, start, end) == phase]
        chats = [c for c in contacts if phase_of(c.date, start, end) == phase]
        by_agency: dict[str, float] = {}
        for meeting in in_phase:
            for attendee in meeting.attendees.all():
                hours = meeting.duration_minutes * attendee.people / 60
                by_agency[attendee.agency.name] = by_agency.get(attendee.agency.name, 0) + hours
        summaries.append(
            PhaseSummary(
                phase=phase,
                days=max((span[1] - span[0]).days, 0),
                meetings=len(in_phase),
                meeting_staff_hours=round(sum(by_agency.values()), 1),
                contacts=len(chats),
                contact_hours=round(sum(c.duration_minutes for c in chats) / 60, 1),
                hours_by_agency={k: round(v, 1) for k, v in sorted(by_agency.items())},
            )
        )
    return {"meetings": meetings, "contacts": contacts, "phases": summaries, "episode": episode}
