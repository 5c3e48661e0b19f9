"""Who may see, answer and manage a data-quality query (used by services, selectors and views)."""

from __future__ import annotations

from typing import Any

from mstoutcomes.accounts.permissions import Perm, grants_for, user_has_perm
from mstoutcomes.quality.models import Query


def roles_with_queries(user: Any, site_id: int) -> set[str]:
    """Return the roles through which the user sees queries at a site (VIEW_QUERIES grants)."""
    return {
        grant.role
        for grant in grants_for(user)
        if grant.site_id == site_id and Perm.VIEW_QUERIES in grant.perms
    }


def may_manage(user: Any, query: Query) -> bool:
    """Open, close and reopen: MANAGE_QUERIES at the query's site."""
    return user_has_perm(user, Perm.MANAGE_QUERIES, site=query.site_id) and may_see_arm(user, query)


def may_see_arm(user: Any, query: Query) -> bool:
    """A query that could reveal the arm is only for users who may see treatment there."""
    return not query.reveals_arm or user_has_perm(user, Perm.VIEW_TREATMENT, site=query.site_id)


def may_see(user: Any, query: Query) -> bool:
    """See a query: its manager, or a VIEW_QUERIES holder of the role it is assigned to."""
    if not may_see_arm(user, query):
        return False
    if user_has_perm(user, Perm.MANAGE_QUERIES, site=query.site_id):
        return True
    return query.assigned_role in roles_with_queries(user, query.site_id)


def may_answer(user: Any, query: Query) -> bool:
    """Answer: a VIEW_QUERIES holder of the assigned role at the site, or a query manager."""
    return may_see(user, query)
