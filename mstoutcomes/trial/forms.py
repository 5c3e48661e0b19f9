"""Forms for enrolling, eligibility, consent and withdrawal."""

from __future__ import annotations

from typing import Any

from django import forms

from mstoutcomes.core.forms import gds_date
from mstoutcomes.trial.models import ConsentKind, WithdrawalLevel


class _GdsForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field.widget, forms.Select) and not isinstance(
                field.widget, forms.RadioSelect
            ):
                field.widget.attrs.setdefault("class", "govuk-select")
            elif isinstance(field.widget, forms.TextInput | forms.Textarea):
                css = (
                    "govuk-textarea" if isinstance(field.widget, forms.Textarea) else "govuk-input"
                )
                field.widget.attrs.setdefault("class", css)


class EnrolForm(_GdsForm):
    study_id = forms.ChoiceField(label="Young person (study ID)")

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["study_id"].choices = [("", "Choose a young person"), *choices]
        self.fields["study_id"].error_messages["required"] = "Select a young person to enrol"


class EligibilityForm(_GdsForm):
    eligible = forms.TypedChoiceField(
        label="Does the young person meet the trial's eligibility criteria?",
        choices=[("yes", "Yes, eligible"), ("no", "No, not eligible")],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether the young person is eligible"},
    )
    on = gds_date("Date eligibility was confirmed")
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ConsentForm(_GdsForm):
    kind = forms.ChoiceField(
        label="Which consent",
        choices=ConsentKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select which consent this is"},
    )
    given = forms.TypedChoiceField(
        label="Was it given?",
        choices=[("yes", "Yes, given"), ("no", "No, declined")],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether consent was given"},
    )
    form_version = forms.CharField(
        label="Consent form version",
        max_length=40,
        error_messages={"required": "Enter the version printed on the consent form"},
    )
    recorded_on = gds_date("Date of consent")


class RevealForm(_GdsForm):
    reason = forms.CharField(
        label="Why do you need to see the allocation?",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Enter why you need to see the allocation"},
    )


class WithdrawalForm(_GdsForm):
    level = forms.ChoiceField(
        label="Withdrawn from",
        choices=WithdrawalLevel.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select what the participant is withdrawing from"},
    )
    on = gds_date("Date of withdrawal")
    reason = forms.CharField(
        label="Reason", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
