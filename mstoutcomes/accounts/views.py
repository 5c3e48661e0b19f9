"""Sign in and sign out (the home page each role starts from is cases.home)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

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
