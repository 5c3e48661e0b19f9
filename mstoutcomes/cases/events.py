"""Events the cases floor publishes to the floors above it, which subscribe at start-up.

cases never imports an app above it. When a service here changes something another floor
computes from (an episode's start or end date, which anchor the measures schedule), it calls the
listeners those floors registered in their ``AppConfig.ready()``:

- **episode anchors changed**: ``subscribe_episode_anchors_changed(name=, before=, after=)``.
  ``before(young_person)`` runs before the dates move and returns whatever the listener needs to
  compare (measures: the due tasks); ``after(by=, young_person=, before=, request=)`` runs after,
  in the same transaction, and records what moved (measures: ``measures.schedule.recomputed``).

Listeners are named, so subscribing again (a second ``ready()``, a test) replaces rather than
doubles them. They run in the order they subscribed.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from django.http import HttpRequest

    from mstoutcomes.accounts.models import User
    from mstoutcomes.cases.models import YoungPerson


class AnchorsAfter(Protocol):
    def __call__(
        self,
        *,
        by: User | None,
        young_person: YoungPerson,
        before: Any,
        request: HttpRequest | None = None,
    ) -> Any: ...


@dataclass(frozen=True)
class _AnchorsListener:
    before: Callable[[YoungPerson], Any]
    after: AnchorsAfter


_anchor_listeners: dict[str, _AnchorsListener] = {}


def subscribe_episode_anchors_changed(
    *, name: str, before: Callable[[YoungPerson], Any], after: AnchorsAfter
) -> None:
    """Register a listener to an episode's dates (its anchors) moving; replaces one of that name."""
    _anchor_listeners[name] = _AnchorsListener(before=before, after=after)


def episode_anchors_before(young_person: YoungPerson) -> list[tuple[str, Any]]:
    """Ask every listener for its state before an episode's dates move."""
    return [(name, listener.before(young_person)) for name, listener in _anchor_listeners.items()]


def episode_anchors_after(
    *,
    by: User | None,
    young_person: YoungPerson,
    captured: list[tuple[str, Any]],
    request: HttpRequest | None = None,
) -> None:
    """Tell every listener the dates moved, with the state it captured before."""
    for name, before in captured:
        listener = _anchor_listeners.get(name)
        if listener is not None:
            listener.after(by=by, young_person=young_person, before=before, request=request)


# A young person's recorded data changed (an assessment, an administrative record, a consent...).
# Listeners run after the transaction commits, so a listener's failure never undoes the save:
# the data-quality rules re-check the person here and again in the nightly run.

_data_listeners: dict[str, Callable[[YoungPerson], Any]] = {}


def subscribe_person_data_changed(*, name: str, listener: Callable[[YoungPerson], Any]) -> None:
    """Register a listener to a young person's data changing; replaces one of that name."""
    _data_listeners[name] = listener


_muted: ContextVar[bool] = ContextVar("mstoutcomes_person_checks_muted", default=False)


@contextmanager
def person_checks_muted() -> Iterator[None]:
    """Tell no listener of changes made in the block: for bulk builds (the demo) that run the
    checks once, over everyone, at the end."""
    token = _muted.set(True)
    try:
        yield
    finally:
        _muted.reset(token)


def person_data_changed(young_person: YoungPerson) -> None:
    """Tell every listener, after the current transaction commits, that this data changed."""
    from django.db import transaction

    if _muted.get():
        return
    for name, listener in _data_listeners.items():
        transaction.on_commit(functools.partial(_run_listener, name, listener, young_person))


def _run_listener(name: str, listener: Callable[[YoungPerson], Any], person: YoungPerson) -> None:
    try:
        listener(person)
    except Exception:  # a check after the save must never turn a saved record into an error page
        logger.exception("Listener %s failed for young person %s", name, person.pk)
