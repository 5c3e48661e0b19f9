"""Small helpers the domain services share."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models

from mstoutcomes.core.scoping import scopes_disabled


def clean_and_save(instance: models.Model, **save_kwargs: Any) -> None:
    """Validate the instance fully (fields, clean(), constraints) and save it.

    Uniqueness and constraint checks query the whole table, so they run with scopes disabled:
    they show nobody any rows.
    """
    with scopes_disabled():
        instance.full_clean()
        instance.save(**save_kwargs)


def assign_fields(
    instance: models.Model, fields: Mapping[str, Any], *, allowed: Iterable[str]
) -> None:
    """Set the given fields on the instance, refusing any that callers may not set."""
    allowed_set = set(allowed)
    unknown = sorted(set(fields) - allowed_set)
    if unknown:
        raise ValidationError(
            f"{str(instance._meta.verbose_name).capitalize()} has no editable field(s): "
            f"{', '.join(unknown)}."
        )
    for name, value in fields.items():
        setattr(instance, name, value)


def require(allowed: bool, message: str) -> None:
    """Raise PermissionDenied with the message unless allowed."""
    if not allowed:
        raise PermissionDenied(message)
