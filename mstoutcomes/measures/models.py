"""Completed, missed and refused assessments, and the scale scores they gave."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from mstoutcomes.accounts.models import User
from mstoutcomes.cases.models import Episode, YoungPerson
from mstoutcomes.core.dates import today
from mstoutcomes.core.models import TimeStampedModel
from mstoutcomes.core.scoping import ScopedManager
from mstoutcomes.measures.definitions import RESPONDENTS


class Respondent(models.TextChoices):
    YOUNG_PERSON = "young_person", RESPONDENTS["young_person"]
    PARENT = "parent", RESPONDENTS["parent"]
    TEACHER = "teacher", RESPONDENTS["teacher"]
    THERAPIST = "therapist", RESPONDENTS["therapist"]


class Mode(models.TextChoices):
    PAPER = "paper", "Paper form"
    PHONE = "phone", "Phone"
    FACE_TO_FACE = "face_to_face", "Face to face (read out)"
    ONLINE = "online", "Online"
    IMPORTED = "imported", "Imported from another system"


class AssessmentStatus(models.TextChoices):
    COMPLETED = "completed", "Completed"
    MISSED = "missed", "Missed"
    REFUSED = "refused", "Refused"


class Entry(models.TextChoices):
    ITEMS = "items", "Item responses"
    SCORES = "scores", "Scale scores from a scored form"
    NONE = "none", "Nothing (missed or refused)"


class Assessment(TimeStampedModel):
    """One instrument for one respondent: completed (with responses and scores), missed or refused.

    Scores are stored with the scoring version that produced them; the responses are kept so they
    can be rescored if a definition changes.
    """

    SCOPE_PATH = "young_person"

    young_person = models.ForeignKey(
        YoungPerson, on_delete=models.PROTECT, related_name="assessments"
    )
    episode = models.ForeignKey(
        Episode, on_delete=models.SET_NULL, null=True, blank=True, related_name="assessments"
    )
    instrument = models.CharField(max_length=40)
    instrument_version = models.CharField(max_length=40)
    scoring_version = models.CharField(max_length=40, blank=True)
    respondent = models.CharField(max_length=20, choices=Respondent.choices)
    respondent_name = models.CharField(
        "Who answered", max_length=100, blank=True, help_text="For example, mother or form tutor."
    )
    schedule = models.CharField(max_length=40, blank=True)
    timepoint = models.CharField(max_length=40, blank=True)
    status = models.CharField(
        max_length=20, choices=AssessmentStatus.choices, default=AssessmentStatus.COMPLETED
    )
    completed_on = models.DateField("Date completed", null=True, blank=True)
    mode = models.CharField(max_length=20, choices=Mode.choices, blank=True)
    entry = models.CharField(max_length=10, choices=Entry.choices, default=Entry.ITEMS)
    responses = models.JSONField(default=dict, blank=True)
    scores = models.JSONField(default=dict, blank=True)
    reason = models.TextField("Reason", blank=True)
    entered_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # A trial assessment entered outside its timepoint's window, kept with the reason given;
    # CONSORT, the analysis dataset and the data-quality queries count these apart.
    out_of_window = models.BooleanField(default=False)
    out_of_window_reason = models.TextField("Why it was collected outside the window", blank=True)

    objects = ScopedManager()
    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["-completed_on", "-pk"]
        indexes = [
            models.Index(fields=["young_person", "instrument"], name="assess_person_instr"),
            models.Index(fields=["schedule", "timepoint"], name="assess_timepoint"),
            models.Index(fields=["completed_on"], name="assess_completed_on"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="completed") | models.Q(completed_on__isnull=False),
                name="assessment_completed_has_date",
                violation_error_message="A completed assessment needs the date it was completed.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} ({self.get_respondent_display()})"

    def clean(self) -> None:
        if self.completed_on and self.completed_on > today():
            raise ValidationError({"completed_on": "The date completed cannot be in the future."})


class ScaleScore(models.Model):
    """One scale's score from an assessment, for charts and analysis without reading JSON."""

    SCOPE_PATH = "assessment__young_person"

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="scale_scores"
    )
    scale = models.CharField(max_length=40)
    value = models.DecimalField(max_digits=8, decimal_places=2, null=True)
    prorated = models.BooleanField(default=False)

    objects = ScopedManager()

    class Meta:
        ordering = ["assessment", "scale"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "scale"], name="scale_score_once"),
        ]

    def __str__(self) -> str:
        return f"{self.scale}: {self.value}"


class ResponseLink(TimeStampedModel):
    """A single-use, expiring link for a respondent to complete one instrument without an account.

    Only the SHA-256 of the token is stored; the link itself is shown once, to the member of
    staff who made it.
    """

    SCOPE_PATH = "young_person"

    young_person = models.ForeignKey(
        YoungPerson, on_delete=models.CASCADE, related_name="response_links"
    )
    instrument = models.CharField(max_length=40)
    respondent = models.CharField(max_length=20, choices=Respondent.choices)
    token_sha256 = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    assessment = models.OneToOneField(
        Assessment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    objects = ScopedManager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Link for {self.instrument} ({self.get_respondent_display()})"
