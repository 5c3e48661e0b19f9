"""Worklists, schedules and completeness, computed in a few queries with frozen time."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from mstoutcomes.accounts.models import Role
from mstoutcomes.accounts.tests.factories import member
from mstoutcomes.cases.tests.factories import EpisodeFactory, YoungPersonFactory
from mstoutcomes.core.dates import today
from mstoutcomes.measures import selectors, services
from mstoutcomes.measures.windows import State

START = dt.date(2026, 3, 2)


@pytest.fixture
def caseload(site_a, site_b, alice, carol):
    with time_machine.travel(dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC), tick=False):
        people = []
        for n in range(3):
            person = YoungPersonFactory(site=site_a, study_id=f"AAA-{n:04d}")
            EpisodeFactory(young_person=person, therapist=alice, start_date=START)
            people.append(person)
        other = member(Role.THERAPIST, site_a)
        theirs = YoungPersonFactory(site=site_a, study_id="AAA-0100")
        EpisodeFactory(young_person=theirs, therapist=other, start_date=START)
        away = YoungPersonFactory(site=site_b, study_id="BBB-0001")
        EpisodeFactory(young_person=away, therapist=carol, start_date=START)
    return people


def at(day):
    return time_machine.travel(dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC), tick=False)


def test_worklist_shows_only_the_therapists_own_families_due_this_week(alice, caseload):
    with at(dt.date(2026, 2, 8)):  # the baseline window opens on 16 February
        assert selectors.worklist(user=alice, today=today(), collected_by="therapist") == []
    with at(dt.date(2026, 2, 10)):  # opens within the week: listed as not yet due
        rows = selectors.worklist(user=alice, today=today(), collected_by="therapist")
    assert {r.state for r in rows} == {State.NOT_YET_DUE}
    with at(dt.date(2026, 2, 20)):
        rows = selectors.worklist(user=alice, today=today(), collected_by="therapist")
    assert {r.study_id for r in rows} == {"AAA-0000", "AAA-0001", "AAA-0002"}
    assert {r.task.timepoint for r in rows} == {"baseline"}
    assert {r.state for r in rows} == {State.DUE}


def test_overdue_work_comes_first_and_completed_work_leaves(alice, caseload):
    person = caseload[0]
    with at(dt.date(2026, 3, 10)):
        services.assessment_record(
            by=alice,
            young_person=person,
            instrument="sdq-p",
            respondent="parent",
            completed_on=today(),
            mode="paper",
            responses={"1": 1},
        )
    with at(dt.date(2026, 3, 20)):
        rows = selectors.worklist(user=alice, today=today(), collected_by="therapist")
    assert rows[0].state is State.OVERDUE
    assert ("AAA-0000", "sdq-p", "parent") not in {
        (r.study_id, r.task.instrument, r.task.respondent) for r in rows
    }


def test_research_worklist_covers_the_site_and_research_tasks_only(bob, caseload, alice):
    episode = caseload[0].episodes.get()
    episode.end_date, episode.discharge_reason = dt.date(2026, 6, 30), "completed"
    with at(dt.date(2026, 7, 1)):
        episode.save()
    with at(dt.date(2026, 12, 20)):
        rows = selectors.worklist(user=bob, today=today(), collected_by="research")
    assert {(r.study_id, r.task.timepoint) for r in rows} == {("AAA-0000", "followup_6m")}


def test_worklist_runs_in_a_fixed_number_of_queries(
    alice, caseload, site_a, django_assert_max_num_queries
):
    with at(dt.date(2026, 2, 20)):
        for n in range(20):
            person = YoungPersonFactory(site=site_a, study_id=f"AAA-{200 + n:04d}")
            EpisodeFactory(young_person=person, therapist=alice, start_date=START)
        alice = type(alice).objects.get(pk=alice.pk)
        # Episodes, randomisation dates, assessments, and one more: fixed however many families.
        with django_assert_max_num_queries(4):
            rows = selectors.worklist(user=alice, today=today(), collected_by="therapist")
    assert len({r.study_id for r in rows}) == 23


def test_schedule_states_and_completeness_by_timepoint(alice, caseload):
    person = caseload[0]
    with at(dt.date(2026, 3, 5)):
        services.assessment_record(
            by=alice,
            young_person=person,
            instrument="sdq-p",
            respondent="parent",
            completed_on=today(),
            mode="phone",
            responses={"1": 1},
        )
        services.assessment_mark_not_done(
            by=alice,
            young_person=person,
            schedule="mst-service",
            timepoint="baseline",
            instrument="sdq-t",
            respondent="teacher",
            status="refused",
            reason="",
        )
    with at(dt.date(2026, 4, 1)):
        states = {
            (r.task.timepoint, r.task.instrument): r.state
            for r in selectors.schedule_for_person(user=alice, person=person, today=today())
        }
        rows = selectors.completeness(user=alice, today=today())
    assert states[("baseline", "sdq-p")] is State.COMPLETED_IN_WINDOW
    assert states[("baseline", "sdq-t")] is State.REFUSED
    assert states[("baseline", "sdq-s")] is State.OVERDUE
    assert states[("month_2", "tam-r")] is State.NOT_YET_DUE
    baseline = next(r for r in rows if r.timepoint == "baseline")
    assert (baseline.expected, baseline.in_window, baseline.refused) == (16, 1, 1)
    assert {r.site_id for r in rows} == {person.site_id}  # carol's site is not alice's to see


def test_windows_move_when_the_episode_start_moves(alice, caseload):
    person = caseload[0]
    episode = person.episodes.get()
    with at(dt.date(2026, 3, 20)):
        before = selectors.schedule_for_person(user=alice, person=person, today=today())
        episode.start_date = dt.date(2026, 3, 16)
        episode.save()
        after = selectors.schedule_for_person(user=alice, person=person, today=today())
    baseline_before = next(r for r in before if r.task.timepoint == "baseline")
    baseline_after = next(r for r in after if r.task.timepoint == "baseline")
    assert baseline_before.state is State.OVERDUE
    assert baseline_after.state is State.DUE
    assert timezone.now()  # time-machine restored
