"""Queue, repeat, fail-when-stalled and publish analysis runs; every step is audited.

A page queues a run (``analysis_run_start`` / ``analysis_run_repeat``) and a background task
(``analysis.tasks.analysis_run_task``, run by ``mstoutcomes db_worker``) executes it with
``analysis.execution.analysis_run_execute``: freeze the pseudonymised export, fit the plan, write
the reports. Inside analysis the imports point one way (import-linter's "analysis-runs"
contract): views > services > selectors > tasks > execution.
"""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from mstoutcomes.accounts.models import Site, User
from mstoutcomes.accounts.permissions import Perm, user_has_perm
from mstoutcomes.accounts.services import audit_record
from mstoutcomes.analysis import selectors
from mstoutcomes.analysis.models import UNFINISHED, AnalysisRun, RunStatus
from mstoutcomes.analysis.runner import code_version
from mstoutcomes.analysis.tasks import analysis_run_task
from mstoutcomes.core.services import require
from mstoutcomes.trial.blinding import ArmView, arm_view_at


def _enqueue(run: AnalysisRun) -> AnalysisRun:
    # Enqueued inside the caller's transaction: with the database queue the task row commits
    # with the run, so a run is never left queued without a task (nor a task without its run).
    result = analysis_run_task.enqueue(run.pk)
    AnalysisRun.objects.filter(pk=run.pk).update(task_id=str(result.id))
    run.refresh_from_db()
    return run


def analysis_run_start(
    *,
    by: User,
    site: Site,
    plan_text: str | None = None,
    request: HttpRequest | None = None,
) -> AnalysisRun:
    """Queue a run that freezes a pseudonymised export of the site's records and analyses it.

    Without a plan, the task uses the default plan for what the records hold (the trial
    analyses for a site in a trial, otherwise the service evaluation).
    """
    require(user_has_perm(by, Perm.EXPORT_DATA, site=site), "You cannot analyse this site's data.")
    with transaction.atomic():
        view = arm_view_at(by, site)
        run = AnalysisRun.objects.create(
            site=site,
            title=f"Analysis of {site.name}",
            plan_toml=plan_text or "",
            code_version=code_version(),
            created_by=by,
            arms="" if view is None else "named" if view is ArmView.NAMED else "coded",
        )
        audit_record(actor=by, action="analysis.run.queued", obj=run, site=site, request=request)
        return _enqueue(run)


def analysis_run_repeat(
    *, by: User, run: AnalysisRun, request: HttpRequest | None = None
) -> AnalysisRun:
    """Queue a new run on a run's frozen dataset; it must give identical numbers."""
    require(
        user_has_perm(by, Perm.EXPORT_DATA, site=run.site_id),
        "You cannot analyse this site's data.",
    )
    # A run that failed before it froze its data (its worker stopped, say) is run again from
    # the live records with the same plan; any other run repeats on its frozen dataset.
    require(
        bool(run.snapshot) or run.status == RunStatus.FAILED,
        "This run has no frozen dataset to repeat.",
    )
    with transaction.atomic():
        again = AnalysisRun.objects.create(
            site_id=run.site_id,
            title=run.title,
            plan_toml=run.plan_toml,
            dataset_sha256=run.dataset_sha256 if run.snapshot else "",
            trial_locked_at=run.trial_locked_at if run.snapshot else None,
            snapshot=run.snapshot,
            code_version=code_version(),
            seed=run.seed if run.snapshot else None,
            created_by=by,
            rerun_of=run,
            arms=run.arms,
        )
        audit_record(
            actor=by,
            action="analysis.run.queued",
            obj=again,
            site=run.site,
            data={"rerun_of": run.pk, "dataset_sha256": run.dataset_sha256},
            request=request,
        )
        return _enqueue(again)


def analysis_run_fail_stalled(
    *, run: AnalysisRun, by: User | None, request: HttpRequest | None = None
) -> AnalysisRun:
    """Mark an unfinished run failed when its worker has stopped (``selectors.run_stall_reason``).

    The decision is final: a worker that was only slow finds the run failed and keeps nothing,
    so a run never changes from failed to completed. The user can run it again.
    """
    reason = selectors.run_stall_reason(run)
    if not reason:
        return run
    with transaction.atomic():
        stopped = AnalysisRun.objects.filter(pk=run.pk, status__in=UNFINISHED).update(
            status=RunStatus.FAILED,
            error=f"The analysis stopped without finishing: {reason}. Nothing was kept from it; "
            "run it again.",
            completed_at=timezone.now(),
            progress_label="Stopped",
            results=None,
            tables={},
            report_html="",
            report_pdf=None,
        )
        if stopped:
            audit_record(
                actor=by,
                action="analysis.run.stalled",
                obj=run,
                site=run.site,
                data={"reason": reason, "status": run.status, "task_id": run.task_id},
                request=request,
            )
    run.refresh_from_db(fields=["status", "error", "completed_at", "progress_label"])
    return run


def analysis_run_publish(
    *, by: User, run: AnalysisRun, request: HttpRequest | None = None
) -> AnalysisRun:
    """Publish a completed run to the steering group."""
    require(user_has_perm(by, Perm.EXPORT_DATA, site=run.site_id), "You cannot publish this run.")
    require(run.status == RunStatus.COMPLETED, "Only a completed run can be published.")
    with transaction.atomic():
        run.published = True
        run.published_by = by
        run.published_at = timezone.now()
        run.save(update_fields=["published", "published_by", "published_at"])
        audit_record(
            actor=by, action="analysis.run.published", obj=run, site=run.site, request=request
        )
    return run


def analysis_run_download(
    *, by: User, run: AnalysisRun, fmt: str, request: HttpRequest | None = None
) -> None:
    """Record that a run's results left the service."""
    audit_record(
        actor=by,
        action="analysis.run.downloaded",
        obj=run,
        site=run.site,
        data={"format": fmt},
        request=request,
    )
