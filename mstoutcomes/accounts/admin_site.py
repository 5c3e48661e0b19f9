"""The Django admin, for administrators only, with every change audited.

It lives in accounts, beside the permissions and the audit trail it uses (core imports no app).
"""

from __future__ import annotations

from functools import update_wrapper
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from simple_history.admin import SimpleHistoryAdmin

from mstoutcomes.accounts.permissions import Perm, user_has_perm
from mstoutcomes.accounts.services import audit_record
from mstoutcomes.core.audit import diff, snapshot
from mstoutcomes.core.scoping import ScopedQuerySet, scopes_disabled


class MSTAdminSite(admin.AdminSite):
    site_header = "mstoutcomes administration"
    site_title = "mstoutcomes admin"
    index_title = "Administration"

    def has_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and user_has_perm(request.user, Perm.USE_ADMIN))

    def admin_view(self, view: Any, cacheable: bool = False) -> Any:
        inner = super().admin_view(view, cacheable)

        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            # Signed in but not an administrator: refuse, rather than loop through sign-in.
            if request.user.is_authenticated and not self.has_permission(request):
                raise PermissionDenied("The administration pages are for administrators only.")
            return inner(request, *args, **kwargs)

        return update_wrapper(guarded, inner)

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        # One sign-in page (with lockout) for the whole service.
        target = request.GET.get("next", reverse("admin:index"))
        return redirect(f"{reverse('accounts:sign_in')}?{urlencode({'next': target})}")


class AuditedAdmin(SimpleHistoryAdmin):
    """Admin whose rights come from can_use_admin and whose writes land in the audit trail."""

    def _allowed(self, request: HttpRequest) -> bool:
        return self.admin_site.has_permission(request)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def get_queryset(self, request: HttpRequest) -> Any:
        queryset = super().get_queryset(request)
        # Administrators see every site's records here: that is what the admin is for.
        return queryset.unscoped() if isinstance(queryset, ScopedQuerySet) else queryset

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        related = db_field.remote_field.model._default_manager.all()
        if isinstance(related, ScopedQuerySet):
            kwargs["queryset"] = related.unscoped()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        with scopes_disabled():
            return super().get_object(request, object_id, from_field)

    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        with scopes_disabled():
            return super().changeform_view(request, *args, **kwargs)

    def save_model(self, request: HttpRequest, obj: models.Model, form: Any, change: bool) -> None:
        before = snapshot(type(obj)._base_manager.get(pk=obj.pk)) if change else {}
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            verb = "changed" if change else "added"
            audit_record(
                actor=request.user,  # type: ignore[arg-type]
                action=f"admin.{obj._meta.model_name}.{verb}",
                obj=obj,
                changes=diff(before, snapshot(obj)),
                request=request,
            )

    def delete_model(self, request: HttpRequest, obj: models.Model) -> None:
        with transaction.atomic():
            audit_record(
                actor=request.user,  # type: ignore[arg-type]
                action=f"admin.{obj._meta.model_name}.deleted",
                obj=obj,
                changes=diff(snapshot(obj), {}),
                request=request,
            )
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)
