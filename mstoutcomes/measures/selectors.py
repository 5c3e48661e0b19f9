"""Reads of assessments, schedules and worklists, each scoped by the user it is given.

Due dates are computed, never stored: a worklist reads the anchors (episodes) and what was
recorded (assessments) in two queries, whatever the number of young people, and works out the
windows and states in Python.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from mstoutcomes.accounts.permissions import Perm, site_ids_with_perm
from mstoutcomes.cases.models import Episode, YoungPerson
from mstoutcomes.measures import registry
from mstoutcomes.measures.anchors import (
    NOT_IN_TRIAL,
    anchor_dates,
    anchors_for_person,
    research_anchors,
)
from mstoutcomes.measures.models import Assessment, AssessmentStatus
from mstoutcomes.measures.windows import DueTask, Record, State, due_tasks, task_state

# Overdue work older than this drops off worklists (it still counts in completeness).
OVERDUE_LOOKBACK_DAYS = 120
WEEK = dt.timedelta(days=7)


@dataclass(frozen=True)
class TaskRow:
    """A scheduled task for one young person, with its state and what was recorded."""

    person_id: int
    study_id: str
    name: str
    site_id: int
    therapist: str
    task: DueTask
    state: State
    assessment_id: int | None = None


def _anchors(episode: Any) -> dict[str, dt.date | None]:
    return anchor_dates(
        referred_on=episode["young_person__referred_on"],
        episode_start=episode["start_date"],
        episode_end=episode["end_date"],
        research=episode.get("research", NOT_IN_TRIAL),
    )


def _add_research_anchors(rows: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """Attach each young person's research anchors (one query through the providers)."""
    research = research_anchors(list(rows)) if rows else {}
    for person_id, row in rows.items():
        row["research"] = research.get(person_id, NOT_IN_TRIAL)
    return list(rows.values())


def _latest_episodes(queryset: QuerySet[Episode]) -> list[dict[str, Any]]:
    rows = queryset.order_by("young_person_id", "-start_date").values(
        "young_person_id",
        "young_person__study_id",
        "young_person__given_name",
        "young_person__family_name",
        "young_person__site_id",
        "young_person__referred_on",
        "start_date",
        "end_date",
        "therapist__first_name",
        "therapist__last_name",
    )
    latest: dict[int, dict[str, Any]] = {}
    for row in rows:
        latest.setdefault(row["young_person_id"], dict(row))
    return _add_research_anchors(latest)


def _research_people_without_episode(
    people: QuerySet[YoungPerson], covered: QuerySet[Episode]
) -> list[dict[str, Any]]:
    """Return anchor rows for young people in a study who have no episode (e.g. the control arm).

    Their trial schedule runs from consent and randomisation whatever arm they are in (or before
    randomisation), so they must appear on worklists exactly as people with an episode do:
    otherwise the lists would reveal the arm. ``covered``: the episodes the caller already read
    (as the user may see them), whose young people are left out here. Two queries: the study's
    anchors for everyone else (as a subquery), then those people's rows.
    """
    uncovered = people.exclude(Exists(covered.filter(young_person=OuterRef("pk"))))
    research = research_anchors(uncovered.values("pk"))
    anchored = {
        pid: r
        for pid, r in research.items()
        if r.in_trial and (r.consent_anchor is not None or r.randomised_on is not None)
    }
    if not anchored:
        return []
    rows = people.filter(pk__in=list(anchored)).values(
        "pk", "study_id", "given_name", "family_name", "site_id", "referred_on"
    )
    return [
        {
            "young_person_id": row["pk"],
            "young_person__study_id": row["study_id"],
            "young_person__given_name": row["given_name"],
            "young_person__family_name": row["family_name"],
            "young_person__site_id": row["site_id"],
            "young_person__referred_on": row["referred_on"],
            "start_date": None,
            "end_date": None,
            "therapist__first_name": "",
            "therapist__last_name": "",
            "research": anchored[row["pk"]],
        }
        for row in rows
    ]


def _records(queryset: QuerySet[Assessment]) -> dict[tuple[int, tuple[str, ...]], list[Any]]:
    records: dict[tuple[int, tuple[str, ...]], list[Any]] = defaultdict(list)
    for row in queryset.exclude(timepoint="").values_list(
        "pk",
        "young_person_id",
        "schedule",
        "timepoint",
        "instrument",
        "respondent",
        "status",
        "completed_on",
        "reason",
    ):
        pk, person, schedule, timepoint, instrument, respondent, status, on, reason = row
        key = (person, (schedule, timepoint, instrument, respondent))
        records[key].append((pk, Record(status, on, reason)))
    return records


def _rows(
    episodes: Iterable[dict[str, Any]],
    records: dict[tuple[int, tuple[str, ...]], list[Any]],
    today: dt.date,
    identifiable_sites: set[int],
    *,
    collected_by: str = "",
    keep: Callable[[DueTask, State], bool] | None = None,
) -> Iterable[TaskRow]:
    schedules = list(registry.schedules().values())
    no_records: list[Any] = []
    for episode in episodes:
        person_id = episode["young_person_id"]
        anchors = _anchors(episode)
        site_id = episode["young_person__site_id"]
        name = (
            f"{episode['young_person__given_name']} {episode['young_person__family_name']}"
            if site_id in identifiable_sites
            else ""
        )
        therapist = f"{episode['therapist__first_name']} {episode['therapist__last_name']}"
        # Withdrawal from further data collection stops research collection (the trial's
        # follow-up); what therapists record in treatment is the service's, not the study's.
        stopped = episode.get("research", NOT_IN_TRIAL).data_stopped_on
        for schedule in schedules:
            for task in due_tasks(schedule, anchors, collected_by=collected_by):
                found = records.get((person_id, task.key), no_records)
                state = task_state(
                    task,
                    [r for _, r in found],
                    today,
                    data_stopped_on=stopped if task.collected_by == "research" else None,
                )
                if keep is not None and not keep(task, state):
                    continue
                done = [pk for pk, r in found if r.status == AssessmentStatus.COMPLETED]
                yield TaskRow(
                    person_id=person_id,
                    study_id=episode["young_person__study_id"],
                    name=name,
                    site_id=site_id,
                    therapist=therapist.strip(),
                    task=task,
                    state=state,
                    assessment_id=done[0] if done else None,
                )


def schedule_for_person(*, user: Any, person: YoungPerson, today: dt.date) -> list[TaskRow]:
    """Return every scheduled task of a young person the user already holds, with states."""
    covered = Episode.objects.visible_to(user).filter(young_person=person)
    episodes = _latest_episodes(covered)
    if not episodes:
        episodes = _research_people_without_episode(
            YoungPerson.objects.visible_to(user).filter(pk=person.pk), covered
        )
    records = _records(Assessment.objects.visible_to(user).filter(young_person=person))
    identifiable = site_ids_with_perm(user, Perm.VIEW_IDENTIFIABLE)
    return list(_rows(episodes, records, today, identifiable))


def _timepoint_codes(collected_by: str) -> set[str]:
    codes = set()
    for schedule in registry.schedules().values():
        for timepoint in schedule.timepoints:
            if timepoint.collected_by == collected_by:
                count = timepoint.repeat_count if timepoint.repeat_every_months else 0
                codes |= {f"{timepoint.code}_{n}" for n in range(1, count + 1)} or {timepoint.code}
    return codes


def worklist(*, user: Any, today: dt.date, collected_by: str) -> list[TaskRow]:
    """Return the due and overdue work for the user, in two queries.

    collected_by="therapist": tasks therapists collect, for the user's own open caseload.
    collected_by="research": tasks research workers collect, for every visible young person at
    the sites where the user enters measures.
    """
    sites = site_ids_with_perm(user, Perm.ENTER_MEASURES)
    episodes_qs = Episode.objects.visible_to(user).filter(young_person__site_id__in=sites)
    assessments_qs = Assessment.objects.visible_to(user).filter(young_person__site_id__in=sites)
    if collected_by == "therapist":
        mine = Episode.objects.unscoped().filter(
            young_person=OuterRef("young_person"), therapist=user, end_date__isnull=True
        )
        episodes_qs = episodes_qs.filter(therapist=user, end_date__isnull=True)
        assessments_qs = assessments_qs.filter(Exists(mine))
    # Read only what was recorded at this worklist's timepoints.
    assessments_qs = assessments_qs.filter(timepoint__in=_timepoint_codes(collected_by))
    horizon = today + WEEK
    oldest = today - dt.timedelta(days=OVERDUE_LOOKBACK_DAYS)

    def keep(task: DueTask, state: State) -> bool:
        return (
            state is State.DUE
            or (state is State.OVERDUE and task.closes >= oldest)
            or (state is State.NOT_YET_DUE and task.opens <= horizon)
        )

    anchor_rows = _latest_episodes(episodes_qs)
    if collected_by == "research":
        anchor_rows += _research_people_without_episode(
            YoungPerson.objects.visible_to(user).filter(site_id__in=sites), episodes_qs
        )
    rows = list(
        _rows(
            anchor_rows,
            _records(assessments_qs),
            today,
            site_ids_with_perm(user, Perm.VIEW_IDENTIFIABLE),
            collected_by=collected_by,
            keep=keep,
        )
    )
    return sorted(rows, key=lambda r: (r.state is not State.OVERDUE, r.task.closes, r.study_id))


@dataclass(frozen=True)
class CompletenessRow:
    schedule: str
    timepoint: str
    site_id: int
    expected: int
    in_window: int
    out_of_window: int
    missed: int
    refused: int
    outstanding: int

    @property
    def completed(self) -> int:
        return self.in_window + self.out_of_window

    @property
    def percent(self) -> int:
        return round(100 * self.completed / self.expected) if self.expected else 0


def _timepoint_group(code: str) -> str:
    # month_1, month_2… report together as "month".
    head, _, tail = code.rpartition("_")
    return head if tail.isdigit() and head else code


def completeness(*, user: Any, today: dt.date) -> list[CompletenessRow]:
    """Return, per site and timepoint, how many tasks whose window has opened were completed."""
    episodes = Episode.objects.visible_to(user)
    rows = _rows(
        _latest_episodes(episodes)
        + _research_people_without_episode(YoungPerson.objects.visible_to(user), episodes),
        _records(Assessment.objects.visible_to(user)),
        today,
        set(),
    )
    tally: dict[tuple[str, str, int], dict[State, int]] = defaultdict(lambda: defaultdict(int))
    order: dict[tuple[str, str, int], dt.date] = {}
    for row in rows:
        if row.state in (State.NOT_YET_DUE, State.WITHDRAWN):
            continue  # not expected (yet, or any more: withdrew from further data collection)
        key = (row.task.schedule, _timepoint_group(row.task.timepoint), row.site_id)
        tally[key][row.state] += 1
        order[key] = min(order.get(key, row.task.due), row.task.due)
    result = []
    for key, counts in tally.items():
        result.append(
            CompletenessRow(
                schedule=key[0],
                timepoint=key[1],
                site_id=key[2],
                expected=sum(counts.values()),
                in_window=counts[State.COMPLETED_IN_WINDOW],
                out_of_window=counts[State.COMPLETED_OUT_OF_WINDOW],
                missed=counts[State.MISSED],
                refused=counts[State.REFUSED],
                outstanding=counts[State.DUE] + counts[State.OVERDUE],
            )
        )
    return sorted(
        result, key=lambda r: (r.site_id, r.schedule, order[(r.schedule, r.timepoint, r.site_id)])
    )


def assessments_for_person(*, user: Any, person: YoungPerson) -> QuerySet[Assessment]:
    """Return a young person's assessments, newest first, with who entered them."""
    return (
        Assessment.objects.visible_to(user)
        .filter(young_person=person)
        .select_related("entered_by")
        .order_by("-completed_on", "-pk")
    )


def assessment_get_visible(*, user: Any, person: YoungPerson, pk: int) -> Assessment:
    from django.shortcuts import get_object_or_404

    return get_object_or_404(  # type: ignore[no-any-return]
        assessments_for_person(user=user, person=person), pk=pk
    )


def scale_series(*, user: Any, person: YoungPerson) -> list[dict[str, Any]]:
    """Return every completed scale score of a young person, oldest first, for charts."""
    from mstoutcomes.measures.models import ScaleScore

    return list(
        ScaleScore.objects.visible_to(user)
        .filter(
            assessment__young_person=person,
            assessment__status=AssessmentStatus.COMPLETED,
            value__isnull=False,
        )
        .order_by("assessment__completed_on", "assessment_id")
        .values(
            "scale",
            "value",
            "prorated",
            "assessment_id",
            "assessment__instrument",
            "assessment__respondent",
            "assessment__completed_on",
            "assessment__timepoint",
        )
    )


def assessment_window(assessment: Assessment) -> DueTask | None:
    """Return the scheduled task (with its window) an assessment was recorded against, if any."""
    schedule = registry.schedules().get(assessment.schedule)
    if schedule is None or not assessment.timepoint:
        return None
    person = assessment.young_person
    episode = (
        Episode.objects.unscoped()
        .filter(young_person=person)
        .order_by("-start_date")
        .values("start_date", "end_date")
        .first()
    )
    anchors = anchor_dates(
        referred_on=person.referred_on,
        episode_start=episode["start_date"] if episode else None,
        episode_end=episode["end_date"] if episode else None,
        research=anchors_for_person(person.pk),
    )
    key = (assessment.schedule, assessment.timepoint, assessment.instrument, assessment.respondent)
    return next((t for t in due_tasks(schedule, anchors) if t.key == key), None)


def entered_by_text(assessment: Assessment, *, blinded: bool) -> str:
    """Return who entered an assessment: their name, or to a blinded viewer only their role."""
    from mstoutcomes.accounts.models import Role
    from mstoutcomes.accounts.permissions import grants_for
    from mstoutcomes.measures.blinding import role_phrase

    user = assessment.entered_by
    if user is None:
        return "The respondent, online" if assessment.mode == "online" else "The system"
    if not blinded:
        return str(user)
    site_id = assessment.young_person.site_id
    roles = sorted({g.role for g in grants_for(user) if g.site_id == site_id}) or sorted(
        {g.role for g in grants_for(user)}
    )
    if not roles:
        return "A member of staff"
    phrase = role_phrase(Role(roles[0]).label)
    return phrase[0].upper() + phrase[1:]
