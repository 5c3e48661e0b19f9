"""Young people, their families, the agencies around them and their MST episodes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from mstoutcomes.accounts.models import Agency, Site, User
from mstoutcomes.core.dates import age_on, today
from mstoutcomes.core.identifiers import (
    is_nhs_number,
    is_postcode_district,
    is_upn,
    normalise_nhs_number,
    normalise_postcode_district,
)
from mstoutcomes.core.models import TimeStampedModel
from mstoutcomes.core.scoping import ScopedManager


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    NOT_KNOWN = "not_known", "Not known"


class Gender(models.TextChoices):
    GIRL = "girl", "Girl or young woman"
    BOY = "boy", "Boy or young man"
    NON_BINARY = "non_binary", "Non-binary"
    OTHER = "other", "Another gender"
    NOT_STATED = "not_stated", "Prefers not to say"


class Ethnicity(models.TextChoices):
    """ONS 2021 census ethnic groups (England and Wales), plus not stated and refused."""

    ASIAN_BANGLADESHI = "asian_bangladeshi", "Asian or Asian British: Bangladeshi"
    ASIAN_CHINESE = "asian_chinese", "Asian or Asian British: Chinese"
    ASIAN_INDIAN = "asian_indian", "Asian or Asian British: Indian"
    ASIAN_PAKISTANI = "asian_pakistani", "Asian or Asian British: Pakistani"
    ASIAN_OTHER = "asian_other", "Asian or Asian British: any other Asian background"
    BLACK_AFRICAN = "black_african", "Black, Black British, Caribbean or African: African"
    BLACK_CARIBBEAN = "black_caribbean", "Black, Black British, Caribbean or African: Caribbean"
    BLACK_OTHER = (
        "black_other",
        "Black, Black British, Caribbean or African: any other Black background",
    )
    MIXED_WHITE_ASIAN = "mixed_white_asian", "Mixed or multiple: White and Asian"
    MIXED_WHITE_BLACK_AFRICAN = (
        "mixed_white_black_african",
        "Mixed or multiple: White and Black African",
    )
    MIXED_WHITE_BLACK_CARIBBEAN = (
        "mixed_white_black_caribbean",
        "Mixed or multiple: White and Black Caribbean",
    )
    MIXED_OTHER = "mixed_other", "Mixed or multiple: any other Mixed background"
    WHITE_BRITISH = "white_british", "White: English, Welsh, Scottish, Northern Irish or British"
    WHITE_IRISH = "white_irish", "White: Irish"
    WHITE_GYPSY_TRAVELLER = "white_gypsy_traveller", "White: Gypsy or Irish Traveller"
    WHITE_ROMA = "white_roma", "White: Roma"
    WHITE_OTHER = "white_other", "White: any other White background"
    OTHER_ARAB = "other_arab", "Other ethnic group: Arab"
    OTHER_ANY = "other_any", "Other ethnic group: any other ethnic group"
    NOT_STATED = "not_stated", "Not stated"
    REFUSED = "refused", "Refused"


class YoungPersonStatus(models.TextChoices):
    REFERRED = "referred", "Referred, no episode yet"
    IN_TREATMENT = "in_treatment", "In treatment"
    DISCHARGED = "discharged", "Discharged"


def validate_postcode_district(value: str) -> None:
    if not is_postcode_district(value):
        raise ValidationError(
            "Enter the first part of the postcode only, such as M33 or SW1A.", code="postcode"
        )


def validate_nhs_number(value: str) -> None:
    if not is_nhs_number(value):
        raise ValidationError(
            "Enter a 10-digit NHS number; this one's check digit does not match.", code="nhs"
        )


def validate_upn(value: str) -> None:
    if not is_upn(value):
        raise ValidationError(
            "Enter a 13-character Unique Pupil Number; this one's check letter does not match.",
            code="upn",
        )


class YoungPerson(TimeStampedModel):
    """A young person referred to the service. Study ID is the pseudonym everyone may see."""

    SCOPE_PATH = ""
    # Fields that identify a person; pseudonymised roles never see them.
    IDENTIFIABLE_FIELDS = (
        "given_name",
        "family_name",
        "preferred_name",
        "date_of_birth",
        "address",
        "postcode_district",
        "school",
        "nhs_number",
        "upn",
        "social_care_id",
        "yos_id",
    )

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="young_people")
    study_id = models.CharField(max_length=20, unique=True, editable=False)
    given_name = models.CharField("First name", max_length=100)
    family_name = models.CharField("Last name", max_length=100)
    preferred_name = models.CharField("Preferred name", max_length=100, blank=True)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=20, choices=Sex.choices)
    gender = models.CharField(max_length=20, choices=Gender.choices, blank=True)
    ethnicity = models.CharField(max_length=40, choices=Ethnicity.choices, default="not_stated")
    school = models.CharField("School or education setting", max_length=200, blank=True)
    address = models.TextField("Home address", blank=True)
    postcode_district = models.CharField(
        "Postcode district",
        max_length=4,
        blank=True,
        validators=[validate_postcode_district],
        help_text="The first part of the postcode, such as M33.",
    )
    nhs_number = models.CharField(
        "NHS number", max_length=10, blank=True, validators=[validate_nhs_number]
    )
    upn = models.CharField(
        "Unique Pupil Number", max_length=13, blank=True, validators=[validate_upn]
    )
    social_care_id = models.CharField("Social care ID", max_length=50, blank=True)
    yos_id = models.CharField("Youth offending service ID", max_length=50, blank=True)
    referring_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="referred_people"
    )
    referred_on = models.DateField("Date referred", null=True, blank=True, db_index=True)

    objects = ScopedManager()
    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["family_name", "given_name"]
        verbose_name_plural = "young people"
        indexes = [models.Index(fields=["family_name", "given_name"], name="yp_name")]

    def __str__(self) -> str:
        return self.study_id or "New young person"

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()

    def age_on(self, on: dt.date) -> int:
        return age_on(self.date_of_birth, on)

    @property
    def age(self) -> int:
        return self.age_on(today())

    def clean_fields(self, exclude: Collection[str] | None = None) -> None:
        # Normalise before the field checks, so `943 476 5919` fits NHS number's 10 characters.
        self.postcode_district = normalise_postcode_district(self.postcode_district)
        self.nhs_number = normalise_nhs_number(self.nhs_number)
        self.upn = self.upn.strip().upper()
        super().clean_fields(exclude=exclude)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.date_of_birth and self.date_of_birth > today():
            errors["date_of_birth"] = "Date of birth must be in the past."
        elif self.date_of_birth and self.age_on(self.referred_on or today()) > 25:
            errors["date_of_birth"] = "Date of birth makes this person older than 25; check it."
        if self.referred_on and self.referred_on > today():
            errors["referred_on"] = "Date referred cannot be in the future."
        if errors:
            raise ValidationError(errors)


class Relationship(models.TextChoices):
    MOTHER = "mother", "Mother"
    FATHER = "father", "Father"
    STEP_PARENT = "step_parent", "Step-parent or parent's partner"
    GRANDPARENT = "grandparent", "Grandparent"
    AUNT_UNCLE = "aunt_uncle", "Aunt or uncle"
    SIBLING = "sibling", "Brother or sister"
    FOSTER_CARER = "foster_carer", "Foster carer"
    KINSHIP_CARER = "kinship_carer", "Kinship or special guardian"
    OTHER = "other", "Other"


class FamilyMember(TimeStampedModel):
    """A carer or household member of a young person."""

    SCOPE_PATH = "young_person"

    young_person = models.ForeignKey(
        YoungPerson, on_delete=models.CASCADE, related_name="family_members"
    )
    given_name = models.CharField("First name", max_length=100)
    family_name = models.CharField("Last name", max_length=100, blank=True)
    relationship = models.CharField(max_length=20, choices=Relationship.choices)
    is_carer = models.BooleanField("Is a carer", default=True)
    is_primary_carer = models.BooleanField("Primary carer", default=False)
    has_parental_responsibility = models.BooleanField(default=False)
    lives_with_young_person = models.BooleanField(default=True)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)

    objects = ScopedManager()
    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["-is_primary_carer", "-is_carer", "given_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["young_person"],
                condition=Q(is_primary_carer=True),
                name="family_one_primary_carer",
                violation_error_message="This young person already has a primary carer.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()

    def clean(self) -> None:
        if self.is_primary_carer and not self.is_carer:
            raise ValidationError({"is_primary_carer": "A primary carer must also be a carer."})


class AgencyInvolvement(TimeStampedModel):
    """An agency working with a young person, and the worker to contact there."""

    SCOPE_PATH = "young_person"

    young_person = models.ForeignKey(
        YoungPerson, on_delete=models.CASCADE, related_name="agency_involvements"
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="involvements")
    worker_name = models.CharField(max_length=200, blank=True)
    worker_role = models.CharField(max_length=200, blank=True)
    worker_email = models.EmailField(blank=True)
    worker_phone = models.CharField(max_length=30, blank=True)
    started_on = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True)

    objects = ScopedManager()
    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["agency__name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True)
                | Q(started_on__isnull=True)
                | Q(ended_on__gte=models.F("started_on")),
                name="involvement_ends_after_start",
                violation_error_message="The end date must be on or after the start date.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agency}: {self.worker_name}" if self.worker_name else str(self.agency)

    @property
    def is_current(self) -> bool:
        return self.ended_on is None or self.ended_on >= today()


class DischargeReason(models.TextChoices):
    COMPLETED = "completed", "Completed treatment"
    LACK_OF_ENGAGEMENT = "lack_of_engagement", "Lack of engagement"
    PLACED_CARE = "placed_care", "Placed: care"
    PLACED_CUSTODY = "placed_custody", "Placed: custody"
    PLACED_HOSPITAL = "placed_hospital", "Placed: hospital"
    PLACED_OTHER = "placed_other", "Placed: other"
    MOVED = "moved", "Moved out of area"
    ADMINISTRATIVE = "administrative", "Administrative (funding, other)"


class Episode(TimeStampedModel):
    """A period of MST with one family: allocation, therapist, discharge and ultimate outcomes."""

    SCOPE_PATH = "young_person"

    young_person = models.ForeignKey(YoungPerson, on_delete=models.CASCADE, related_name="episodes")
    start_date = models.DateField(db_index=True)
    expected_end_date = models.DateField(null=True, blank=True)
    therapist = models.ForeignKey(User, on_delete=models.PROTECT, related_name="therapist_episodes")
    supervisor = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="supervised_episodes", null=True, blank=True
    )
    end_date = models.DateField(null=True, blank=True, db_index=True)
    discharge_reason = models.CharField(max_length=30, choices=DischargeReason.choices, blank=True)
    # MST's three ultimate outcomes, recorded at discharge (None: not known).
    living_at_home = models.BooleanField(null=True, blank=True)
    in_school_or_work = models.BooleanField(null=True, blank=True)
    no_new_arrests = models.BooleanField(null=True, blank=True)
    discharge_notes = models.TextField(blank=True)

    objects = ScopedManager()
    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["-start_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["young_person"],
                condition=Q(end_date__isnull=True),
                name="episode_one_open_per_person",
                violation_error_message="This young person already has an open episode.",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="episode_ends_after_start",
                violation_error_message="The end date must be on or after the start date.",
            ),
            models.CheckConstraint(
                condition=(Q(end_date__isnull=True) & Q(discharge_reason=""))
                | (Q(end_date__isnull=False) & ~Q(discharge_reason="")),
                name="episode_discharge_reason_iff_ended",
                violation_error_message="An ended episode needs a discharge reason, and only then.",
            ),
        ]

    def __str__(self) -> str:
        return f"Episode from {self.start_date:%d %b %Y}"

    @property
    def is_open(self) -> bool:
        return self.end_date is None

    def clean(self) -> None:
        if self.end_date and self.end_date > today():
            raise ValidationError({"end_date": "The end date cannot be in the future."})

    @property
    def length_days(self) -> int:
        return ((self.end_date or today()) - self.start_date).days


# Family goals and the do-loop (MST analytic process): desired outcomes → overarching goals →
# weekly intermediate goals, each reviewed for advances and barriers.


class DesiredOutcome(TimeStampedModel):
    """What the family or another key participant wants to change, in their words."""

    SCOPE_PATH = "young_person"

    young_person = models.ForeignKey(
        YoungPerson, on_delete=models.CASCADE, related_name="desired_outcomes"
    )
    episode = models.ForeignKey(
        Episode, on_delete=models.CASCADE, related_name="desired_outcomes", null=True, blank=True
    )
    participant = models.CharField(
        "Whose outcome", max_length=100, help_text="For example, mother, school or YOS officer."
    )
    outcome = models.TextField("Desired outcome")

    objects = ScopedManager()
    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["participant", "pk"]

    def __str__(self) -> str:
        return f"{self.participant}: {self.outcome[:40]}"


class GoalStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    MET = "met", "Met"
    PARTLY_MET = "partly_met", "Partly met"
    NOT_MET = "not_met", "Not met"


class OverarchingGoal(TimeStampedModel):
    """A goal carried through the case; its status is settled at discharge."""

    SCOPE_PATH = "young_person"

    young_person = models.ForeignKey(
        YoungPerson, on_delete=models.CASCADE, related_name="overarching_goals"
    )
    episode = models.ForeignKey(
        Episode, on_delete=models.CASCADE, related_name="overarching_goals", null=True, blank=True
    )
    number = models.PositiveSmallIntegerField(
        "Goal number", help_text="Goals 1 to 3 are the Goal-Based Outcome goals the family rates."
    )
    description = models.TextField("Goal")
    agreed_on = models.DateField("Date agreed")
    status = models.CharField(
        max_length=20, choices=GoalStatus.choices, default=GoalStatus.IN_PROGRESS
    )

    objects = ScopedManager()
    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(
                fields=["young_person", "episode", "number"],
                name="overarching_goal_number_once",
                violation_error_message="This episode already has a goal with that number.",
            ),
        ]

    def __str__(self) -> str:
        return f"Goal {self.number}"


class IntermediateGoal(TimeStampedModel):
    """A weekly step towards an overarching goal, reviewed for advances and barriers."""

    SCOPE_PATH = "young_person"

    young_person = models.ForeignKey(
        YoungPerson, on_delete=models.CASCADE, related_name="intermediate_goals"
    )
    overarching_goal = models.ForeignKey(
        OverarchingGoal, on_delete=models.CASCADE, related_name="intermediate_goals"
    )
    week_starting = models.DateField("Week starting", db_index=True)
    description = models.TextField("Intermediate goal")
    status = models.CharField(
        max_length=20, choices=GoalStatus.choices, default=GoalStatus.IN_PROGRESS
    )
    advances = models.TextField("Advances", blank=True)
    barriers = models.TextField("Barriers", blank=True)

    objects = ScopedManager()
    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["-week_starting", "pk"]

    def __str__(self) -> str:
        return f"Week of {self.week_starting:%d %b %Y}"


class ContactKind(models.TextChoices):
    FACE_TO_FACE = "face_to_face", "Face to face"
    PHONE = "phone", "Phone"
    VIDEO = "video", "Video call"
    MESSAGE = "message", "Text or message"


class ContactPlace(models.TextChoices):
    HOME = "home", "Family home"
    SCHOOL = "school", "School"
    COMMUNITY = "community", "Community"
    OFFICE = "office", "Office"
    REMOTE = "remote", "Remote"
    OTHER = "other", "Somewhere else"


class Contact(TimeStampedModel):
    """A contact between MST staff and the family."""

    SCOPE_PATH = "young_person"

    young_person = models.ForeignKey(YoungPerson, on_delete=models.CASCADE, related_name="contacts")
    episode = models.ForeignKey(
        Episode, on_delete=models.SET_NULL, related_name="contacts", null=True, blank=True
    )
    staff = models.ForeignKey(User, on_delete=models.PROTECT, related_name="family_contacts")
    date = models.DateField(db_index=True)
    duration_minutes = models.PositiveIntegerField("Duration (minutes)")
    kind = models.CharField("Type", max_length=20, choices=ContactKind.choices)
    place = models.CharField("Where", max_length=20, choices=ContactPlace.choices)
    present = models.CharField(
        "Who was present", max_length=300, help_text="For example, young person, mother, sister."
    )

    objects = ScopedManager()
    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["-date", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gt=0) & Q(duration_minutes__lte=24 * 60),
                name="contact_duration_in_a_day",
                violation_error_message="Enter a duration between 1 minute and 24 hours.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} contact, {self.date:%d %b %Y}"


class MeetingPurpose(models.TextChoices):
    STRATEGY = "strategy", "Strategy discussion (safeguarding)"
    CHILD_PROTECTION = "child_protection", "Child protection conference or core group"
    CHILD_IN_NEED = "child_in_need", "Child in need review"
    LOOKED_AFTER = "looked_after", "Looked-after child review"
    YOUTH_JUSTICE = "youth_justice", "Youth justice panel or review"
    EDUCATION = "education", "School or education review"
    HEALTH = "health", "CAMHS or health review"
    PROFESSIONALS = "professionals", "Professionals meeting"
    MST_REVIEW = "mst_review", "MST review with the network"
    OTHER = "other", "Other"


class ProfessionalMeeting(TimeStampedModel):
    """A multi-agency professional meeting about a young person."""

    SCOPE_PATH = "young_person"

    young_person = models.ForeignKey(
        YoungPerson, on_delete=models.CASCADE, related_name="professional_meetings"
    )
    date = models.DateField(db_index=True)
    duration_minutes = models.PositiveIntegerField("Duration (minutes)")
    purpose = models.CharField(max_length=30, choices=MeetingPurpose.choices)
    notes = models.TextField(blank=True)

    objects = ScopedManager()
    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["-date", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gt=0) & Q(duration_minutes__lte=24 * 60),
                name="meeting_duration_in_a_day",
                violation_error_message="Enter a duration between 1 minute and 24 hours.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()}, {self.date:%d %b %Y}"


class MeetingAttendee(models.Model):
    """Who came to a professional meeting: how many people from which agency, in what role."""

    SCOPE_PATH = "meeting__young_person"

    meeting = models.ForeignKey(
        ProfessionalMeeting, on_delete=models.CASCADE, related_name="attendees"
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="meeting_attendance")
    role = models.CharField(max_length=100, help_text="For example, social worker or head of year.")
    people = models.PositiveSmallIntegerField("Number of people", default=1)

    objects = ScopedManager()

    class Meta:
        ordering = ["agency__name", "role"]
        constraints = [
            models.CheckConstraint(condition=Q(people__gte=1), name="attendee_at_least_one_person"),
        ]

    def __str__(self) -> str:
        return f"{self.agency}: {self.role}"
