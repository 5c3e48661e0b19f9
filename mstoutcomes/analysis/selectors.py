"""Reads of analysis runs, scoped by the user: statisticians see their sites' runs, the steering
group only published ones."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from mstoutcomes.accounts.permissions import Perm, site_ids_with_perm
from mstoutcomes.analysis.models import AnalysisRun, RunStatus


def run_list_visible_to(*, user: Any) -> QuerySet[AnalysisRun]:
    """Return the runs the user may see."""
    analyst_sites = site_ids_with_perm(user, Perm.EXPORT_DATA)
    viewer_sites = site_ids_with_perm(user, Perm.VIEW_DASHBOARDS)
    return (
        AnalysisRun.objects.filter(
            Q(site_id__in=analyst_sites) | Q(site_id__in=viewer_sites, published=True)
        )
        .select_related("site", "created_by")
        .defer("snapshot", "report_html", "report_pdf", "tables", "results")
    )


def _visible(user: Any) -> QuerySet[AnalysisRun]:
    analyst_sites = site_ids_with_perm(user, Perm.EXPORT_DATA)
    viewer_sites = site_ids_with_perm(user, Perm.VIEW_DASHBOARDS)
    return AnalysisRun.objects.filter(
        Q(site_id__in=analyst_sites) | Q(site_id__in=viewer_sites, published=True)
    ).select_related("site", "created_by")


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
