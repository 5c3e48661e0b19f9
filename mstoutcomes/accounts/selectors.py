"""Reads of sites, agencies, users and the audit trail."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from mstoutcomes.accounts.models import Agency, AuditEvent, Membership, Role, Site, User
from mstoutcomes.accounts.permissions import Perm, grants_for, site_ids_with_perm


def sites_for(user: Any, perm: Perm) -> QuerySet[Site]:
    """Return the sites where the user holds the permission."""
    return Site.objects.filter(pk__in=site_ids_with_perm(user, perm))


def memberships_for(user: Any) -> QuerySet[Membership]:
    """Return the user's active memberships with their sites and agencies."""
    return Membership.objects.filter(user=user, is_active=True).select_related("site", "agency")


def staff_with_role(*, site_ids: set[int], roles: set[str]) -> QuerySet[User]:
    """Return active users holding any of the roles at any of the sites."""
    return (
        User.objects.filter(
            is_active=True,
            memberships__is_active=True,
            memberships__site_id__in=site_ids,
            memberships__role__in=roles,
        )
        .distinct()
        .order_by("first_name", "last_name")
    )


def therapists_visible_to(user: Any) -> QuerySet[User]:
    """Return the therapists at the sites whose caseload the user may see."""
    site_ids = {g.site_id for g in grants_for(user) if Perm.VIEW_YOUNG_PEOPLE in g.perms}
    return staff_with_role(site_ids=site_ids, roles={Role.THERAPIST})


def agencies_active() -> QuerySet[Agency]:
    return Agency.objects.filter(is_active=True)


def audit_events_for_object(*, user: Any, obj: Any, site_id: int) -> QuerySet[AuditEvent]:
    """Return the audit events about an object, if the user may see the audit at its site."""
    if site_id not in site_ids_with_perm(user, Perm.VIEW_AUDIT):
        return AuditEvent.objects.none()
    return AuditEvent.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(obj.pk)
    ).select_related("actor")
