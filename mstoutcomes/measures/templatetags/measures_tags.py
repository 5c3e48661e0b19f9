"""Template helpers for the measures pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template

from mstoutcomes.measures.definitions import RESPONDENTS

register = template.Library()


@register.filter
def get_item(mapping: Mapping[str, Any], key: str) -> Any:
    """Return mapping[key], or None."""
    return mapping.get(key) if mapping else None


@register.filter
def respondent_label(code: str) -> str:
    """Return a respondent's name in words ("Parent or carer")."""
    return RESPONDENTS.get(code, code)
