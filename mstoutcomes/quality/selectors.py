"""Reads of data-quality queries, scoped by the user's sites and roles, and blind where needed.

- A query manager (MANAGE_QUERIES) sees every query at their site.
- Another holder of VIEW_QUERIES sees the queries assigned to their role at their site.
- A query that could reveal the arm is shown only to users who may see treatment at its site.
- A query about a young person is shown only if the user may see that young person.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from mstoutcomes.accounts.models import Site, User
from mstoutcomes.accounts.permissions import Perm, grants_for, site_ids_with_perm
from mstoutcomes.cases.scoping import young_person_q
from mstoutcomes.quality.models import LIVE_STATES, Query, QueryState
from mstoutcomes.quality.rules import RULES, rule_title
from mstoutcomes.trial.models import Trial

_NOTHING = Q(pk__in=[])


@dataclass(frozen=True)
class QueryFilter:
    state: str = ""
    rule: str = ""
    site_id: int | None = None


def _visible_q(user: Any) -> Q:
    managed = site_ids_with_perm(user, Perm.MANAGE_QUERIES)
    sees_treatment = site_ids_with_perm(user, Perm.VIEW_TREATMENT)
    by_site: dict[int, set[str]] = {}
    for grant in grants_for(user):
        if Perm.VIEW_QUERIES in grant.perms:
            by_site.setdefault(grant.site_id, set()).add(grant.role)
    query = _NOTHING
    for site_id, roles in sorted(by_site.items()):
        here = Q(site_id=site_id)
        if site_id not in managed:
            here &= Q(assigned_role__in=sorted(roles))
        if site_id not in sees_treatment:
            here &= Q(reveals_arm=False)
        query |= here
    # The young person, when there is one, must be someone the user may see.
    person = Q(young_person__isnull=True) | young_person_q(user, prefix="young_person")
    return query & person


def queries_visible_to(*, user: Any, filters: QueryFilter | None = None) -> QuerySet[Query]:
    """Return the queries the user may see, newest first, filtered by state, rule and site."""
    filters = filters or QueryFilter()
    found = Query.objects.unscoped().filter(_visible_q(user))
    if filters.state:
        found = found.filter(state=filters.state)
    if filters.rule:
        found = found.filter(rule=filters.rule)
    if filters.site_id is not None:
        found = found.filter(site_id=filters.site_id)
    return found.select_related("site", "young_person", "trial").order_by("-opened_at", "-pk")


def query_sites(*, user: Any) -> list[Site]:
    """Return the sites at which the user sees queries (for the site filter)."""
    return list(Site.objects.filter(pk__in=site_ids_with_perm(user, Perm.VIEW_QUERIES)))


def rule_choices(*, user: Any) -> list[tuple[str, str]]:
    """Return the rules a user may filter by: the arm-revealing ones only if they see treatment."""
    sees_treatment = bool(site_ids_with_perm(user, Perm.VIEW_TREATMENT))
    choices = [(r.code, r.title) for r in RULES if sees_treatment or not r.reveals_arm]
    return [*choices, ("manual", rule_title("manual"))]


@dataclass(frozen=True)
class SiteCount:
    site: Site
    open: int
    answered: int

    @property
    def live(self) -> int:
        return self.open + self.answered


def open_query_counts(*, user: Any, trial: Trial | None = None) -> list[SiteCount]:
    """Count the open and answered queries the user may see, per site (of the trial, if given).

    One row for every site where the user sees queries (and which is in the trial), zeros
    included, so the summary says "none" rather than leaving a site out.
    """
    sites = Site.objects.filter(pk__in=site_ids_with_perm(user, Perm.VIEW_QUERIES))
    found = queries_visible_to(user=user).filter(state__in=LIVE_STATES)
    if trial is not None:
        sites = sites.filter(pk__in=trial.sites.values("pk"))
        found = found.filter(trial=trial)
    counts = Counter(found.order_by().values_list("site_id", "state"))
    return [
        SiteCount(
            site,
            counts.get((site.pk, QueryState.OPEN.value), 0),
            counts.get((site.pk, QueryState.ANSWERED.value), 0),
        )
        for site in sites.order_by("name")
    ]


def open_queries_block_lock(trial: Trial) -> list[str]:
    """Return why the trial's database cannot be locked yet: its sites' unclosed queries.

    For the lock service (it shows no one the queries, so it counts every one, blind or not).
    """
    counts = Counter(
        Query.objects.unscoped()
        .filter(trial=trial, state__in=LIVE_STATES)
        .order_by()
        .values_list("site__name", flat=True)
    )
    return [
        f"{n} data quer{'y is' if n == 1 else 'ies are'} still open at {site}: answer and "
        "close them before the lock."
        for site, n in sorted(counts.items())
    ]


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    who: str
    what: str
    text: str = ""


def _who(user: User | None, *, blinded: bool) -> str:
    if user is None:
        return "The data-quality rules"
    if blinded:
        return "A member of staff"
    return user.get_full_name() or user.username


def query_timeline(query: Query, *, blinded: bool = False) -> list[TimelineEntry]:
    """Return what happened to a query, oldest first, from its history."""
    records = list(
        query.history.order_by("history_date", "history_id").select_related("history_user")
    )
    entries: list[TimelineEntry] = []
    previous: Any = None
    for record in records:
        who = _who(record.history_user, blinded=blinded)
        state = record.state
        if previous is None:
            entries.append(TimelineEntry(record.history_date, who, "Opened", record.message))
        elif state != previous.state:
            if state == QueryState.ANSWERED:
                entries.append(TimelineEntry(record.history_date, who, "Answered", record.answer))
            elif state == QueryState.CLOSED:
                entries.append(TimelineEntry(record.history_date, who, "Closed", record.close_note))
            elif state == QueryState.RESOLVED:
                entries.append(
                    TimelineEntry(
                        record.history_date, who, "Closed automatically", record.close_note
                    )
                )
            elif state == QueryState.OPEN:
                entries.append(
                    TimelineEntry(record.history_date, who, "Reopened", record.close_note)
                )
        previous = record
    return entries
