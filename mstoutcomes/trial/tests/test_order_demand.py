"""The trial fills the referrals' demand hook, and the randomise page paces recruitment."""

import datetime as dt

import pytest
from django.urls import reverse

from mstoutcomes.cases.tests.factories import EpisodeFactory, YoungPersonFactory
from mstoutcomes.referrals import demand
from mstoutcomes.trial.config import TrialConfigError, parse_trial_config
from mstoutcomes.trial.tests import test_handover as handover
from mstoutcomes.trial.tests.conftest import CONFIG, make_trial
from mstoutcomes.trial.tests.test_handover import accept, participant_of

pytestmark = pytest.mark.django_db

# The trial-site fixtures of the hand-over tests (Trafford, its trial and staff).
supervisor = handover.supervisor
therapist = handover.therapist
trafford = handover.trafford
trial = handover.trial
trial_manager = handover.trial_manager


def test_the_trial_publishes_the_mst_share_of_its_allocation_ratio(site_a, site_b):
    make_trial(site_a)
    make_trial(
        site_b,
        code="START-2",
        arms=[
            {"code": "MAU", "name": "Usual", "ratio": 1},
            {"code": "MST", "name": "MST", "ratio": 2},
        ],
    )
    assert demand.mst_share(site_a.pk) == 0.5
    assert demand.mst_share(site_b.pk) == pytest.approx(2 / 3)


def test_a_test_mode_trial_publishes_no_share(site_a):
    make_trial(site_a, test_mode=True)
    assert demand.mst_share(site_a.pk) is None


def test_families_awaiting_randomisation_are_not_mst_starts_on_the_capacity_page(
    client, trafford, trial, supervisor
):
    for _ in range(2):
        accept(trafford, supervisor)
    client.force_login(supervisor)
    page = client.get(reverse("referrals:capacity"), {"site": "TRF"})
    assert "Awaiting randomisation: 2; expected MST starts: 1 (2 × 0.5" in page.content.decode()
    assert page.context["waiting_rows"] == []


def test_max_wait_days_defaults_to_14_and_is_validated():
    assert parse_trial_config({**CONFIG, "method": "blocks"}).max_wait_days == 14
    spec = parse_trial_config({**CONFIG, "method": "blocks", "recruitment": {"max_wait_days": 21}})
    assert spec.max_wait_days == 21 and spec.as_dict()["recruitment"]["max_wait_days"] == 21
    with pytest.raises(TrialConfigError, match="max_wait_days"):
        parse_trial_config({**CONFIG, "method": "blocks", "recruitment": {"max_wait_days": -1}})


def test_the_randomise_page_warns_when_an_mst_family_would_wait_too_long(
    client, trafford, trial, supervisor, trial_manager, therapist
):
    participant = participant_of(accept(trafford, supervisor))
    client.force_login(trial_manager)
    url = reverse("trial:participant", args=[trial.code, participant.pk])
    room = client.get(url).content.decode()
    assert "Next MST place frees up: <strong>today" in room
    assert 'id="wait-warning"' not in room
    today = dt.date.today()
    for days in (30, 45, 60, 75, 90):
        EpisodeFactory(
            young_person=YoungPersonFactory(site=trafford),
            therapist=therapist,
            start_date=today - dt.timedelta(days=10),
            expected_end_date=today + dt.timedelta(days=days),
        )
    full = client.get(url).content.decode()
    assert f"Next MST place frees up: <strong>{(today + dt.timedelta(days=30)):%-d %B %Y}" in full
    assert 'id="wait-warning"' in full
    assert "(30 days) for a therapist, longer than the protocol allows (14 days)" in full
