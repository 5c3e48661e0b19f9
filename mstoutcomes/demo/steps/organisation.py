"""Demo step: the two MST sites, their agencies and one user for every role."""

from __future__ import annotations

from mstoutcomes.accounts.services import (
    agency_create,
    membership_grant,
    site_create,
    user_create,
)
from mstoutcomes.demo import data
from mstoutcomes.demo.builder import DemoContext, register_step


@register_step("organisation", order=100)
def organisation(ctx: DemoContext) -> str:
    """Create the sites, agencies and staff (every user's password is the demo password)."""
    for site in data.SITES:
        ctx.sites[site.code] = site_create(
            by=None, code=site.code, name=site.name, locality=site.locality
        )
    for spec in data.AGENCIES:
        ctx.agencies[spec.key] = agency_create(
            by=None, name=spec.name, kind=spec.kind, locality=spec.locality
        )
    for staff in data.STAFF:
        user = user_create(
            by=None,
            username=staff.username,
            password=data.DEMO_PASSWORD,
            first_name=staff.first_name,
            last_name=staff.last_name,
            email=f"{staff.username}@{data.DEMO_EMAIL_DOMAIN}",
            job_title=staff.job_title,
        )
        ctx.users[user.username] = user
        for site_code, role, agency_key in staff.memberships:
            agency = ctx.agencies[agency_key] if agency_key else None
            membership_grant(
                by=None, user=user, site=ctx.sites[site_code], role=role, agency=agency
            )
            users = ctx.users_by_role.setdefault(role, [])
            if user not in users:
                users.append(user)
    return f"{len(ctx.sites)} sites, {len(ctx.agencies)} agencies, {len(ctx.users)} users"
