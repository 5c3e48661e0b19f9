"""At a trial site the referral waits for the trial, then moves on with the trial's result.

Accepted → awaiting consent, baseline and randomisation → (MST) waiting for a therapist, or
(management as usual) usual services, or closed with a plain reason when the family is not
eligible, declines consent or withdraws before randomisation. Baseline comes before randomisation
(or is waived with a reason, recorded as a deviation).
"""

import datetime as dt

import pytest
from django.urls import reverse

from mstoutcomes.accounts.models import AuditEvent, Role
from mstoutcomes.accounts.tests.factories import member
from mstoutcomes.cases.models import Episode
from mstoutcomes.cases.protocol import ProtocolRefused
from mstoutcomes.referrals import services as referrals
from mstoutcomes.referrals.models import Notification, Referral
from mstoutcomes.trial.errors import BaselineIncomplete
from mstoutcomes.trial.models import Allocation, ProtocolDeviation
from mstoutcomes.trial.services import consent_record, participant_randomise, withdrawal_record
from mstoutcomes.trial.tests import test_handover as handover
from mstoutcomes.trial.tests.conftest import complete_baseline, consent_form
from mstoutcomes.trial.tests.test_handover import accept, consent, participant_of, randomised_pair

pytestmark = pytest.mark.django_db

# The trial-site fixtures of the hand-over tests (Trafford, its trial and staff).
supervisor = handover.supervisor
therapist = handover.therapist
trafford = handover.trafford
trial = handover.trial
trial_manager = handover.trial_manager


def state_of(referral):
    return Referral.objects.unscoped().get(pk=referral.pk).state


def messages_for(referral):
    return list(Notification.objects.filter(referral=referral).values_list("message", flat=True))


def test_an_accepted_trial_family_waits_for_the_trial_not_for_a_therapist(
    client, trafford, trial, supervisor
):
    referral = accept(trafford, supervisor)
    assert state_of(referral) == "awaiting_trial"
    client.force_login(supervisor)
    page = client.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert "Awaiting consent, baseline and randomisation" in page
    assert "Allocate to a therapist" not in page
    assert "has not been randomised" in page


def test_randomised_to_mst_the_referral_waits_for_a_therapist_and_allocation_opens_mst(
    trafford, trial, supervisor, trial_manager, therapist
):
    pair = randomised_pair(trafford, trial, supervisor, trial_manager)
    mst, mau = pair["MST"], pair["MAU"]
    assert state_of(mst) == "accepted"
    assert any("randomised to MST" in m for m in messages_for(mst))
    episode = referrals.referral_allocate(
        by=supervisor, referral=mst, therapist=therapist, start_date=dt.date.today()
    )
    assert episode.young_person == mst.young_person
    # Management as usual: usual services, and the referrer is told so, never "started MST".
    assert state_of(mau) == "usual_services"
    told = messages_for(mau)
    assert any("management as usual" in m for m in told)
    assert not any("started MST" in m for m in told)


def test_allocating_a_therapist_is_refused_and_audited_before_randomisation_and_for_mau(
    client, trafford, trial, supervisor, trial_manager, therapist
):
    waiting = accept(trafford, supervisor)
    with pytest.raises(ProtocolRefused, match="has not been randomised"):
        referrals.referral_allocate(
            by=supervisor, referral=waiting, therapist=therapist, start_date=dt.date.today()
        )
    event = AuditEvent.objects.get(action="cases.protocol.refused")
    assert event.data["attempt"] == "referrals.referral.allocate"
    mau = randomised_pair(trafford, trial, supervisor, trial_manager)["MAU"]
    client.force_login(supervisor)
    for referral, message in (
        (waiting, "has not been randomised"),
        (mau, "allocated to management as usual"),
    ):
        response = client.post(
            reverse("referrals:allocate", args=[referral.pk]),
            {
                "therapist": therapist.pk,
                "start_date_0": dt.date.today().day,
                "start_date_1": dt.date.today().month,
                "start_date_2": dt.date.today().year,
            },
        )
        assert response.status_code == 400
        assert message in response.content.decode()
    assert not Episode.objects.unscoped().exists()
    assert AuditEvent.objects.filter(action="cases.protocol.refused").count() == 3


def test_the_allocate_page_says_why_instead_of_offering_a_form_until_randomised_to_mst(
    client, trafford, trial, supervisor, trial_manager, therapist
):
    waiting = accept(trafford, supervisor)
    pair = randomised_pair(trafford, trial, supervisor, trial_manager)
    client.force_login(supervisor)
    for referral, message in (
        (waiting, "has not been randomised"),
        (pair["MAU"], "allocated to management as usual"),
    ):
        response = client.get(reverse("referrals:allocate", args=[referral.pk]))
        assert response.status_code == 403
        page = response.content.decode()
        assert message in page
        assert "Allocate and start MST" not in page
    response = client.get(reverse("referrals:allocate", args=[pair["MST"].pk]))
    assert response.status_code == 200
    assert "Allocate and start MST" in response.content.decode()


def test_a_family_not_eligible_for_the_trial_has_its_referral_closed_with_the_reason(
    trafford, trial, supervisor
):
    referral = accept(trafford, supervisor, behaviours=["aggression_home"], risks=["care"])
    assert participant_of(referral).is_eligible is False
    closed = Referral.objects.unscoped().get(pk=referral.pk)
    assert closed.state == "declined"
    assert f"Not eligible for trial {trial.code}" in closed.decision_notes


def test_declined_consent_or_withdrawal_before_randomisation_closes_the_referral(
    trafford, trial, supervisor, trial_manager
):
    declined = accept(trafford, supervisor)
    consent_record(
        by=trial_manager,
        participant=participant_of(declined),
        form=consent_form(trial, "carer_consent"),
        given=False,
        recorded_on=dt.date.today(),
    )
    assert state_of(declined) == "withdrawn"
    assert any("carer consent to take part was declined" in m for m in messages_for(declined))
    left = accept(trafford, supervisor)
    withdrawal_record(
        by=trial_manager, participant=participant_of(left), level="further_data", on=dt.date.today()
    )
    assert state_of(left) == "withdrawn"
    assert "withdrew" in Referral.objects.unscoped().get(pk=left.pk).decision_notes


def test_consent_to_share_now_given_is_recorded_and_audited(client, trafford, supervisor):
    from mstoutcomes.referrals.tests.factories import submitted_referral

    referral, _ = submitted_referral(site=trafford, consent_share=False)
    client.force_login(supervisor)
    page = client.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert "Record that consent to share is now given" in page
    response = client.post(reverse("referrals:step", args=[referral.pk, "consent"]))
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.consent_share is True and referral.consent_cleared
    event = AuditEvent.objects.get(action="referrals.referral.consent_given")
    assert event.actor == supervisor and event.changes == {"consent_share": [False, True]}
    again = client.post(reverse("referrals:step", args=[referral.pk, "consent"]), follow=True)
    assert "already recorded" in again.content.decode()


def test_only_the_panel_may_record_consent_now_given(trafford):
    from mstoutcomes.referrals.tests.factories import submitted_referral

    referral, _ = submitted_referral(site=trafford, consent_share=False)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        referrals.referral_consent_given(
            by=member(Role.THERAPIST, trafford, username="terry"), referral=referral
        )
    assert not AuditEvent.objects.filter(action="referrals.referral.consent_given").exists()


# -- baseline before randomisation ----------------------------------------------------------


def test_randomisation_waits_for_the_complete_baseline_and_names_what_is_missing(
    trafford, trial, supervisor, trial_manager
):
    participant = participant_of(accept(trafford, supervisor))
    consent(participant, trial_manager)  # completes the baseline too
    from mstoutcomes.measures.models import Assessment

    Assessment.objects.unscoped().filter(instrument="apq9", respondent="parent").delete()
    with pytest.raises(BaselineIncomplete, match=r"Still missing: APQ-9 \(parent\)"):
        participant_randomise(by=trial_manager, participant=participant)
    assert not Allocation.objects.unscoped().exists()
    event = AuditEvent.objects.get(action="trial.randomisation.refused")
    assert event.data["reason"] == "baseline_incomplete"
    complete_baseline(participant, skip=[(i, r) for i, r in _all_but("apq9", "parent")])
    assert participant_randomise(by=trial_manager, participant=participant)


def _all_but(instrument, respondent):
    from mstoutcomes.trial.order import baseline_tasks

    return [(i, r) for i, r, _ in baseline_tasks() if (i, r) != (instrument, respondent)]


def test_a_baseline_waiver_randomises_and_records_a_minor_deviation_together(
    trafford, trial, supervisor, trial_manager
):
    participant = participant_of(accept(trafford, supervisor))
    for kind in ("carer_consent", "young_person_assent"):
        consent_record(
            by=trial_manager,
            participant=participant,
            form=consent_form(trial, kind),
            given=True,
            recorded_on=dt.date.today(),
        )
    allocation = participant_randomise(
        by=trial_manager,
        participant=participant,
        baseline_waiver_reason="The young person was in hospital; the panel could not wait.",
    )
    deviation = ProtocolDeviation.objects.unscoped().get(participant=participant)
    assert (deviation.category, deviation.severity) == ("randomisation", "minor")
    assert "SDQ self-report (young person)" in deviation.description
    assert "in hospital" in deviation.description
    assert deviation.occurred_on == dt.date.today() and allocation.pk


def test_the_randomise_page_lists_the_missing_baseline_and_takes_a_waiver(
    client, trafford, trial, supervisor, trial_manager
):
    participant = participant_of(accept(trafford, supervisor))
    for kind in ("carer_consent", "young_person_assent"):
        consent_record(
            by=trial_manager,
            participant=participant,
            form=consent_form(trial, kind),
            given=True,
            recorded_on=dt.date.today(),
        )
    client.force_login(trial_manager)
    page_url = reverse("trial:participant", args=[trial.code, participant.pk])
    page = client.get(page_url).content.decode()
    assert 'id="baseline-missing"' in page and "ICU (parent)" in page
    assert 'name="baseline_waiver_reason"' in page
    url = reverse("trial:randomise", args=[trial.code, participant.pk])
    refused = client.post(url, follow=True).content.decode()
    assert "Not randomised" in refused and "Still missing" in refused
    done = client.post(url, {"baseline_waiver_reason": "Family moving away"}, follow=True)
    assert "Randomised to" in done.content.decode()
    assert ProtocolDeviation.objects.unscoped().filter(participant=participant).count() == 1
