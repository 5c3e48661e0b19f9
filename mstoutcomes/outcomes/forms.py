"""Forms for administrative records by hand, and for imports."""

from __future__ import annotations

from typing import Any

from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import Button, Field, Layout, Size
from django import forms
from django.db import models

from mstoutcomes.core.forms import ServiceForm, gds_date
from mstoutcomes.outcomes.importers import KINDS
from mstoutcomes.outcomes.services import editable_fields


def record_form_class(model: type[models.Model]) -> type[ServiceForm]:
    """Return a GOV.UK form for one kind of administrative record."""
    fields = list(editable_fields(model))  # type: ignore[arg-type]

    class RecordForm(ServiceForm):
        submit_label = "Save record"

        class Meta:
            pass

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            for name in fields:
                model_field = model._meta.get_field(name)
                if isinstance(model_field, models.DateField):
                    label = str(model_field.verbose_name).capitalize()
                    initial = self.initial.get(name)
                    self.fields[name] = gds_date(label, required=not model_field.blank)
                    self.fields[name].initial = initial

    RecordForm.Meta.model = model  # type: ignore[attr-defined]
    RecordForm.Meta.fields = fields  # type: ignore[attr-defined]
    return forms.models.modelform_factory(model, form=RecordForm, fields=fields)  # type: ignore[return-value]


class ImportForm(forms.Form):
    kind = forms.ChoiceField(
        label="What the file holds",
        choices=[(code, kind.label) for code, kind in KINDS.items()],
        widget=forms.RadioSelect,
        error_messages={"required": "Select what the file holds"},
    )
    site = forms.ModelChoiceField(label="MST site", queryset=None, empty_label=None)
    file = forms.FileField(
        label="CSV or Excel file",
        help_text="Use the column names in the template. The first row is the header.",
        error_messages={"required": "Choose the file to import"},
    )
    source_system = forms.CharField(
        label="Source system", max_length=100, help_text="For example, SIMS, ChildView or PNC."
    )
    extracted_on = gds_date("Date extracted", help_text="When the data was taken from the system.")
    skip_unmatched = forms.BooleanField(
        label="Skip rows that match no young person (they are listed)", required=False
    )

    def __init__(self, *args: Any, sites: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.label_size = Size.SMALL
        self.helper.legend_size = Size.SMALL
        self.helper.layout = Layout(
            Field.radios("kind", small=True),
            "site",
            "file",
            Field.text("source_system", field_width=20),
            "extracted_on",
            Field.checkbox("skip_unmatched", small=True),
            Button("dry_run", "Check the file"),
            Button.secondary("import", "Import"),
        )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".xlsx")):
            raise forms.ValidationError("The file must be a CSV (.csv) or Excel (.xlsx) file")
        return upload
