from django.contrib import admin
from django.http import HttpRequest

from mstoutcomes.accounts.admin_site import AuditedAdmin
from mstoutcomes.cases.models import AgencyInvolvement, Episode, FamilyMember, YoungPerson


@admin.register(YoungPerson)
class YoungPersonAdmin(AuditedAdmin):
    list_display = ["study_id", "family_name", "given_name", "site", "referred_on"]
    list_filter = ["site"]
    search_fields = ["study_id", "family_name", "given_name"]
    readonly_fields = ["study_id"]

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        # Young people are added in the service pages, which hand out study IDs.
        return False


@admin.register(FamilyMember)
class FamilyMemberAdmin(AuditedAdmin):
    list_display = ["__str__", "young_person", "relationship", "is_primary_carer"]
    raw_id_fields = ["young_person"]


@admin.register(AgencyInvolvement)
class AgencyInvolvementAdmin(AuditedAdmin):
    list_display = ["young_person", "agency", "worker_name", "started_on", "ended_on"]
    raw_id_fields = ["young_person"]


@admin.register(Episode)
class EpisodeAdmin(AuditedAdmin):
    list_display = ["young_person", "start_date", "end_date", "therapist", "discharge_reason"]
    list_filter = ["discharge_reason"]
    raw_id_fields = ["young_person"]
