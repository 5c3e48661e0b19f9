"""Reads of analysis runs, scoped by the user: statisticians see their sites' runs, the steering
group only published ones."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from mstoutcomes.accounts.permissions import Perm, site_ids_with_perm
from mstoutcomes.analysis.models import UNFINISHED, AnalysisRun, RunStatus
from mstoutcomes.analysis.tasks import analysis_run_task
from mstoutcomes.trial.blinding import ArmView, arm_view_sites


def _arms_q(user: Any, site_ids: set[int]) -> Q:
    """Runs by named arm only for those who may see arms named; coded ones also for the blind
    statistician; people who see trial figures pooled get no trial run (trial.blinding)."""
    views = arm_view_sites(user, site_ids)
    named, coded = views[ArmView.NAMED], views[ArmView.CODED]
    return (
        Q(arms="") | Q(arms="named", site_id__in=named) | Q(arms="coded", site_id__in=named | coded)
    )


def run_list_visible_to(*, user: Any) -> QuerySet[AnalysisRun]:
    """Return the runs the user may see."""
    analyst_sites = site_ids_with_perm(user, Perm.EXPORT_DATA)
    viewer_sites = site_ids_with_perm(user, Perm.VIEW_DASHBOARDS)
    return (
        AnalysisRun.objects.filter(
            Q(site_id__in=analyst_sites) | Q(site_id__in=viewer_sites, published=True)
        )
        .filter(_arms_q(user, analyst_sites | viewer_sites))
        .select_related("site", "created_by")
        .defer("snapshot", "report_html", "report_pdf", "tables", "results")
    )


def _visible(user: Any) -> QuerySet[AnalysisRun]:
    analyst_sites = site_ids_with_perm(user, Perm.EXPORT_DATA)
    viewer_sites = site_ids_with_perm(user, Perm.VIEW_DASHBOARDS)
    return (
        AnalysisRun.objects.filter(
            Q(site_id__in=analyst_sites) | Q(site_id__in=viewer_sites, published=True)
        )
        .filter(_arms_q(user, analyst_sites | viewer_sites))
        .select_related("site", "created_by")
    )


def run_get_visible(*, user: Any, pk: int) -> AnalysisRun:
    """Return one run the user may see (its PDF loaded only when asked for), or raise 404."""
    run = _visible(user).filter(pk=pk).defer("report_pdf").first()
    if run is None:
        raise Http404("No such analysis run.")
    return run


def run_progress_visible(*, user: Any, pk: int) -> AnalysisRun:
    """Return one run's status and progress (no data or results), or raise 404."""
    run = (
        _visible(user)
        .filter(pk=pk)
        .defer("snapshot", "report_html", "report_pdf", "tables", "results", "plan_toml")
        .first()
    )
    if run is None:
        raise Http404("No such analysis run.")
    return run


def repeat_identical(run: AnalysisRun) -> bool | None:
    """Whether a finished repeat gave the same numbers as the run it repeats (None: not known)."""
    if run.rerun_of_id is None or run.status != RunStatus.COMPLETED:
        return None
    original = AnalysisRun.objects.filter(pk=run.rerun_of_id).values("status", "results").first()
    if original is None or original["status"] != RunStatus.COMPLETED:
        return None
    return bool(original["results"] == run.results)


def run_stall_reason(run: AnalysisRun, *, now: dt.datetime | None = None) -> str:
    """Return why an unfinished run will never finish, or "" if it may still (or did) finish.

    A run is stalled when its background task failed, finished without finishing the run, or is
    missing from the queue; or when it has been running longer than
    ``ANALYSIS_RUN_STALE_MINUTES`` (a worker that died mid-run leaves its task "running").
    """
    if run.status not in UNFINISHED:
        return ""
    from django_tasks.base import TaskResultStatus
    from django_tasks.exceptions import TaskResultDoesNotExist

    if analysis_run_task.get_backend().supports_get_result:
        try:
            status = analysis_run_task.get_result(run.task_id).status if run.task_id else None
        except TaskResultDoesNotExist:
            status = None
        if status is None:
            return "its background task is missing from the queue"
        if status == TaskResultStatus.FAILED:
            return "its background task failed"
        if status == TaskResultStatus.SUCCESSFUL:
            return "its background task ended without finishing it"
    limit = settings.ANALYSIS_RUN_STALE_MINUTES
    now = now or timezone.now()
    if (
        run.status == RunStatus.RUNNING
        and run.started_at is not None
        and now - run.started_at > dt.timedelta(minutes=limit)
    ):
        return f"it has been running for more than {limit} minutes, so its worker has stopped"
    return ""
