from django.contrib import admin

from mstoutcomes.accounts.admin_site import AuditedAdmin
from mstoutcomes.referrals.models import PanelMeeting, Referral, TherapistCapacity


@admin.register(TherapistCapacity)
class TherapistCapacityAdmin(AuditedAdmin):
    list_display = ["therapist", "site", "fte", "caseload_cap"]
    list_filter = ["site"]


@admin.register(PanelMeeting)
class PanelMeetingAdmin(AuditedAdmin):
    list_display = ["held_on", "site"]
    list_filter = ["site"]


@admin.register(Referral)
class ReferralAdmin(AuditedAdmin):
    list_display = ["reference", "site", "referring_agency", "state", "referred_on"]
    list_filter = ["site", "state"]
    raw_id_fields = ["young_person", "episode", "panel"]
