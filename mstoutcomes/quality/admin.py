from django.contrib import admin

from mstoutcomes.accounts.admin_site import AuditedAdmin
from mstoutcomes.quality.models import Query


@admin.register(Query)
class QueryAdmin(AuditedAdmin):
    list_display = ["__str__", "site", "rule", "state", "assigned_role", "opened_at"]
    list_filter = ["state", "rule"]
    raw_id_fields = ["young_person"]
    readonly_fields = ["key"]

    # Queries move through their services (audited, with their rules), not the admin.
    def has_add_permission(self, request, *args):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
