"""The referral → trial pipeline: hand-over at acceptance, and what randomisation does next."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from mstoutcomes.accounts.models import AuditEvent, Role
from mstoutcomes.accounts.tests.factories import SiteFactory, member
from mstoutcomes.cases.models import Episode
from mstoutcomes.referrals import services as referrals
from mstoutcomes.referrals.handover import trial_handover
from mstoutcomes.referrals.models import PanelMeeting, Referral
from mstoutcomes.referrals.selectors import dashboard_numbers
from mstoutcomes.referrals.tests.factories import submitted_referral
from mstoutcomes.trial.errors import InvalidAllocationDate
from mstoutcomes.trial.models import Allocation, Participant
from mstoutcomes.trial.services import consent_record, participant_randomise
from mstoutcomes.trial.tests.conftest import complete_baseline, consent_form, make_trial

pytestmark = pytest.mark.django_db

FACTORS = [
    {"name": "site", "categories": ["TRF", "STK"]},
    {"name": "sex", "categories": ["female", "male", "not_known"]},
]


@pytest.fixture
def trafford(db):
    # TRF's referral rules (referrals/config/TRF.toml) make it a trial site.
    return SiteFactory(code="TRF", name="MST Trafford")


@pytest.fixture
def trial(trafford):
    # Always the preferred arm: two people with the same levels go to different arms.
    return make_trial(trafford, factors=FACTORS, minimisation={"p_preferred": 1.0})


@pytest.fixture
def supervisor(trafford):
    return member(Role.SUPERVISOR, trafford, username="sue")


@pytest.fixture
def trial_manager(trafford):
    return member(Role.TRIAL_MANAGER, trafford, username="tina")


@pytest.fixture
def therapist(trafford):
    return member(Role.THERAPIST, trafford, username="theo")


NAMES = iter(["Alfie", "Bailey", "Callum", "Dylan", "Ethan", "Finley", "Harvey", "Jayden"] * 20)
SURNAMES = iter(["Holt", "Lord", "Stott", "Ward", "Wood", "Shaw", "Dixon", "Brooks"] * 20)


def accept(site, supervisor, **facts):
    names = {"given_name": next(NAMES), "family_name": next(SURNAMES)}
    referral, _ = submitted_referral(site=site, **names, **facts)
    referrals.referral_screen(by=supervisor, referral=referral)
    referrals.referral_ready_for_panel(by=supervisor, referral=referral)
    panel = PanelMeeting.objects.filter(site=site, held_on=dt.date.today()).first()
    panel = panel or referrals.panel_meeting_create(
        by=supervisor, site=site, held_on=dt.date.today()
    )
    return referrals.referral_decide(
        by=supervisor, referral=referral, outcome="accepted", panel=panel
    )


def participant_of(referral):
    return Participant.objects.unscoped().get(young_person=referral.young_person)


def consent(participant, by, on=None):
    """Record the consents randomisation needs and complete the baseline on the same day."""
    complete_baseline(participant, on=on)
    for kind in ("carer_consent", "young_person_assent"):
        consent_record(
            by=by,
            participant=participant,
            form=consent_form(participant.trial, kind),
            given=True,
            recorded_on=on or dt.date.today(),
        )


def randomised_pair(trafford, trial, supervisor, trial_manager):
    """Accept, consent and randomise two alike families: one lands in each arm."""
    pair = []
    for _ in range(2):
        referral = accept(trafford, supervisor)
        participant = participant_of(referral)
        consent(participant, trial_manager)
        allocation = participant_randomise(by=trial_manager, participant=participant)
        referral.refresh_from_db()
        pair.append((referral, allocation))
    return {allocation.arm: referral for referral, allocation in pair}


def test_accepting_at_a_trial_site_enrols_and_records_eligibility_from_the_criteria(
    trafford, trial, supervisor
):
    referral = accept(trafford, supervisor)

    participant = participant_of(referral)
    assert participant.trial == trial
    assert participant.is_eligible is True
    assert participant.eligibility_confirmed_on == referral.decided_on
    assert participant.levels == {"site": "TRF", "sex": "male"}
    assert f"Eligible on {referral.reference}'s criteria" in participant.eligibility_notes
    assert "Met: Aged 14 on the date of referral" in participant.eligibility_notes
    event = AuditEvent.objects.get(action="trial.participant.eligibility_recorded")
    assert {"kind": "severity", "code": "severity", "met": True}.items() <= next(
        c for c in event.data["criteria"] if c["kind"] == "severity"
    ).items()
    assert AuditEvent.objects.filter(
        action="referrals.referral.handed_to_trial", data__enrolled=True
    ).exists()
    # Consent and randomisation are left to people.
    assert not participant.consents.exists()
    assert not Allocation.objects.unscoped().exists()
    # It waits for the trial, never shown as waiting for a therapist.
    assert referral.state == "awaiting_trial"
    assert referral.state_label == "Awaiting consent, baseline and randomisation"


def test_a_referral_failing_a_criterion_is_recorded_not_eligible_with_the_reason(
    trafford, trial, supervisor, trial_manager
):
    referral = accept(trafford, supervisor, behaviours=["aggression_home"], risks=["care"])

    participant = participant_of(referral)
    assert participant.is_eligible is False
    assert "Not met: Meets 1 of 7 severity criteria; at least 3 are needed." in (
        participant.eligibility_notes
    )
    consent(participant, trial_manager)
    with pytest.raises(Exception, match="has not been confirmed eligible"):
        participant_randomise(by=trial_manager, participant=participant)


def test_handing_over_again_changes_nothing(trafford, trial, supervisor, trial_manager):
    referral = accept(trafford, supervisor)
    participant = participant_of(referral)
    participant.eligibility_notes = "Checked again by the trial manager."
    participant.save()

    trial_handover(by=supervisor, referral=referral)

    assert Participant.objects.unscoped().count() == 1
    assert participant_of(referral).eligibility_notes == "Checked again by the trial manager."
    assert AuditEvent.objects.filter(action="trial.participant.enrolled").count() == 1
    assert AuditEvent.objects.filter(action="trial.participant.handed_over").count() == 2


def test_a_site_in_no_live_trial_only_records_the_hand_over(trafford, supervisor):
    referral = accept(trafford, supervisor)

    assert not Participant.objects.unscoped().exists()
    event = AuditEvent.objects.get(action="referrals.referral.handed_to_trial")
    assert event.data["trial"] is None and event.data["enrolled"] is False
    assert referral.state == "accepted"


def test_management_as_usual_closes_the_referral_with_the_reason_and_opens_no_episode(
    trafford, trial, supervisor, trial_manager
):
    by_arm = randomised_pair(trafford, trial, supervisor, trial_manager)

    closed = by_arm["MAU"]
    assert closed.state == "usual_services"
    reason = f"Allocated to management as usual in trial {trial.code}"
    assert closed.transitions.order_by("pk").last().reason == reason
    assert reason in closed.decision_notes
    assert closed.episode is None
    assert not Episode.objects.unscoped().filter(young_person=closed.young_person).exists()
    event = AuditEvent.objects.filter(action="referrals.referral.allocated_usual_services").get()
    assert event.actor == trial_manager and event.data["closed_by"] == "trial"
    # The referrals dashboard still counts both as accepted by the panel; one started MST.
    funnel = dashboard_numbers(site=trafford, as_of=dt.date.today())["funnel"]
    assert funnel["Accepted"] == 2


def test_the_mst_arm_waits_for_a_therapist_and_allocation_opens_the_episode(
    trafford, trial, supervisor, trial_manager, therapist
):
    by_arm = randomised_pair(trafford, trial, supervisor, trial_manager)
    waiting = by_arm["MST"]
    assert waiting.state == "accepted"

    episode = referrals.referral_allocate(
        by=supervisor, referral=waiting, therapist=therapist, start_date=dt.date.today()
    )

    assert episode.young_person == waiting.young_person
    assert Referral.objects.unscoped().get(pk=waiting.pk).state == "allocated"


def test_a_therapist_cannot_be_allocated_to_a_management_as_usual_family(
    trafford, trial, supervisor, trial_manager, therapist
):
    by_arm = randomised_pair(trafford, trial, supervisor, trial_manager)
    closed = by_arm["MAU"]
    # Even a referral reopened by mistake (forced back to accepted) is refused.
    Referral.objects.unscoped().filter(pk=closed.pk).update(state="accepted")
    closed.refresh_from_db()

    with pytest.raises(ValidationError, match="allocated to management as usual in trial"):
        referrals.referral_allocate(
            by=supervisor, referral=closed, therapist=therapist, start_date=dt.date.today()
        )
    assert not Episode.objects.unscoped().exists()


def test_a_randomisation_can_be_dated_in_the_past_and_is_audited(
    trafford, trial, supervisor, trial_manager
):
    referral = accept(trafford, supervisor)
    participant = participant_of(referral)
    consent(participant, trial_manager, on=dt.date.today() - dt.timedelta(days=20))
    at = timezone.now() - dt.timedelta(days=10)

    allocation = participant_randomise(by=trial_manager, participant=participant, at=at)

    assert allocation.allocated_at == at
    event = AuditEvent.objects.get(action="trial.participant.randomised")
    assert event.data["allocated_at"] == at.isoformat()


@pytest.mark.parametrize(
    ("consented_days_ago", "randomised_days_ago", "message"),
    [
        (5, -1, "in the future"),
        (5, 10, "before the consents"),
    ],
)
def test_a_randomisation_is_never_dated_in_the_future_or_before_consent(
    trafford, trial, supervisor, trial_manager, consented_days_ago, randomised_days_ago, message
):
    referral = accept(trafford, supervisor)
    participant = participant_of(referral)
    consent(participant, trial_manager, on=dt.date.today() - dt.timedelta(consented_days_ago))
    at = timezone.now() - dt.timedelta(days=randomised_days_ago)

    with pytest.raises(InvalidAllocationDate, match=message):
        participant_randomise(by=trial_manager, participant=participant, at=at)

    assert not Allocation.objects.unscoped().exists()
    refused = AuditEvent.objects.get(action="trial.randomisation.refused")
    assert refused.data["reason"] == "invalid_date"
    assert Referral.objects.unscoped().get(pk=referral.pk).state == "awaiting_trial"


def test_a_back_dated_randomisation_cannot_precede_the_latest_allocation(
    trafford, trial, supervisor, trial_manager
):
    first = participant_of(accept(trafford, supervisor))
    consent(first, trial_manager, on=dt.date.today() - dt.timedelta(days=30))
    participant_randomise(
        by=trial_manager, participant=first, at=timezone.now() - dt.timedelta(days=5)
    )
    second = participant_of(accept(trafford, supervisor))
    consent(second, trial_manager, on=dt.date.today() - dt.timedelta(days=30))

    with pytest.raises(InvalidAllocationDate, match="latest allocation"):
        participant_randomise(
            by=trial_manager, participant=second, at=timezone.now() - dt.timedelta(days=8)
        )
    assert Allocation.objects.unscoped().count() == 1


def test_only_the_trial_team_may_close_a_referral_for_the_trial(trafford, trial, supervisor):
    referral = accept(trafford, supervisor)

    with pytest.raises(PermissionDenied):
        referrals.referral_close_for_trial(
            by=supervisor, referral=referral, reason="Allocated to management as usual in trial X"
        )
    assert Referral.objects.unscoped().get(pk=referral.pk).state == "awaiting_trial"


def test_a_referral_accepted_after_the_trial_database_was_locked_is_not_enrolled(
    trafford, trial, supervisor, trial_manager
):
    from mstoutcomes.trial.lock import trial_lock

    trial_lock(by=trial_manager, trial=trial)  # no one randomised: nothing holds it back

    referral = accept(trafford, supervisor)

    assert referral.state == "accepted"
    assert not Participant.objects.unscoped().filter(young_person=referral.young_person).exists()
