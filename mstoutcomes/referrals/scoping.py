"""The one rule for which referrals a user may see.

- Site staff holding can_view_referrals see their site's submitted referrals.
- A referrer sees, at their site, only the referrals their own agency made.
- Drafts are seen only by the person writing them.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from mstoutcomes.accounts.permissions import Perm, grants_for

_NOTHING = Q(pk__in=[])


def referral_q(user: Any) -> Q:
    """Return a filter for the referrals a user may see."""
    query = _NOTHING
    for grant in grants_for(user):
        if Perm.VIEW_REFERRALS not in grant.perms:
            continue
        if grant.agency_scoped:
            if grant.agency_id is not None:
                query |= Q(site_id=grant.site_id, referring_agency_id=grant.agency_id)
        else:
            query |= Q(site_id=grant.site_id)
    if query is _NOTHING:
        return query
    return query & (~Q(state="draft") | Q(referrer_id=user.pk))
