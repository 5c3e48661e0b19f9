"""Administrative outcomes: school attendance and exclusions, offending and policing, placements,
custody, missing episodes and pro-social activity. Every record keeps its provenance."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from mstoutcomes.accounts.models import User
from mstoutcomes.cases.models import YoungPerson
from mstoutcomes.core.models import TimeStampedModel
from mstoutcomes.core.scoping import ScopedManager


class Provenance(models.TextChoices):
    MANUAL = "manual", "Entered by hand"
    IMPORTED = "imported", "Imported"
    DEMO = "demo", "Synthetic demo data"


class ImportBatch(models.Model):
    """One file imported (never a dry run): what, from where, by whom, and what it added."""

    kind = models.CharField(max_length=30)
    file_name = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64, db_index=True)
    source_system = models.CharField(max_length=100)
    extracted_on = models.DateField()
    rows_read = models.PositiveIntegerField()
    rows_added = models.PositiveIntegerField()
    rows_already_present = models.PositiveIntegerField()
    imported_at = models.DateTimeField(auto_now_add=True)
    imported_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-imported_at"]
        verbose_name_plural = "import batches"

    def __str__(self) -> str:
        return f"{self.kind} from {self.file_name}"


class AdministrativeRecord(TimeStampedModel):
    """Fields every administrative record has: whose it is and where it came from."""

    SCOPE_PATH = "young_person"

    young_person = models.ForeignKey(YoungPerson, on_delete=models.CASCADE, related_name="+")
    provenance = models.CharField(
        max_length=10, choices=Provenance.choices, default=Provenance.MANUAL
    )
    source_system = models.CharField(
        "Source system", max_length=100, blank=True, help_text="For example, SIMS or ChildView."
    )
    extracted_on = models.DateField("Date extracted", null=True, blank=True)
    import_batch = models.ForeignKey(
        ImportBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The record's natural key, hashed: re-importing the same rows adds nothing.
    row_key = models.CharField(max_length=64, blank=True, editable=False)
    entered_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = ScopedManager()

    class Meta:
        abstract = True


def _row_key_unique(name: str) -> models.UniqueConstraint:
    return models.UniqueConstraint(fields=["row_key"], condition=~Q(row_key=""), name=name)


def _ends_after_start(name: str, start: str = "start_date") -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(end_date__isnull=True) | Q(end_date__gte=F(start)),
        name=name,
        violation_error_message="The end date must be on or after the start date.",
    )


class AttendancePeriod(AdministrativeRecord):
    """School attendance over a period, counted in sessions (two a school day)."""

    young_person = models.ForeignKey(
        YoungPerson, on_delete=models.CASCADE, related_name="attendance_periods"
    )
    period_start = models.DateField()
    period_end = models.DateField()
    school = models.CharField(max_length=200, blank=True)
    sessions_possible = models.PositiveIntegerField()
    sessions_attended = models.PositiveIntegerField()
    authorised_absence = models.PositiveIntegerField(default=0)
    unauthorised_absence = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-period_start"]
        indexes = [
            models.Index(fields=["young_person", "period_start"], name="attend_person_start")
        ]
        constraints = [
            _row_key_unique("attendance_row_key_once"),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")),
                name="attendance_end_after_start",
                violation_error_message="The period must end on or after it starts.",
            ),
            models.CheckConstraint(
                condition=Q(
                    sessions_possible__gte=F("sessions_attended")
                    + F("authorised_absence")
                    + F("unauthorised_absence")
                ),
                name="attendance_sessions_add_up",
                violation_error_message="Sessions attended and absent cannot exceed sessions "
                "possible.",
            ),
        ]

    def __str__(self) -> str:
        return f"Attendance {self.period_start:%d %b %Y} to {self.period_end:%d %b %Y}"

    @property
    def attendance_rate(self) -> Decimal | None:
        if not self.sessions_possible:
            return None
        return (Decimal(self.sessions_attended) / self.sessions_possible * 100).quantize(
            Decimal("0.1")
        )

    @property
    def days_in_school(self) -> Decimal:
        return Decimal(self.sessions_attended) / 2

    @property
    def persistent_absence(self) -> bool:
        rate = self.attendance_rate
        return rate is not None and rate <= 90


class ExclusionKind(models.TextChoices):
    SUSPENSION = "suspension", "Suspension (fixed-period exclusion)"
    PERMANENT = "permanent", "Permanent exclusion"


class Exclusion(AdministrativeRecord):
    young_person = models.ForeignKey(
        YoungPerson, on_delete=models.CASCADE, related_name="exclusions"
    )
    kind = models.CharField(max_length=20, choices=ExclusionKind.choices)
    start_date = models.DateField(db_index=True)
    days = models.DecimalField(
        "School days",
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        help_text="Suspensions only; half days as .5",
    )
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-start_date"]
        constraints = [
            _row_key_unique("exclusion_row_key_once"),
            models.CheckConstraint(
                condition=Q(kind="permanent") | (Q(days__gt=0) & Q(days__lte=45)),
                name="exclusion_suspension_days",
                violation_error_message="A suspension lasts between half a day and 45 school days.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.start_date:%d %b %Y}"


class OffenceCategory(models.TextChoices):
    """Home Office offence classification (headline groups)."""

    VIOLENCE = "violence", "Violence against the person"
    ROBBERY = "robbery", "Robbery"
    THEFT = "theft", "Theft"
    BURGLARY = "burglary", "Burglary"
    CRIMINAL_DAMAGE = "criminal_damage", "Criminal damage and arson"
    DRUGS = "drugs", "Drug offences"
    WEAPONS = "weapons", "Possession of weapons"
    PUBLIC_ORDER = "public_order", "Public order offences"
    SEXUAL = "sexual", "Sexual offences"
    MOTORING = "motoring", "Motoring offences"
    OTHER = "other", "Other offences"


class OffenceOutcome(models.TextChoices):
    NO_FURTHER_ACTION = "nfa", "No further action"
    COMMUNITY_RESOLUTION = "community_resolution", "Community resolution"
    YOUTH_CAUTION = "youth_caution", "Youth caution"
    YOUTH_CONDITIONAL_CAUTION = "youth_conditional_caution", "Youth conditional caution"
    REFERRAL_ORDER = "referral_order", "Referral order"
    YOUTH_REHABILITATION_ORDER = "yro", "Youth rehabilitation order"
    DTO = "dto", "Detention and training order"
    CUSTODY = "custody", "Other custodial sentence"
    PENDING = "pending", "Pending"
    OTHER = "other", "Other"


class Offence(AdministrativeRecord):
    young_person = models.ForeignKey(YoungPerson, on_delete=models.CASCADE, related_name="offences")
    offence_date = models.DateField(db_index=True)
    category = models.CharField(max_length=30, choices=OffenceCategory.choices)
    gravity = models.PositiveSmallIntegerField(
        "YJB gravity score", help_text="1 (least serious) to 8."
    )
    outcome = models.CharField(max_length=30, choices=OffenceOutcome.choices)
    outcome_date = models.DateField(null=True, blank=True)
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-offence_date"]
        constraints = [
            _row_key_unique("offence_row_key_once"),
            models.CheckConstraint(
                condition=Q(gravity__gte=1) & Q(gravity__lte=8),
                name="offence_gravity_1_to_8",
                violation_error_message="The gravity score runs from 1 to 8.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} on {self.offence_date:%d %b %Y}"


class PoliceContactKind(models.TextChoices):
    ARREST = "arrest", "Arrest"
    STOP_SEARCH = "stop_search", "Stop and search"
    VOLUNTARY_INTERVIEW = "voluntary_interview", "Voluntary interview"
    OTHER = "other", "Other police contact"


class PoliceContact(AdministrativeRecord):
    young_person = models.ForeignKey(
        YoungPerson, on_delete=models.CASCADE, related_name="police_contacts"
    )
    date = models.DateField(db_index=True)
    kind = models.CharField(max_length=30, choices=PoliceContactKind.choices)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-date"]
        constraints = [_row_key_unique("police_contact_row_key_once")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.date:%d %b %Y}"


class PlacementKind(models.TextChoices):
    FOSTER = "foster", "Foster care"
    KINSHIP = "kinship", "Kinship care"
    RESIDENTIAL = "residential", "Residential (children's home)"
    SECURE_WELFARE = "secure_welfare", "Secure welfare"
    HOSPITAL = "hospital", "Hospital (inpatient)"
    OTHER = "other", "Other out-of-home placement"


class Placement(AdministrativeRecord):
    """An out-of-home placement."""

    young_person = models.ForeignKey(
        YoungPerson, on_delete=models.CASCADE, related_name="placements"
    )
    kind = models.CharField(max_length=20, choices=PlacementKind.choices)
    start_date = models.DateField(db_index=True)
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-start_date"]
        constraints = [
            _row_key_unique("placement_row_key_once"),
            _ends_after_start("placement_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.start_date:%d %b %Y}"


class CustodyKind(models.TextChoices):
    REMAND = "remand", "Remand"
    SENTENCE = "sentence", "Sentence"


class Establishment(models.TextChoices):
    YOI = "yoi", "Young offender institution"
    STC = "stc", "Secure training centre"
    SCH = "sch", "Secure children's home"
    SECURE_SCHOOL = "secure_school", "Secure school"


class CustodyEpisode(AdministrativeRecord):
    young_person = models.ForeignKey(
        YoungPerson, on_delete=models.CASCADE, related_name="custody_episodes"
    )
    kind = models.CharField(max_length=20, choices=CustodyKind.choices)
    establishment = models.CharField(max_length=20, choices=Establishment.choices)
    start_date = models.DateField(db_index=True)
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-start_date"]
        constraints = [
            _row_key_unique("custody_row_key_once"),
            _ends_after_start("custody_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} in {self.get_establishment_display()}"


class MissingEpisode(AdministrativeRecord):
    young_person = models.ForeignKey(
        YoungPerson, on_delete=models.CASCADE, related_name="missing_episodes"
    )
    start_date = models.DateField(db_index=True)
    end_date = models.DateField(null=True, blank=True)
    reported_to_police = models.BooleanField(default=True)

    class Meta:
        ordering = ["-start_date"]
        constraints = [
            _row_key_unique("missing_row_key_once"),
            _ends_after_start("missing_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"Missing from {self.start_date:%d %b %Y}"


class ActivityKind(models.TextChoices):
    SPORT = "sport", "Sport or exercise"
    YOUTH_CLUB = "youth_club", "Youth club or group"
    ARTS = "arts", "Arts, music or drama"
    VOLUNTEERING = "volunteering", "Volunteering"
    WORK = "work", "Work, training or apprenticeship"
    FAITH = "faith", "Faith or community group"
    OTHER = "other", "Other"


class ProsocialActivity(AdministrativeRecord):
    young_person = models.ForeignKey(
        YoungPerson, on_delete=models.CASCADE, related_name="prosocial_activities"
    )
    kind = models.CharField("Type", max_length=20, choices=ActivityKind.choices)
    hours_per_week = models.DecimalField(max_digits=4, decimal_places=1)
    start_date = models.DateField(db_index=True)
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-start_date"]
        verbose_name_plural = "pro-social activities"
        constraints = [
            _row_key_unique("prosocial_row_key_once"),
            _ends_after_start("prosocial_ends_after_start"),
            models.CheckConstraint(
                condition=Q(hours_per_week__gt=0) & Q(hours_per_week__lte=60),
                name="prosocial_hours_sensible",
                violation_error_message="Enter between 0.5 and 60 hours a week.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.start_date:%d %b %Y}"

    def clean(self) -> None:
        if self.hours_per_week is not None and self.hours_per_week <= 0:
            raise ValidationError({"hours_per_week": "Enter the hours a week, more than 0."})
