"""Writes for sites, agencies, users and memberships, and the audit trail every write records."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_ipv46_address
from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.ipv6 import clean_ipv6_address

from mstoutcomes.accounts.models import (
    Agency,
    AuditChainHead,
    AuditEvent,
    Membership,
    Site,
    User,
)
from mstoutcomes.accounts.permissions import forget_grants
from mstoutcomes.core.audit import GENESIS_HASH, event_hash, json_safe, snapshot

_ACTION = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){2,}")


def _payload(event: AuditEvent) -> dict[str, Any]:
    occurred = event.occurred_at.astimezone(dt.UTC)
    return {
        "occurred_at": occurred.isoformat(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_label": event.object_label,
        "site_id": event.site_id,
        "changes": event.changes,
        "data": event.data,
        "ip_address": event.ip_address,
    }


def _client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    address = request.META.get("REMOTE_ADDR") or ""
    # Hash the address as the database will store it (IPv6 compressed), or the chain breaks.
    try:
        validate_ipv46_address(address)
    except ValidationError:
        return None
    return clean_ipv6_address(address) if ":" in address else address


def audit_record(
    *,
    actor: User | None,
    action: str,
    obj: models.Model | None = None,
    site: Site | None = None,
    changes: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
    object_label: str | None = None,
) -> AuditEvent:
    """Append an event to the audit chain inside the caller's transaction.

    The chain head is locked, so concurrent writers append one after another and the links never
    fork; if the caller's transaction rolls back, the event goes with it.
    """
    if not _ACTION.fullmatch(action or ""):
        raise ValueError(f"Audit action {action!r} must be dotted: app.object.verb.")
    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
        if head is None:
            head = AuditChainHead.objects.create(pk=1, last_hash=GENESIS_HASH, length=0)
            head = AuditChainHead.objects.select_for_update().get(pk=1)
        event = AuditEvent(
            occurred_at=timezone.now().astimezone(dt.UTC),
            actor=actor if actor is not None and actor.pk else None,
            actor_label=(str(actor) if actor is not None else "system")[:200],
            action=action,
            object_type=obj._meta.label_lower if obj is not None else "",
            object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
            object_label=(object_label if object_label is not None else str(obj or ""))[:200],
            site=site,
            changes=json_safe(changes or {}),
            data=json_safe(data or {}),
            ip_address=_client_ip(request),
            previous_hash=head.last_hash,
        )
        event.hash = event_hash(head.last_hash, _payload(event))
        event.save()
        head.last_hash = event.hash
        head.length += 1
        head.save(update_fields=["last_hash", "length"])
    return event


@dataclass(frozen=True)
class AuditVerification:
    """The result of checking the audit chain link by link."""

    events_checked: int
    first_broken_id: int | None

    @property
    def ok(self) -> bool:
        return self.first_broken_id is None


def audit_verify() -> AuditVerification:
    """Recompute every link of the audit chain and report the first event that does not match."""
    previous = GENESIS_HASH
    checked = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        checked += 1
        if event.previous_hash != previous or event.hash != event_hash(previous, _payload(event)):
            return AuditVerification(checked, event.pk)
        previous = event.hash
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and (head.last_hash != previous or head.length != checked):
        # Events were deleted from the end of the chain.
        return AuditVerification(checked, -1)
    return AuditVerification(checked, None)


def _clean_and_save(instance: models.Model) -> None:
    instance.full_clean()
    instance.save()


@transaction.atomic
def site_create(*, by: User | None, code: str, name: str, locality: str = "") -> Site:
    """Create a site (an MST team in a locality)."""
    site = Site(code=code.strip().upper(), name=name.strip(), locality=locality.strip())
    _clean_and_save(site)
    audit_record(
        actor=by,
        action="accounts.site.created",
        obj=site,
        site=site,
        changes={k: [None, v] for k, v in snapshot(site, ["code", "name"]).items()},
    )
    return site


@transaction.atomic
def agency_create(*, by: User | None, name: str, kind: str, locality: str = "") -> Agency:
    """Create an agency that refers young people or works with them."""
    agency = Agency(name=name.strip(), kind=kind, locality=locality.strip())
    _clean_and_save(agency)
    audit_record(
        actor=by,
        action="accounts.agency.created",
        obj=agency,
        changes={k: [None, v] for k, v in snapshot(agency, ["name", "kind"]).items()},
    )
    return agency


@transaction.atomic
def user_create(
    *,
    by: User | None,
    username: str,
    password: str | None,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    job_title: str = "",
) -> User:
    """Create a user; with no password the account cannot sign in until one is set."""
    user = User(
        username=username.strip(),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        email=email.strip().lower(),
        job_title=job_title.strip(),
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean()
    user.save()
    audit_record(
        actor=by,
        action="accounts.user.created",
        obj=user,
        changes={"username": [None, user.username]},
    )
    return user


@transaction.atomic
def membership_grant(
    *, by: User | None, user: User, site: Site, role: str, agency: Agency | None = None
) -> Membership:
    """Give a user a role at a site (referrers also need their agency)."""
    membership = Membership(user=user, site=site, role=role, agency=agency)
    try:
        membership.full_clean()
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from None
    membership.save()
    forget_grants(user)
    audit_record(
        actor=by,
        action="accounts.membership.granted",
        obj=membership,
        site=site,
        changes={"role": [None, role], "agency": [None, agency.pk if agency else None]},
    )
    return membership


@transaction.atomic
def membership_end(*, by: User | None, membership: Membership) -> Membership:
    """End a membership; its history stays."""
    membership.is_active = False
    membership.save(update_fields=["is_active", "updated_at"])
    forget_grants(membership.user)
    audit_record(
        actor=by,
        action="accounts.membership.ended",
        obj=membership,
        site=membership.site,
        changes={"is_active": [True, False]},
    )
    return membership
