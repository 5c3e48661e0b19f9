"""The audit trail is a hash chain written in the caller's transaction, and it can be verified."""

import datetime as dt
import decimal
import itertools

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import RequestFactory

from mstoutcomes.accounts.models import AuditChainHead, AuditEvent, Role
from mstoutcomes.accounts.services import (
    _payload,
    agency_create,
    audit_record,
    audit_verify,
    membership_end,
    membership_grant,
    site_create,
    user_create,
)
from mstoutcomes.accounts.tests.factories import UserFactory
from mstoutcomes.core.audit import GENESIS_HASH, event_hash

pytestmark = pytest.mark.django_db


def record(actor=None, action="accounts.test.done", **kwargs):
    return audit_record(actor=actor, action=action, **kwargs)


def test_the_first_event_links_to_the_genesis_hash():
    event = record()
    assert event.previous_hash == GENESIS_HASH
    assert len(event.hash) == 64


def test_each_event_links_to_the_hash_of_the_one_before(alice, site_a):
    events = [
        record(alice, "accounts.test.first", obj=site_a, site=site_a),
        record(None, "accounts.test.second", data={"n": 2}),
        record(alice, "accounts.test.third", changes={"name": ["A", "B"]}),
    ]

    stored = list(AuditEvent.objects.order_by("id"))
    assert [e.pk for e in stored] == [e.pk for e in events]
    assert stored[0].previous_hash == GENESIS_HASH
    for before, after in itertools.pairwise(stored):
        assert after.previous_hash == before.hash
    head = AuditChainHead.objects.get()
    assert (head.last_hash, head.length) == (stored[-1].hash, 3)


def test_an_event_records_who_did_what_to_which_object(alice, site_a):
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.7")

    event = record(alice, "accounts.site.viewed", obj=site_a, site=site_a, request=request)
    event.refresh_from_db()

    assert event.actor == alice
    assert event.actor_label == "Alice Adams"
    assert event.object_type == "accounts.site"
    assert event.object_id == str(site_a.pk)
    assert event.object_label == "Site A"
    assert event.site == site_a
    assert event.ip_address == "192.0.2.7"


def test_an_event_without_an_actor_is_labelled_system():
    event = record(None)
    assert event.actor is None
    assert event.actor_label == "system"


def test_event_data_is_stored_as_json_safe_values():
    event = record(data={"on": dt.date(2024, 5, 1), "cost": decimal.Decimal("12.50")})
    event.refresh_from_db()
    assert event.data == {"on": "2024-05-01", "cost": "12.50"}


@pytest.mark.parametrize("action", ["", "randomised", "trial.randomised"])
def test_an_action_that_is_not_app_object_verb_is_refused(action):
    with pytest.raises(ValueError, match=r"must be dotted: app\.object\.verb"):
        record(action=action)
    assert not AuditEvent.objects.exists()


def test_an_event_rolls_back_with_the_callers_transaction():
    kept = record(action="accounts.test.kept")

    with pytest.raises(RuntimeError), transaction.atomic():
        record(action="accounts.test.lost")
        raise RuntimeError("the write failed")

    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["accounts.test.kept"]
    head = AuditChainHead.objects.get()
    assert (head.last_hash, head.length) == (kept.hash, 1)
    assert audit_verify().ok


def test_the_chain_continues_cleanly_after_a_rollback():
    record(action="accounts.test.first")
    with pytest.raises(RuntimeError), transaction.atomic():
        record(action="accounts.test.lost")
        raise RuntimeError
    record(action="accounts.test.second")

    result = audit_verify()
    assert result.ok
    assert result.events_checked == 2


def test_an_empty_trail_verifies():
    result = audit_verify()
    assert result.ok
    assert result.events_checked == 0


def test_an_intact_chain_verifies(alice, site_a):
    record(alice, "accounts.test.one", obj=site_a, site=site_a, data={"x": [1, 2]})
    record(alice, "accounts.test.two", changes={"given_name": ["Sam", "Samuel"]})
    record(None, "accounts.test.three", request=RequestFactory().get("/"))

    result = audit_verify()

    assert result.ok
    assert result.first_broken_id is None
    assert result.events_checked == 3


@pytest.mark.parametrize(
    ("remote_addr", "stored"),
    [
        ("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),
        ("2001:db8::1", "2001:db8::1"),
    ],
)
def test_an_event_from_an_ipv6_client_verifies(remote_addr, stored):
    event = record(request=RequestFactory().get("/", REMOTE_ADDR=remote_addr))
    event.refresh_from_db()

    assert event.ip_address == stored
    assert audit_verify().ok


def test_an_unparseable_client_address_is_not_recorded():
    event = record(request=RequestFactory().get("/", REMOTE_ADDR="unknown"))
    assert event.ip_address is None
    assert audit_verify().ok


def test_verification_names_the_first_event_whose_data_was_changed():
    first = record(action="accounts.test.one", data={"score": 1})
    tampered = record(action="accounts.test.two", data={"score": 2})
    record(action="accounts.test.three", data={"score": 3})
    assert audit_verify().ok

    AuditEvent.objects.filter(pk=tampered.pk).update(data={"score": 20})

    result = audit_verify()
    assert not result.ok
    assert result.first_broken_id == tampered.pk
    assert result.first_broken_id != first.pk
    assert result.events_checked == 2


def test_verification_detects_a_changed_actor_label():
    tampered = record(action="accounts.test.one")
    AuditEvent.objects.filter(pk=tampered.pk).update(actor_label="someone else")
    assert audit_verify().first_broken_id == tampered.pk


def test_verification_detects_an_event_rehashed_after_a_change():
    # Recomputing the tampered event's own hash still breaks the next event's link.
    record(action="accounts.test.one")
    tampered = record(action="accounts.test.two", data={"score": 2})
    following = record(action="accounts.test.three")
    tampered.data = {"score": 20}
    AuditEvent.objects.filter(pk=tampered.pk).update(
        data=tampered.data, hash=event_hash(tampered.previous_hash, _payload(tampered))
    )

    assert audit_verify().first_broken_id == following.pk


def test_verification_names_the_event_after_one_deleted_from_the_middle():
    record(action="accounts.test.one")
    deleted = record(action="accounts.test.two")
    after = record(action="accounts.test.three")

    AuditEvent.objects.filter(pk=deleted.pk).delete()

    assert audit_verify().first_broken_id == after.pk


def test_verification_detects_events_deleted_from_the_end():
    record(action="accounts.test.one")
    record(action="accounts.test.two")
    last = record(action="accounts.test.three")

    AuditEvent.objects.filter(pk=last.pk).delete()

    result = audit_verify()
    assert not result.ok
    assert result.first_broken_id == -1
    assert result.events_checked == 2


def test_membership_grant_writes_its_audit_event(site_a):
    admin = UserFactory(first_name="Ada", last_name="Admin")
    user = UserFactory()

    membership = membership_grant(by=admin, user=user, site=site_a, role=Role.THERAPIST)

    event = AuditEvent.objects.get(action="accounts.membership.granted")
    assert event.actor == admin
    assert event.object_id == str(membership.pk)
    assert event.site == site_a
    assert event.changes == {"role": [None, "therapist"], "agency": [None, None]}
    assert audit_verify().ok


def test_a_refused_membership_grant_writes_nothing(site_a):
    with pytest.raises(ValidationError, match="agency"):
        membership_grant(by=None, user=UserFactory(), site=site_a, role=Role.REFERRER)

    assert not AuditEvent.objects.exists()


def test_membership_end_writes_its_audit_event(alice):
    membership_end(by=None, membership=alice.memberships.get())

    event = AuditEvent.objects.get(action="accounts.membership.ended")
    assert event.changes == {"is_active": [True, False]}


def test_creating_sites_agencies_and_users_writes_their_audit_events():
    site_create(by=None, code="trf", name="Trafford")
    agency_create(by=None, name="Trafford YOS", kind="youth_justice")
    user_create(by=None, username="dee", password=None)

    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["accounts.site.created", "accounts.agency.created", "accounts.user.created"]
    site_event = AuditEvent.objects.get(action="accounts.site.created")
    assert site_event.changes == {"code": [None, "TRF"], "name": [None, "Trafford"]}
    assert audit_verify().ok


@pytest.mark.django_db
@pytest.mark.parametrize(
    "action", ["a..b", "cases.person", ".a.b", "Cases.Person.Viewed", "a.b. c"]
)
def test_audit_record_refuses_malformed_actions(action):
    with pytest.raises(ValueError, match="must be dotted"):
        audit_record(actor=None, action=action)
