"""The one rule for which young people a user may see.

- Staff of a site (every role except referrer) see the site's young people.
- A referrer sees, at their site, the young people their agency referred or is recorded as working
  with (an AgencyInvolvement).
- Nobody sees anything through an ended membership or at an inactive site.

Whether names are shown is a separate permission (can_view_identifiable), applied by the views.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q

from mstoutcomes.accounts.permissions import Perm, grants_for

_NOTHING = Q(pk__in=[])


def site_wide_site_ids(user: Any) -> set[int]:
    """Return the sites where the user sees every young person (staff, not an agency's referrer).

    Rows that belong to a site but to no one young person (a trial deviation not about one
    participant) are visible to exactly these users.
    """
    return {
        grant.site_id
        for grant in grants_for(user)
        if Perm.VIEW_YOUNG_PEOPLE in grant.perms and not grant.agency_scoped
    }


def young_person_q(user: Any, *, prefix: str = "") -> Q:
    """Return a filter for the young people (or rows under them, via prefix) a user may see."""
    from mstoutcomes.cases.models import AgencyInvolvement

    def field(name: str) -> str:
        return f"{prefix}__{name}" if prefix else name

    site_ids = site_wide_site_ids(user)
    agency_pairs = {
        (grant.site_id, grant.agency_id)
        for grant in grants_for(user)
        if Perm.VIEW_YOUNG_PEOPLE in grant.perms
        and grant.agency_scoped
        and grant.agency_id is not None
    }

    query = Q(**{f"{field('site_id')}__in": sorted(site_ids)}) if site_ids else _NOTHING
    person_ref = OuterRef(f"{prefix}_id") if prefix else OuterRef("pk")
    for site_id, agency_id in sorted(agency_pairs):
        involved = AgencyInvolvement.objects.unscoped().filter(
            young_person=person_ref, agency_id=agency_id
        )
        query |= Q(**{field("site_id"): site_id}) & (
            Q(**{field("referring_agency_id"): agency_id}) | Q(Exists(involved))
        )
    return query


def register() -> None:
    """Install young_person_q as core's scoping rule (called from CasesConfig.ready())."""
    from mstoutcomes.cases.models import YoungPerson
    from mstoutcomes.core.scoping import register_scope_rule

    register_scope_rule(rule=young_person_q, root_model=YoungPerson)
