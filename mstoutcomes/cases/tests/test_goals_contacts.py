"""Family goals, contacts and professional meetings: services, staff time and pages."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from mstoutcomes.accounts.models import AuditEvent, Role
from mstoutcomes.accounts.tests.factories import AgencyFactory, member
from mstoutcomes.cases import selectors, services
from mstoutcomes.cases.models import GoalStatus, MeetingAttendee
from mstoutcomes.cases.tests.factories import EpisodeFactory, YoungPersonFactory

TODAY = dt.date.today()
START = TODAY - dt.timedelta(days=60)


@pytest.fixture
def person(site_a, alice):
    person = YoungPersonFactory(site=site_a, study_id="AAA-0001", given_name="Kestrel")
    EpisodeFactory(young_person=person, therapist=alice, start_date=START)
    return person


@pytest.fixture
def goal(person, alice):
    return services.overarching_goal_save(
        by=alice,
        young_person=person,
        fields={
            "number": 1,
            "description": "Attend school every day",
            "agreed_on": START,
            "status": GoalStatus.IN_PROGRESS,
            "episode": person.episodes.get(),
        },
    )


def meeting(by, person, day, minutes=60, attendees=None):
    agency = AgencyFactory(name=f"Agency for {day}")
    return services.professional_meeting_save(
        by=by,
        young_person=person,
        fields={"date": day, "duration_minutes": minutes, "purpose": "professionals", "notes": ""},
        attendees=attendees or [{"agency": agency, "role": "Social worker", "people": 2}],
    )


def test_goals_are_saved_and_audited_with_the_young_persons_study_id(alice, person, goal):
    weekly = services.intermediate_goal_save(
        by=alice,
        young_person=person,
        fields={
            "overarching_goal": goal,
            "week_starting": TODAY,
            "description": "Up by 7:30",
            "status": GoalStatus.MET,
            "advances": "Alarm clock",
            "barriers": "",
        },
    )
    assert weekly.overarching_goal == goal
    services.overarching_goal_save(
        by=alice, young_person=person, goal=goal, fields={"status": GoalStatus.PARTLY_MET}
    )
    events = AuditEvent.objects.filter(data__young_person="AAA-0001").values_list(
        "action", flat=True
    )
    assert set(events) >= {
        "cases.overarching_goal.added",
        "cases.overarching_goal.updated",
        "cases.intermediate_goal.added",
    }


def test_a_goal_number_is_used_once_per_episode(alice, person, goal):
    with pytest.raises(ValidationError):
        services.overarching_goal_save(
            by=alice,
            young_person=person,
            fields={
                "number": 1,
                "description": "Again",
                "agreed_on": START,
                "episode": person.episodes.get(),
            },
        )


def test_another_persons_goal_cannot_be_linked(alice, person, goal, site_a):
    other = YoungPersonFactory(site=site_a)
    with pytest.raises(ValidationError):
        services.intermediate_goal_save(
            by=alice,
            young_person=other,
            fields={"overarching_goal": goal, "week_starting": TODAY, "description": "x"},
        )


def test_read_only_users_cannot_write_goals(bob, person):
    with pytest.raises(PermissionDenied):
        services.desired_outcome_save(
            by=bob, young_person=person, fields={"participant": "Mother", "outcome": "Calm"}
        )


def test_meetings_and_staff_hours_before_during_and_after_mst(alice, person):
    episode = person.episodes.get()
    meeting(alice, person, START - dt.timedelta(days=100), minutes=90)
    meeting(alice, person, START - dt.timedelta(days=10), minutes=60)
    meeting(alice, person, START + dt.timedelta(days=5), minutes=30)
    services.contact_save(
        by=alice,
        young_person=person,
        fields={
            "staff": alice,
            "date": START + dt.timedelta(days=1),
            "duration_minutes": 90,
            "kind": "face_to_face",
            "place": "home",
            "present": "Mother",
            "episode": episode,
        },
    )
    result = selectors.contacts_and_meetings(user=alice, person=person, today=TODAY)
    phases = {p.phase: p for p in result["phases"]}
    assert set(phases) == {"before", "during"}
    assert phases["before"].meetings == 2
    assert phases["before"].meeting_staff_hours == 5.0  # (90 + 60) min × 2 people
    assert phases["during"].meetings == 1 and phases["during"].contact_hours == 1.5


def test_a_meeting_needs_an_agency(alice, person):
    with pytest.raises(ValidationError):
        services.professional_meeting_save(
            by=alice,
            young_person=person,
            fields={"date": TODAY, "duration_minutes": 30, "purpose": "other", "notes": ""},
            attendees=[],
        )


def test_changing_attendees_replaces_them(alice, person):
    saved = meeting(alice, person, TODAY)
    agency = AgencyFactory()
    services.professional_meeting_save(
        by=alice,
        young_person=person,
        meeting=saved,
        fields={"date": TODAY, "duration_minutes": 45, "purpose": "education", "notes": ""},
        attendees=[{"agency": agency, "role": "Head of year", "people": 1}],
    )
    assert list(MeetingAttendee.objects.unscoped().values_list("agency", flat=True)) == [agency.pk]


# fmt: off
# bob is a research worker: blind to allocation, so treatment records are refused (403).
#                        alice bob  carol
PAGES = {
    "cases:goals":        (200, 403, 404),
    "cases:outcome_add":  (200, 403, 404),
    "cases:goal_add":     (200, 403, 404),
    "cases:goal_edit":    (200, 403, 404),
    "cases:weekly_add":   (200, 403, 404),
    "cases:contacts":     (200, 403, 404),
    "cases:contact_add":  (200, 403, 404),
    "cases:meeting_add":  (200, 403, 404),
}
# fmt: on


@pytest.mark.parametrize("name", list(PAGES))
def test_goal_and_contact_pages_for_every_persona(client, person, goal, alice, bob, carol, name):
    args = [person.study_id, goal.pk] if name == "cases:goal_edit" else [person.study_id]
    seen = []
    for persona in (alice, bob, carol):
        client.force_login(persona)
        seen.append(client.get(reverse(name, args=args)).status_code)
    assert tuple(seen) == PAGES[name]


def test_recording_a_meeting_through_the_form(client, person, alice):
    agency = AgencyFactory(name="Children's social care")
    client.force_login(alice)
    response = client.post(
        reverse("cases:meeting_add", args=[person.study_id]),
        {
            "date_0": TODAY.day,
            "date_1": TODAY.month,
            "date_2": TODAY.year,
            "duration_minutes": 60,
            "purpose": "child_in_need",
            "notes": "",
            "agency_0": agency.pk,
            "role_0": "Social worker",
            "people_0": 1,
        },
    )
    assert response.status_code == 302
    page = client.get(reverse("cases:contacts", args=[person.study_id])).content.decode()
    assert "Child in need review" in page and "Children&#x27;s social care" in page


def test_contacts_page_runs_in_few_queries(client, person, alice, django_assert_max_num_queries):
    for n in range(5):
        meeting(alice, person, TODAY - dt.timedelta(days=n))
    client.force_login(alice)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("cases:contacts", args=[person.study_id])).status_code == 200


def test_the_unblinded_statistician_sees_goals_without_names(client, person, goal, site_a):
    client.force_login(member(Role.UNBLINDED_STATISTICIAN, site_a))
    page = client.get(reverse("cases:goals", args=[person.study_id])).content.decode()
    assert "Attend school every day" in page and "Kestrel" not in page


def test_the_steering_group_is_blind_to_goals(client, person, goal, site_a):
    client.force_login(member(Role.STEERING_GROUP, site_a))
    assert client.get(reverse("cases:goals", args=[person.study_id])).status_code == 403


def test_an_existing_meeting_opens_for_editing_with_its_attendees(client, alice, person):
    saved = meeting(alice, person, TODAY, minutes=45)
    client.force_login(alice)
    response = client.get(reverse("cases:meeting_edit", args=[person.study_id, saved.pk]))
    assert response.status_code == 200
    attendee = saved.attendees.unscoped().get()
    assert f'value="{attendee.agency_id}" selected' in response.content.decode()
