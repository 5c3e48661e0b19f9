import re

import pytest
from django.urls import reverse

from mstoutcomes.accounts.models import AuditEvent, Role
from mstoutcomes.accounts.tests.factories import member
from mstoutcomes.cases.tests.factories import (
    AgencyInvolvementFactory,
    EpisodeFactory,
    FamilyMemberFactory,
    YoungPersonFactory,
)


@pytest.fixture
def jay(site_a, alice):
    person = YoungPersonFactory(
        site=site_a,
        given_name="Jay",
        family_name="Khan",
        study_id="AAA-0001",
        address="1 Acacia Avenue",
        nhs_number="9434765919",
    )
    FamilyMemberFactory(
        young_person=person, given_name="Sara", family_name="Khan", is_primary_carer=True
    )
    AgencyInvolvementFactory(young_person=person, worker_name="Pat Officer")
    EpisodeFactory(young_person=person, therapist=alice)
    return person


def url(person):
    return reverse("cases:detail", args=[person.study_id])


def test_therapist_sees_details_family_agencies_and_episode(client, alice, jay):
    client.force_login(alice)
    html = client.get(url(jay)).content.decode()
    for text in (
        "Jay Khan",
        "1 Acacia Avenue",
        "9434765919",
        "Sara Khan",
        "Pat Officer",
        "Alice Adams",
        "Change details",
    ):
        assert text in html


def test_opening_a_record_is_audited_as_a_read(client, alice, jay):
    client.force_login(alice)
    client.get(url(jay))
    event = AuditEvent.objects.get(action="cases.young_person.viewed")
    assert event.actor == alice
    assert event.object_id == str(jay.pk)
    assert event.data == {"identifiable": True}


def test_read_only_persona_sees_record_without_change_links(client, bob, jay):
    client.force_login(bob)
    html = client.get(url(jay)).content.decode()
    assert "Jay Khan" in html
    assert "Change details" not in html
    assert reverse("cases:family_add", args=[jay.study_id]) not in html


def test_other_site_user_gets_not_found(client, carol, jay):
    client.force_login(carol)
    assert client.get(url(jay)).status_code == 404
    assert not AuditEvent.objects.filter(action="cases.young_person.viewed").exists()


@pytest.mark.parametrize("role", [Role.STATISTICIAN, Role.STEERING_GROUP])
def test_pseudonymised_roles_never_see_names_dates_of_birth_or_addresses(client, site_a, jay, role):
    client.force_login(member(role, site_a))
    html = client.get(url(jay)).content.decode()
    assert "AAA-0001" in html
    # Drop the random CSRF tokens before searching: "Jay" can occur in them by chance.
    html = re.sub(r'("X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[^"]*', "", html)
    for text in (
        "Jay",
        "Khan",
        "Acacia",
        "9434765919",
        "Sara",
        jay.date_of_birth.strftime("%-d %B %Y"),
    ):
        assert text not in html
    assert AuditEvent.objects.get(action="cases.young_person.viewed").data == {
        "identifiable": False
    }


def test_history_is_shown_to_administrators_only(client, site_a, alice, jay):
    admin_user = member(Role.ADMINISTRATOR, site_a)
    client.force_login(alice)
    assert 'id="history"' not in client.get(url(jay)).content.decode()
    client.force_login(admin_user)
    html = client.get(url(jay)).content.decode()
    assert 'id="history"' in html
    assert "cases.young_person.viewed" in html


def test_detail_page_query_count_does_not_grow_with_family_size(
    client, alice, jay, django_assert_max_num_queries
):
    for _ in range(10):
        FamilyMemberFactory(young_person=jay)
        AgencyInvolvementFactory(young_person=jay)
    client.force_login(alice)
    with django_assert_max_num_queries(20):
        assert client.get(url(jay)).status_code == 200
