"""referrals hands an accepted referral over through listeners it publishes (never importing the
trial); the trial subscribes in TrialConfig.ready(). The trial's side is tested in
trial/tests/test_handover.py."""

import pytest

from mstoutcomes.accounts.models import AuditEvent, Role
from mstoutcomes.accounts.tests.factories import member
from mstoutcomes.referrals import handover
from mstoutcomes.referrals.tests.factories import submitted_referral

pytestmark = pytest.mark.django_db


def test_the_trial_subscribed_its_hand_over_listener_at_start_up():
    from mstoutcomes.trial.handover import referral_handed_over

    assert handover._listeners["trial"] is referral_handed_over


def test_a_hand_over_records_what_the_listeners_did(site_a, monkeypatch):
    referral, _ = submitted_referral(site=site_a)
    supervisor = member(Role.SUPERVISOR, site_a)
    heard = []

    def listener(*, by, referral):
        heard.append((by, referral))
        return handover.HandedOver(trial="T-1", enrolled=True)

    monkeypatch.setattr(handover, "_listeners", {})
    handover.subscribe_referral_handover(name="spy", listener=listener)

    handover.trial_handover(by=supervisor, referral=referral)

    assert heard == [(supervisor, referral)]
    event = AuditEvent.objects.get(action="referrals.referral.handed_to_trial")
    assert event.data["trial"] == "T-1" and event.data["enrolled"] is True


def test_with_no_listener_the_hand_over_is_only_recorded(site_a, monkeypatch):
    referral, _ = submitted_referral(site=site_a)
    monkeypatch.setattr(handover, "_listeners", {})

    handover.trial_handover(by=None, referral=referral)

    event = AuditEvent.objects.get(action="referrals.referral.handed_to_trial")
    assert event.data["trial"] is None and event.data["enrolled"] is False
