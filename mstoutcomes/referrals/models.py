"""Referrals, their history, panel meetings, therapists' capacity and notifications to referrers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Self

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from mstoutcomes.accounts.models import Agency, Site, User
from mstoutcomes.cases.models import Episode, Sex, YoungPerson
from mstoutcomes.core.models import TimeStampedModel
from mstoutcomes.core.scoping import ScopedManager, ScopedQuerySet
from mstoutcomes.referrals import codes
from mstoutcomes.referrals.facts import ReferralFacts
from mstoutcomes.referrals.workflow import LABELS, State


class ReferralQuerySet(ScopedQuerySet):
    """Referrals are scoped by their own rule (referrals.scoping), not through a young person."""

    def visible_to(self, user: User) -> Self:  # type: ignore[override]
        from mstoutcomes.referrals.scoping import referral_q

        clone = self.filter(referral_q(user))
        clone._scoped = True
        return clone

    def _reached_through_scoped_parent(self) -> bool:
        return False


class ReferralManager(ScopedManager.from_queryset(ReferralQuerySet)):  # type: ignore[misc]
    pass


class DecisionReason(models.TextChoices):
    NOT_ELIGIBLE = "not_eligible", "Does not meet the eligibility criteria"
    NEEDS_MET_ELSEWHERE = "needs_met_elsewhere", "Needs better met by another service"
    BELOW_THRESHOLD = "below_threshold", "Difficulties not severe enough for MST"
    FAMILY_DECLINED = "family_declined", "Family did not want MST"
    NO_CONSENT = "no_consent", "No consent to share information"
    OUT_OF_AREA = "out_of_area", "Lives outside the service's area"
    OTHER = "other", "Other reason"


class PanelMeeting(TimeStampedModel):
    """A multi-agency referral panel: when it met and who came from which agency."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="panel_meetings")
    held_on = models.DateField(db_index=True)
    agencies_present = models.ManyToManyField(Agency, blank=True, related_name="panel_meetings")
    attendees = models.TextField(blank=True, help_text="One attendee per line: name and role.")
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-held_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "held_on"],
                name="panel_one_per_site_day",
                violation_error_message="This site already has a panel on that date.",
            )
        ]

    def __str__(self) -> str:
        return f"Panel on {self.held_on.day} {self.held_on:%B %Y}"


class Referral(TimeStampedModel):
    """One referral of a young person to MST, from draft to its decision and start."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="referrals")
    state = models.CharField(
        max_length=20, choices=[(s.value, LABELS[s]) for s in State], default=State.DRAFT
    )
    referring_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="referrals_made"
    )
    referrer = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="referrals_made", null=True, blank=True
    )
    referrer_name = models.CharField("Referring worker", max_length=200, blank=True)
    referrer_role = models.CharField("Worker's role", max_length=200, blank=True)
    referrer_email = models.EmailField("Worker's email", blank=True)
    referrer_phone = models.CharField("Worker's phone", max_length=30, blank=True)

    # The young person as the referrer described them; linked to a record when the service takes
    # the family on (or when screening finds them already known).
    given_name = models.CharField("First name", max_length=100, blank=True)
    family_name = models.CharField("Last name", max_length=100, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    sex = models.CharField(max_length=20, choices=Sex.choices, blank=True)
    postcode_district = models.CharField("Postcode district", max_length=4, blank=True)
    school = models.CharField("School or education setting", max_length=200, blank=True)
    young_person = models.ForeignKey(
        YoungPerson, on_delete=models.PROTECT, related_name="referrals", null=True, blank=True
    )
    possible_duplicates = models.JSONField(default=list, blank=True)
    carers = models.JSONField(default=list, blank=True)

    behaviours = models.JSONField(default=list, blank=True)
    behaviour_details = models.TextField("What is happening", blank=True)
    risks = models.JSONField(default=list, blank=True)
    statuses = models.JSONField(default=list, blank=True)
    exclusions = models.JSONField(default=list, blank=True)
    offences_12m = models.PositiveSmallIntegerField(null=True, blank=True)
    offences_18m = models.PositiveSmallIntegerField(null=True, blank=True)
    fixed_term_exclusions = models.PositiveSmallIntegerField(null=True, blank=True)
    previous_placements = models.PositiveSmallIntegerField(null=True, blank=True)
    agencies_involved = models.ManyToManyField(Agency, blank=True, related_name="+")

    consent_referral = models.BooleanField("Carer consents to the referral", null=True, blank=True)
    consent_share = models.BooleanField(
        "Carer consents to sharing information", null=True, blank=True
    )
    assent = models.BooleanField("Young person agrees", null=True, blank=True)
    consent_override_reason = models.TextField(blank=True)
    consent_override_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    referred_on = models.DateField("Date referred", null=True, blank=True, db_index=True)
    eligible = models.BooleanField(null=True, blank=True)
    eligibility = models.JSONField(default=dict, blank=True)
    complexity_score = models.FloatField(null=True, blank=True)
    complexity_band = models.CharField(
        max_length=10, choices=list(codes.BANDS.items()), blank=True, db_index=True
    )
    complexity = models.JSONField(default=dict, blank=True)
    rules_version = models.CharField(max_length=20, blank=True)

    urgent = models.BooleanField(default=False)
    panel = models.ForeignKey(
        PanelMeeting, on_delete=models.PROTECT, related_name="referrals", null=True, blank=True
    )
    decision_reason = models.CharField(max_length=30, choices=DecisionReason.choices, blank=True)
    decision_notes = models.TextField(blank=True)
    decided_on = models.DateField(null=True, blank=True, db_index=True)
    waiting_since = models.DateField(null=True, blank=True)
    episode = models.OneToOneField(
        Episode, on_delete=models.PROTECT, related_name="referral", null=True, blank=True
    )
    allocation_override_reason = models.TextField(blank=True)

    objects = ReferralManager()

    class Meta:
        ordering = ["-referred_on", "-pk"]
        indexes = [models.Index(fields=["site", "state"], name="referral_site_state")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="allocated") | Q(episode__isnull=False),
                name="referral_allocated_has_episode",
                violation_error_message="A referral that has started MST needs its episode.",
            )
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"REF-{self.pk:05d}" if self.pk else "New referral"

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()

    @property
    def state_label(self) -> str:
        return LABELS[State(self.state)]

    @property
    def consent_cleared(self) -> bool:
        """Whether the referral may go to panel: consent to share, or a recorded override."""
        return bool(self.consent_share) or bool(self.consent_override_reason)

    def facts(self) -> ReferralFacts:
        from mstoutcomes.core.dates import today

        return ReferralFacts(
            date_of_birth=self.date_of_birth,
            referred_on=self.referred_on or today(),
            behaviours=frozenset(self.behaviours),
            risks=frozenset(self.risks),
            statuses=frozenset(self.statuses),
            exclusions=frozenset(self.exclusions),
            counts={name: getattr(self, name) or 0 for name in codes.HISTORY_COUNTS},
        )

    def labels(self, kind: str) -> list[str]:
        table: dict[str, dict[str, str]] = {
            "behaviours": codes.BEHAVIOURS,
            "risks": codes.RISKS,
            "statuses": codes.STATUSES,
            "exclusions": codes.EXCLUSIONS,
        }
        values: list[Any] = getattr(self, kind)
        return [table[kind].get(code, code) for code in values]


class ReferralTransition(models.Model):
    """One change of a referral's state: the workflow's history."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_state or 'new'} → {self.to_state}"

    @property
    def to_label(self) -> str:
        return LABELS[State(self.to_state)]


class TherapistCapacity(TimeStampedModel):
    """A therapist's working time and caseload cap at a site."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="therapist_capacities")
    therapist = models.ForeignKey(User, on_delete=models.PROTECT, related_name="capacities")
    fte = models.DecimalField(
        "Full-time equivalent",
        max_digits=3,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(Decimal("1.0"))],
    )
    caseload_cap = models.PositiveSmallIntegerField(
        "Caseload cap (families at full time)",
        default=5,
        validators=[MinValueValidator(4), MaxValueValidator(6)],
    )

    class Meta:
        ordering = ["therapist__first_name"]
        verbose_name_plural = "therapist capacities"
        constraints = [
            models.UniqueConstraint(fields=["site", "therapist"], name="capacity_one_per_site")
        ]

    def __str__(self) -> str:
        return f"{self.therapist}: {self.fte} FTE, cap {self.caseload_cap}"


class Notification(models.Model):
    """A message to a user in the service (also sent by email when they have an address)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    referral = models.ForeignKey(
        Referral, on_delete=models.CASCADE, related_name="notifications", null=True
    )
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.message[:60]
