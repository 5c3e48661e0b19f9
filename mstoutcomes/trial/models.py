"""Trials, participants, consent, withdrawals and allocations."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from mstoutcomes.accounts.models import Site, User
from mstoutcomes.cases.models import YoungPerson
from mstoutcomes.cases.scoping import site_wide_site_ids
from mstoutcomes.core.dates import today
from mstoutcomes.core.models import TimeStampedModel
from mstoutcomes.core.scoping import ScopedManager, ScopedQuerySet
from mstoutcomes.trial.config import TrialSpec, parse_trial_config


def future_date_errors(instance: models.Model, messages: dict[str, str]) -> dict[str, str]:
    """Return {field: message} for each named date field dated after today."""
    now = today()
    return {
        name: message
        for name, message in messages.items()
        if getattr(instance, name) is not None and getattr(instance, name) > now
    }


class Method(models.TextChoices):
    BLOCKS = "blocks", "Stratified permuted blocks"
    MINIMISATION = "minimisation", "Minimisation (Pocock–Simon)"


class Trial(TimeStampedModel):
    """A trial's configuration (versioned) and its allocation list identity."""

    code = models.CharField(max_length=40, unique=True)
    title = models.CharField(max_length=300)
    registration = models.CharField(max_length=100, blank=True)
    method = models.CharField(max_length=20, choices=Method.choices)
    config = models.JSONField(help_text="The validated configuration, as loaded.")
    config_version = models.PositiveIntegerField(default=1)
    is_test_mode = models.BooleanField(
        default=False, help_text="Test allocations are kept apart and never analysed."
    )
    # Names the allocation sequence; with the allocation key it determines every slot.
    list_id = models.CharField(max_length=64, editable=False)
    sites = models.ManyToManyField(Site, related_name="trials", blank=True)
    low_list_warning = models.PositiveIntegerField(
        default=10, help_text="Warn when a stratum has fewer unused slots than this."
    )
    # Database lock: while set, the trial's data are read-only (see trial.protocol's lock rule).
    locked_at = models.DateTimeField(null=True, blank=True)
    locked_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code}{' (test mode)' if self.is_test_mode else ''}"

    @property
    def spec(self) -> TrialSpec:
        return parse_trial_config(self.config)

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None


class Participant(TimeStampedModel):
    """A young person assessed for a trial, from screening to analysis."""

    SCOPE_PATH = "young_person"

    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="participants")
    young_person = models.ForeignKey(
        YoungPerson, on_delete=models.PROTECT, related_name="trial_participations"
    )
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="trial_participants")
    levels = models.JSONField(default=dict, help_text="Stratification factor levels.")
    enrolled_on = models.DateField(
        "Date assessed for eligibility",
        default=timezone.localdate,
        help_text="When the young person entered screening (CONSORT's cut-off counts from this).",
    )
    eligibility_confirmed_on = models.DateField(null=True, blank=True)
    eligibility_confirmed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    is_eligible = models.BooleanField(null=True, blank=True)
    eligibility_notes = models.TextField(blank=True)

    objects = ScopedManager()
    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["trial", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["trial", "young_person"],
                name="participant_once_per_trial",
                violation_error_message="This young person is already in this trial.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.young_person.study_id} in {self.trial.code}"

    def clean(self) -> None:
        errors = future_date_errors(
            self,
            {
                "enrolled_on": "A young person cannot be enrolled in the future.",
                "eligibility_confirmed_on": (
                    "Eligibility cannot be confirmed on a date in the future."
                ),
            },
        )
        if errors:
            raise ValidationError(errors)


class ConsentKind(models.TextChoices):
    CARER_CONSENT = "carer_consent", "Carer consent to take part"
    YOUNG_PERSON_ASSENT = "young_person_assent", "Young person's assent"
    DATA_LINKAGE = "data_linkage", "Consent to data linkage"


def consent_form_path(instance: ConsentFormVersion, filename: str) -> str:
    """Store each form under its trial and kind; the storage keeps names unique."""
    from django.utils.text import slugify

    trial = slugify(instance.trial.code) or "trial"
    return f"consent-forms/{trial}/{instance.kind}/{slugify(instance.version) or 'form'}.pdf"


class ConsentFormVersion(TimeStampedModel):
    """One approved version of a consent, assent or data-linkage consent form, with its file.

    A new version of a kind becomes the current one and supersedes the last; consent is taken
    only on the current version. Versions migrated from the free-text ``form_version`` of
    consents recorded before forms were managed have no file. Not scoped: a form is about no
    one (``form.consents`` therefore refuses to run: use a scoped consent query).
    """

    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="consent_forms")
    kind = models.CharField(max_length=30, choices=ConsentKind.choices)
    version = models.CharField(max_length=40, help_text="As printed on the form, e.g. v2.1.")
    approved_on = models.DateField("Date approved")
    approved_by = models.CharField(
        "Approved by", max_length=200, help_text="The ethics committee or the person who approved."
    )
    file = models.FileField(upload_to=consent_form_path, max_length=300, blank=True)
    is_current = models.BooleanField(default=True)
    superseded_on = models.DateField(null=True, blank=True)
    uploaded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["trial", "kind", "-approved_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["trial", "kind", "version"],
                name="consent_form_version_unique",
                violation_error_message="This trial already has that version of that form.",
            ),
            models.UniqueConstraint(
                fields=["trial", "kind"],
                condition=Q(is_current=True),
                name="consent_form_one_current",
                violation_error_message="Only one version of a form can be current.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.version}"

    def clean(self) -> None:
        errors = future_date_errors(
            self, {"approved_on": "A form cannot be approved on a date in the future."}
        )
        if errors:
            raise ValidationError(errors)


class ConsentRecord(TimeStampedModel):
    """One consent or assent, on a versioned form, taken by a named person on a date.

    ``form`` is the managed form version it was taken on; ``form_version`` keeps the version's
    text (copied from ``form``, or as typed before forms were managed) so old rows still read.
    Scoped like every table about young people: read with ``.visible_to(user)``, through a
    participant you hold (``participant.consents``), or ``.unscoped()`` in services.
    """

    SCOPE_PATH = "participant__young_person"

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="consents")
    kind = models.CharField(max_length=30, choices=ConsentKind.choices)
    form = models.ForeignKey(
        ConsentFormVersion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consents",
    )
    form_version = models.CharField(max_length=40)
    given = models.BooleanField()
    recorded_on = models.DateField()
    taken_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    notes = models.TextField(blank=True)

    objects = ScopedManager()
    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["participant", "kind", "-recorded_on"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {'given' if self.given else 'declined'}"

    def clean(self) -> None:
        errors = future_date_errors(
            self, {"recorded_on": "A consent cannot be dated in the future."}
        )
        if errors:
            raise ValidationError(errors)


class WithdrawalLevel(models.TextChoices):
    TREATMENT = "treatment", "From treatment only"
    FURTHER_DATA = "further_data", "From further data collection"
    DATA_USE = "data_use", "From use of data already collected"


class Withdrawal(TimeStampedModel):
    """A participant's withdrawal, by level; the schedule and analysis respect it.

    Scoped like every table about young people (see ConsentRecord).
    """

    SCOPE_PATH = "participant__young_person"

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="withdrawals"
    )
    level = models.CharField(max_length=20, choices=WithdrawalLevel.choices)
    withdrawn_on = models.DateField()
    reason = models.TextField(blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    objects = ScopedManager()
    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["participant", "withdrawn_on"]

    def __str__(self) -> str:
        return f"Withdrawn {self.get_level_display().lower()} on {self.withdrawn_on}"

    def clean(self) -> None:
        errors = future_date_errors(
            self, {"withdrawn_on": "A withdrawal cannot be dated in the future."}
        )
        if errors:
            raise ValidationError(errors)


class StratumList(models.Model):
    """How much of a stratum's allocation sequence is available and used (arms are not stored).

    Not scoped: it counts slots of a sequence and names no one.
    """

    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="stratum_lists")
    stratum = models.CharField(max_length=300)
    length = models.PositiveIntegerField(help_text="Slots available in this stratum.")
    used = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["trial", "stratum"]
        constraints = [
            models.UniqueConstraint(fields=["trial", "stratum"], name="stratum_list_unique"),
            models.CheckConstraint(condition=Q(used__lte=models.F("length")), name="stratum_used"),
        ]

    def __str__(self) -> str:
        return f"{self.stratum}: {self.used}/{self.length}"

    @property
    def remaining(self) -> int:
        return self.length - self.used


class Allocation(models.Model):
    """A participant's randomised arm: written once, never changed or deleted.

    Scoped like every table about young people (see ConsentRecord): the arm is about a person.
    """

    SCOPE_PATH = "participant__young_person"

    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="allocations")
    participant = models.OneToOneField(
        Participant, on_delete=models.PROTECT, related_name="allocation"
    )
    arm = models.CharField(max_length=40)
    method = models.CharField(max_length=20, choices=Method.choices)
    stratum = models.CharField(max_length=300, help_text="'*' for minimisation (one sequence).")
    sequence = models.PositiveIntegerField()
    details = models.JSONField(default=dict, help_text="What minimisation weighed, for audit.")
    is_test = models.BooleanField(default=False)
    allocated_at = models.DateTimeField()
    allocated_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    objects = ScopedManager()

    class Meta:
        ordering = ["trial", "allocated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["trial", "stratum", "sequence"], name="allocation_slot_used_once"
            ),
        ]
        indexes = [models.Index(fields=["trial", "arm"], name="allocation_arm")]

    def __str__(self) -> str:
        return f"Allocation {self.sequence} in {self.trial.code}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise ValidationError("An allocation cannot be changed once made.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object):  # type: ignore[override]
        raise ValidationError("An allocation cannot be deleted.")


class DeviationCategory(models.TextChoices):
    ELIGIBILITY = "eligibility", "Eligibility"
    CONSENT = "consent", "Consent"
    RANDOMISATION = "randomisation", "Randomisation"
    INTERVENTION = "intervention", "Intervention delivery"
    ASSESSMENT_WINDOW = "assessment_window", "Assessment outside window"
    DATA = "data", "Data or confidentiality"
    OTHER = "other", "Other"


class DeviationSeverity(models.TextChoices):
    MINOR = "minor", "Minor"
    MAJOR = "major", "Major"
    SERIOUS_BREACH = "serious_breach", "Serious breach"


class DeviationQuerySet(ScopedQuerySet):
    """Deviations scoped to a user, including those about no one participant."""

    def _visibility(self, user: object) -> Q:
        # About a participant: as visible as the young person. About no one (a site-wide
        # departure): visible to the staff who see every young person at the deviation's site.
        return super()._visibility(user) | Q(
            participant__isnull=True, site_id__in=sorted(site_wide_site_ids(user))
        )


class DeviationManager(ScopedManager.from_queryset(DeviationQuerySet)):  # type: ignore[misc]
    """Default manager of protocol deviations: scoped, see DeviationQuerySet."""


class ProtocolDeviation(TimeStampedModel):
    """A departure from the trial protocol: what happened, how bad, and what was done about it.

    Scoped like every table about young people, with one addition for rows with no participant
    (a departure not about one person, such as a site's randomisation done late for everyone):
    ``.visible_to(user)`` returns a deviation about a participant when the user may see that
    young person, and one about no participant when the user sees every young person at the
    deviation's site (site staff; not a referrer, who sees only their agency's young people).
    Selectors narrow this further by permission (``deviations_visible_to`` keeps the sites
    where the user may see the deviation log); services use ``.unscoped()``.
    """

    SCOPE_PATH = "participant__young_person"

    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="deviations")
    participant = models.ForeignKey(
        Participant,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deviations",
        help_text="Leave empty when the deviation is not about one participant.",
    )
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="trial_deviations")
    occurred_on = models.DateField("Date it happened")
    identified_on = models.DateField("Date it was identified")
    category = models.CharField(max_length=30, choices=DeviationCategory.choices)
    severity = models.CharField(max_length=20, choices=DeviationSeverity.choices)
    description = models.TextField("What happened")
    corrective_action = models.TextField("Corrective and preventive action", blank=True)
    reported_to_sponsor_on = models.DateField("Date reported to the sponsor", null=True, blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    objects = DeviationManager()
    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["-identified_on", "-pk"]
        indexes = [
            models.Index(fields=["trial", "identified_on"], name="deviation_trial_identified"),
            models.Index(fields=["trial", "category"], name="deviation_trial_category"),
            models.Index(fields=["trial", "severity"], name="deviation_trial_severity"),
        ]

    def __str__(self) -> str:
        return f"{self.get_severity_display()} {self.get_category_display().lower()} deviation"

    def clean(self) -> None:
        errors = future_date_errors(
            self,
            {
                "occurred_on": "The date it happened cannot be in the future.",
                "identified_on": "The date it was identified cannot be in the future.",
                "reported_to_sponsor_on": (
                    "The date reported to the sponsor cannot be in the future."
                ),
            },
        )
        if (
            "identified_on" not in errors
            and self.occurred_on
            and self.identified_on
            and self.identified_on < self.occurred_on
        ):
            errors["identified_on"] = "A deviation cannot be identified before it happened."
        reported = self.reported_to_sponsor_on
        if reported and self.identified_on and reported < self.identified_on and not errors:
            errors["reported_to_sponsor_on"] = (
                "A deviation cannot be reported to the sponsor before it was identified."
            )
        if self.participant_id is not None and self.trial_id is not None:
            participant = self.participant
            if participant is not None and participant.trial_id != self.trial_id:
                errors["participant"] = "This participant is in another trial."
            elif participant is not None and self.site_id and participant.site_id != self.site_id:
                errors["participant"] = "This participant is at another site."
        if errors:
            raise ValidationError(errors)


class LockEventKind(models.TextChoices):
    LOCKED = "locked", "Database locked"
    UNLOCK_REQUESTED = "unlock_requested", "Unlock requested"
    UNLOCKED = "unlocked", "Database unlocked"


class TrialLockEvent(models.Model):
    """One step in the history of a trial's database lock: locked, unlock asked, unlocked.

    Not scoped: it is about the trial and the people who locked it, not about young people.

    Unlocking takes two people: one asks (``UNLOCK_REQUESTED``, with a reason) and another
    approves (``UNLOCKED``, pointing at the request it approved).
    """

    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="lock_events")
    kind = models.CharField(max_length=20, choices=LockEventKind.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(blank=True)
    request = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="approval",
        help_text="For an unlock: the request it approved.",
    )

    class Meta:
        ordering = ["trial", "-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.trial.code})"


class EmergencyUnblinding(TimeStampedModel):
    """A participant's arm told to a named person in an emergency: who, by whom, when and why."""

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="emergency_unblindings"
    )
    unblinded_person = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The person who now knows the arm; their later assessments are flagged.",
    )
    unblinded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    unblinded_at = models.DateTimeField(default=timezone.now)
    reason = models.TextField()

    objects = ScopedManager()
    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    SCOPE_PATH = "participant__young_person"

    class Meta:
        ordering = ["participant", "unblinded_at"]
        indexes = [models.Index(fields=["participant", "unblinded_at"], name="unblinding_when")]

    def __str__(self) -> str:
        return f"Emergency unblinding of {self.participant} on {self.unblinded_at:%Y-%m-%d}"


# The guess is one of the trial's arm codes or this.
DONT_KNOW = "dont_know"


class GuessConfidence(models.TextChoices):
    NOT_SURE = "not_sure", "Not sure"
    FAIRLY = "fairly", "Fairly sure"
    VERY = "very", "Very sure"


class BlindingGuess(TimeStampedModel):
    """An outcome assessor's guess of a participant's arm at a follow-up."""

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="blinding_guesses"
    )
    timepoint = models.CharField(max_length=40, help_text="The follow-up, such as t6.")
    assessor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    guess = models.CharField(max_length=40, help_text="An arm code of the trial, or dont_know.")
    confidence = models.CharField(max_length=20, choices=GuessConfidence.choices, blank=True)
    recorded_on = models.DateField()

    objects = ScopedManager()
    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    SCOPE_PATH = "participant__young_person"

    class Meta:
        ordering = ["participant", "timepoint"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "timepoint"],
                name="blinding_guess_once_per_follow_up",
                violation_error_message="A guess is already recorded for this follow-up.",
            )
        ]

    def __str__(self) -> str:
        return f"Assessor's guess for {self.participant} at {self.timepoint}"

    def clean(self) -> None:
        errors = future_date_errors(
            self, {"recorded_on": "A guess cannot be recorded in the future."}
        )
        if errors:
            raise ValidationError(errors)
