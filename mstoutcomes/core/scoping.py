"""Querysets of people that refuse to run unless scoped to a user.

A model holding data about young people uses ``ScopedManager`` as its default manager. Its querysets
raise ``UnscopedQueryError`` when evaluated unless they were narrowed with ``.visible_to(user)``
(the one scoping rule, which ``cases`` registers here at start-up with ``register_scope_rule``:
core imports no app) or explicitly opened with ``.unscoped()`` (services,
admin, demo: code that is not showing records to a person). A query that forgets its scope fails
loudly, in tests and in production, instead of leaking another agency's children.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Self

from django.core.exceptions import ImproperlyConfigured
from django.db import models

# The rule answers "which rows may this user see?" as a filter; prefix is the path from the
# queried model to the root model whose visibility decides (SCOPE_PATH, "" for the root itself).
ScopeRule = Callable[..., models.Q]


@dataclass(frozen=True)
class _Registered:
    rule: ScopeRule
    root_model: type[models.Model]


_registered: list[_Registered] = []


def register_scope_rule(*, rule: ScopeRule, root_model: type[models.Model]) -> None:
    """Install the one scoping rule: rule(user, prefix=...) returns the rows the user may see.

    Called once at start-up by the app that owns the people (CasesConfig.ready()); registering
    again replaces the rule. root_model is the model SCOPE_PATH leads to (the young person): a
    related manager of an instance you already hold is as visible as that instance.
    """
    _registered[:] = [_Registered(rule=rule, root_model=root_model)]


def _scope_rule() -> _Registered:
    if not _registered:
        raise ImproperlyConfigured(
            "No scoping rule is registered: the cases app registers it in CasesConfig.ready()."
        )
    return _registered[0]


_bypass: ContextVar[bool] = ContextVar("mstoutcomes_scope_bypass", default=False)


class UnscopedQueryError(RuntimeError):
    """A query of people ran without being scoped to a user."""


@contextmanager
def scopes_disabled() -> Iterator[None]:
    """Allow unscoped queries of people in the block (for Django internals: uniqueness checks)."""
    token = _bypass.set(True)
    try:
        yield
    finally:
        _bypass.reset(token)


class ScopedQuerySet(models.QuerySet):
    """A queryset that must be scoped with visible_to() or opened with unscoped() before it runs."""

    # Path from this model to the YoungPerson whose visibility decides this row's ("" for the root).
    scope_path: str = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._scoped = False
        # Set when combined (|, ^, union) with a query that was not scoped: its rows come too.
        self._mixed_with_unscoped = False

    def _clone(self) -> Self:
        clone = super()._clone()  # type: ignore[misc]
        clone._scoped = self._scoped
        clone._mixed_with_unscoped = self._mixed_with_unscoped
        return clone

    def visible_to(self, user: Any) -> Self:
        """Return only the rows this user may see (the single scoping rule)."""
        clone = self.filter(self._visibility(user))
        clone._scoped = True
        return clone

    def _visibility(self, user: Any) -> models.Q:
        """Return the filter for the rows this user may see: the rule, through SCOPE_PATH.

        A model whose path to the young person may be empty (a row not about one person)
        overrides this to say which of those rows the user sees, widening the rule, never
        replacing it.
        """
        return _scope_rule().rule(user, prefix=self._scope_prefix())

    def unscoped(self) -> Self:
        """Return all rows: for services and jobs that do not show records to a person."""
        clone = self._chain()  # type: ignore[attr-defined]
        clone._scoped = True
        return clone

    def _scope_prefix(self) -> str:
        return getattr(self.model, "SCOPE_PATH", "")

    def _reached_through_scoped_parent(self) -> bool:
        # A related manager of a young person you already hold (person.carers.all(), prefetches)
        # is narrowed to that person, so it is as visible as the person is. So is one reached
        # from a row of any scoped model (participant.consents.all()): that row could only be
        # read through a scope, or through .unscoped() on purpose. A parent whose model has no
        # scope (a site, a trial, a therapist) narrows nothing: site.young_people still refuses.
        if not self._scope_prefix() or not _registered:
            return False
        instance = self._hints.get("instance")  # type: ignore[attr-defined]
        if instance is None:
            return False
        if isinstance(instance, _registered[0].root_model):
            return True
        return _is_scoped_model(type(instance))

    def _is_scoped(self) -> bool:
        if self._mixed_with_unscoped:
            return False
        return self._scoped or self._reached_through_scoped_parent()

    def _check_scope(self) -> None:
        if _bypass.get() or self._is_scoped():
            return
        raise UnscopedQueryError(
            f"{self.model.__name__} was queried without a user scope. Use a selector that takes "
            f"the user (.visible_to(user)), or .unscoped() in a service that shows no one the rows."
        )

    def _combined(self, combined: Any, others: tuple[Any, ...]) -> Any:
        # |, ^ and union() return every part's rows, so the result is scoped only if every part
        # is: otherwise `visible_to(user) | YoungPerson.objects.all()` would leak the whole table.
        parts = (self, *others)
        if any(combined is part for part in parts):
            return combined
        if all(isinstance(part, ScopedQuerySet) and part._is_scoped() for part in parts):
            return combined
        if isinstance(combined, ScopedQuerySet):
            combined._mixed_with_unscoped = True
            return combined
        # Django rebuilt the combination on the plain base manager (a sliced part): refuse now.
        if not _bypass.get():
            raise UnscopedQueryError(
                f"{self.model.__name__} was combined with a query without a user scope."
            )
        return combined

    def __or__(self, other: Any) -> Any:
        return self._combined(super().__or__(other), (other,))

    def __xor__(self, other: Any) -> Any:
        return self._combined(super().__xor__(other), (other,))  # type: ignore[misc]

    def _combinator_query(self, combinator: str, *other_qs: Any, all: bool = False) -> Any:
        combined = super()._combinator_query(combinator, *other_qs, all=all)  # type: ignore[misc]
        # intersection() and difference() return only rows of self, so self's scope suffices.
        return self._combined(combined, other_qs) if combinator == "union" else combined

    def _fetch_all(self) -> None:
        if self._result_cache is None:
            self._check_scope()
        super()._fetch_all()

    def count(self) -> int:
        if self._result_cache is None:
            self._check_scope()
        return super().count()

    def exists(self) -> bool:
        if self._result_cache is None:
            self._check_scope()
        return super().exists()

    def aggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self._check_scope()
        return super().aggregate(*args, **kwargs)

    def iterator(self, chunk_size: int | None = None) -> Iterator[Any]:
        self._check_scope()
        return super().iterator(chunk_size=chunk_size)

    def update(self, **kwargs: Any) -> int:
        self._check_scope()
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        self._check_scope()
        return super().delete()


class ScopedManager(models.Manager.from_queryset(ScopedQuerySet)):  # type: ignore[misc]
    """Default manager for models holding data about young people."""


def _is_scoped_model(model: type[models.Model]) -> bool:
    """Return whether the model's default manager makes scoped querysets."""
    queryset_class = getattr(model._default_manager, "_queryset_class", None)
    return isinstance(queryset_class, type) and issubclass(queryset_class, ScopedQuerySet)
