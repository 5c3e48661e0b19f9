"""Forms for young people, their families, agencies and episodes."""

from __future__ import annotations

from typing import Any

from django import forms

from mstoutcomes.accounts.models import Role
from mstoutcomes.accounts.selectors import agencies_active, staff_with_role
from mstoutcomes.cases.models import (
    AgencyInvolvement,
    Contact,
    DesiredOutcome,
    Episode,
    FamilyMember,
    IntermediateGoal,
    OverarchingGoal,
    ProfessionalMeeting,
    YoungPerson,
)
from mstoutcomes.cases.selectors import CaseloadQuery, allowed_sorts
from mstoutcomes.cases.services import (
    DISCHARGE_FIELDS,
    EPISODE_FIELDS,
    FAMILY_MEMBER_FIELDS,
    INVOLVEMENT_FIELDS,
)
from mstoutcomes.core.forms import ServiceForm, gds_date
from mstoutcomes.core.identifiers import normalise_nhs_number, normalise_postcode_district


class YoungPersonForm(ServiceForm):
    date_of_birth = gds_date("Date of birth")
    # Longer than stored so people may type spaces; clean_* removes them before validation.
    nhs_number = forms.CharField(label="NHS number", required=False, max_length=14)
    upn = forms.CharField(label="Unique Pupil Number", required=False, max_length=16)
    postcode_district = forms.CharField(
        label="Postcode district",
        required=False,
        max_length=6,
        help_text="The first part of the postcode, such as M33.",
    )
    referred_on = gds_date("Date referred", required=False, help_text="For example, 3 9 2026")
    submit_label = "Save details"

    class Meta:
        model = YoungPerson
        fields = [
            "given_name",
            "family_name",
            "preferred_name",
            "date_of_birth",
            "sex",
            "gender",
            "ethnicity",
            "address",
            "postcode_district",
            "school",
            "referring_agency",
            "referred_on",
            "nhs_number",
            "upn",
            "social_care_id",
            "yos_id",
        ]
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["referring_agency"].queryset = agencies_active()
        self.fields["gender"].required = False

    def clean_nhs_number(self) -> str:
        return normalise_nhs_number(self.cleaned_data["nhs_number"])

    def clean_upn(self) -> str:
        return str(self.cleaned_data["upn"]).replace(" ", "").upper()

    def clean_postcode_district(self) -> str:
        return normalise_postcode_district(self.cleaned_data["postcode_district"])


class FamilyMemberForm(ServiceForm):
    submit_label = "Save family member"

    class Meta:
        model = FamilyMember
        fields = list(FAMILY_MEMBER_FIELDS)


class AgencyInvolvementForm(ServiceForm):
    started_on = gds_date("Date started", required=False)
    ended_on = gds_date("Date ended", required=False, help_text="Leave blank if still involved")
    submit_label = "Save agency"

    class Meta:
        model = AgencyInvolvement
        fields = list(INVOLVEMENT_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies_active()


class EpisodeForm(ServiceForm):
    start_date = gds_date("Start date")
    expected_end_date = gds_date(
        "Expected end date", required=False, help_text="Leave blank for 4 months after the start"
    )
    submit_label = "Save episode"

    class Meta:
        model = Episode
        fields = list(EPISODE_FIELDS)

    def __init__(self, *args: Any, site_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["therapist"].queryset = staff_with_role(
            site_ids={site_id}, roles={Role.THERAPIST, Role.SUPERVISOR}
        )
        self.fields["supervisor"].queryset = staff_with_role(
            site_ids={site_id}, roles={Role.SUPERVISOR, Role.PROGRAMME_MANAGER}
        )


def yes_no_not_known(label: str) -> forms.TypedChoiceField:
    """Return a radio question stored as True, False or None (not known)."""
    return forms.TypedChoiceField(
        label=label,
        coerce=lambda v: {"yes": True, "no": False}.get(v),
        choices=[("yes", "Yes"), ("no", "No"), ("", "Not known")],
        required=False,
        empty_value=None,
        widget=forms.RadioSelect,
    )


class DischargeForm(ServiceForm):
    end_date = gds_date("Date the episode ended")
    living_at_home = yes_no_not_known("Living at home at discharge?")
    in_school_or_work = yes_no_not_known("In school or work at discharge?")
    no_new_arrests = yes_no_not_known("No new arrests during treatment?")
    submit_label = "Discharge"

    class Meta:
        model = Episode
        fields = list(DISCHARGE_FIELDS)
        widgets = {"discharge_reason": forms.RadioSelect}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["discharge_reason"].required = True
        self.fields["discharge_reason"].choices = [
            c for c in self.fields["discharge_reason"].choices if c[0]
        ]
        self.fields["discharge_reason"].error_messages["required"] = "Select why the episode ended"


class CaseloadFilterForm(forms.Form):
    """The caseload list's search, filters and sort, read from the query string."""

    q = forms.CharField(label="Search by name or study ID", required=False, max_length=100)
    select = forms.Select(attrs={"class": "govuk-select"})
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[
            ("", "Any status"),
            ("referred", "Referred, no episode yet"),
            ("in_treatment", "In treatment"),
            ("discharged", "Discharged"),
        ],
        widget=select,
    )
    therapist = forms.TypedChoiceField(
        label="Therapist", required=False, coerce=int, empty_value=None, widget=select
    )
    sort = forms.ChoiceField(label="Sort by", required=False, widget=select)

    SORT_LABELS = {
        "name": "Name (A to Z)",
        "-name": "Name (Z to A)",
        "study_id": "Study ID",
        "-study_id": "Study ID (descending)",
        "referred": "Date referred (oldest first)",
        "-referred": "Date referred (newest first)",
        "age": "Age (youngest first)",
        "-age": "Age (oldest first)",
    }

    def __init__(self, *args: Any, user: Any, therapists: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sorts = allowed_sorts(user)
        self.fields["sort"].choices = [(key, self.SORT_LABELS[key]) for key in sorts]
        self.fields["therapist"].choices = [("", "Any therapist")] + [
            (t.pk, t.get_full_name() or t.username) for t in therapists
        ]
        if "name" not in sorts:
            self.fields["q"].label = "Search by study ID"

    def to_query(self) -> CaseloadQuery:
        data = self.cleaned_data if self.is_valid() else {}
        return CaseloadQuery(
            search=data.get("q") or "",
            status=data.get("status") or "",
            therapist_id=data.get("therapist"),
            sort=data.get("sort") or "",
        )


# Family goals, contacts and professional meetings.


class _PersonRecordForm(ServiceForm):
    """A form for a record of one young person: episode and goal choices are theirs only."""

    def __init__(self, *args: Any, person: YoungPerson, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "episode" in self.fields:
            self.fields["episode"].queryset = person.episodes.all()
            self.fields["episode"].required = False
        if "overarching_goal" in self.fields:
            self.fields["overarching_goal"].queryset = person.overarching_goals.all()


class DesiredOutcomeForm(_PersonRecordForm):
    submit_label = "Save desired outcome"

    class Meta:
        model = DesiredOutcome
        fields = ["participant", "outcome", "episode"]
        widgets = {"outcome": forms.Textarea(attrs={"rows": 3})}


class OverarchingGoalForm(_PersonRecordForm):
    agreed_on = gds_date("Date agreed")
    submit_label = "Save goal"

    class Meta:
        model = OverarchingGoal
        fields = ["number", "description", "agreed_on", "status", "episode"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class IntermediateGoalForm(_PersonRecordForm):
    week_starting = gds_date("Week starting")
    submit_label = "Save intermediate goal"

    class Meta:
        model = IntermediateGoal
        fields = [
            "overarching_goal",
            "week_starting",
            "description",
            "status",
            "advances",
            "barriers",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "advances": forms.Textarea(attrs={"rows": 3}),
            "barriers": forms.Textarea(attrs={"rows": 3}),
        }


class ContactForm(_PersonRecordForm):
    date = gds_date("Date of contact")
    submit_label = "Save contact"

    class Meta:
        model = Contact
        fields = ["date", "duration_minutes", "kind", "place", "present", "episode"]

    def __init__(self, *args: Any, person: YoungPerson, **kwargs: Any) -> None:
        super().__init__(*args, person=person, **kwargs)
        self.fields["kind"].widget = forms.RadioSelect(choices=self.fields["kind"].choices[1:])
        self.fields["place"].widget = forms.RadioSelect(choices=self.fields["place"].choices[1:])


class ProfessionalMeetingForm(_PersonRecordForm):
    """The meeting, then up to six rows of agencies attending (role and number of people)."""

    date = gds_date("Date of meeting")
    submit_label = "Save meeting"
    ATTENDEE_ROWS = 6

    class Meta:
        model = ProfessionalMeeting
        fields = ["date", "duration_minutes", "purpose", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, person: YoungPerson, **kwargs: Any) -> None:
        super().__init__(*args, person=person, **kwargs)
        # The view found the meeting through the user's scope, so its attendees are theirs to see.
        existing = list(self.instance.attendees.unscoped()) if self.instance.pk else []
        for row in range(self.ATTENDEE_ROWS):
            current = existing[row] if row < len(existing) else None
            self.fields[f"agency_{row}"] = forms.ModelChoiceField(
                label=f"Agency {row + 1}",
                queryset=agencies_active(),
                required=False,
                initial=current.agency_id if current else None,
            )
            self.fields[f"role_{row}"] = forms.CharField(
                label=f"Role {row + 1}",
                required=False,
                max_length=100,
                initial=current.role if current else "",
            )
            self.fields[f"people_{row}"] = forms.IntegerField(
                label=f"People {row + 1}",
                required=False,
                min_value=1,
                max_value=50,
                initial=current.people if current else None,
            )
        self.helper.layout.fields[-1:-1] = [
            name
            for row in range(self.ATTENDEE_ROWS)
            for name in (f"agency_{row}", f"role_{row}", f"people_{row}")
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for row in range(self.ATTENDEE_ROWS):
            if (data.get(f"role_{row}") or data.get(f"people_{row}")) and not data.get(
                f"agency_{row}"
            ):
                self.add_error(f"agency_{row}", f"Select the agency for attendee row {row + 1}")
        return data

    def attendees(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        return [
            {
                "agency": data[f"agency_{row}"],
                "role": data.get(f"role_{row}", ""),
                "people": data.get(f"people_{row}") or 1,
            }
            for row in range(self.ATTENDEE_ROWS)
            if data.get(f"agency_{row}")
        ]

    def meeting_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
