"""Referral services: intake, duplicates, consent gate, decisions, allocation, notices, audit."""

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from mstoutcomes.accounts.models import AuditEvent, Role
from mstoutcomes.accounts.tests.factories import member
from mstoutcomes.cases.models import Episode
from mstoutcomes.cases.tests.factories import EpisodeFactory, YoungPersonFactory
from mstoutcomes.referrals import services
from mstoutcomes.referrals.models import Notification, Referral
from mstoutcomes.referrals.tests.factories import draft_referral, referrer_at, submitted_referral
from mstoutcomes.referrals.workflow import InvalidTransition, State

pytestmark = pytest.mark.django_db


@pytest.fixture
def sam(site_a):
    return member(Role.SUPERVISOR, site_a, username="sam", first_name="Sam", last_name="Super")


@pytest.fixture
def panel(site_a, sam):
    return services.panel_meeting_create(by=sam, site=site_a, held_on=dt.date.today())


def _to_panel(referral, sam):
    services.referral_screen(by=sam, referral=referral)
    return services.referral_ready_for_panel(by=sam, referral=referral)


def test_submit_assesses_eligibility_and_complexity_and_audits(site_a):
    referral, referrer = submitted_referral(site=site_a)

    assert referral.state == State.SUBMITTED
    assert referral.eligible is True
    assert (referral.complexity_score, referral.complexity_band) == (9, "medium")
    assert referral.referred_on == dt.date.today()
    event = AuditEvent.objects.get(action="referrals.referral.submitted")
    assert event.actor == referrer and event.changes == {"state": ["draft", "submitted"]}
    assert [t.to_state for t in referral.transitions.all()] == ["draft", "submitted"]


def test_an_incomplete_draft_is_refused_naming_the_fields(site_a):
    referrer, agency = referrer_at(site_a)
    referral = draft_referral(by=referrer, site=site_a, agency=agency, given_name="", behaviours=[])

    with pytest.raises(ValidationError) as error:
        services.referral_submit(by=referrer, referral=referral)

    assert set(error.value.message_dict) == {"given_name", "behaviours"}
    assert Referral.objects.unscoped().get(pk=referral.pk).state == State.DRAFT


def test_a_referral_for_an_18_year_old_is_screened_out_with_the_reason_not_a_crash(site_a):
    dob = dt.date.today().replace(year=dt.date.today().year - 18) - dt.timedelta(days=1)
    referral, _ = submitted_referral(site=site_a, date_of_birth=dob)

    assert referral.eligible is False
    age = referral.eligibility["results"][0]
    assert age["met"] is False and age["reason"].startswith("Aged 18 on the date of referral")


def test_a_referrer_cannot_refer_for_another_agency(site_a):
    referrer, _ = referrer_at(site_a)
    _, other = referrer_at(site_a)

    with pytest.raises(ValidationError, match="your own agency"):
        services.referral_start(by=referrer, site=site_a, agency=other)


def test_possible_duplicates_are_recorded_and_block_a_new_record_until_linked(site_a, sam, panel):
    known = YoungPersonFactory(
        site=site_a,
        given_name="Riley",
        family_name="Testperson",
        date_of_birth=dt.date.today() - dt.timedelta(days=14 * 365 + 40),
        postcode_district="M33",
    )
    referral, _ = submitted_referral(site=site_a)
    assert referral.possible_duplicates == [known.pk]
    _to_panel(referral, sam)

    with pytest.raises(ValidationError, match="may already be known"):
        services.referral_decide(by=sam, referral=referral, outcome="waiting_list", panel=panel)

    services.referral_link_young_person(by=sam, referral=referral, young_person=known)
    services.referral_decide(by=sam, referral=referral, outcome="waiting_list", panel=panel)
    assert referral.young_person == known and referral.state == State.WAITING_LIST


def test_without_consent_to_share_a_referral_cannot_go_to_panel_unless_overridden(site_a, sam):
    referral, _ = submitted_referral(site=site_a, consent_share=False)
    services.referral_screen(by=sam, referral=referral)

    with pytest.raises(ValidationError, match="not consented to sharing"):
        services.referral_ready_for_panel(by=sam, referral=referral)
    with pytest.raises(ValidationError):
        services.referral_consent_override(by=sam, referral=referral, reason="short")

    services.referral_consent_override(
        by=sam, referral=referral, reason="Risk of harm; sharing is necessary to safeguard."
    )
    services.referral_ready_for_panel(by=sam, referral=referral)
    assert referral.state == State.READY_FOR_PANEL
    assert AuditEvent.objects.filter(action="referrals.referral.consent_overridden").exists()


def test_a_therapist_may_not_override_consent(site_a, alice):
    referral, _ = submitted_referral(site=site_a, consent_share=False)

    with pytest.raises(PermissionDenied):
        services.referral_consent_override(by=alice, referral=referral, reason="x" * 20)


def test_invalid_transitions_are_refused_with_a_message_and_change_nothing(site_a, sam):
    referral, _ = submitted_referral(site=site_a)

    with pytest.raises(InvalidTransition, match="submitted cannot become on the waiting list"):
        services.referral_decide(by=sam, referral=referral, outcome="waiting_list")

    assert Referral.objects.unscoped().get(pk=referral.pk).state == State.SUBMITTED


def test_declining_needs_a_reason_and_notifies_the_referrer_in_app_and_by_email(
    site_a, sam, panel, django_capture_on_commit_callbacks
):
    referral, referrer = submitted_referral(site=site_a)
    _to_panel(referral, sam)
    with pytest.raises(ValidationError, match="reason"):
        services.referral_decide(by=sam, referral=referral, outcome="declined", panel=panel)

    with django_capture_on_commit_callbacks(execute=True):
        services.referral_decide(
            by=sam, referral=referral, outcome="declined", panel=panel, reason="below_threshold"
        )

    assert referral.state == State.DECLINED
    note = Notification.objects.get(user=referrer)
    assert "was declined: difficulties not severe enough for mst" in note.message
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [referrer.email]
    assert AuditEvent.objects.filter(action="referrals.referral.declined").count() == 1


def test_accepting_creates_the_young_person_and_allocation_opens_the_episode(
    site_a, sam, alice, panel
):
    referral, _ = submitted_referral(site=site_a)
    _to_panel(referral, sam)
    services.referral_decide(by=sam, referral=referral, outcome="accepted", panel=panel)
    person = referral.young_person
    assert person.referring_agency == referral.referring_agency
    assert person.family_members.count() == 1

    episode = services.referral_allocate(
        by=sam, referral=referral, therapist=alice, start_date=dt.date.today()
    )

    assert referral.state == State.ALLOCATED and referral.episode == episode
    assert episode.young_person == person and episode.therapist == alice
    assert AuditEvent.objects.filter(action="referrals.referral.allocated").exists()


def test_allocation_respects_the_cap_unless_an_override_is_recorded(site_a, sam, alice, panel):
    services.therapist_capacity_set(by=sam, site=site_a, therapist=alice, fte=1, caseload_cap=4)
    for _ in range(4):
        EpisodeFactory(young_person=YoungPersonFactory(site=site_a), therapist=alice)
    referral, _ = submitted_referral(site=site_a)
    _to_panel(referral, sam)
    services.referral_decide(by=sam, referral=referral, outcome="waiting_list", panel=panel)

    with pytest.raises(ValidationError, match=r"already has 4 families \(cap 4\)"):
        services.referral_allocate(
            by=sam, referral=referral, therapist=alice, start_date=dt.date.today()
        )
    assert Episode.objects.unscoped().filter(therapist=alice).count() == 4

    services.referral_allocate(
        by=sam,
        referral=referral,
        therapist=alice,
        start_date=dt.date.today(),
        override_reason="Sibling of a family Alice already works with.",
    )
    event = AuditEvent.objects.get(action="referrals.referral.allocated")
    assert event.data["over_cap"] is True
    assert referral.allocation_override_reason.startswith("Sibling")


def test_caseload_cap_must_be_4_to_6(site_a, sam, alice):
    with pytest.raises(ValidationError, match="caseload_cap"):
        services.therapist_capacity_set(by=sam, site=site_a, therapist=alice, fte=1, caseload_cap=7)


def test_a_submitted_referral_can_no_longer_be_edited(site_a):
    referral, referrer = submitted_referral(site=site_a)

    with pytest.raises(ValidationError, match="can no longer be changed"):
        services.referral_draft_save(by=referrer, referral=referral, fields={"given_name": "X"})
