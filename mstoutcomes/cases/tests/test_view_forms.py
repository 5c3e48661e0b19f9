import datetime as dt

import pytest
from django.urls import reverse

from mstoutcomes.accounts.models import AuditEvent, Role
from mstoutcomes.accounts.tests.factories import AgencyFactory, member
from mstoutcomes.cases.models import Episode, FamilyMember, YoungPerson
from mstoutcomes.cases.tests.factories import (
    EpisodeFactory,
    FamilyMemberFactory,
    YoungPersonFactory,
)


def date_fields(name, value):
    return {f"{name}_0": value.day, f"{name}_1": value.month, f"{name}_2": value.year}


def person_data(**overrides):
    data = {
        "given_name": "Jay",
        "family_name": "Khan",
        "sex": "male",
        "gender": "boy",
        "ethnicity": "white_british",
        "postcode_district": "m33",
        "address": "",
        "school": "",
        "preferred_name": "",
        "nhs_number": "",
        "upn": "",
        "social_care_id": "",
        "yos_id": "",
        "referring_agency": "",
        **date_fields("date_of_birth", dt.date(2012, 3, 27)),
    }
    data.update(overrides)
    return data


@pytest.fixture
def supervisor(site_a):
    return member(Role.SUPERVISOR, site_a, username="sam", first_name="Sam", last_name="Super")


@pytest.fixture
def jay(site_a):
    return YoungPersonFactory(
        site=site_a, given_name="Jay", family_name="Khan", study_id="AAA-0001"
    )


def test_therapist_adds_a_young_person_who_gets_a_study_id(client, alice, site_a):
    client.force_login(alice)
    response = client.post(reverse("cases:create"), person_data())
    person = YoungPerson.objects.unscoped().get()
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:detail", args=[person.study_id])
    assert person.study_id == "AAA-0001"
    assert person.postcode_district == "M33"
    assert AuditEvent.objects.filter(action="cases.young_person.created").count() == 1


def test_add_form_shows_field_errors_and_writes_nothing(client, alice, site_a):
    client.force_login(alice)
    response = client.post(
        reverse("cases:create"),
        person_data(
            given_name="", postcode_district="XX", nhs_number="1234567890", date_of_birth_0=""
        ),
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in html
    assert "Enter the first name" in html
    assert "Enter the date of birth" in html
    assert "Enter the first part of the postcode only" in html
    assert "check digit does not match" in html
    assert not YoungPerson.objects.unscoped().exists()
    assert not AuditEvent.objects.filter(action="cases.young_person.created").exists()


def test_service_validation_errors_appear_against_their_fields(client, alice, site_a):
    client.force_login(alice)
    future = dt.date.today() + dt.timedelta(days=10)
    response = client.post(
        reverse("cases:create"),
        person_data(**date_fields("date_of_birth", future)),
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Date of birth must be in the past." in html
    assert not YoungPerson.objects.unscoped().exists()


def test_user_with_two_sites_chooses_the_site(client, alice, site_b):
    from mstoutcomes.accounts.tests.factories import MembershipFactory

    MembershipFactory(user=alice, site=site_b, role=Role.THERAPIST)
    client.force_login(alice)
    assert 'name="site"' in client.get(reverse("cases:create")).content.decode()
    client.post(reverse("cases:create"), person_data(site=site_b.pk))
    assert YoungPerson.objects.unscoped().get().site == site_b


def test_edit_records_only_changed_fields(client, alice, jay):
    client.force_login(alice)
    data = person_data(family_name="Khan-Smith", **date_fields("date_of_birth", jay.date_of_birth))
    data["postcode_district"] = jay.postcode_district
    data["sex"], data["ethnicity"], data["gender"] = jay.sex, jay.ethnicity, jay.gender
    data.update(date_fields("referred_on", jay.referred_on))
    response = client.post(reverse("cases:edit", args=[jay.study_id]), data)
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="cases.young_person.updated")
    assert event.changes == {"family_name": ["Khan", "Khan-Smith"]}


def test_read_only_and_other_site_personas_cannot_edit(client, bob, carol, jay):
    client.force_login(bob)
    assert client.get(reverse("cases:edit", args=[jay.study_id])).status_code == 403
    assert client.post(reverse("cases:create"), person_data()).status_code == 403
    client.force_login(carol)
    assert client.get(reverse("cases:edit", args=[jay.study_id])).status_code == 404


def test_family_member_added_and_second_primary_carer_refused(client, alice, jay):
    FamilyMemberFactory(young_person=jay, is_primary_carer=True)
    client.force_login(alice)
    data = {
        "given_name": "Lee",
        "family_name": "Khan",
        "relationship": "father",
        "is_carer": "on",
        "is_primary_carer": "on",
        "lives_with_young_person": "on",
        "phone": "",
        "email": "",
    }
    response = client.post(reverse("cases:family_add", args=[jay.study_id]), data)
    assert response.status_code == 400
    assert "already has a primary carer" in response.content.decode()
    data.pop("is_primary_carer")
    response = client.post(reverse("cases:family_add", args=[jay.study_id]), data)
    assert response.status_code == 302
    assert FamilyMember.objects.unscoped().filter(given_name="Lee").exists()


def test_agency_involvement_added(client, alice, jay):
    agency = AgencyFactory(name="Trafford YOS")
    client.force_login(alice)
    response = client.post(
        reverse("cases:involvement_add", args=[jay.study_id]),
        {
            "agency": agency.pk,
            "worker_name": "Pat Officer",
            "worker_role": "YOS officer",
            "worker_email": "pat@example.org",
            "worker_phone": "",
            "started_on_0": "",
            "started_on_1": "",
            "started_on_2": "",
            "ended_on_0": "",
            "ended_on_1": "",
            "ended_on_2": "",
        },
    )
    assert response.status_code == 302
    assert (
        "Pat Officer" in client.get(reverse("cases:detail", args=[jay.study_id])).content.decode()
    )


def test_only_supervisors_open_episodes(client, alice, supervisor, jay):
    url = reverse("cases:episode_add", args=[jay.study_id])
    data = {
        "therapist": alice.pk,
        "supervisor": supervisor.pk,
        **date_fields("start_date", dt.date.today()),
        "expected_end_date_0": "",
        "expected_end_date_1": "",
        "expected_end_date_2": "",
    }
    client.force_login(alice)
    assert client.post(url, data).status_code == 403
    client.force_login(supervisor)
    assert client.post(url, data).status_code == 302
    episode = Episode.objects.unscoped().get()
    assert episode.therapist == alice and episode.expected_end_date is not None


def test_second_open_episode_is_refused_with_a_message(client, alice, supervisor, jay):
    EpisodeFactory(young_person=jay, therapist=alice)
    client.force_login(supervisor)
    response = client.post(
        reverse("cases:episode_add", args=[jay.study_id]),
        {"therapist": alice.pk, **date_fields("start_date", dt.date.today())},
    )
    assert response.status_code == 400
    assert "already has an open episode" in response.content.decode()


def test_discharge_records_reason_and_ultimate_outcomes(client, alice, supervisor, jay):
    episode = EpisodeFactory(young_person=jay, therapist=alice)
    client.force_login(supervisor)
    url = reverse("cases:episode_discharge", args=[jay.study_id, episode.pk])
    missing = client.post(url, {**date_fields("end_date", dt.date.today())})
    assert "Select why the episode ended" in missing.content.decode()
    response = client.post(
        url,
        {
            **date_fields("end_date", dt.date.today()),
            "discharge_reason": "completed",
            "living_at_home": "yes",
            "in_school_or_work": "no",
            "no_new_arrests": "",
            "discharge_notes": "",
        },
    )
    assert response.status_code == 302
    episode.refresh_from_db()
    assert episode.discharge_reason == "completed"
    assert (episode.living_at_home, episode.in_school_or_work, episode.no_new_arrests) == (
        True,
        False,
        None,
    )
    assert client.get(url).status_code == 404


def test_identifiers_typed_with_spaces_are_stored_without_them(client, alice, site_a):
    client.force_login(alice)
    response = client.post(
        reverse("cases:create"),
        person_data(nhs_number="943 476 5919", postcode_district="sw1a"),
    )
    assert response.status_code == 302
    person = YoungPerson.objects.unscoped().get()
    assert (person.nhs_number, person.postcode_district) == ("9434765919", "SW1A")


def test_discharge_date_in_the_future_is_refused(client, alice, supervisor, jay):
    episode = EpisodeFactory(young_person=jay, therapist=alice)
    client.force_login(supervisor)
    response = client.post(
        reverse("cases:episode_discharge", args=[jay.study_id, episode.pk]),
        {
            **date_fields("end_date", dt.date.today() + dt.timedelta(days=3)),
            "discharge_reason": "completed",
        },
    )
    assert response.status_code == 400
    assert "cannot be in the future" in response.content.decode()
    episode.refresh_from_db()
    assert episode.is_open
