"""Data-quality queries: a problem found in the data, put to a role, answered and closed."""

from __future__ import annotations

from django.db import models
from simple_history.models import HistoricalRecords

from mstoutcomes.accounts.models import Role, Site, User
from mstoutcomes.cases.models import YoungPerson
from mstoutcomes.core.models import TimeStampedModel
from mstoutcomes.core.scoping import ScopedManager
from mstoutcomes.trial.models import Trial

MANUAL_RULE = "manual"


class QueryState(models.TextChoices):
    OPEN = "open", "Open"
    ANSWERED = "answered", "Answered"
    CLOSED = "closed", "Closed"
    RESOLVED = "resolved", "Closed automatically: resolved in the data"


# A query in one of these states still needs someone to act on it (and holds the database lock).
LIVE_STATES = (QueryState.OPEN, QueryState.ANSWERED)


class Query(TimeStampedModel):
    """One data-quality query about a young person (or a site), opened by a rule or a person."""

    SCOPE_PATH = "young_person"

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="quality_queries")
    young_person = models.ForeignKey(
        YoungPerson,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="quality_queries",
    )
    trial = models.ForeignKey(
        Trial, on_delete=models.PROTECT, null=True, blank=True, related_name="quality_queries"
    )
    rule = models.CharField(max_length=60, help_text="The rule's code, or 'manual'.")
    # A stable fingerprint of the problem: a rule never opens a second query for the same one.
    key = models.CharField(max_length=200, unique=True, editable=False)
    message = models.TextField()
    # Queries about treatment could reveal the arm: only users who see treatment see them.
    reveals_arm = models.BooleanField(default=False)
    state = models.CharField(max_length=20, choices=QueryState.choices, default=QueryState.OPEN)
    assigned_role = models.CharField(max_length=30, choices=Role.choices)
    opened_at = models.DateTimeField()
    opened_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answer = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    close_note = models.TextField(blank=True)

    objects = ScopedManager()
    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["-opened_at", "-pk"]
        verbose_name_plural = "queries"
        indexes = [
            models.Index(fields=["site", "state"], name="query_site_state"),
            models.Index(fields=["trial", "state"], name="query_trial_state"),
            models.Index(fields=["rule", "state"], name="query_rule_state"),
            models.Index(fields=["opened_at"], name="query_opened_at"),
        ]

    def __str__(self) -> str:
        return f"Query {self.pk or 'new'} ({self.rule})"

    @property
    def is_live(self) -> bool:
        return self.state in LIVE_STATES

    @property
    def opened_by_rule(self) -> bool:
        return self.rule != MANUAL_RULE
