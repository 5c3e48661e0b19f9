"""Analysis runs: what was analysed, with which code and seed, and what came out."""

from __future__ import annotations

from django.db import models

from mstoutcomes.accounts.models import Site, User


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Waiting to start"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Finished"
    FAILED = "failed", "Failed"


FINISHED = (RunStatus.COMPLETED, RunStatus.FAILED)
UNFINISHED = (RunStatus.QUEUED, RunStatus.RUNNING)


class AnalysisRun(models.Model):
    """One run of an analysis plan on a frozen, pseudonymised dataset.

    The dataset itself is kept (``snapshot``: the four contract files as text), so a run can be
    repeated later on exactly the data it read, and ``dataset_sha256`` proves it is the same data.
    A run is queued by the page and executed by a background task (``analysis.tasks``), which
    freezes the export (if the run has no snapshot yet), fits the plan and writes the reports,
    recording progress as it goes.
    """

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="analysis_runs")
    title = models.CharField(max_length=200)
    plan_toml = models.TextField(blank=True)  # empty until the task chooses the default plan
    dataset_sha256 = models.CharField(max_length=64, db_index=True, blank=True)
    # When the trial's database was locked, if it was when the data were frozen (None: not locked).
    trial_locked_at = models.DateTimeField(null=True, blank=True)
    snapshot = models.JSONField(default=dict)
    code_version = models.CharField(max_length=300)
    seed = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED)
    task_id = models.CharField(max_length=64, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    progress_label = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    results = models.JSONField(null=True, blank=True)
    tables = models.JSONField(default=dict)  # CSV text by table name
    report_html = models.TextField(blank=True)
    report_pdf = models.BinaryField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="analysis_runs")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    rerun_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reruns"
    )
    # How the run shows a trial's arms: "" (no trial at the site), "named" (by arm: the DMC's
    # closed report) or "coded" (Arm A / Arm B, started by a statistician blind to allocation).
    arms = models.CharField(max_length=10, blank=True, default="")
    published = models.BooleanField(default=False, db_index=True)
    published_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Analysis run {self.pk}: {self.title}"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def progress_percent(self) -> int:
        if self.status == RunStatus.COMPLETED:
            return 100
        if not self.progress_total:
            return 0
        return min(100, round(100 * self.progress_done / self.progress_total))
