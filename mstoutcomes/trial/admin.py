from django.contrib import admin
from django.http import HttpRequest

from mstoutcomes.accounts.admin_site import AuditedAdmin
from mstoutcomes.trial.models import (
    Allocation,
    ConsentFormVersion,
    ConsentRecord,
    Participant,
    ProtocolDeviation,
    StratumList,
    Trial,
    TrialLockEvent,
    Withdrawal,
)


@admin.register(Trial)
class TrialAdmin(AuditedAdmin):
    list_display = ["code", "title", "method", "is_test_mode"]
    # The lock changes only through the lock services (two people to unlock), never here.
    readonly_fields = ["list_id", "config", "method", "locked_at", "locked_by"]


@admin.register(Participant)
class ParticipantAdmin(AuditedAdmin):
    list_display = ["__str__", "site", "is_eligible", "eligibility_confirmed_on"]
    raw_id_fields = ["young_person"]


@admin.register(ConsentRecord)
class ConsentRecordAdmin(AuditedAdmin):
    list_display = ["participant", "kind", "given", "form_version", "recorded_on"]


@admin.register(Withdrawal)
class WithdrawalAdmin(AuditedAdmin):
    list_display = ["participant", "level", "withdrawn_on"]


@admin.register(ProtocolDeviation)
class ProtocolDeviationAdmin(AuditedAdmin):
    list_display = ["trial", "site", "category", "severity", "occurred_on", "identified_on"]
    list_filter = ["category", "severity"]
    raw_id_fields = ["participant"]


class ReadOnlyAdmin(AuditedAdmin):
    """Allocations and list usage are written only by the randomisation service."""

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Allocation)
class AllocationAdmin(ReadOnlyAdmin):
    list_display = ["trial", "sequence", "stratum", "is_test", "allocated_at"]


@admin.register(StratumList)
class StratumListAdmin(ReadOnlyAdmin):
    list_display = ["trial", "stratum", "used", "length"]


@admin.register(ConsentFormVersion)
class ConsentFormVersionAdmin(ReadOnlyAdmin):
    """Versions are added (with their PDF) on the trial's consent forms page."""

    list_display = ["trial", "kind", "version", "approved_on", "is_current", "superseded_on"]


@admin.register(TrialLockEvent)
class TrialLockEventAdmin(ReadOnlyAdmin):
    list_display = ["trial", "kind", "at", "by"]
