"""Forms for enrolling, eligibility, consent, withdrawal, deviations, consent forms and the lock."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from mstoutcomes.accounts.models import Site
from mstoutcomes.core.forms import ServiceForm, gds_date
from mstoutcomes.trial.consent_forms import check_pdf
from mstoutcomes.trial.models import (
    ConsentFormVersion,
    ConsentKind,
    DeviationCategory,
    DeviationSeverity,
    Participant,
    ProtocolDeviation,
    WithdrawalLevel,
)
from mstoutcomes.trial.services import DEVIATION_FIELDS


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


def form_version_label(form: ConsentFormVersion) -> str:
    return (
        f"{form.get_kind_display()}, version {form.version} (approved {form.approved_on:%-d %B %Y})"
    )


class ConsentForm(_GdsForm):
    """Record a consent on the current version of one of the trial's forms."""

    form = forms.ModelChoiceField(
        label="Which consent form (current version)",
        queryset=ConsentFormVersion.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": "Select the consent form the family signed",
            "invalid_choice": "Select a current consent form: that version is not current",
        },
    )
    given = forms.TypedChoiceField(
        label="Was it given?",
        choices=[("yes", "Yes, given"), ("no", "No, declined")],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether consent was given"},
    )
    recorded_on = gds_date("Date of consent")

    def __init__(self, *args: Any, forms_qs: QuerySet[ConsentFormVersion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["form"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = forms_qs
        field.label_from_instance = form_version_label  # type: ignore[method-assign]


class ConsentFormVersionForm(_GdsForm):
    """Add an approved version of a consent, assent or data-linkage form, with its PDF."""

    kind = forms.ChoiceField(
        label="Which form",
        choices=ConsentKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select which form this is"},
    )
    version = forms.CharField(
        label="Version",
        max_length=40,
        help_text="As printed on the form, for example v3.0.",
        error_messages={"required": "Enter the version printed on the form"},
    )
    approved_on = gds_date("Date approved")
    approved_by = forms.CharField(
        label="Approved by",
        max_length=200,
        help_text="The ethics committee (with its reference) or the person who approved it.",
        error_messages={"required": "Enter who approved this version"},
    )
    file = forms.FileField(
        label="The form (PDF)",
        error_messages={"required": "Choose the form's PDF file"},
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        try:
            check_pdf(upload.name, upload, upload.size)
        except ValidationError as error:
            raise forms.ValidationError(error.message_dict["file"]) from None
        return upload


class LockForm(_GdsForm):
    reason = forms.CharField(
        label="Note (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For example, the statistical analysis plan version the lock is for.",
    )


class UnlockRequestForm(_GdsForm):
    reason = forms.CharField(
        label="Why does the database need to be unlocked?",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Enter why the database needs to be unlocked"},
    )


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


class DeviationForm(ServiceForm):
    """Log or change a protocol deviation; the service checks dates, site and participant."""

    occurred_on = gds_date("Date it happened")
    identified_on = gds_date("Date it was identified")
    reported_to_sponsor_on = gds_date(
        "Date reported to the sponsor",
        required=False,
        help_text="Leave empty if not reported yet. For example, 27 3 2026",
    )
    submit_label = "Save deviation"

    class Meta:
        model = ProtocolDeviation
        fields = list(DEVIATION_FIELDS)
        widgets = {
            "category": forms.RadioSelect,
            "severity": forms.RadioSelect,
            "description": forms.Textarea(attrs={"rows": 4}),
            "corrective_action": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(
        self, *args: Any, sites: list[Site], participants: QuerySet[Participant], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        site_field = self.fields["site"]
        assert isinstance(site_field, forms.ModelChoiceField)
        site_field.queryset = Site.objects.filter(pk__in=[s.pk for s in sites]).order_by("name")
        site_field.empty_label = None if len(sites) == 1 else "Choose a site"
        who = self.fields["participant"]
        assert isinstance(who, forms.ModelChoiceField)
        who.queryset = participants
        who.label_from_instance = lambda p: p.young_person.study_id  # type: ignore[method-assign]
        who.empty_label = "Not about one participant"
        for name in ("category", "severity"):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [c for c in field.choices if c[0]]


class DeviationFilterForm(_GdsForm):
    category = forms.ChoiceField(
        label="Category", required=False, choices=[("", "All"), *DeviationCategory.choices]
    )
    severity = forms.ChoiceField(
        label="Severity", required=False, choices=[("", "All"), *DeviationSeverity.choices]
    )
    site = forms.TypedChoiceField(label="Site", required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, sites: list[Site], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        site = self.fields["site"]
        assert isinstance(site, forms.ChoiceField)
        site.choices = [("", "All sites"), *((s.pk, s.name) for s in sites)]
