"""Forms for enrolling, eligibility, consent, withdrawal and protocol deviations."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from mstoutcomes.accounts.models import Site
from mstoutcomes.core.forms import ServiceForm, gds_date
from mstoutcomes.trial.models import (
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
