"""The home page each role starts from: their own caseload, their team's, the counts they may see.

It lives in cases, not accounts, because it shows caseloads (accounts imports no cases).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from mstoutcomes.accounts.decorators import perm_required
from mstoutcomes.accounts.permissions import Perm, user_has_perm
from mstoutcomes.accounts.selectors import memberships_for
from mstoutcomes.cases import selectors as case_selectors


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
    return render(request, "cases/home.html", context)
