"""Form helpers shared by the apps: GOV.UK rendering and service validation errors."""

from __future__ import annotations

from typing import Any

from crispy_forms_gds.fields import DateInputField
from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import Button, Layout
from django import forms
from django.core.exceptions import FieldDoesNotExist, ValidationError


def gds_date(label: str, *, required: bool = True, help_text: str = "") -> DateInputField:
    """Return a GOV.UK day-month-year date field with plain error messages."""
    field = DateInputField(
        label=label, required=required, help_text=help_text or "For example, 27 3 2012"
    )
    field.error_messages["required"] = f"Enter the {label.lower()}"
    field.error_messages["incomplete"] = f"Enter the {label.lower()} as day, month and year"
    return field


def _plain_required_message(field: forms.Field) -> None:
    # GOV.UK style: say what to do ("Enter your first name"), not "This field is required."
    if isinstance(field, DateInputField) or field.label is None:
        return
    label = str(field.label)
    label = label[0].lower() + label[1:] if not label[:2].isupper() else label
    verb = "Select" if isinstance(field, forms.ChoiceField | forms.ModelChoiceField) else "Enter"
    field.error_messages["required"] = f"{verb} the {label}"


class ServiceForm(forms.ModelForm):
    """A ModelForm that checks the input only; the service validates the model and saves it.

    Skipping ModelForm's model validation keeps the instance untouched until the service runs,
    so the service can record what changed.
    """

    submit_label = "Save"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            _plain_required_message(field)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.label_size = "s"
        self.helper.legend_size = "s"
        self.helper.layout = Layout(*self.fields, Button("submit", self.submit_label))

    def _post_clean(self) -> None:
        # Run each model field's validators (postcode, NHS number…) so that every field error
        # shows at once; whole-model checks and saving are the service's.
        for name, value in list(self.cleaned_data.items()):
            try:
                model_field = self._meta.model._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            if value in model_field.empty_values:
                continue
            try:
                model_field.run_validators(value)
            except ValidationError as error:
                self.add_error(name, error)

    def apply_service_errors(self, error: ValidationError) -> None:
        """Show a service's ValidationError against the fields it names, or above the form."""
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                target = field if field in self.fields else None
                for item in errors:
                    self.add_error(target, item)
        else:
            for message in error.messages:
                self.add_error(None, message)
