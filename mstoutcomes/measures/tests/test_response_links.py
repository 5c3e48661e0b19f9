"""Single-use, expiring links for respondents to complete an instrument online."""

import datetime as dt
import re

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from mstoutcomes.accounts.models import AuditEvent
from mstoutcomes.cases.tests.factories import EpisodeFactory, YoungPersonFactory
from mstoutcomes.measures import services
from mstoutcomes.measures.models import Assessment, ResponseLink


@pytest.fixture
def person(site_a, alice):
    person = YoungPersonFactory(site=site_a, study_id="AAA-0001", given_name="Perdita")
    EpisodeFactory(young_person=person, therapist=alice)
    return person


def make_link(client, alice, person, instrument="gbo", respondent="parent"):
    client.force_login(alice)
    page = client.post(reverse("measures:link", args=[person.study_id, instrument, respondent]))
    match = re.search(r"/measures/respond/([\w-]+)/", page.content.decode())
    client.logout()
    return match.group(1) if match else None


def test_a_link_is_shown_once_and_stores_only_its_hash(client, alice, person):
    token = make_link(client, alice, person)
    link = ResponseLink.objects.unscoped().get()
    assert token and token not in link.token_sha256 and len(link.token_sha256) == 64
    assert AuditEvent.objects.filter(action="measures.response_link.created").exists()


def test_a_respondent_answers_once_without_signing_in_and_sees_no_names(client, alice, person):
    token = make_link(client, alice, person)
    url = reverse("measures:respond", args=[token])
    page = client.get(url).content.decode()
    assert "How close are you to reaching goal 1?" in page and "Perdita" not in page
    done = client.post(url, {"item_goal_1": 4, "item_goal_2": 6})
    assert "Thank you" in done.content.decode()
    saved = Assessment.objects.unscoped().get()
    assert (saved.mode, saved.entered_by, saved.scores["scales"]["mean"]["value"]) == (
        "online",
        None,
        5.0,
    )
    assert client.get(url).status_code == 410
    assert client.post(url, {"item_goal_1": 1}).status_code == 410
    assert Assessment.objects.unscoped().count() == 1


def test_a_link_expires_after_seven_days(client, alice, person):
    token = make_link(client, alice, person)
    url = reverse("measures:respond", args=[token])
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=8)):
        assert client.get(url).status_code == 410


def test_unknown_tokens_are_refused(client, person):
    assert client.get(reverse("measures:respond", args=["not-a-token"])).status_code == 410


def test_instruments_without_online_wording_cannot_be_sent(alice, person):
    with pytest.raises(ValidationError, match="cannot be completed online"):
        services.response_link_create(
            by=alice, young_person=person, instrument="sdq-p", respondent="parent"
        )


def test_only_staff_who_enter_measures_at_the_site_make_links(client, carol, person, site_a):
    from mstoutcomes.accounts.models import Role
    from mstoutcomes.accounts.tests.factories import member

    with pytest.raises(PermissionDenied):
        services.response_link_create(
            by=member(Role.STEERING_GROUP, site_a),
            young_person=person,
            instrument="gbo",
            respondent="parent",
        )
    client.force_login(carol)
    url = reverse("measures:link", args=[person.study_id, "gbo", "parent"])
    assert client.post(url).status_code == 404
    assert not ResponseLink.objects.unscoped().exists()
