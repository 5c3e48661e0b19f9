"""Sites, agencies, people who sign in, their memberships and the audit trail."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from simple_history.models import HistoricalRecords

from mstoutcomes.core.models import TimeStampedModel


class Site(TimeStampedModel):
    """An MST team serving a locality; the unit that owns young people's records."""

    code = models.CharField(
        max_length=6,
        unique=True,
        validators=[RegexValidator(r"^[A-Z]{2,6}$", "Use 2 to 6 capital letters, such as TRF.")],
        help_text="Short code used in study IDs, such as TRF.",
    )
    name = models.CharField(max_length=200)
    locality = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    # The next study number to hand out; incremented under a row lock (cases.services).
    next_study_number = models.PositiveIntegerField(default=1, editable=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AgencyKind(models.TextChoices):
    HEALTH = "health", "CAMHS / health"
    SOCIAL_CARE = "social_care", "Children's social care"
    EDUCATION = "education", "Education"
    YOUTH_JUSTICE = "youth_justice", "Youth offending service"
    POLICE = "police", "Police"
    VOLUNTARY = "voluntary", "Voluntary sector"
    OTHER = "other", "Other"


class Agency(TimeStampedModel):
    """An organisation that refers young people or works with them (a YOS, a school, CAMHS)."""

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=AgencyKind.choices)
    locality = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "agencies"

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person who signs in. What they may do comes from their memberships."""

    job_title = models.CharField(max_length=200, blank=True)

    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    class Meta:
        ordering = ["first_name", "last_name", "username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class Role(models.TextChoices):
    THERAPIST = "therapist", "MST therapist"
    SUPERVISOR = "supervisor", "MST supervisor"
    PROGRAMME_MANAGER = "programme_manager", "Programme manager"
    REFERRER = "referrer", "Referrer (agency worker)"
    RESEARCH_WORKER = "research_worker", "Research worker"
    TRIAL_MANAGER = "trial_manager", "Trial manager"
    STATISTICIAN = "statistician", "Statistician / researcher"
    UNBLINDED_STATISTICIAN = "unblinded_statistician", "Unblinded trial statistician"
    DMC_MEMBER = "dmc_member", "Data monitoring committee member"
    STEERING_GROUP = "steering_group", "Steering group member"
    ADMINISTRATOR = "administrator", "Administrator"


class Membership(TimeStampedModel):
    """A user's role at a site, and for agency workers the agency they work for."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="memberships")
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="memberships", null=True, blank=True
    )
    role = models.CharField(max_length=30, choices=Role.choices)
    is_active = models.BooleanField(default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["site__name", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "site", "role"], name="membership_one_role_per_site"
            ),
            models.CheckConstraint(
                condition=~models.Q(role="referrer") | models.Q(agency__isnull=False),
                name="membership_referrer_has_agency",
                violation_error_message="A referrer's membership must name their agency.",
            ),
        ]

    def __str__(self) -> str:
        agency = f", {self.agency}" if self.agency_id else ""
        return f"{self.user} — {self.get_role_display()} at {self.site}{agency}"


class AuditEvent(models.Model):
    """One thing someone did or saw: a link in a hash chain so that tampering can be detected."""

    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_events"
    )
    actor_label = models.CharField(max_length=200, help_text="Who acted, kept if the user goes.")
    action = models.CharField(max_length=100, db_index=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_label = models.CharField(max_length=200, blank=True)
    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_events"
    )
    changes = models.JSONField(default=dict, blank=True)
    data = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"


class AuditChainHead(models.Model):
    """The last hash of the audit chain, locked while an event is appended so links never fork."""

    last_hash = models.CharField(max_length=64)
    length = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"Audit chain of {self.length} events"
