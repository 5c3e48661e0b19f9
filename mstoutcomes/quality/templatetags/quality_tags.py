"""Template tags that let a page of a lower app show data-quality queries without importing them."""

from __future__ import annotations

from typing import Any

from django import template

from mstoutcomes.accounts.permissions import Perm, user_has_perm

register = template.Library()


@register.inclusion_tag("quality/_trial_summary.html", takes_context=True)
def open_queries_summary(context: dict[str, Any], trial: Any) -> dict[str, Any]:
    """Show the trial's open queries per site to a user who sees queries at one of its sites."""
    from mstoutcomes.quality.selectors import open_query_counts

    user = context["request"].user
    if not user_has_perm(user, Perm.VIEW_QUERIES):
        return {"show": False}
    counts = open_query_counts(user=user, trial=trial)
    return {
        "show": bool(counts),
        "counts": counts,
        "total": sum(c.live for c in counts),
        "caption": "Open queries per site",
    }


@register.filter
def rule_title(code: str) -> str:
    """Return a rule's plain title."""
    from mstoutcomes.quality.rules import rule_title as title

    return title(code)
