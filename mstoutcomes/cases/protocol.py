"""The seam through which a higher floor (the trial) rules on treatment and on locked data.

Treatment records (episodes, therapist allocation, goals, contacts, meetings, treatment-only
measures) live on the floors below the trial, which must never import it. So this module publishes
two kinds of rule, and the trial subscribes in its ``AppConfig.ready()``:

- a **treatment rule** answers "may this young person receive treatment now?" (at a site in a live
  trial: only after randomisation to MST);
- a **lock rule** answers "are this young person's data read-only?" (a locked trial database).

Services on the lower floors call ``protocol_check`` before a write. A refusal raises
``ProtocolRefused`` (a ``ValidationError``, so forms show its message) and leaves an audit event
``cases.protocol.refused`` naming the attempted action. The check runs before the service opens
its own transaction (see ``protocol_gate``), so the audit of the attempt is kept although the
write is not.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction

if TYPE_CHECKING:
    from django.http import HttpRequest

    from mstoutcomes.accounts.models import User
    from mstoutcomes.cases.models import YoungPerson


class Check(StrEnum):
    TREATMENT = "treatment"  # the write belongs to MST treatment
    DATA = "data"  # the write changes a young person's recorded data (refused when locked)


@dataclass(frozen=True)
class Refusal:
    """Why a rule refuses a write: a short code for audit and tests, a message for people."""

    code: str
    message: str


Rule = Callable[["YoungPerson"], Refusal | None]

_rules: dict[Check, list[Rule]] = {Check.TREATMENT: [], Check.DATA: []}


def subscribe(check: Check, rule: Rule) -> None:
    """Register a rule (idempotent: a rule registered twice runs once)."""
    if rule not in _rules[check]:
        _rules[check].append(rule)


def refusal_for(young_person: YoungPerson, check: Check) -> Refusal | None:
    """Return the first refusal any subscribed rule gives, or None when the write may go ahead.

    A treatment write is also a data write, so a locked record refuses treatment too.
    """
    checks = [Check.DATA] if check is Check.DATA else [Check.DATA, Check.TREATMENT]
    for kind in checks:
        for rule in _rules[kind]:
            refusal = rule(young_person)
            if refusal is not None:
                return refusal
    return None


class ProtocolRefused(ValidationError):
    """A write the trial's protocol (or its lock) does not allow."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message, code=refusal.code)
        self.refusal = refusal


def protocol_check(
    *,
    by: User | None,
    young_person: YoungPerson,
    action: str,
    check: Check = Check.TREATMENT,
    request: HttpRequest | None = None,
) -> None:
    """Refuse (audited) a write the subscribed rules do not allow; return quietly otherwise."""
    refusal = refusal_for(young_person, check)
    if refusal is None:
        return
    from mstoutcomes.accounts.services import audit_record

    # Outside any transaction the event is committed at once; inside one it is kept unless the
    # caller rolls back, which is why services check before opening their own transaction.
    with transaction.atomic():
        audit_record(
            actor=by,
            action="cases.protocol.refused",
            obj=young_person,
            site=young_person.site,
            data={
                "young_person": young_person.study_id,
                "attempt": action,
                "reason": refusal.code,
                "check": str(check),
            },
            request=request,
        )
    raise ProtocolRefused(refusal)


F = TypeVar("F", bound=Callable[..., Any])


def protocol_gate(
    action: str,
    person: Callable[[dict[str, Any]], YoungPerson | None],
    check: Check = Check.TREATMENT,
) -> Callable[[F], F]:
    """Decorate a keyword-only service so ``protocol_check`` runs before its transaction opens.

    ``person`` finds the young person in the service's keyword arguments (None skips the check).
    Put it above ``@transaction.atomic`` so a refused attempt's audit event survives.
    """

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def gated(**kwargs: Any) -> Any:
            young_person = person(kwargs)
            if young_person is not None:
                protocol_check(
                    by=kwargs.get("by"),
                    young_person=young_person,
                    action=action,
                    check=check,
                    request=kwargs.get("request"),
                )
            result = fn(**kwargs)
            if young_person is not None:
                # Re-checks such as the data-quality rules run once the write commits.
                from mstoutcomes.cases.events import person_data_changed

                person_data_changed(young_person)
            return result

        return gated  # type: ignore[return-value]

    return decorate
