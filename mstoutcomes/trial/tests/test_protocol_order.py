"""The protocol order, enforced in the services: no treatment before randomisation to MST.

A family awaiting randomisation, or randomised to management as usual, cannot be given an MST
episode, goals, contacts, a professional meeting or a therapist: each attempt is refused with a
plain message and leaves ``cases.protocol.refused`` in the audit trail; pages show the message
(never a 500) and hide the actions. A family randomised to MST is treated as before.
"""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from mstoutcomes.accounts.models import AuditEvent, Role
from mstoutcomes.accounts.tests.factories import AgencyFactory, member
from mstoutcomes.cases import services as cases
from mstoutcomes.cases.models import Contact, Episode, OverarchingGoal
from mstoutcomes.cases.protocol import ProtocolRefused
from mstoutcomes.cases.tests.factories import EpisodeFactory, YoungPersonFactory
from mstoutcomes.trial.models import Allocation, Participant
from mstoutcomes.trial.tests.conftest import make_trial

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()
AWAITING, MAU, MST = "awaiting", "MAU", "MST"


def date_fields(name, value):
    return {f"{name}_0": value.day, f"{name}_1": value.month, f"{name}_2": value.year}


def enrol(trial, person, arm=None, sequence=1):
    """Put a young person in the trial, randomised to ``arm`` (None: awaiting randomisation)."""
    participant = Participant.objects.create(
        trial=trial, young_person=person, site=person.site, levels={}, is_eligible=True
    )
    if arm is not None:
        Allocation.objects.create(
            trial=trial,
            participant=participant,
            arm=arm,
            method="minimisation",
            stratum="*",
            sequence=sequence,
            allocated_at=timezone.now() - dt.timedelta(days=20),
            allocated_by=member(Role.TRIAL_MANAGER, person.site, username=f"tm{sequence}"),
        )
    return participant


@pytest.fixture
def trial(site_a):
    return make_trial(site_a)


@pytest.fixture
def supervisor(site_a):
    return member(Role.SUPERVISOR, site_a, username="sue")


@pytest.fixture
def families(trial, site_a):
    """One family awaiting randomisation, one in management as usual, one in MST."""
    people = {
        AWAITING: YoungPersonFactory(site=site_a),
        MAU: YoungPersonFactory(site=site_a),
        MST: YoungPersonFactory(site=site_a),
    }
    enrol(trial, people[AWAITING])
    enrol(trial, people[MAU], "MAU", 1)
    enrol(trial, people[MST], "MST", 2)
    return people


def refusals(person=None):
    events = AuditEvent.objects.filter(action="cases.protocol.refused")
    if person is not None:
        events = events.filter(data__young_person=person.study_id)
    return events


def _episode_fields(alice):
    return {"start_date": TODAY, "therapist": alice}


@pytest.mark.parametrize(
    ("who", "reason", "message"),
    [
        (AWAITING, "not_randomised", "has not been randomised"),
        (MAU, "management_as_usual", "allocated to management as usual"),
    ],
)
def test_an_mst_episode_is_refused_before_randomisation_to_mst_and_the_attempt_is_audited(
    families, supervisor, alice, who, reason, message
):
    person = families[who]
    with pytest.raises(ProtocolRefused, match=message) as refused:
        cases.episode_open(by=supervisor, young_person=person, fields=_episode_fields(alice))
    assert isinstance(refused.value, ValidationError)
    assert not Episode.objects.unscoped().filter(young_person=person).exists()
    event = refusals(person).get()
    assert event.actor == supervisor
    assert event.data["attempt"] == "cases.episode.open"
    assert event.data["reason"] == reason


def test_a_family_randomised_to_mst_can_start_mst(families, supervisor, alice):
    episode = cases.episode_open(
        by=supervisor, young_person=families[MST], fields=_episode_fields(alice)
    )
    assert episode.pk and not refusals().exists()


def _treatment_writes(person, alice, episode):
    goal = OverarchingGoal(young_person=person, episode=episode, number=1, agreed_on=TODAY)
    return {
        "cases.episode.update": lambda by: cases.episode_update(
            by=by, episode=episode, fields={"expected_end_date": TODAY + dt.timedelta(days=90)}
        ),
        "cases.desired_outcome.save": lambda by: cases.desired_outcome_save(
            by=by, young_person=person, fields={"participant": "Mother", "outcome": "Calmer"}
        ),
        "cases.overarching_goal.save": lambda by: cases.overarching_goal_save(
            by=by,
            young_person=person,
            fields={"number": 1, "description": "School", "agreed_on": TODAY},
        ),
        "cases.intermediate_goal.save": lambda by: cases.intermediate_goal_save(
            by=by,
            young_person=person,
            fields={"overarching_goal": goal, "week_starting": TODAY, "description": "Step"},
        ),
        "cases.contact.save": lambda by: cases.contact_save(
            by=by,
            young_person=person,
            fields={
                "staff": alice,
                "date": TODAY,
                "duration_minutes": 60,
                "kind": "face_to_face",
                "place": "home",
                "present": "Mother",
            },
        ),
        "cases.professional_meeting.save": lambda by: cases.professional_meeting_save(
            by=by,
            young_person=person,
            fields={"date": TODAY, "duration_minutes": 60, "purpose": "other"},
            attendees=[{"agency": AgencyFactory(), "role": "Social worker"}],
        ),
    }


@pytest.mark.parametrize(
    "attempt",
    [
        "cases.episode.update",
        "cases.desired_outcome.save",
        "cases.overarching_goal.save",
        "cases.intermediate_goal.save",
        "cases.contact.save",
        "cases.professional_meeting.save",
    ],
)
@pytest.mark.parametrize("who", [AWAITING, MAU])
def test_every_treatment_write_is_refused_and_audited_until_randomised_to_mst(
    families, supervisor, alice, attempt, who
):
    person = families[who]
    # An episode recorded before the order was enforced (imported): it cannot be changed either.
    episode = EpisodeFactory(young_person=person, therapist=alice, start_date=TODAY)
    write = _treatment_writes(person, alice, episode)[attempt]
    with pytest.raises(ProtocolRefused):
        write(supervisor)
    assert refusals(person).get().data["attempt"] == attempt
    assert not Contact.objects.unscoped().filter(young_person=person).exists()
    assert not OverarchingGoal.objects.unscoped().filter(young_person=person).exists()


@pytest.mark.parametrize("attempt", ["cases.contact.save", "cases.overarching_goal.save"])
def test_treatment_writes_for_an_mst_family_go_ahead(families, supervisor, alice, attempt):
    person = families[MST]
    episode = EpisodeFactory(young_person=person, therapist=alice, start_date=TODAY)
    _treatment_writes(person, alice, episode)[attempt](supervisor)
    assert not refusals().exists()


# -- pages ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "message"),
    [
        (AWAITING, "has not been randomised"),
        (MAU, "allocated to management as usual"),
    ],
)
def test_start_an_mst_episode_page_shows_the_refusal_and_the_record_hides_the_link(
    client, families, supervisor, alice, who, message
):
    person = families[who]
    client.force_login(supervisor)
    detail = client.get(reverse("cases:detail", args=[person.study_id])).content.decode()
    assert "Start an MST episode</a>" not in detail
    assert message in detail
    response = client.post(
        reverse("cases:episode_add", args=[person.study_id]),
        {"therapist": alice.pk, **date_fields("start_date", TODAY)},
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Episode.objects.unscoped().filter(young_person=person).exists()
    assert refusals(person).get().actor == supervisor


def test_an_mst_family_record_offers_the_episode_and_the_page_opens_it(
    client, families, supervisor, alice
):
    person = families[MST]
    client.force_login(supervisor)
    detail = client.get(reverse("cases:detail", args=[person.study_id])).content.decode()
    assert "Start an MST episode</a>" in detail
    response = client.post(
        reverse("cases:episode_add", args=[person.study_id]),
        {"therapist": alice.pk, **date_fields("start_date", TODAY)},
    )
    assert response.status_code == 302
    assert Episode.objects.unscoped().filter(young_person=person).exists()


@pytest.mark.parametrize("who", [AWAITING, MAU])
def test_recording_a_contact_is_refused_on_the_page_and_its_link_hidden(
    client, families, supervisor, alice, who
):
    person = families[who]
    client.force_login(supervisor)
    page = client.get(reverse("cases:contacts", args=[person.study_id])).content.decode()
    assert "Record a contact</a>" not in page and 'id="treatment-refusal"' in page
    goals = client.get(reverse("cases:goals", args=[person.study_id])).content.decode()
    assert "Add an overarching goal</a>" not in goals
    response = client.post(
        reverse("cases:contact_add", args=[person.study_id]),
        {
            "staff": alice.pk,
            **date_fields("date", TODAY),
            "duration_minutes": 60,
            "kind": "face_to_face",
            "place": "home",
            "present": "Mother",
        },
    )
    assert response.status_code == 400
    assert not Contact.objects.unscoped().filter(young_person=person).exists()
    assert refusals(person).get().data["attempt"] == "cases.contact.save"


def test_a_test_mode_trial_refuses_nothing(site_a, supervisor, alice):
    trial = make_trial(site_a, code="START-TEST", test_mode=True)
    person = YoungPersonFactory(site=site_a)
    enrol(trial, person)
    assert cases.episode_open(by=supervisor, young_person=person, fields=_episode_fields(alice))
