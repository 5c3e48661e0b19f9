"""Every write of data-quality queries: open, answer, close, reopen, and the rule engine's run.

A query moves open → answered → closed. The rule engine (``quality_run``) opens a query for each
problem its rules find, at most once per problem (the finding's key), and closes a query
automatically — "resolved in the data" — when its rule no longer finds the problem; it reopens
such a query if the problem comes back. A query a person closed stays closed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from mstoutcomes.accounts.models import Role, Site, User
from mstoutcomes.accounts.permissions import ROLE_PERMISSIONS, Perm, user_has_perm
from mstoutcomes.accounts.services import audit_record
from mstoutcomes.cases.models import YoungPerson
from mstoutcomes.core.services import clean_and_save, require
from mstoutcomes.quality import access
from mstoutcomes.quality.models import LIVE_STATES, MANUAL_RULE, Query, QueryState
from mstoutcomes.quality.rules import (
    RULES_BY_CODE,
    SAME_PERSON_TWO_SITES,
    Finding,
    fetch_facts,
    run_rules,
)
from mstoutcomes.trial.models import Trial

RESOLVED_NOTE = "Resolved in the data: the rule no longer finds this problem."


def assignable_roles() -> list[tuple[str, str]]:
    """Return the roles a query may be assigned to (those that can see queries)."""
    return [
        (role.value, role.label)
        for role in Role
        if Perm.VIEW_QUERIES in ROLE_PERMISSIONS.get(role, frozenset())
    ]


def _audit(
    query: Query, *, by: User | None, action: str, request: HttpRequest | None = None, **data: Any
) -> None:
    # The message can reveal the arm (treatment rules): the trail keeps what kind of query only.
    audit_record(
        actor=by,
        action=f"quality.query.{action}",
        obj=query,
        site=query.site,
        data={
            "rule": query.rule,
            "key": query.key,
            "state": query.state,
            "assigned_role": query.assigned_role,
            "young_person": query.young_person.study_id if query.young_person else "",
            **data,
        },
        request=request,
    )


def _save(query: Query, by: User | None) -> None:
    query._history_user = by  # type: ignore[attr-defined]
    clean_and_save(query)


@transaction.atomic
def query_open(
    *,
    by: User | None,
    site: Site,
    message: str,
    assigned_role: str,
    young_person: YoungPerson | None = None,
    trial: Trial | None = None,
    rule: str = MANUAL_RULE,
    key: str | None = None,
    reveals_arm: bool = False,
    request: HttpRequest | None = None,
) -> Query:
    """Open a query: by a trial manager (MANAGE_QUERIES), or by the rule engine (by=None)."""
    if by is not None:
        require(
            user_has_perm(by, Perm.MANAGE_QUERIES, site=site.pk),
            "You cannot open data queries at this site.",
        )
        require(
            not reveals_arm or user_has_perm(by, Perm.VIEW_TREATMENT, site=site.pk),
            "You cannot open a query about treatment at this site.",
        )
    errors: dict[str, str] = {}
    if not message.strip():
        errors["message"] = "Enter what needs checking."
    if assigned_role not in dict(assignable_roles()):
        errors["assigned_role"] = "Choose a role that can see data queries."
    if young_person is not None and young_person.site_id != site.pk:
        errors["young_person"] = "This young person is at another site."
    if trial is not None and not trial.sites.filter(pk=site.pk).exists():
        errors["trial"] = "This site does not take part in this trial."
    if trial is None and young_person is not None and not errors:
        trial = _trial_of(young_person)
    key = key or f"{MANUAL_RULE}:{uuid.uuid4().hex}"
    if not errors and Query.objects.unscoped().filter(key=key).exists():
        errors["message"] = "This problem already has a query."
    if errors:
        raise ValidationError(errors)
    query = Query(
        site=site,
        young_person=young_person,
        trial=trial,
        rule=rule,
        key=key,
        message=message.strip(),
        reveals_arm=reveals_arm,
        assigned_role=assigned_role,
        opened_at=timezone.now(),
        opened_by=by,
    )
    _save(query, by)
    _audit(query, by=by, action="opened", request=request)
    return query


_NOT_ANSWERABLE: dict[str, str] = {
    QueryState.ANSWERED: "This query has already been answered.",
    QueryState.CLOSED: "This query is closed: it can no longer be answered.",
    QueryState.RESOLVED: "This query was resolved in the data: there is nothing to answer.",
}


def _trial_of(young_person: YoungPerson) -> Trial | None:
    """Return the live trial the young person takes part in (so the query holds its lock)."""
    from mstoutcomes.trial.models import Participant

    participant = (
        Participant.objects.unscoped()
        .filter(young_person=young_person, trial__is_test_mode=False)
        .select_related("trial")
        .order_by("pk")
        .first()
    )
    return participant.trial if participant is not None else None


def _refuse_unless(query: Query, states: Collection[str], message: str) -> None:
    if query.state not in states:
        raise ValidationError(message)


def _locked(query: Query) -> Query:
    return Query.objects.unscoped().select_for_update().get(pk=query.pk)


@transaction.atomic
def query_answer(
    *, by: User, query: Query, answer: str, request: HttpRequest | None = None
) -> Query:
    """Answer an open query: the role it is assigned to at its site, or a query manager."""
    require(access.may_answer(by, query), "You cannot answer this query.")
    query = _locked(query)
    _refuse_unless(
        query,
        [QueryState.OPEN],
        _NOT_ANSWERABLE.get(query.state, "This query cannot be answered now."),
    )
    if not answer.strip():
        raise ValidationError({"answer": "Enter your answer."})
    query.state = QueryState.ANSWERED
    query.answer = answer.strip()
    query.answered_by = by
    query.answered_at = timezone.now()
    _save(query, by)
    _audit(query, by=by, action="answered", request=request)
    return query


@transaction.atomic
def query_close(
    *, by: User, query: Query, note: str = "", request: HttpRequest | None = None
) -> Query:
    """Close an open or answered query (MANAGE_QUERIES); closing an unanswered one needs a note."""
    require(access.may_manage(by, query), "You cannot close data queries at this site.")
    query = _locked(query)
    _refuse_unless(query, LIVE_STATES, "This query is already closed.")
    if query.state == QueryState.OPEN and not note.strip():
        raise ValidationError({"note": "Say why you are closing a query that has no answer."})
    query.state = QueryState.CLOSED
    query.close_note = note.strip()
    query.closed_by = by
    query.closed_at = timezone.now()
    _save(query, by)
    _audit(query, by=by, action="closed", request=request)
    return query


@transaction.atomic
def query_reopen(
    *, by: User, query: Query, reason: str, request: HttpRequest | None = None
) -> Query:
    """Reopen a closed query with a reason (MANAGE_QUERIES); it needs a new answer."""
    require(access.may_manage(by, query), "You cannot reopen data queries at this site.")
    query = _locked(query)
    _refuse_unless(query, [QueryState.CLOSED, QueryState.RESOLVED], "This query is not closed.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the query is being reopened."})
    _reopen(query, by=by, reason=reason.strip(), request=request)
    return query


def _reopen(
    query: Query, *, by: User | None, reason: str, request: HttpRequest | None = None
) -> None:
    # The history keeps the earlier answer and closing note; the reopened query starts afresh.
    query.state = QueryState.OPEN
    query.answer = ""
    query.answered_by = None
    query.answered_at = None
    query.close_note = reason
    query.closed_by = None
    query.closed_at = None
    _save(query, by)
    _audit(query, by=by, action="reopened", request=request, reason=reason)


@dataclass(frozen=True)
class RunResult:
    """What one run of the rules did."""

    opened: int
    still_open: int
    closed: int
    reopened: int

    @property
    def open_now(self) -> int:
        return self.opened + self.still_open + self.reopened


@transaction.atomic
def quality_run(
    *,
    site: Site | None = None,
    young_people: Collection[YoungPerson] | None = None,
    progress: Callable[[int], None] | None = None,
) -> RunResult:
    """Run every rule (for a site, some young people, or everyone) and bring queries up to date.

    ``progress`` is told how many findings and live queries there are to go through, then called
    with 0 once per item done (for the command's progress bar).
    """
    person_ids = _with_partners(young_people) if young_people is not None else None
    facts = fetch_facts(site_id=site.pk if site else None, young_person_ids=person_ids)
    findings = {f.key: f for f in run_rules(facts)}
    existing = {
        q.key: q
        for q in Query.objects.unscoped()
        .select_for_update(of=("self",))
        .filter(rule__in=sorted(RULES_BY_CODE))
        .filter(key__in=sorted(findings))
        .select_related("site", "young_person")
    }
    live = Query.objects.unscoped().filter(rule__in=sorted(RULES_BY_CODE), state__in=LIVE_STATES)
    if facts.in_scope is not None:
        live = live.filter(young_person_id__in=sorted(facts.in_scope))
    gone = [
        q
        for q in live.select_for_update(of=("self",))
        .select_related("site", "young_person")
        .order_by("pk")
        if q.key not in findings
    ]
    if progress is not None:
        progress(len(findings) + len(gone))
    sites = {s.pk: s for s in Site.objects.filter(pk__in={f.site_id for f in findings.values()})}
    people = {
        p.pk: p
        for p in YoungPerson.objects.unscoped().filter(
            pk__in={f.young_person_id for f in findings.values() if f.young_person_id}
        )
    }
    trials = {t.pk: t for t in Trial.objects.filter(pk__in={f.trial_id for f in findings.values()})}
    opened = still_open = closed = reopened = 0
    for key, finding in sorted(findings.items()):
        query = existing.get(key)
        if query is None:
            if _open_finding(finding, sites, people, trials):
                opened += 1
            else:
                still_open += 1
        elif query.state in LIVE_STATES:
            still_open += 1
        elif query.state == QueryState.RESOLVED:
            _reopen(query, by=None, reason="The rule found this problem in the data again.")
            reopened += 1
        if progress is not None:
            progress(0)
    now = timezone.now()
    for query in gone:
        query.state = QueryState.RESOLVED
        query.closed_at = now
        query.closed_by = None
        query.close_note = RESOLVED_NOTE
        _save(query, None)
        _audit(query, by=None, action="resolved")
        closed += 1
        if progress is not None:
            progress(0)
    return RunResult(opened=opened, still_open=still_open, closed=closed, reopened=reopened)


def _with_partners(young_people: Collection[YoungPerson]) -> set[int]:
    """Return the people's ids and those of anyone a live duplicate query pairs them with."""
    person_ids = {p.pk for p in young_people}
    # A duplicate found earlier is checked from both sides, so its partner is rechecked too.
    for key in (
        Query.objects.unscoped()
        .filter(
            rule=SAME_PERSON_TWO_SITES,
            state__in=LIVE_STATES,
            young_person_id__in=sorted(person_ids),
        )
        .values_list("key", flat=True)
    ):
        person_ids.add(int(key.rsplit(":", 1)[1]))
    return person_ids


def _open_finding(
    finding: Finding,
    sites: dict[int, Site],
    people: dict[int, YoungPerson],
    trials: dict[int, Trial],
) -> bool:
    """Open a query for a finding; False if a run alongside this one opened it first."""
    rule = RULES_BY_CODE[finding.rule]
    query = Query(
        site=sites[finding.site_id],
        young_person=people.get(finding.young_person_id) if finding.young_person_id else None,
        trial=trials.get(finding.trial_id) if finding.trial_id else None,
        rule=finding.rule,
        key=finding.key,
        message=finding.message,
        reveals_arm=finding.reveals_arm or rule.reveals_arm,
        assigned_role=rule.assigned_role,
        opened_at=timezone.now(),
    )
    try:
        with transaction.atomic():
            _save(query, None)
            _audit(query, by=None, action="opened")
    except (IntegrityError, ValidationError):
        # The key is unique: another run (a save elsewhere, the nightly job) got there first.
        return False
    return True


def quality_check_person(young_person: YoungPerson) -> RunResult:
    """Run the rules for one young person: call after a save that changes their data."""
    return quality_run(young_people=[young_person])
