"""The database lock: when it may be taken, what it makes read-only, and unlocking by two people."""

import datetime as dt
import io

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from mstoutcomes.accounts.models import AuditEvent, Role
from mstoutcomes.accounts.tests.factories import member
from mstoutcomes.cases.protocol import Check, ProtocolRefused, protocol_check
from mstoutcomes.cases.tests.factories import YoungPersonFactory
from mstoutcomes.outcomes.importers import import_records
from mstoutcomes.outcomes.models import Offence
from mstoutcomes.outcomes.services import administrative_record_save
from mstoutcomes.trial.errors import NotEligible
from mstoutcomes.trial.lock import trial_lock, trial_unlock_approve, trial_unlock_request
from mstoutcomes.trial.lockchecks import subscribe_lock_blocker, unsubscribe_lock_blocker
from mstoutcomes.trial.models import ConsentRecord, LockEventKind, TrialLockEvent, Withdrawal
from mstoutcomes.trial.services import (
    consent_record,
    eligibility_record,
    participant_enrol,
    participant_randomise,
    protocol_deviation_record,
    withdrawal_record,
)
from mstoutcomes.trial.tests.conftest import consent_form, ready

pytestmark = pytest.mark.django_db

# Randomised on 10 January 2024: the last (18-month) window is due 10 July 2025 and closes
# 30 days later, on 9 August 2025.
RANDOMISED = dt.date(2024, 1, 10)
LAST_CLOSES = dt.date(2025, 8, 9)
MESSAGE = "database was locked on"


def on(day):
    return time_machine.travel(dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC))


@pytest.fixture
def second_manager(site_a):
    return member(Role.TRIAL_MANAGER, site_a, username="theo")


@pytest.fixture
def randomised(trial, trial_manager, site_a):
    """Two participants randomised on 10 January 2024."""
    people = []
    with on(RANDOMISED):
        for n in range(2):
            person = YoungPersonFactory(site=site_a, study_id=f"AAA-{500 + n:04d}")
            participant = ready(
                participant_enrol(by=None, trial=trial, young_person=person), trial_manager
            )
            participant_randomise(by=trial_manager, participant=participant)
            people.append(participant)
    return people


@pytest.fixture
def locked(trial, trial_manager, randomised):
    """The trial locked (through the service) after every window closed."""
    with on(LAST_CLOSES + dt.timedelta(days=1)):
        trial_lock(by=trial_manager, trial=trial, reason="SAP v1.2 signed off")
    trial.refresh_from_db()
    return trial


@pytest.fixture
def query_blocker():
    """A stand-in for the data-quality app: it reports one open query while the test runs."""

    def blocker(trial):
        return [f"1 data-quality query is still open in {trial.code}."]

    subscribe_lock_blocker(blocker)
    yield blocker
    unsubscribe_lock_blocker(blocker)


# Locking


def test_the_lock_is_refused_while_a_last_follow_up_window_is_open_and_the_refusal_is_audited(
    trial, trial_manager, randomised
):
    with on(LAST_CLOSES), pytest.raises(ValidationError) as refused:
        trial_lock(by=trial_manager, trial=trial)

    assert refused.value.messages == [
        "Trial START-T cannot be locked yet.",
        "Follow-up windows are still open for 2 participants: the last closes on 9 August 2025.",
    ]
    trial.refresh_from_db()
    assert not trial.is_locked
    event = AuditEvent.objects.get(action="trial.lock.refused")
    assert "Follow-up windows are still open" in event.data["reasons"][0]


def test_a_trial_manager_locks_the_trial_once_every_last_window_has_closed(
    trial, trial_manager, randomised
):
    with on(LAST_CLOSES + dt.timedelta(days=1)):
        event = trial_lock(by=trial_manager, trial=trial, reason="SAP v1.2 signed off")

    trial.refresh_from_db()
    assert trial.is_locked and trial.locked_by == trial_manager
    assert timezone.localdate(trial.locked_at) == dt.date(2025, 8, 10)
    assert (event.kind, event.by, event.reason) == ("locked", trial_manager, "SAP v1.2 signed off")
    assert AuditEvent.objects.filter(action="trial.lock.locked").count() == 1


def test_a_participant_who_withdrew_from_further_data_does_not_hold_the_lock_back(
    trial, trial_manager, randomised
):
    with on(dt.date(2024, 6, 1)):
        withdrawal_record(
            by=trial_manager, participant=randomised[0], level="further_data", on=dt.date.today()
        )
    with on(LAST_CLOSES), pytest.raises(ValidationError) as refused:
        trial_lock(by=trial_manager, trial=trial)
    assert "still open for 1 participant:" in refused.value.messages[1]


def test_a_subscribed_blocker_such_as_an_open_query_holds_the_lock_back(
    trial, trial_manager, randomised, query_blocker
):
    with on(LAST_CLOSES + dt.timedelta(days=1)), pytest.raises(ValidationError) as refused:
        trial_lock(by=trial_manager, trial=trial)

    assert refused.value.messages == [
        "Trial START-T cannot be locked yet.",
        "1 data-quality query is still open in START-T.",
    ]
    trial.refresh_from_db()
    assert not trial.is_locked


def test_locking_needs_the_trial_lock_permission(trial, bob, site_a, randomised):
    supervisor = member(Role.SUPERVISOR, site_a, username="sam")
    for user in (bob, supervisor):
        with on(LAST_CLOSES + dt.timedelta(days=1)), pytest.raises(PermissionDenied):
            trial_lock(by=user, trial=trial)


def test_a_locked_trial_cannot_be_locked_again(locked, trial_manager):
    with pytest.raises(ValidationError, match="already locked"):
        trial_lock(by=trial_manager, trial=locked)


# Read-only once locked


def test_locked_data_refuse_every_trial_write_for_a_participant_with_an_audited_refusal(
    locked, trial_manager, randomised
):
    participant = randomised[0]
    writes = {
        "trial.consent.record": lambda: consent_record(
            by=trial_manager,
            participant=participant,
            form=consent_form(locked, "data_linkage"),
            given=True,
            recorded_on=dt.date.today(),
        ),
        "trial.participant.eligibility": lambda: eligibility_record(
            by=trial_manager, participant=participant, eligible=True, on=dt.date.today()
        ),
        "trial.participant.withdraw": lambda: withdrawal_record(
            by=trial_manager, participant=participant, level="treatment", on=dt.date.today()
        ),
        "trial.deviation.record": lambda: protocol_deviation_record(
            by=trial_manager,
            trial=locked,
            site=participant.site,
            participant=participant,
            occurred_on=dt.date.today(),
            identified_on=dt.date.today(),
            category="data",
            severity="minor",
            description="A late correction.",
        ),
    }
    for action, write in writes.items():
        with pytest.raises(ProtocolRefused) as refused:
            write()
        assert refused.value.messages == [
            "Trial START-T's database was locked on 10 August 2025: its data are read-only."
        ]
        event = AuditEvent.objects.filter(action="cases.protocol.refused").latest("pk")
        assert event.data["attempt"] == action and event.data["reason"] == "locked"
    assert ConsentRecord.objects.unscoped().filter(participant=participant).count() == 2
    assert not Withdrawal.objects.unscoped().filter(participant=participant).exists()


def test_no_one_is_enrolled_in_a_locked_trial(locked, site_a):
    with pytest.raises(NotEligible, match="locked: no one can be enrolled"):
        participant_enrol(by=None, trial=locked, young_person=YoungPersonFactory(site=site_a))


def test_a_lock_also_refuses_treatment_for_an_mst_participant(locked, randomised, trial_manager):
    for participant in randomised:
        with pytest.raises(ProtocolRefused, match=MESSAGE):
            protocol_check(
                by=trial_manager,
                young_person=participant.young_person,
                action="cases.episode.start",
                check=Check.TREATMENT,
            )


def test_an_administrative_record_for_a_locked_participant_is_refused(
    locked, randomised, alice, site_a
):
    person = randomised[0].young_person
    fields = {
        "offence_date": dt.date(2025, 1, 3),
        "category": "theft",
        "gravity": 3,
        "outcome": "youth_caution",
    }
    with pytest.raises(ProtocolRefused, match=MESSAGE):
        administrative_record_save(by=alice, young_person=person, model=Offence, fields=fields)
    assert not Offence.objects.unscoped().exists()
    event = AuditEvent.objects.get(action="cases.protocol.refused")
    assert event.data["attempt"] == "outcomes.record.save"
    # Someone outside the trial is not affected.
    other = YoungPersonFactory(site=site_a)
    administrative_record_save(by=alice, young_person=other, model=Offence, fields=fields)
    assert Offence.objects.unscoped().count() == 1


def test_the_record_form_shows_the_lock_message_and_saves_nothing(
    client, locked, randomised, alice
):
    person = randomised[0].young_person
    client.force_login(alice)
    today = dt.date.today()
    response = client.post(
        reverse("outcomes:record_add", args=[person.study_id, "offences"]),
        {
            "offence_date_0": today.day,
            "offence_date_1": today.month,
            "offence_date_2": today.year,
            "category": "theft",
            "gravity": 3,
            "outcome": "youth_caution",
        },
    )
    assert response.status_code == 400
    assert "database was locked on 10 August 2025" in response.content.decode()
    assert not Offence.objects.unscoped().exists()


def _import(by, site, text, *, dry_run):
    return import_records(
        by=by,
        kind="offences",
        site=site,
        stream=io.BytesIO(text.encode()),
        file_name="offences.csv",
        source_system="PNC",
        extracted_on=dt.date(2025, 9, 1),
        dry_run=dry_run,
    )


def test_an_import_touching_a_locked_participant_is_refused_row_by_row_and_writes_nothing(
    locked, randomised, site_a
):
    manager = member(Role.PROGRAMME_MANAGER, site_a, username="morgan")
    outside = YoungPersonFactory(site=site_a, study_id="AAA-0900")
    locked_id = randomised[0].young_person.study_id
    text = "local_id,offence_date,category,gravity,outcome\n"
    text += f"{outside.study_id},2025-01-03,theft,3,youth_caution\n"
    text += f"{locked_id},2025-01-04,theft,3,youth_caution\n"
    text += f"{locked_id},2025-02-04,criminal_damage,2,youth_caution\n"

    for dry_run in (True, False):
        report = _import(manager, site_a, text, dry_run=dry_run)
        assert not report.ok
        assert report.errors == [
            f"Row {row}: {locked_id}: Trial START-T's database was locked on 10 August 2025: "
            "its data are read-only."
            for row in (3, 4)
        ]
    assert not Offence.objects.unscoped().exists()
    # The real attempt is audited once per locked young person; the dry run only reports.
    event = AuditEvent.objects.get(action="cases.protocol.refused")
    assert event.data["attempt"] == "outcomes.import.offences"


# Unlocking


def test_unlocking_needs_a_reason_and_a_second_person_both_audited(
    locked, trial_manager, second_manager, randomised
):
    with pytest.raises(ValidationError, match="Enter why"):
        trial_unlock_request(by=trial_manager, trial=locked, reason="  ")
    request = trial_unlock_request(
        by=trial_manager, trial=locked, reason="The 12-month SDQ for AAA-0500 was mis-keyed."
    )
    with pytest.raises(ValidationError, match="already been asked for"):
        trial_unlock_request(by=second_manager, trial=locked, reason="Again")
    with pytest.raises(ValidationError, match="A second person must approve"):
        trial_unlock_approve(by=trial_manager, request=request)
    locked.refresh_from_db()
    assert locked.is_locked

    trial_unlock_approve(by=second_manager, request=request)

    locked.refresh_from_db()
    assert not locked.is_locked and locked.locked_at is None
    history = list(TrialLockEvent.objects.filter(trial=locked).order_by("at", "pk"))
    assert [e.kind for e in history] == [
        LockEventKind.LOCKED,
        LockEventKind.UNLOCK_REQUESTED,
        LockEventKind.UNLOCKED,
    ]
    assert history[2].by == second_manager and history[2].request == request
    unlocked = AuditEvent.objects.get(action="trial.lock.unlocked")
    assert unlocked.data["requested_by"] == "tina"
    assert "mis-keyed" in unlocked.data["reason"]
    assert AuditEvent.objects.filter(action="trial.lock.unlock_requested").count() == 1
    # The data can be changed again.
    withdrawal_record(
        by=trial_manager, participant=randomised[0], level="treatment", on=dt.date.today()
    )


def test_an_administrator_may_approve_an_unlock_but_a_research_worker_may_not(
    locked, trial_manager, bob, site_a
):
    request = trial_unlock_request(by=trial_manager, trial=locked, reason="Correction")
    with pytest.raises(PermissionDenied):
        trial_unlock_approve(by=bob, request=request)
    admin = member(Role.ADMINISTRATOR, site_a, username="ada")
    trial_unlock_approve(by=admin, request=request)
    locked.refresh_from_db()
    assert not locked.is_locked


def test_an_unlock_cannot_be_asked_for_when_the_trial_is_not_locked(trial, trial_manager):
    with pytest.raises(ValidationError, match="is not locked"):
        trial_unlock_request(by=trial_manager, trial=trial, reason="Just in case")


# The lock page


def test_the_lock_page_shows_what_blocks_locking_and_refuses_the_lock(
    client, trial, trial_manager, randomised, query_blocker
):
    client.force_login(trial_manager)
    url = reverse("trial:lock", args=[trial.code])
    with on(LAST_CLOSES):
        page = client.get(url)
        assert page.status_code == 200
        html = page.content.decode()
        assert "2 participants; the last window closes on 9 August 2025" in html
        assert "1 data-quality query is still open in START-T." in html
        refused = client.post(url, {"action": "lock"})
    assert refused.status_code == 400
    assert "Trial START-T cannot be locked yet." in refused.content.decode()
    trial.refresh_from_db()
    assert not trial.is_locked


def test_two_trial_managers_lock_and_unlock_through_the_page(
    client, trial, trial_manager, second_manager, randomised
):
    url = reverse("trial:lock", args=[trial.code])
    client.force_login(trial_manager)
    with on(LAST_CLOSES + dt.timedelta(days=1)):
        done = client.post(url, {"action": "lock", "lock-reason": "SAP v1.2"}, follow=True)
    assert "its data are now read-only" in done.content.decode()
    trial.refresh_from_db()
    assert trial.is_locked
    client.force_login(trial_manager)  # the session saved in 2025 has expired by now

    missing = client.post(url, {"action": "request", "unlock-reason": ""})
    assert missing.status_code == 400
    assert "Enter why the database needs to be unlocked" in missing.content.decode()
    client.post(url, {"action": "request", "unlock-reason": "A mis-keyed score"})
    own = client.post(url, {"action": "approve"})
    assert own.status_code == 400
    assert "A second person must approve the unlock" in own.content.decode()

    client.force_login(second_manager)
    page = client.get(url).content.decode()
    assert "Approve the unlock" in page and "A mis-keyed score" in page
    client.post(url, {"action": "approve"})
    trial.refresh_from_db()
    assert not trial.is_locked
    history = client.get(url).content.decode()
    assert history.count("govuk-table__row") == 4  # header and three events


def test_only_holders_of_the_lock_permission_open_the_lock_page(client, trial, bob, site_a):
    url = reverse("trial:lock", args=[trial.code])
    client.force_login(bob)
    assert client.get(url).status_code == 403
    client.force_login(member(Role.SUPERVISOR, site_a, username="sam"))
    assert client.get(url).status_code == 403
    assert client.post(url, {"action": "lock"}).status_code == 403


def test_the_trial_page_links_to_the_lock_page_and_says_when_locked(client, locked, trial_manager):
    client.force_login(trial_manager)
    html = client.get(reverse("trial:detail", args=[locked.code])).content.decode()
    assert reverse("trial:lock", args=[locked.code]) in html
    assert "The database was locked on 10 August 2025" in html


def test_the_participant_page_refuses_a_consent_once_locked(
    client, locked, trial_manager, randomised
):
    participant = randomised[0]
    client.force_login(trial_manager)
    today = dt.date.today()
    response = client.post(
        reverse("trial:participant", args=[locked.code, participant.pk]),
        {
            "action": "consent",
            "consent-form": consent_form(locked, "data_linkage").pk,
            "consent-given": "yes",
            "consent-recorded_on_0": today.day,
            "consent-recorded_on_1": today.month,
            "consent-recorded_on_2": today.year,
        },
    )
    assert response.status_code == 400
    assert "its data are read-only" in response.content.decode()
    assert ConsentRecord.objects.unscoped().filter(participant=participant).count() == 2
