from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest

from mstoutcomes.accounts.admin_site import AuditedAdmin
from mstoutcomes.accounts.models import Agency, AuditEvent, Membership, Site, User


@admin.register(Site)
class SiteAdmin(AuditedAdmin):
    list_display = ["code", "name", "locality", "is_active"]
    search_fields = ["code", "name"]


@admin.register(Agency)
class AgencyAdmin(AuditedAdmin):
    list_display = ["name", "kind", "locality", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name"]


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0


@admin.register(User)
class UserAdmin(AuditedAdmin, DjangoUserAdmin):
    inlines = [MembershipInline]
    list_display = ["username", "first_name", "last_name", "email", "is_active"]
    fieldsets = (
        *DjangoUserAdmin.fieldsets[:2],
        ("Status", {"fields": ("is_active", "job_title", "last_login", "date_joined")}),
    )


@admin.register(Membership)
class MembershipAdmin(AuditedAdmin):
    list_display = ["user", "site", "role", "agency", "is_active"]
    list_filter = ["site", "role", "is_active"]
    list_select_related = ["user", "site", "agency"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit trail is read-only, even to administrators."""

    list_display = ["occurred_at", "actor_label", "action", "object_type", "object_label", "site"]
    list_filter = ["action", "site"]
    search_fields = ["action", "actor_label", "object_label", "object_id"]
    list_select_related = ["site"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.admin_site.has_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return self.admin_site.has_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
