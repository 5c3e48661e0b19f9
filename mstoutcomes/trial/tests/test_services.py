import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from mstoutcomes.accounts.models import AuditEvent, Role
from mstoutcomes.accounts.tests.factories import member
from mstoutcomes.cases.tests.factories import YoungPersonFactory
from mstoutcomes.trial.blocks import stratum_arms
from mstoutcomes.trial.errors import (
    AlreadyRandomised,
    ListExhausted,
    NoConsent,
    NotEligible,
    Withdrawn,
)
from mstoutcomes.trial.models import Allocation, StratumList
from mstoutcomes.trial.services import (
    allocation_key,
    allocation_list_export,
    participant_enrol,
    participant_randomise,
    stratum_list_extend,
    trial_list_checksum,
    withdrawal_record,
)
from mstoutcomes.trial.tests.conftest import make_trial, ready

pytestmark = pytest.mark.django_db


def test_enrolment_derives_site_and_sex_levels(trial, young_person, trial_manager):
    participant = participant_enrol(by=trial_manager, trial=trial, young_person=young_person)
    assert participant.levels == {"site": "AAA", "sex": young_person.sex}
    assert AuditEvent.objects.filter(action="trial.participant.enrolled").count() == 1


def test_enrolment_refuses_a_site_outside_the_trial(trial, site_b):
    with pytest.raises(NotEligible, match="not a site in trial"):
        participant_enrol(by=None, trial=trial, young_person=YoungPersonFactory(site=site_b))


def test_randomising_a_ready_participant_allocates_once(trial, young_person, trial_manager):
    participant = ready(
        participant_enrol(by=None, trial=trial, young_person=young_person), trial_manager
    )
    allocation = participant_randomise(by=trial_manager, participant=participant)
    assert allocation.arm in {"MAU", "MST"}
    assert allocation.sequence == 1 and allocation.stratum == "*"
    assert "preferred" in allocation.details
    with pytest.raises(AlreadyRandomised, match="already randomised"):
        participant_randomise(by=trial_manager, participant=participant)
    assert Allocation.objects.unscoped().count() == 1
    refused = AuditEvent.objects.get(action="trial.randomisation.refused")
    assert refused.data["reason"] == "already_randomised"


def test_randomising_needs_eligibility_and_both_consents(trial, young_person, trial_manager):
    participant = participant_enrol(by=None, trial=trial, young_person=young_person)
    with pytest.raises(NotEligible, match="not been confirmed eligible"):
        participant_randomise(by=trial_manager, participant=participant)
    ready(participant, trial_manager, consents=("carer_consent",))
    with pytest.raises(NoConsent, match="Young person's assent"):
        participant_randomise(by=trial_manager, participant=participant)
    assert not Allocation.objects.unscoped().exists()
    reasons = list(
        AuditEvent.objects.filter(action="trial.randomisation.refused")
        .order_by("id")
        .values_list("data__reason", flat=True)
    )
    assert reasons == ["not_eligible", "no_consent"]


def test_a_withdrawn_participant_is_not_randomised(trial, young_person, trial_manager):
    participant = ready(
        participant_enrol(by=None, trial=trial, young_person=young_person), trial_manager
    )
    withdrawal_record(
        by=trial_manager,
        participant=participant,
        level="further_data",
        on=dt.date.today(),
        reason="Family moved",
    )
    with pytest.raises(Withdrawn):
        participant_randomise(by=trial_manager, participant=participant)


def test_only_people_who_may_randomise_can(trial, young_person, trial_manager, alice):
    participant = ready(
        participant_enrol(by=None, trial=trial, young_person=young_person), trial_manager
    )
    with pytest.raises(PermissionDenied):
        participant_randomise(by=alice, participant=participant)


def test_allocations_cannot_be_changed_or_deleted(trial, young_person, trial_manager):
    participant = ready(
        participant_enrol(by=None, trial=trial, young_person=young_person), trial_manager
    )
    allocation = participant_randomise(by=trial_manager, participant=participant)
    allocation.arm = "MST" if allocation.arm == "MAU" else "MAU"
    with pytest.raises(ValidationError, match="cannot be changed"):
        allocation.save()
    with pytest.raises(ValidationError, match="cannot be deleted"):
        allocation.delete()


def test_blocks_follow_the_secret_list_slot_by_slot(blocks_trial, site_a, trial_manager):
    arms = []
    for _ in range(8):
        person = YoungPersonFactory(site=site_a, sex="female")
        participant = ready(
            participant_enrol(by=None, trial=blocks_trial, young_person=person), trial_manager
        )
        arms.append(participant_randomise(by=trial_manager, participant=participant).arm)
    expected = stratum_arms(
        blocks_trial.spec,
        key=allocation_key(),
        list_id=blocks_trial.list_id,
        stratum="site=AAA|sex=female",
        length=8,
    )
    assert arms == expected
    assert StratumList.objects.get(trial=blocks_trial).used == 8


def test_an_exhausted_list_refuses_until_extended(blocks_trial, site_a, trial_manager):
    StratumList.objects.create(trial=blocks_trial, stratum="site=AAA|sex=male", length=1)
    people = [YoungPersonFactory(site=site_a, sex="male") for _ in range(2)]
    participants = [
        ready(participant_enrol(by=None, trial=blocks_trial, young_person=p), trial_manager)
        for p in people
    ]
    participant_randomise(by=trial_manager, participant=participants[0])
    assert AuditEvent.objects.filter(action="trial.list.running_low").exists()
    with pytest.raises(ListExhausted, match="used up"):
        participant_randomise(by=trial_manager, participant=participants[1])
    before = trial_list_checksum(blocks_trial)
    stratum_list_extend(by=trial_manager, trial=blocks_trial, stratum="site=AAA|sex=male", extra=5)
    assert trial_list_checksum(blocks_trial) != before
    assert participant_randomise(by=trial_manager, participant=participants[1]).sequence == 2


def test_exporting_the_list_needs_its_own_permission_and_is_audited(blocks_trial, site_a):
    StratumList.objects.create(trial=blocks_trial, stratum="site=AAA|sex=male", length=4)
    with pytest.raises(PermissionDenied):
        allocation_list_export(by=member(Role.TRIAL_MANAGER, site_a), trial=blocks_trial)
    with pytest.raises(PermissionDenied):
        allocation_list_export(by=member(Role.STATISTICIAN, site_a), trial=blocks_trial)
    unblinded = member(Role.UNBLINDED_STATISTICIAN, site_a)
    rows = allocation_list_export(by=unblinded, trial=blocks_trial)
    assert len(rows) == 4 and {r["arm"] for r in rows} <= {"MAU", "MST"}
    event = AuditEvent.objects.get(action="trial.list.exported")
    assert event.data["checksum"] == trial_list_checksum(blocks_trial)


def test_test_mode_allocations_are_marked_apart(site_a, trial_manager):
    test_trial = make_trial(site_a, code="START-TEST", test_mode=True)
    participant = ready(
        participant_enrol(by=None, trial=test_trial, young_person=YoungPersonFactory(site=site_a)),
        trial_manager,
    )
    assert participant_randomise(by=trial_manager, participant=participant).is_test is True


def test_minimisation_is_reproducible_from_the_key_and_history(trial, site_a, trial_manager):
    """Replaying the allocations in order, with the key, gives every arm again."""
    from mstoutcomes.trial.drbg import Drbg
    from mstoutcomes.trial.minimisation import add_to_counts, minimise

    trial.list_id = "fixed-for-a-repeatable-test"
    trial.save()

    for n in range(16):
        person = YoungPersonFactory(site=site_a, sex=["female", "male", "male"][n % 3])
        participant = ready(
            participant_enrol(by=None, trial=trial, young_person=person), trial_manager
        )
        participant_randomise(by=trial_manager, participant=participant)
    counts: dict = {}
    for allocation in Allocation.objects.unscoped().filter(trial=trial).order_by("sequence"):
        drbg = Drbg(
            allocation_key(), f"minimisation|{trial.code}|{trial.list_id}|{allocation.sequence}"
        )
        levels = allocation.participant.levels
        replay = minimise(trial.spec, counts, levels, draw=drbg.uniform(), tie_draw=drbg.uniform())
        assert replay.arm == allocation.arm
        assert replay.scores == allocation.details["scores"]
        add_to_counts(counts, levels, allocation.arm)
    arms = list(Allocation.objects.unscoped().values_list("arm", flat=True))
    assert abs(arms.count("MST") - arms.count("MAU")) <= 3
