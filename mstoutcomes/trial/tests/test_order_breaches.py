"""Records already in the database that break the protocol order, and CONSORT from real treatment.

Data imported or recorded before the order was enforced can hold MST treatment before
randomisation, for a family in management as usual, or for one never randomised. They appear on
the deviations page as possible deviations; CONSORT's "received allocated intervention" counts the
treatment actually recorded, never the allocation.
"""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from mstoutcomes.accounts.models import Role
from mstoutcomes.accounts.tests.factories import member
from mstoutcomes.cases.models import Contact, OverarchingGoal
from mstoutcomes.cases.tests.factories import EpisodeFactory, YoungPersonFactory
from mstoutcomes.measures.tests.factories import AssessmentFactory
from mstoutcomes.trial.order import (
    BEFORE_RANDOMISATION,
    MANAGEMENT_AS_USUAL,
    NOT_RANDOMISED,
    order_breaches,
)
from mstoutcomes.trial.selectors import RECEIVED_MST, consort_dispositions
from mstoutcomes.trial.tests.conftest import make_trial
from mstoutcomes.trial.tests.test_protocol_order import enrol

pytestmark = pytest.mark.django_db

RANDOMISED_ON = timezone.localdate(timezone.now() - dt.timedelta(days=20))


@pytest.fixture
def trial(site_a):
    return make_trial(site_a)


@pytest.fixture
def records(trial, site_a, alice):
    """An MST family whose episode began before randomisation, a management-as-usual family
    with contacts, an unrandomised family with a goal, and an MST family treated in order."""
    early = YoungPersonFactory(site=site_a, study_id="AAA-0001")
    mau = YoungPersonFactory(site=site_a, study_id="AAA-0002")
    waiting = YoungPersonFactory(site=site_a, study_id="AAA-0003")
    fine = YoungPersonFactory(site=site_a, study_id="AAA-0004")
    enrol(trial, early, "MST", 1)
    enrol(trial, mau, "MAU", 2)
    enrol(trial, waiting)
    enrol(trial, fine, "MST", 3)
    EpisodeFactory(
        young_person=early, therapist=alice, start_date=RANDOMISED_ON - dt.timedelta(days=5)
    )
    after = EpisodeFactory(
        young_person=fine, therapist=alice, start_date=RANDOMISED_ON + dt.timedelta(days=3)
    )
    AssessmentFactory(
        young_person=fine,
        schedule="mst-service",
        timepoint="baseline",
        completed_on=after.start_date,
    )
    for days in (2, 9):
        Contact.objects.create(
            young_person=mau,
            staff=alice,
            date=RANDOMISED_ON + dt.timedelta(days=days),
            duration_minutes=60,
            kind="face_to_face",
            place="home",
        )
    OverarchingGoal.objects.create(
        young_person=waiting, number=1, description="School", agreed_on=RANDOMISED_ON
    )
    return {"early": early, "mau": mau, "waiting": waiting, "fine": fine}


def test_breaches_of_the_order_are_found_in_the_records(trial, records):
    found = {(b.study_id, b.kind): b for b in order_breaches(trial=trial)}
    assert set(found) == {
        ("AAA-0001", BEFORE_RANDOMISATION),
        ("AAA-0002", MANAGEMENT_AS_USUAL),
        ("AAA-0003", NOT_RANDOMISED),
    }
    early = found[("AAA-0001", BEFORE_RANDOMISATION)]
    assert early.on == RANDOMISED_ON - dt.timedelta(days=5)
    assert "MST episode dated" in early.detail and "before randomisation" in early.detail
    assert "2 contacts recorded" in found[("AAA-0002", MANAGEMENT_AS_USUAL)].detail
    assert found[("AAA-0003", NOT_RANDOMISED)].participant_id
    assert order_breaches(trial=trial, site_ids=[]) == []


def test_treatment_measures_before_randomisation_are_breaches(trial, records):
    AssessmentFactory(
        young_person=records["fine"],
        schedule="mst-service",
        timepoint="baseline",
        completed_on=RANDOMISED_ON - dt.timedelta(days=1),
    )
    kinds = [(b.study_id, b.detail) for b in order_breaches(trial=trial)]
    assert any(sid == "AAA-0004" and "Treatment measure" in detail for sid, detail in kinds)


def test_breaches_take_a_fixed_number_of_queries(trial, records, site_a, alice):
    with CaptureQueriesContext(connection) as few:
        order_breaches(trial=trial)
    for n in range(5):
        person = YoungPersonFactory(site=site_a)
        enrol(trial, person, "MAU", 10 + n)
        EpisodeFactory(young_person=person, therapist=alice, start_date=RANDOMISED_ON)
    with CaptureQueriesContext(connection) as many:
        assert len(order_breaches(trial=trial)) == 8
    assert len(many) == len(few) <= 7


def test_the_deviations_page_lists_possible_deviations_with_a_link_to_log_each(
    client, trial, records, site_a
):
    manager = member(Role.TRIAL_MANAGER, site_a, username="tina")
    client.force_login(manager)
    page = client.get(reverse("trial:deviations", args=[trial.code])).content.decode()
    assert "Possible deviations found in the records" in page
    assert "MST treatment in the management-as-usual arm" in page
    assert page.count("Log as a deviation<") == 3
    add = reverse("trial:deviation_add", args=[trial.code])
    assert f'href="{add}?participant=' in page
    participant = records["early"].trial_participations.get()
    form = client.get(
        add,
        {
            "participant": participant.pk,
            "on": (RANDOMISED_ON - dt.timedelta(days=5)).isoformat(),
            "category": "intervention",
            "description": "MST episode dated before randomisation.",
        },
    )
    assert form.status_code == 200
    assert form.context["form"].initial["participant"] == participant.pk
    assert "MST episode dated before randomisation." in form.content.decode()


def test_possible_deviations_are_not_shown_to_those_who_cannot_see_the_log(
    client, trial, records, alice
):
    client.force_login(alice)
    assert client.get(reverse("trial:deviations", args=[trial.code])).status_code == 403


# -- CONSORT: received allocated intervention -------------------------------------------------


def test_received_allocated_intervention_comes_from_the_treatment_recorded(trial, records):
    by_id = {
        d.participant_id: d for d in consort_dispositions(trial=trial, cut_off=dt.date.today())
    }
    assert by_id["AAA-0001"].received_allocated is True  # MST episode started
    assert by_id["AAA-0004"].received_allocated is True
    mau = by_id["AAA-0002"]
    assert mau.received_allocated is False and mau.not_received_reason == RECEIVED_MST
    assert by_id["AAA-0003"].arm is None


def test_an_mst_family_without_an_episode_did_not_receive_mst_and_mau_without_mst_did(
    trial, site_a
):
    untreated = YoungPersonFactory(site=site_a, study_id="AAA-0010")
    usual = YoungPersonFactory(site=site_a, study_id="AAA-0011")
    enrol(trial, untreated, "MST", 1)
    enrol(trial, usual, "MAU", 2)
    by_id = {
        d.participant_id: d for d in consort_dispositions(trial=trial, cut_off=dt.date.today())
    }
    assert by_id["AAA-0010"].received_allocated is False
    assert by_id["AAA-0010"].not_received_reason == "Not started"
    assert by_id["AAA-0011"].received_allocated is True
