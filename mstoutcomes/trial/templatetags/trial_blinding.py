"""The emergency-unblinding panel of the trial manager's participant page."""

from __future__ import annotations

from typing import Any

from django import template

from mstoutcomes.accounts.permissions import Perm, user_has_perm
from mstoutcomes.trial import blinding

register = template.Library()


@register.simple_tag(takes_context=True)
def unblinded_on(context: Any, trial: Any) -> dict[int, Any]:
    """Return {participant id: first emergency unblinding date} the user may see."""
    return blinding.unblinded_participants(user=context["request"].user, trial=trial)


@register.filter
def lookup(mapping: dict[Any, Any], key: Any) -> Any:
    return mapping.get(key)


@register.inclusion_tag("trial/_blinding_panel.html", takes_context=True)
def blinding_panel(context: Any, participant: Any) -> dict[str, Any]:
    user = context["request"].user
    may = user_has_perm(user, Perm.EMERGENCY_UNBLIND, site=participant.site_id)
    return {
        "may_unblind": may,
        "trial": participant.trial,
        "participant": participant,
        "allocation": getattr(participant, "allocation", None),
        "unblindings": blinding.unblindings_visible_to(user=user, participant=participant),
        "flagged": blinding.flagged_assessments(participant) if may else [],
    }
