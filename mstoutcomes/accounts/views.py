"""Sign in, sign out, and the home page each role starts from."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from mstoutcomes.accounts.decorators import perm_required
from mstoutcomes.accounts.permissions import Perm, user_has_perm
from mstoutcomes.accounts.selectors import memberships_for
from mstoutcomes.cases import selectors as case_selectors

_sign_in = auth_views.LoginView.as_view(
    template_name="accounts/sign_in.html", redirect_authenticated_user=True
)
_sign_out = auth_views.LogoutView.as_view()


def sign_in(request: HttpRequest) -> HttpResponse:
    """Sign in; repeated failures lock the account and address out for a while (django-axes)."""
    return _sign_in(request)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    return _sign_out(request)


@perm_required(None)
def home(request: HttpRequest) -> HttpResponse:
    """Show each person what their roles let them do, starting with their own work."""
    user = request.user
    sees_people = user_has_perm(user, Perm.VIEW_YOUNG_PEOPLE)
    counts = case_selectors.status_counts(user=user) if sees_people else {}
    context = {
        "memberships": memberships_for(user),
        "sees_people": sees_people,
        "identifiable": user_has_perm(user, Perm.VIEW_IDENTIFIABLE),
        "status_counts": counts,
        "total_people": sum(counts.values()),
        "my_caseload": list(case_selectors.caseload_of_therapist(user=user)[:50]),
        "team": case_selectors.team_caseloads(user=user)
        if user_has_perm(user, Perm.MANAGE_EPISODES)
        else [],
        "nav": "home",
    }
    return render(request, "accounts/home.html", context)
