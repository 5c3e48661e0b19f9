"""Named permissions and the roles that grant them: the only place roles are turned into rights.

Code asks ``user_has_perm(user, Perm.EDIT_CASE, site=...)``; it never compares roles.
To change what a role may do, change ROLE_PERMISSIONS and its tests
(accounts/tests/test_permissions.py and tests/test_access_matrix.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from mstoutcomes.accounts.models import Membership, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from mstoutcomes.accounts.models import Site, User


class Perm(StrEnum):
    VIEW_YOUNG_PEOPLE = "can_view_young_people"
    VIEW_IDENTIFIABLE = "can_view_identifiable"
    # Treatment records (episodes, therapists, goals, contacts) reveal the arm at a trial site.
    VIEW_TREATMENT = "can_view_treatment"
    EDIT_CASE = "can_edit_case"
    MANAGE_EPISODES = "can_manage_episodes"
    MAKE_REFERRAL = "can_make_referral"
    VIEW_REFERRALS = "can_view_referrals"
    RUN_PANEL = "can_run_panel"
    OVERRIDE_CONSENT = "can_override_consent"
    VIEW_AUDIT = "can_view_audit"
    RANDOMISE = "can_randomise"
    UNBLIND = "can_unblind"
    EXPORT_DATA = "can_export_data"
    VIEW_DASHBOARDS = "can_view_dashboards"
    MANAGE_USERS = "can_manage_users"
    USE_ADMIN = "can_use_admin"
    ENTER_MEASURES = "can_enter_measures"
    IMPORT_DATA = "can_import_data"
    EXPORT_ALLOCATION_LIST = "can_export_allocation_list"
    MANAGE_COSTS = "can_manage_costs"
    # The protocol deviations log can reveal the arm, so only roles that see treatment hold these.
    VIEW_DEVIATIONS = "can_view_deviations"
    RECORD_DEVIATIONS = "can_record_deviations"
    # Trial outcome instruments for trial participants are entered by outcome assessors only.
    ENTER_TRIAL_OUTCOMES = "can_enter_trial_outcomes"
    # Emergency unblinding of a participant's arm to a named person, with a reason (audited).
    EMERGENCY_UNBLIND = "can_emergency_unblind"
    # Lock the trial's database (unlocking needs a second holder and a reason).
    LOCK_TRIAL = "can_lock_trial"
    # Consent, assent and linkage-consent form versions.
    MANAGE_CONSENT_FORMS = "can_manage_consent_forms"
    # Data-quality queries: see and answer those assigned to your role; open and close any.
    VIEW_QUERIES = "can_view_queries"
    MANAGE_QUERIES = "can_manage_queries"
    # Figures by arm: the DMC's closed report (unblinded statistician, DMC members).
    VIEW_CLOSED_REPORT = "can_view_closed_report"
    # Figures by arm coded A/B, never named (the blinded trial statistician).
    VIEW_CODED_ARMS = "can_view_coded_arms"
    # Figures by named arm once the trial's database is locked (steering group, statistician).
    VIEW_ARMS_AFTER_LOCK = "can_view_arms_after_lock"


P = Perm
# fmt: off
ROLE_PERMISSIONS: dict[str, frozenset[Perm]] = {
    Role.THERAPIST: frozenset({
        P.VIEW_YOUNG_PEOPLE, P.VIEW_IDENTIFIABLE, P.VIEW_TREATMENT, P.EDIT_CASE,
        P.MAKE_REFERRAL, P.VIEW_REFERRALS, P.ENTER_MEASURES, P.VIEW_QUERIES,
    }),
    Role.SUPERVISOR: frozenset({
        P.VIEW_YOUNG_PEOPLE, P.VIEW_IDENTIFIABLE, P.VIEW_TREATMENT, P.EDIT_CASE,
        P.MANAGE_EPISODES, P.MAKE_REFERRAL, P.VIEW_REFERRALS, P.RUN_PANEL, P.OVERRIDE_CONSENT,
        P.VIEW_DASHBOARDS, P.ENTER_MEASURES, P.VIEW_QUERIES,
    }),
    # Programme managers also keep the site's unit costs, price year and team costs.
    Role.PROGRAMME_MANAGER: frozenset({
        P.VIEW_YOUNG_PEOPLE, P.VIEW_IDENTIFIABLE, P.VIEW_TREATMENT, P.EDIT_CASE,
        P.MANAGE_EPISODES, P.MAKE_REFERRAL, P.VIEW_REFERRALS, P.RUN_PANEL, P.OVERRIDE_CONSENT,
        P.VIEW_AUDIT, P.VIEW_DASHBOARDS, P.ENTER_MEASURES, P.IMPORT_DATA, P.MANAGE_COSTS,
        P.VIEW_DEVIATIONS, P.RECORD_DEVIATIONS, P.VIEW_QUERIES,
    }),
    Role.REFERRER: frozenset({
        P.VIEW_YOUNG_PEOPLE, P.VIEW_IDENTIFIABLE, P.VIEW_TREATMENT, P.MAKE_REFERRAL,
        P.VIEW_REFERRALS,
    }),
    # Research workers visit families to collect follow-up measures, so they see who people
    # are; they are blind to allocation: no treatment records (episodes, therapists, goals,
    # contacts) and no referral decisions, which would reveal the arm at a trial site.
    Role.RESEARCH_WORKER: frozenset({
        P.VIEW_YOUNG_PEOPLE, P.VIEW_IDENTIFIABLE, P.ENTER_MEASURES, P.ENTER_TRIAL_OUTCOMES,
        P.VIEW_QUERIES,
    }),
    Role.TRIAL_MANAGER: frozenset({
        P.VIEW_YOUNG_PEOPLE, P.VIEW_IDENTIFIABLE, P.VIEW_TREATMENT, P.VIEW_REFERRALS,
        P.RANDOMISE, P.UNBLIND, P.EXPORT_DATA, P.VIEW_DASHBOARDS, P.ENTER_MEASURES,
        P.IMPORT_DATA, P.VIEW_DEVIATIONS, P.RECORD_DEVIATIONS, P.ENTER_TRIAL_OUTCOMES,
        P.EMERGENCY_UNBLIND, P.LOCK_TRIAL, P.MANAGE_CONSENT_FORMS, P.VIEW_QUERIES,
        P.MANAGE_QUERIES,
    }),
    # Pseudonymised roles: they see study IDs, never names, dates of birth or addresses.
    # The trial statistician is blind: no treatment records, arms coded A/B until the lock.
    Role.STATISTICIAN: frozenset({
        P.VIEW_YOUNG_PEOPLE, P.EXPORT_DATA, P.VIEW_DASHBOARDS, P.VIEW_CODED_ARMS,
        P.VIEW_ARMS_AFTER_LOCK,
    }),
    # The unblinded statistician prepares the DMC's closed report and may export the
    # allocation list to verify it (audited).
    Role.UNBLINDED_STATISTICIAN: frozenset({
        P.VIEW_YOUNG_PEOPLE, P.VIEW_TREATMENT, P.EXPORT_DATA, P.VIEW_DASHBOARDS,
        P.EXPORT_ALLOCATION_LIST, P.VIEW_DEVIATIONS, P.VIEW_CLOSED_REPORT,
    }),
    # The data monitoring committee reads the closed report (by arm) and the open one.
    Role.DMC_MEMBER: frozenset({
        P.VIEW_YOUNG_PEOPLE, P.VIEW_DASHBOARDS, P.VIEW_CLOSED_REPORT,
    }),
    # The steering group sees pooled figures until the database lock.
    Role.STEERING_GROUP: frozenset({
        P.VIEW_YOUNG_PEOPLE, P.VIEW_DASHBOARDS, P.VIEW_ARMS_AFTER_LOCK,
    }),
    Role.ADMINISTRATOR: frozenset({
        P.VIEW_YOUNG_PEOPLE, P.VIEW_IDENTIFIABLE, P.VIEW_TREATMENT, P.EDIT_CASE,
        P.MANAGE_EPISODES, P.VIEW_AUDIT, P.MANAGE_USERS, P.USE_ADMIN, P.ENTER_MEASURES,
        P.IMPORT_DATA,
    }),
}
# fmt: on

# Roles that see only the young people their agency referred or works with, not the whole site.
AGENCY_SCOPED_ROLES: frozenset[str] = frozenset({Role.REFERRER})


@dataclass(frozen=True)
class Grant:
    """One active membership as the access rules need it."""

    site_id: int
    agency_id: int | None
    role: str
    perms: frozenset[Perm]

    @property
    def agency_scoped(self) -> bool:
        return self.role in AGENCY_SCOPED_ROLES


_CACHE_ATTR = "_mstoutcomes_grants"


def grants_for(user: User | AnonymousUser | Any) -> tuple[Grant, ...]:
    """Return the user's active memberships at active sites, cached on the user object."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return ()
    cached: tuple[Grant, ...] | None = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        rows = Membership.objects.filter(
            user_id=user.pk,  # type: ignore[misc]
            is_active=True,
            site__is_active=True,
        ).values_list("site_id", "agency_id", "role")
        cached = tuple(
            Grant(site_id, agency_id, role, ROLE_PERMISSIONS.get(role, frozenset()))
            for site_id, agency_id, role in rows
        )
        setattr(user, _CACHE_ATTR, cached)
    return cached


def forget_grants(user: Any) -> None:
    """Drop cached grants after the user's memberships change."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def user_perms(user: Any, *, site: Site | int | None = None) -> frozenset[Perm]:
    """Return the permissions a user holds at a site (or at any site when site is None)."""
    site_id = site if isinstance(site, int) or site is None else site.pk
    perms: set[Perm] = set()
    for grant in grants_for(user):
        if site_id is None or grant.site_id == site_id:
            perms |= grant.perms
    return frozenset(perms)


def user_has_perm(user: Any, perm: Perm, *, site: Site | int | None = None) -> bool:
    """Return whether the user holds the permission at the site (or at any site)."""
    return perm in user_perms(user, site=site)


def site_ids_with_perm(user: Any, perm: Perm) -> set[int]:
    """Return the sites at which the user holds the permission."""
    return {grant.site_id for grant in grants_for(user) if perm in grant.perms}
