"""A research worker blind to allocation never sees the arm on any page they can open.

Two randomised young people at one site: one in MST (episode with a therapist, a family goal,
measures taken during treatment) and one in management as usual (no episode). Every page the
blinded research worker can open is rendered for both, and none may contain anything that
reveals the arm; the pages for the two must also look alike (same trial timepoints).
"""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from mstoutcomes.accounts.models import Role
from mstoutcomes.accounts.tests.factories import member
from mstoutcomes.cases.models import OverarchingGoal
from mstoutcomes.cases.tests.factories import EpisodeFactory, YoungPersonFactory
from mstoutcomes.measures.tests.factories import AssessmentFactory
from mstoutcomes.trial.models import Allocation, Participant
from mstoutcomes.trial.tests.conftest import make_trial

pytestmark = pytest.mark.django_db

REVEALING = [
    "Alice Adams",  # the MST therapist
    "Management as usual",
    "Multisystemic Therapy",
    "In treatment",
    "MST started",
    "Family goals",
    "Goal 1",
]


def randomise(trial, person, arm, sequence):
    participant = Participant.objects.create(
        trial=trial, young_person=person, site=person.site, levels={}, is_eligible=True
    )
    Allocation.objects.create(
        trial=trial,
        participant=participant,
        arm=arm,
        method="minimisation",
        stratum="*",
        sequence=sequence,
        allocated_at=timezone.now() - dt.timedelta(days=20),
        allocated_by=member(Role.TRIAL_MANAGER, person.site),
    )


@pytest.fixture
def world(site_a, alice):
    trial = make_trial(
        site_a,
        arms=[
            {"code": "MAU", "name": "Management as usual"},
            {"code": "MST", "name": "Multisystemic Therapy"},
        ],
    )
    in_mst = YoungPersonFactory(site=site_a, study_id="AAA-0101", given_name="Mona")
    in_mau = YoungPersonFactory(site=site_a, study_id="AAA-0102", given_name="Colin")
    randomise(trial, in_mst, "MST", 1)
    randomise(trial, in_mau, "MAU", 2)
    episode = EpisodeFactory(
        young_person=in_mst, therapist=alice, start_date=dt.date.today() - dt.timedelta(days=15)
    )
    OverarchingGoal.objects.create(
        young_person=in_mst,
        episode=episode,
        number=1,
        description="Back to school",
        agreed_on=episode.start_date,
    )
    # A measure the therapist took during treatment, and the trial baseline for both.
    AssessmentFactory(young_person=in_mst, schedule="mst", timepoint="month_1")
    for person in (in_mst, in_mau):
        AssessmentFactory(young_person=person, schedule="trial", timepoint="t0")
    return in_mst, in_mau


def pages_for(person):
    return [
        reverse("cases:detail", args=[person.study_id]),
        reverse("measures:person", args=[person.study_id]),
        reverse("outcomes:person", args=[person.study_id]),
    ]


def common_pages():
    return [
        reverse("home"),
        reverse("cases:list"),
        reverse("cases:list") + "?status=in_treatment",
        reverse("measures:worklist") + "?for=research",
        reverse("measures:completeness"),
    ]


def test_the_revealing_text_is_there_for_an_unblinded_therapist(client, world, alice):
    in_mst, _ = world
    client.force_login(alice)
    html = client.get(reverse("cases:detail", args=[in_mst.study_id])).content.decode()
    assert "Alice Adams" in html and "Family goals" in html


def test_no_page_a_blinded_research_worker_opens_reveals_the_arm(client, world, bob):
    in_mst, in_mau = world
    client.force_login(bob)
    opened = 0
    for url in common_pages() + pages_for(in_mst) + pages_for(in_mau):
        response = client.get(url)
        assert response.status_code in (200, 403), url
        if response.status_code == 200:
            opened += 1
            html = response.content.decode()
            leaks = [text for text in REVEALING if text in html]
            assert leaks == [], f"{url} reveals {leaks}"
    assert opened == len(common_pages()) + 6
    for name in ("cases:goals", "cases:contacts"):
        assert client.get(reverse(name, args=[in_mst.study_id])).status_code == 403


def test_both_arms_pages_look_alike_to_a_blinded_research_worker(client, world, bob):
    in_mst, in_mau = world
    client.force_login(bob)
    mst_page = client.get(reverse("measures:person", args=[in_mst.study_id])).content.decode()
    mau_page = client.get(reverse("measures:person", args=[in_mau.study_id])).content.decode()
    for label in ("Trial baseline", "Trial 6 months", "Trial 12 months", "Trial 18 months"):
        assert mst_page.count(label) == mau_page.count(label) > 0, label
    mst_detail = client.get(reverse("cases:detail", args=[in_mst.study_id])).content.decode()
    mau_detail = client.get(reverse("cases:detail", args=[in_mau.study_id])).content.decode()
    assert ("episode" in mst_detail.lower()) == ("episode" in mau_detail.lower())
