"""Emergency unblinding: named roles, a reason, audited, and the assessor's later work flagged."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from mstoutcomes.accounts.models import AuditEvent, Role
from mstoutcomes.accounts.tests.factories import member
from mstoutcomes.measures.tests.factories import AssessmentFactory
from mstoutcomes.trial.blinding import flagged_assessments, unblinded_assessor_ids
from mstoutcomes.trial.blinding_services import emergency_unblind
from mstoutcomes.trial.models import Allocation, EmergencyUnblinding, Participant

pytestmark = pytest.mark.django_db


@pytest.fixture
def participant(trial, young_person, trial_manager):
    participant = Participant.objects.create(
        trial=trial, young_person=young_person, site=young_person.site, levels={}
    )
    Allocation.objects.create(
        trial=trial,
        participant=participant,
        arm="MST",
        method="minimisation",
        stratum="*",
        sequence=1,
        allocated_at=timezone.now() - dt.timedelta(days=60),
        allocated_by=trial_manager,
    )
    return participant


def test_a_trial_manager_unblinds_a_named_person_and_the_audit_never_names_the_arm(
    participant, trial_manager, bob
):
    record, arm = emergency_unblind(
        by=trial_manager, participant=participant, unblinded_person=bob, reason="Safeguarding"
    )
    assert arm == "MST"
    assert record.unblinded_person == bob and record.unblinded_by == trial_manager
    event = AuditEvent.objects.get(action="trial.participant.emergency_unblinded")
    assert event.data["unblinded_person"] == "bob" and event.data["reason"] == "Safeguarding"
    assert "MST" not in str(event.data) and "Management" not in str(event.data)


def test_unblinding_without_a_reason_is_refused_and_writes_nothing(participant, trial_manager, bob):
    with pytest.raises(ValidationError, match="why the arm must be revealed"):
        emergency_unblind(
            by=trial_manager, participant=participant, unblinded_person=bob, reason=" "
        )
    assert not EmergencyUnblinding.objects.unscoped().exists()
    refused = AuditEvent.objects.get(action="trial.participant.emergency_unblinding_refused")
    assert "why the arm must be revealed" in refused.data["refused"]


@pytest.mark.parametrize("role", [Role.RESEARCH_WORKER, Role.SUPERVISOR, Role.STATISTICIAN])
def test_roles_without_the_permission_cannot_unblind(participant, site_a, bob, role):
    with pytest.raises(PermissionDenied):
        emergency_unblind(
            by=member(role, site_a), participant=participant, unblinded_person=bob, reason="x"
        )
    assert AuditEvent.objects.filter(
        action="trial.participant.emergency_unblinding_refused"
    ).exists()


def test_the_person_told_must_work_at_the_participants_site(participant, trial_manager, carol):
    with pytest.raises(ValidationError, match="works at this participant's site"):
        emergency_unblind(
            by=trial_manager, participant=participant, unblinded_person=carol, reason="x"
        )


def test_the_unblinded_assessors_later_assessments_are_flagged(participant, trial_manager, bob):
    person = participant.young_person
    AssessmentFactory(
        young_person=person, entered_by=bob, completed_on=dt.date.today() - dt.timedelta(days=9)
    )
    emergency_unblind(
        by=trial_manager, participant=participant, unblinded_person=bob, reason="Safeguarding"
    )
    later = AssessmentFactory(
        young_person=person, entered_by=bob, completed_on=dt.date.today(), timepoint="t6"
    )
    AssessmentFactory(young_person=person, entered_by=trial_manager, completed_on=dt.date.today())
    assert unblinded_assessor_ids(participant) == {bob.pk: dt.date.today()}
    flagged = flagged_assessments(participant)
    assert [f.assessment_id for f in flagged] == [later.pk]
    assert flagged[0].flag.startswith("Assessor unblinded on ")


def test_the_page_shows_the_arm_once_and_the_participant_page_shows_the_flag(
    client, participant, trial_manager, bob
):
    client.force_login(trial_manager)
    page = reverse("trial:participant", args=[participant.trial.code, participant.pk])
    url = reverse("trial:emergency_unblind", args=[participant.trial.code, participant.pk])
    assert url in client.get(page).content.decode()
    assert "Reveal the allocation" in client.get(url).content.decode()
    refused = client.post(url, {"unblinded_person": bob.pk, "reason": ""})
    assert refused.status_code == 400 and "Enter why the allocation" in refused.content.decode()
    shown = client.post(url, {"unblinded_person": bob.pk, "reason": "Safeguarding"})
    assert shown.status_code == 200 and ">MST<" in shown.content.decode()
    AssessmentFactory(young_person=participant.young_person, entered_by=bob)
    AssessmentFactory(
        young_person=participant.young_person, entered_by=bob, completed_on=dt.date.today()
    )
    html = client.get(page).content.decode()
    assert "Assessor unblinded on" in html and "Safeguarding" in html
    listing = client.get(reverse("trial:detail", args=[participant.trial.code])).content.decode()
    assert "Unblinded on" in listing


@pytest.mark.parametrize("role", [Role.RESEARCH_WORKER, Role.STATISTICIAN, Role.THERAPIST])
def test_other_roles_get_forbidden_on_the_unblinding_page(client, participant, site_a, bob, role):
    client.force_login(member(role, site_a))
    url = reverse("trial:emergency_unblind", args=[participant.trial.code, participant.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"unblinded_person": bob.pk, "reason": "x"}).status_code == 403
    assert not EmergencyUnblinding.objects.unscoped().exists()
