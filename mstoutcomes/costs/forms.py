from __future__ import annotations

from django import forms

from mstoutcomes.core.forms import ServiceForm
from mstoutcomes.costs.models import (
    CostSettings,
    ProgrammeRunningCost,
    ProgrammeStaff,
    UnitCost,
)
from mstoutcomes.costs.services import SETTINGS_FIELDS, UNIT_COST_FIELDS


class UnitCostForm(ServiceForm):
    submit_label = "Save unit cost"
    source_url = forms.URLField(
        label="Source address", max_length=500, required=False, assume_scheme="https"
    )

    class Meta:
        model = UnitCost
        fields = list(UNIT_COST_FIELDS)


class CostSettingsForm(ServiceForm):
    submit_label = "Save settings"

    class Meta:
        model = CostSettings
        fields = list(SETTINGS_FIELDS)


class ProgrammeStaffForm(ServiceForm):
    submit_label = "Add post"

    class Meta:
        model = ProgrammeStaff
        fields = ["role", "fte", "salary", "on_cost_rate", "budget_holder"]


class ProgrammeRunningCostForm(ServiceForm):
    submit_label = "Add running cost"

    class Meta:
        model = ProgrammeRunningCost
        fields = ["label", "annual_amount", "budget_holder"]
