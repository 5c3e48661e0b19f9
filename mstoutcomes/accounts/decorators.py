"""The access decorator every view wears."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from mstoutcomes.accounts.models import User
from mstoutcomes.accounts.permissions import Perm, user_has_perm

View = Callable[..., HttpResponse]


def current_user(request: HttpRequest) -> User:
    """Return the signed-in user of a view wearing perm_required (never anonymous there)."""
    return cast(User, request.user)


def perm_required(perm: Perm | None) -> Callable[[View], View]:
    """Require a signed-in user holding the permission at some site (None: any signed-in user).

    Views that show one record still check the permission at that record's site.
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if perm is not None and not user_has_perm(request.user, perm):
                raise PermissionDenied("You do not have access to this page.")
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator
