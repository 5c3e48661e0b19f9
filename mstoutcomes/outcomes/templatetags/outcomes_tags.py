"""Template helpers: show any administrative record as labelled cells."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils.formats import date_format

from mstoutcomes.outcomes.services import PROVENANCE_FIELDS, editable_fields

register = template.Library()


def _display(record: Any, name: str) -> str:
    field = record._meta.get_field(name)
    if field.choices:
        return str(getattr(record, f"get_{name}_display")())
    value = getattr(record, name)
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dt.date):
        return date_format(value, "j M Y")
    return str(value)


@register.simple_tag
def record_headers(model: Any) -> list[str]:
    """Return the column headings for a kind of record."""
    names = [n for n in editable_fields(model) if n not in PROVENANCE_FIELDS]
    return [str(model._meta.get_field(n).verbose_name).capitalize() for n in names]


@register.simple_tag
def record_cells(record: Any) -> list[str]:
    """Return a record's values in the order of record_headers."""
    names = [n for n in editable_fields(type(record)) if n not in PROVENANCE_FIELDS]
    return [_display(record, n) for n in names]


@register.simple_tag
def provenance(record: Any) -> str:
    """Say where a record came from: by hand or imported, source system and extraction date."""
    parts = [record.get_provenance_display()]
    if record.source_system:
        parts.append(f"from {record.source_system}")
    if record.extracted_on:
        parts.append(f"extracted {date_format(record.extracted_on, 'j M Y')}")
    return ", ".join(parts)
