"""Helpers to describe changes for the audit trail, without touching the database."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models

GENESIS_HASH = "0" * 64


def json_safe(value: Any) -> Any:
    """Return the value with dates, decimals and model instances turned into JSON types."""
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return value


def snapshot(instance: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """Return the instance's concrete field values (foreign keys as ids), JSON-safe."""
    names = fields or [f.attname for f in instance._meta.concrete_fields]
    return {name: json_safe(getattr(instance, name)) for name in names}


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Return {field: [old, new]} for the fields whose values differ."""
    ignored = {"updated_at", "created_at"}
    keys = (set(before) | set(after)) - ignored
    return {k: [before.get(k), after.get(k)] for k in sorted(keys) if before.get(k) != after.get(k)}


def event_hash(previous_hash: str, payload: Mapping[str, Any]) -> str:
    """Return the SHA-256 link for an event: the previous link plus the event's canonical JSON."""
    canonical = json.dumps(json_safe(payload), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((previous_hash + canonical).encode()).hexdigest()
