from django.contrib import admin

from mstoutcomes.accounts.admin_site import AuditedAdmin
from mstoutcomes.costs.models import (
    CostSettings,
    PriceIndex,
    PriceIndexValue,
    ProgrammeRunningCost,
    ProgrammeStaff,
    UnitCost,
)


@admin.register(PriceIndex)
class PriceIndexAdmin(AuditedAdmin):
    list_display = ["name", "tag", "source_title"]


@admin.register(PriceIndexValue)
class PriceIndexValueAdmin(AuditedAdmin):
    list_display = ["index", "price_year", "value"]
    list_filter = ["index"]


@admin.register(UnitCost)
class UnitCostAdmin(AuditedAdmin):
    list_display = ["code", "site", "value", "unit", "price_year", "tag", "is_local"]
    list_filter = ["site", "budget_holder", "tag", "is_local"]
    readonly_fields = ["default_value", "default_price_year"]


@admin.register(CostSettings)
class CostSettingsAdmin(AuditedAdmin):
    list_display = ["site", "price_year", "index", "families_per_year"]


@admin.register(ProgrammeStaff)
class ProgrammeStaffAdmin(AuditedAdmin):
    list_display = ["role", "site", "fte", "salary", "on_cost_rate", "budget_holder"]
    list_filter = ["site"]


@admin.register(ProgrammeRunningCost)
class ProgrammeRunningCostAdmin(AuditedAdmin):
    list_display = ["label", "site", "annual_amount", "budget_holder"]
    list_filter = ["site"]
