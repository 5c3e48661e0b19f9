"""Writes to young people, families and episodes: permitted, validated, audited, all or nothing."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from mstoutcomes.accounts.models import AuditEvent, Role, Site
from mstoutcomes.accounts.services import audit_verify
from mstoutcomes.accounts.tests.factories import AgencyFactory, member
from mstoutcomes.cases.models import (
    DischargeReason,
    Episode,
    FamilyMember,
    Relationship,
    Sex,
    YoungPerson,
)
from mstoutcomes.cases.services import (
    agency_involvement_save,
    episode_discharge,
    episode_open,
    episode_update,
    family_member_save,
    young_person_create,
    young_person_record_view,
    young_person_update,
)
from mstoutcomes.cases.tests.factories import YoungPersonFactory
from mstoutcomes.core.dates import today

pytestmark = pytest.mark.django_db

D = dt.date


def person_fields(**overrides):
    fields = {
        "given_name": "Sam",
        "family_name": "Jones",
        "date_of_birth": D(2010, 5, 17),
        "sex": Sex.MALE,
        "postcode_district": "M33",
    }
    return fields | overrides


def people_count():
    return YoungPerson.objects.unscoped().count()


def episodes_of(person):
    return list(Episode.objects.unscoped().filter(young_person=person))


def actions():
    return list(AuditEvent.objects.order_by("id").values_list("action", flat=True))


@pytest.fixture
def supervisor(site_a):
    return member(Role.SUPERVISOR, site_a, username="sue", first_name="Sue", last_name="Smith")


@pytest.fixture
def person(site_a, alice):
    return young_person_create(by=alice, site=site_a, fields=person_fields())


@pytest.fixture
def episode(person, supervisor, alice):
    fields = {"start_date": D(2024, 1, 10), "therapist": alice, "supervisor": supervisor}
    return episode_open(by=supervisor, young_person=person, fields=fields)


# --- young_person_create ---


def test_young_people_at_a_site_get_consecutive_study_ids(site_a, alice):
    first = young_person_create(by=alice, site=site_a, fields=person_fields())
    second = young_person_create(by=alice, site=site_a, fields=person_fields(given_name="Ali"))

    assert (first.study_id, second.study_id) == ("AAA-0001", "AAA-0002")
    site_a.refresh_from_db()
    assert site_a.next_study_number == 3


def test_each_site_numbers_its_young_people_separately(site_a, site_b, alice, carol):
    young_person_create(by=alice, site=site_a, fields=person_fields())
    at_b = young_person_create(by=carol, site=site_b, fields=person_fields())
    assert at_b.study_id == "BBB-0001"


def test_creating_a_young_person_records_an_audit_event(site_a, alice):
    person = young_person_create(by=alice, site=site_a, fields=person_fields())

    event = AuditEvent.objects.get()
    assert event.action == "cases.young_person.created"
    assert event.actor == alice
    assert event.site == site_a
    assert (event.object_type, event.object_id) == ("cases.youngperson", str(person.pk))
    assert event.changes["study_id"] == [None, "AAA-0001"]
    assert event.changes["given_name"] == [None, "Sam"]
    assert event.changes["date_of_birth"] == [None, "2010-05-17"]
    assert audit_verify().ok


def test_creating_a_young_person_records_who_did_it_in_the_history(site_a, alice):
    person = young_person_create(by=alice, site=site_a, fields=person_fields())

    (record,) = person.history.all()
    assert record.history_type == "+"
    assert record.history_user == alice
    assert record.study_id == "AAA-0001"


def test_a_referring_agency_is_recorded_by_id_in_the_audit(site_a, alice):
    agency = AgencyFactory()
    young_person_create(by=alice, site=site_a, fields=person_fields(referring_agency=agency))
    assert AuditEvent.objects.get().changes["referring_agency_id"] == [None, agency.pk]


@pytest.mark.parametrize("persona", ["bob", "carol"])
def test_a_user_who_cannot_edit_cases_at_the_site_cannot_add_young_people(persona, site_a, request):
    user = request.getfixturevalue(persona)

    with pytest.raises(PermissionDenied, match="cannot add young people at this site"):
        young_person_create(by=user, site=site_a, fields=person_fields())

    assert people_count() == 0
    assert actions() == []
    assert Site.objects.get(pk=site_a.pk).next_study_number == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("date_of_birth", "tomorrow"),
        ("date_of_birth", D(1990, 1, 1)),
        ("postcode_district", "M33 7"),
        ("postcode_district", "33M"),
        ("nhs_number", "9434765910"),
        ("upn", "A801200001001"),
        ("referred_on", "tomorrow"),
        ("sex", "unknown"),
        ("given_name", ""),
    ],
)
def test_a_young_person_with_a_bad_value_is_refused_naming_the_field_and_nothing_is_written(
    field, value, site_a, alice
):
    if value == "tomorrow":
        value = today() + dt.timedelta(days=1)

    with pytest.raises(ValidationError) as excinfo:
        young_person_create(by=alice, site=site_a, fields=person_fields(**{field: value}))

    assert field in excinfo.value.message_dict
    assert people_count() == 0
    assert actions() == []
    assert Site.objects.get(pk=site_a.pk).next_study_number == 1


def test_a_refused_young_person_does_not_use_up_a_study_id(site_a, alice):
    with pytest.raises(ValidationError):
        young_person_create(by=alice, site=site_a, fields=person_fields(nhs_number="123"))
    person = young_person_create(by=alice, site=site_a, fields=person_fields())
    assert person.study_id == "AAA-0001"


def test_identifiers_are_stored_in_their_normal_form(site_a, alice):
    fields = person_fields(
        postcode_district="m33", nhs_number="943 476 5919", upn=" h801200001001 "
    )

    person = young_person_create(by=alice, site=site_a, fields=fields)

    person.refresh_from_db()
    assert (person.postcode_district, person.nhs_number, person.upn) == (
        "M33",
        "9434765919",
        "H801200001001",
    )


@pytest.mark.parametrize("field", ["site", "study_id", "id", "created_at", "shoe_size"])
def test_young_person_create_refuses_fields_callers_may_not_set(field, site_a, site_b, alice):
    value = site_b if field == "site" else "X"

    with pytest.raises(ValidationError, match=f"no editable field.*{field}"):
        young_person_create(by=alice, site=site_a, fields=person_fields(**{field: value}))

    assert people_count() == 0


# --- young_person_update ---


def test_updating_a_young_person_audits_only_the_fields_that_changed(person, alice):
    young_person_update(
        by=alice,
        young_person=person,
        fields={"given_name": "Samuel", "family_name": "Jones", "school": "Sale High"},
    )

    event = AuditEvent.objects.get(action="cases.young_person.updated")
    assert event.changes == {"given_name": ["Sam", "Samuel"], "school": ["", "Sale High"]}
    assert event.actor == alice
    person.refresh_from_db()
    assert person.given_name == "Samuel"
    assert person.history.count() == 2


def test_updating_a_young_person_with_the_same_values_records_no_event(person, alice):
    young_person_update(
        by=alice,
        young_person=person,
        fields={"given_name": "Sam", "date_of_birth": "2010-05-17", "postcode_district": "m33"},
    )
    assert actions() == ["cases.young_person.created"]


def test_a_research_worker_cannot_update_a_young_person(person, bob):
    with pytest.raises(PermissionDenied):
        young_person_update(by=bob, young_person=person, fields={"given_name": "Samuel"})

    assert YoungPerson.objects.unscoped().get().given_name == "Sam"
    assert actions() == ["cases.young_person.created"]


def test_an_update_with_a_bad_value_writes_nothing(person, alice):
    with pytest.raises(ValidationError) as excinfo:
        young_person_update(
            by=alice,
            young_person=person,
            fields={"given_name": "Samuel", "nhs_number": "9434765910"},
        )

    assert "nhs_number" in excinfo.value.message_dict
    assert YoungPerson.objects.unscoped().get().given_name == "Sam"
    assert actions() == ["cases.young_person.created"]


def test_a_young_person_cannot_be_moved_to_another_site_by_update(person, alice, site_b):
    with pytest.raises(ValidationError, match="site"):
        young_person_update(by=alice, young_person=person, fields={"site": site_b})


# --- family members and agency involvement ---


def carer_fields(**overrides):
    fields = {"given_name": "Jo", "relationship": Relationship.MOTHER, "is_primary_carer": True}
    return fields | overrides


def test_adding_a_family_member_is_audited(person, alice):
    carer = family_member_save(by=alice, young_person=person, fields=carer_fields())

    event = AuditEvent.objects.get(action="cases.family_member.added")
    assert event.object_id == str(carer.pk)
    assert event.data == {"young_person": "AAA-0001"}
    assert event.changes["is_primary_carer"] == [None, True]


def test_a_young_person_has_at_most_one_primary_carer(person, alice):
    family_member_save(by=alice, young_person=person, fields=carer_fields())

    with pytest.raises(ValidationError, match="already has a primary carer"):
        family_member_save(
            by=alice,
            young_person=person,
            fields=carer_fields(given_name="Lee", relationship=Relationship.FATHER),
        )

    assert FamilyMember.objects.unscoped().count() == 1
    assert actions().count("cases.family_member.added") == 1


def test_the_primary_carer_can_be_changed_after_the_first_steps_down(person, alice):
    first = family_member_save(by=alice, young_person=person, fields=carer_fields())
    family_member_save(
        by=alice, young_person=person, member=first, fields={"is_primary_carer": False}
    )

    second = family_member_save(
        by=alice, young_person=person, fields=carer_fields(given_name="Lee")
    )

    assert second.is_primary_carer
    event = AuditEvent.objects.get(action="cases.family_member.updated")
    assert event.changes == {"is_primary_carer": [True, False]}


def test_a_primary_carer_must_be_a_carer(person, alice):
    with pytest.raises(ValidationError) as excinfo:
        family_member_save(by=alice, young_person=person, fields=carer_fields(is_carer=False))
    assert "is_primary_carer" in excinfo.value.message_dict


def test_another_young_persons_family_member_cannot_be_changed_through_this_one(
    person, site_a, alice
):
    other = young_person_create(by=alice, site=site_a, fields=person_fields(given_name="Ali"))
    carer = family_member_save(by=alice, young_person=other, fields=carer_fields())

    with pytest.raises(ValidationError, match="belongs to another young person"):
        family_member_save(by=alice, young_person=person, member=carer, fields={"phone": "1"})


def test_a_therapist_at_another_site_cannot_add_family_members(person, carol):
    with pytest.raises(PermissionDenied):
        family_member_save(by=carol, young_person=person, fields=carer_fields())
    assert FamilyMember.objects.unscoped().count() == 0


def test_recording_an_agency_involvement_is_audited(person, alice):
    agency = AgencyFactory()
    agency_involvement_save(
        by=alice, young_person=person, fields={"agency": agency, "worker_name": "Pat"}
    )
    event = AuditEvent.objects.get(action="cases.agency_involvement.added")
    assert event.changes["agency_id"] == [None, agency.pk]


# --- episode_open ---


def test_a_supervisor_opens_an_episode_expected_to_last_four_months(person, supervisor, alice):
    episode = episode_open(
        by=supervisor,
        young_person=person,
        fields={"start_date": D(2023, 10, 31), "therapist": alice},
    )

    assert episode.expected_end_date == D(2024, 2, 29)
    assert episodes_of(person) == [episode]
    event = AuditEvent.objects.get(action="cases.episode.opened")
    assert event.changes["therapist_id"] == [None, alice.pk]
    assert event.data == {"young_person": "AAA-0001"}
    assert episode.history.get().history_user == supervisor


def test_an_expected_end_date_given_when_opening_is_kept(person, supervisor, alice):
    fields = {"start_date": D(2024, 1, 10), "expected_end_date": D(2024, 6, 1), "therapist": alice}
    episode = episode_open(by=supervisor, young_person=person, fields=fields)
    assert episode.expected_end_date == D(2024, 6, 1)


@pytest.mark.parametrize("persona", ["alice", "bob", "carol"])
def test_only_a_supervisor_or_manager_at_the_site_may_open_an_episode(persona, person, request):
    user = request.getfixturevalue(persona)
    fields = {"start_date": D(2024, 1, 10), "therapist": request.getfixturevalue("alice")}

    with pytest.raises(PermissionDenied, match="cannot open episodes"):
        episode_open(by=user, young_person=person, fields=fields)

    assert episodes_of(person) == []


@pytest.mark.parametrize("persona", ["carol", "bob"])
def test_the_therapist_must_be_able_to_work_on_cases_at_the_site(
    persona, person, supervisor, request
):
    therapist = request.getfixturevalue(persona)

    with pytest.raises(ValidationError) as excinfo:
        episode_open(
            by=supervisor,
            young_person=person,
            fields={"start_date": D(2024, 1, 10), "therapist": therapist},
        )

    assert excinfo.value.message_dict == {
        "therapist": ["The therapist must be a member of this young person's site."]
    }
    assert episodes_of(person) == []
    assert "cases.episode.opened" not in actions()


def test_the_supervisor_named_must_supervise_at_the_site(person, supervisor, alice):
    fields = {"start_date": D(2024, 1, 10), "therapist": alice, "supervisor": alice}
    with pytest.raises(ValidationError) as excinfo:
        episode_open(by=supervisor, young_person=person, fields=fields)
    assert "supervisor" in excinfo.value.message_dict


def test_an_episode_needs_a_start_date_and_a_therapist(person, supervisor):
    with pytest.raises(ValidationError) as excinfo:
        episode_open(by=supervisor, young_person=person, fields={})
    assert {"start_date", "therapist"} <= set(excinfo.value.message_dict)


def test_a_second_open_episode_is_refused_with_a_clear_message(episode, person, supervisor, alice):
    with pytest.raises(ValidationError, match="This young person already has an open episode"):
        episode_open(
            by=supervisor,
            young_person=person,
            fields={"start_date": D(2024, 3, 1), "therapist": alice},
        )

    assert episodes_of(person) == [episode]
    assert actions().count("cases.episode.opened") == 1


def test_a_new_episode_may_open_after_the_last_is_discharged(episode, person, supervisor, alice):
    episode_discharge(
        by=supervisor,
        episode=episode,
        fields={"end_date": D(2024, 5, 1), "discharge_reason": DischargeReason.COMPLETED},
    )

    second = episode_open(
        by=supervisor,
        young_person=person,
        fields={"start_date": D(2024, 9, 1), "therapist": alice},
    )

    assert len(episodes_of(person)) == 2
    assert second.is_open


def test_reallocating_an_episode_audits_the_change(episode, supervisor, alice, site_a):
    other = member(Role.THERAPIST, site_a)

    episode_update(by=supervisor, episode=episode, fields={"therapist": other})

    event = AuditEvent.objects.get(action="cases.episode.updated")
    assert event.changes == {"therapist_id": [alice.pk, other.pk]}


# --- episode_discharge ---


def discharge_fields(**overrides):
    fields = {
        "end_date": D(2024, 5, 10),
        "discharge_reason": DischargeReason.COMPLETED,
        "living_at_home": True,
        "in_school_or_work": False,
        "no_new_arrests": None,
        "discharge_notes": "Goals met.",
    }
    return fields | overrides


def test_discharging_records_the_reason_and_the_ultimate_outcomes(episode, supervisor):
    episode_discharge(by=supervisor, episode=episode, fields=discharge_fields())

    stored = Episode.objects.unscoped().get()
    assert not stored.is_open
    assert stored.end_date == D(2024, 5, 10)
    assert stored.discharge_reason == DischargeReason.COMPLETED
    assert (stored.living_at_home, stored.in_school_or_work, stored.no_new_arrests) == (
        True,
        False,
        None,
    )
    event = AuditEvent.objects.get(action="cases.episode.discharged")
    assert event.changes == {
        "end_date": [None, "2024-05-10"],
        "discharge_reason": ["", "completed"],
        "living_at_home": [None, True],
        "in_school_or_work": [None, False],
        "discharge_notes": ["", "Goals met."],
    }
    assert audit_verify().ok


@pytest.mark.parametrize("missing", ["end_date", "discharge_reason"])
def test_discharge_needs_an_end_date_and_a_reason(missing, episode, supervisor):
    with pytest.raises(ValidationError) as excinfo:
        episode_discharge(by=supervisor, episode=episode, fields=discharge_fields(**{missing: ""}))

    assert missing in excinfo.value.message_dict
    assert Episode.objects.unscoped().get().is_open


def test_an_episode_cannot_end_before_it_started(episode, supervisor):
    with pytest.raises(ValidationError, match="on or after the start date"):
        episode_discharge(
            by=supervisor, episode=episode, fields=discharge_fields(end_date=D(2024, 1, 9))
        )

    assert Episode.objects.unscoped().get().is_open
    assert "cases.episode.discharged" not in actions()


def test_an_episode_may_end_on_the_day_it_started(episode, supervisor):
    episode_discharge(
        by=supervisor, episode=episode, fields=discharge_fields(end_date=episode.start_date)
    )
    assert Episode.objects.unscoped().get().length_days == 0


def test_an_episode_cannot_be_discharged_twice(episode, supervisor):
    episode_discharge(by=supervisor, episode=episode, fields=discharge_fields())

    fresh = Episode.objects.unscoped().get()
    with pytest.raises(ValidationError, match="already ended"):
        episode_discharge(
            by=supervisor, episode=fresh, fields=discharge_fields(end_date=D(2024, 6, 1))
        )

    assert Episode.objects.unscoped().get().end_date == D(2024, 5, 10)
    assert actions().count("cases.episode.discharged") == 1


def test_a_therapist_cannot_discharge_an_episode(episode, alice):
    with pytest.raises(PermissionDenied, match="cannot discharge"):
        episode_discharge(by=alice, episode=episode, fields=discharge_fields())
    assert Episode.objects.unscoped().get().is_open


def test_discharge_refuses_fields_that_are_not_about_discharge(episode, supervisor, alice):
    with pytest.raises(ValidationError, match="therapist"):
        episode_discharge(by=supervisor, episode=episode, fields=discharge_fields(therapist=alice))


# --- viewing ---


@pytest.mark.parametrize("identifiable", [True, False])
def test_viewing_a_record_is_audited(identifiable, site_a, bob):
    person = YoungPersonFactory(site=site_a)

    young_person_record_view(by=bob, young_person=person, identifiable=identifiable)

    event = AuditEvent.objects.get()
    assert event.action == "cases.young_person.viewed"
    assert event.actor == bob
    assert event.object_id == str(person.pk)
    assert event.site == site_a
    assert event.data == {"identifiable": identifiable}


def test_the_system_may_write_without_a_user(site_a):
    person = young_person_create(by=None, site=site_a, fields=person_fields())
    assert AuditEvent.objects.get().actor_label == "system"
    assert person.history.get().history_user is None


def test_the_factory_and_the_service_agree_on_a_valid_young_person(site_a):
    # The factory builds rows the service would accept, so other tests start from valid data.
    built = YoungPersonFactory(site=site_a)
    fields = {name: getattr(built, name) for name in ("given_name", "family_name", "sex")}
    fields |= {"date_of_birth": built.date_of_birth, "postcode_district": built.postcode_district}
    young_person_create(by=None, site=site_a, fields=fields)
    assert people_count() == 2
