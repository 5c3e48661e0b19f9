"""The outcome assessor's guess of the arm, and the blinding report for the trial manager."""

import datetime as dt
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from mstoutcomes.accounts.models import AuditEvent
from mstoutcomes.cases.tests.factories import YoungPersonFactory
from mstoutcomes.trial.blinding import blinding_report
from mstoutcomes.trial.blinding_services import blinding_guess_record
from mstoutcomes.trial.models import Allocation, BlindingGuess, Participant

pytestmark = pytest.mark.django_db


def randomised(trial, site, arm, sequence, by):
    person = YoungPersonFactory(site=site, study_id=f"AAA-{sequence:04d}")
    participant = Participant.objects.create(trial=trial, young_person=person, site=site, levels={})
    Allocation.objects.create(
        trial=trial,
        participant=participant,
        arm=arm,
        method="minimisation",
        stratum="*",
        sequence=sequence,
        allocated_at=timezone.now() - dt.timedelta(days=200),
        allocated_by=by,
    )
    return participant


@pytest.fixture
def pair(trial, site_a, trial_manager):
    return (
        randomised(trial, site_a, "MST", 1, trial_manager),
        randomised(trial, site_a, "MAU", 2, trial_manager),
    )


def guess(by, participant, value, timepoint="t6"):
    return blinding_guess_record(
        by=by,
        participant=participant,
        timepoint=timepoint,
        guess=value,
        recorded_on=dt.date.today(),
    )


def test_an_assessor_records_a_guess_and_the_audit_keeps_no_guess(pair, bob):
    record = guess(bob, pair[0], "MST")
    assert record.assessor == bob and record.guess == "MST"
    event = AuditEvent.objects.get(action="trial.participant.blinding_guess_recorded")
    assert event.data == {"young_person": "AAA-0001", "timepoint": "t6"}


def test_a_second_guess_for_the_same_follow_up_is_refused(pair, bob):
    guess(bob, pair[0], "dont_know")
    with pytest.raises(ValidationError, match="already recorded"):
        guess(bob, pair[0], "MST")


def test_a_guess_that_is_not_an_arm_or_a_follow_up_is_refused(pair, bob):
    with pytest.raises(ValidationError, match="Choose one of the arms"):
        guess(bob, pair[0], "placebo")
    with pytest.raises(ValidationError, match="follow-ups"):
        guess(bob, pair[0], "MST", timepoint="t0")
    assert not BlindingGuess.objects.unscoped().exists()


def test_a_therapist_cannot_record_a_guess(pair, alice, client):
    with pytest.raises(PermissionDenied):
        guess(alice, pair[0], "MST")
    client.force_login(alice)
    url = reverse("trial:guess", args=[pair[0].trial.code, pair[0].pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"timepoint": "t6", "guess": "MST"}).status_code == 403


def test_the_guess_form_looks_the_same_for_both_arms(client, pair, bob):
    client.force_login(bob)
    pages = [
        client.get(reverse("trial:guess", args=[p.trial.code, p.pk])).content.decode() for p in pair
    ]
    strip = [
        re.sub(r'(CSRFToken": "|csrfmiddlewaretoken" value=")[^"]*', "", page)
        .replace(p.young_person.study_id, "ID")
        .replace(f"/{p.pk}/", "/PK/")
        for page, p in zip(pages, pair, strict=True)
    ]
    assert strip[0] == strip[1] and "Don&#x27;t know" in strip[0]


def test_an_assessor_saves_a_guess_through_the_page(client, pair, bob):
    client.force_login(bob)
    participant = pair[1]
    url = reverse("trial:guess", args=[participant.trial.code, participant.pk])
    today = dt.date.today()
    response = client.post(
        url,
        {
            "timepoint": "t6",
            "guess": "dont_know",
            "recorded_on_0": today.day,
            "recorded_on_1": today.month,
            "recorded_on_2": today.year,
        },
    )
    assert response.status_code == 302
    assert BlindingGuess.objects.unscoped().get().guess == "dont_know"
    listing = client.get(reverse("trial:guesses", args=[participant.trial.code]))
    assert "Guess recorded" in listing.content.decode()
    missing = client.post(url, {"timepoint": "t12"})
    assert missing.status_code == 400 and "Choose an arm" in missing.content.decode()


def test_the_blinding_report_gives_the_index_per_arm_per_site(
    client, trial, site_a, pair, bob, trial_manager
):
    others = [
        randomised(trial, site_a, arm, n, trial_manager) for n, arm in ((3, "MST"), (4, "MAU"))
    ]
    guess(bob, pair[0], "MST")
    guess(bob, others[0], "dont_know")
    guess(bob, pair[1], "MST")
    guess(bob, others[1], "MAU")
    (site,) = blinding_report(user=trial_manager, trial=trial)
    assert site.table["MST"] == {"MST": 1, "MAU": 0, "dont_know": 1}
    assert site.indexes["MST"].estimate == pytest.approx(0.5)
    assert site.indexes["MAU"].estimate == pytest.approx(0.0)
    client.force_login(trial_manager)
    html = client.get(reverse("trial:blinding", args=[trial.code])).content.decode()
    assert "Blinding of outcome assessors" in html and "0.50" in html
    client.force_login(bob)
    assert client.get(reverse("trial:blinding", args=[trial.code])).status_code == 403
