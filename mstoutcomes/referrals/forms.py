"""The referral form's pages, and the panel's, allocation's and capacity forms (GOV.UK markup)."""

from __future__ import annotations

from typing import Any

from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import Button, Layout
from django import forms

from mstoutcomes.accounts.models import Agency
from mstoutcomes.cases.models import Relationship, Sex
from mstoutcomes.core.forms import _plain_required_message, gds_date
from mstoutcomes.core.identifiers import is_postcode_district, normalise_postcode_district
from mstoutcomes.referrals import codes
from mstoutcomes.referrals.models import DecisionReason, PanelMeeting, Referral
from mstoutcomes.referrals.workflow import LABELS, PANEL_OUTCOMES


class GdsForm(forms.Form):
    """A plain form rendered with GOV.UK markup and plain required-field messages."""

    submit_label = "Save and continue"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            _plain_required_message(field)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.label_size = "s"
        self.helper.legend_size = "s"
        self.helper.layout = Layout(*self.fields, Button("submit", self.submit_label))

    def apply_service_errors(self, error: Any) -> None:
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                for item in errors:
                    self.add_error(field if field in self.fields else None, item)
        else:
            for message in error.messages:
                self.add_error(None, message)


def yes_no(label: str, *, required: bool = True) -> forms.TypedChoiceField:
    field = forms.TypedChoiceField(
        label=label,
        choices=[("yes", "Yes"), ("no", "No")],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
        required=required,
    )
    field.error_messages["required"] = f"Select yes or no: {label.lower().rstrip('?')}"
    return field


def _checkboxes(label: str, choices: dict[str, str], help_text: str = "") -> forms.Field:
    return forms.MultipleChoiceField(
        label=label,
        choices=list(choices.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=help_text,
    )


def _yes_no_initial(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


class StartForm(GdsForm):
    submit_label = "Start the referral"
    site = forms.ModelChoiceField(queryset=None, label="MST team", empty_label=None)
    agency = forms.ModelChoiceField(queryset=None, label="Referring agency")

    def __init__(self, *args: Any, sites: Any, agencies: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites
        self.fields["agency"].queryset = agencies
        if agencies.count() == 1:
            self.fields["agency"].initial = agencies.get().pk
            self.fields["agency"].empty_label = None


class PersonForm(GdsForm):
    given_name = forms.CharField(label="First name", max_length=100)
    family_name = forms.CharField(label="Last name", max_length=100)
    date_of_birth = gds_date("Date of birth")
    sex = forms.ChoiceField(label="Sex", choices=Sex.choices, widget=forms.RadioSelect)
    postcode_district = forms.CharField(
        label="Postcode district",
        max_length=6,
        required=False,
        help_text="The first part of the postcode, such as M33. It helps spot people we know.",
    )
    school = forms.CharField(label="School or education setting", max_length=200, required=False)
    referrer_name = forms.CharField(label="Your name", max_length=200)
    referrer_role = forms.CharField(label="Your role", max_length=200, required=False)
    referrer_email = forms.EmailField(label="Your email address", required=False)
    referrer_phone = forms.CharField(label="Your phone number", max_length=30, required=False)

    def clean_postcode_district(self) -> str:
        value = normalise_postcode_district(self.cleaned_data["postcode_district"])
        if value and not is_postcode_district(value):
            raise forms.ValidationError("Enter the first part of the postcode only, such as M33")
        return value

    def clean_date_of_birth(self) -> Any:
        from mstoutcomes.core.dates import today

        value = self.cleaned_data["date_of_birth"]
        if value and value > today():
            raise forms.ValidationError("Date of birth must be in the past")
        return value

    @staticmethod
    def initial_from(referral: Referral) -> dict[str, Any]:
        return {name: getattr(referral, name) for name in PersonForm.base_fields}


class CarersForm(GdsForm):
    carer1_given_name = forms.CharField(label="Main carer's first name", max_length=100)
    carer1_family_name = forms.CharField(label="Main carer's last name", max_length=100)
    carer1_relationship = forms.ChoiceField(
        label="Main carer's relationship to the young person", choices=Relationship.choices
    )
    carer1_phone = forms.CharField(label="Main carer's phone", max_length=30, required=False)
    carer2_given_name = forms.CharField(
        label="Second carer's first name (if any)", max_length=100, required=False
    )
    carer2_family_name = forms.CharField(
        label="Second carer's last name", max_length=100, required=False
    )
    carer2_relationship = forms.ChoiceField(
        label="Second carer's relationship",
        choices=[("", "—"), *Relationship.choices],
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("carer2_given_name") and not data.get("carer2_relationship"):
            self.add_error("carer2_relationship", "Select the second carer's relationship")
        return data

    def carers(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        carers = [
            {
                "given_name": data["carer1_given_name"],
                "family_name": data["carer1_family_name"],
                "relationship": data["carer1_relationship"],
                "phone": data["carer1_phone"],
                "has_parental_responsibility": True,
            }
        ]
        if data.get("carer2_given_name"):
            carers.append(
                {
                    "given_name": data["carer2_given_name"],
                    "family_name": data["carer2_family_name"],
                    "relationship": data["carer2_relationship"],
                }
            )
        return carers

    @staticmethod
    def initial_from(referral: Referral) -> dict[str, Any]:
        initial: dict[str, Any] = {}
        for n, carer in enumerate(referral.carers[:2], start=1):
            for key, value in carer.items():
                initial[f"carer{n}_{key}"] = value
        return initial


class ReasonsForm(GdsForm):
    behaviours = _checkboxes("What behaviours prompt this referral?", codes.BEHAVIOURS)
    behaviour_details = forms.CharField(
        label="Describe what is happening",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
    )
    risks = _checkboxes("What is the young person at risk of?", codes.RISKS)
    statuses = _checkboxes("Which of these apply now?", codes.STATUSES)
    exclusions = _checkboxes(
        "Do any of these apply?",
        codes.EXCLUSIONS,
        help_text="MST may not be the right service if they do; the panel will consider it.",
    )

    def clean_behaviours(self) -> list[str]:
        if not self.cleaned_data["behaviours"]:
            raise forms.ValidationError("Select the behaviours that prompt this referral")
        return list(self.cleaned_data["behaviours"])

    @staticmethod
    def initial_from(referral: Referral) -> dict[str, Any]:
        return {name: getattr(referral, name) for name in ReasonsForm.base_fields}


def _count(label: str) -> forms.IntegerField:
    field = forms.IntegerField(label=label, min_value=0, max_value=99, required=False)
    field.error_messages["min_value"] = f"{label} must be 0 or more"
    field.error_messages["invalid"] = f"{label} must be a number, like 2"
    return field


class HistoryForm(GdsForm):
    offences_12m = _count(codes.HISTORY_COUNTS["offences_12m"])
    offences_18m = _count(codes.HISTORY_COUNTS["offences_18m"])
    fixed_term_exclusions = _count(codes.HISTORY_COUNTS["fixed_term_exclusions"])
    previous_placements = _count(codes.HISTORY_COUNTS["previous_placements"])
    agencies_involved = forms.ModelMultipleChoiceField(
        queryset=Agency.objects.none(),
        label="Which agencies are involved with the family?",
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agencies_involved"].queryset = Agency.objects.filter(is_active=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        twelve, eighteen = data.get("offences_12m"), data.get("offences_18m")
        if twelve is not None and eighteen is not None and eighteen < twelve:
            self.add_error(
                "offences_18m", "Offences in 18 months cannot be fewer than in the last 12 months"
            )
        return data

    @staticmethod
    def initial_from(referral: Referral) -> dict[str, Any]:
        initial = {name: getattr(referral, name) for name in codes.HISTORY_COUNTS}
        initial["agencies_involved"] = list(referral.agencies_involved.all())
        return initial


class ConsentForm(GdsForm):
    consent_referral = yes_no("Does the carer consent to this referral?")
    consent_share = yes_no(
        "Does the carer consent to agencies sharing information about the family?"
    )
    assent = yes_no("Does the young person agree to the referral?")

    @staticmethod
    def initial_from(referral: Referral) -> dict[str, Any]:
        return {name: _yes_no_initial(getattr(referral, name)) for name in ConsentForm.base_fields}


PAGES: dict[str, tuple[str, type[GdsForm]]] = {
    "person": ("The young person and you", PersonForm),
    "carers": ("Carers", CarersForm),
    "reasons": ("Why you are referring", ReasonsForm),
    "history": ("Recent history and agencies", HistoryForm),
    "consent": ("Consent", ConsentForm),
}


class DecideForm(GdsForm):
    submit_label = "Record the decision"
    outcome = forms.ChoiceField(label="Decision", widget=forms.RadioSelect)
    panel = forms.ModelChoiceField(
        queryset=PanelMeeting.objects.none(), label="Panel meeting", required=False
    )
    reason = forms.ChoiceField(
        label="Reason (needed to decline or signpost)",
        choices=[("", "—"), *DecisionReason.choices],
        required=False,
    )
    notes = forms.CharField(
        label="Notes for the record", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    urgent = forms.BooleanField(label="Urgent: place before routine families", required=False)

    def __init__(self, *args: Any, panels: Any, outcomes: Any = PANEL_OUTCOMES, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["outcome"].choices = [(s.value, LABELS[s]) for s in outcomes]
        self.fields["panel"].queryset = panels


class AllocateForm(GdsForm):
    submit_label = "Allocate and start MST"
    therapist = forms.ModelChoiceField(queryset=None, label="Therapist")
    start_date = gds_date("Start date")
    override_reason = forms.CharField(
        label="Reason for going over the therapist's cap (only if they are full)",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )

    def __init__(self, *args: Any, therapists: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["therapist"].queryset = therapists


class ReasonForm(GdsForm):
    reason = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 3}))


class PanelForm(GdsForm):
    submit_label = "Record the panel"
    site = forms.ModelChoiceField(queryset=None, label="MST team", empty_label=None)
    held_on = gds_date("Date of the panel")
    agencies_present = forms.ModelMultipleChoiceField(
        queryset=Agency.objects.none(),
        label="Agencies represented",
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    attendees = forms.CharField(
        label="Who attended",
        help_text="One person per line, with their agency and role",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
    )
    notes = forms.CharField(label="Notes", widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args: Any, sites: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites
        self.fields["agencies_present"].queryset = Agency.objects.filter(is_active=True)


class CapacityForm(GdsForm):
    submit_label = "Save capacity"
    fte = forms.DecimalField(
        label="Full-time equivalent", min_value=0.1, max_value=1, decimal_places=2
    )
    caseload_cap = forms.IntegerField(
        label="Caseload cap (families at full time, 4 to 6)", min_value=4, max_value=6
    )
