"""Template context about what the signed-in user may do."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from mstoutcomes.accounts.permissions import grants_for, user_perms


def access(request: HttpRequest) -> dict[str, Any]:
    """Expose the user's permission names (any site) and roles for navigation."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"perms_any": frozenset(), "user_roles": ()}
    return {
        "perms_any": frozenset(str(p) for p in user_perms(user)),
        "user_roles": tuple(sorted({g.role for g in grants_for(user)})),
    }
