"""Template tags that let a page of a lower app show data-quality queries without importing them."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def rule_title(code: str) -> str:
    """Return a rule's plain title."""
    from mstoutcomes.quality.rules import rule_title as title

    return title(code)
