"""Reads of analysis runs, scoped by the user: statisticians see their sites' runs, the steering
group only published ones."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from mstoutcomes.accounts.permissions import Perm, site_ids_with_perm
from mstoutcomes.analysis.models import AnalysisRun


def run_list_visible_to(*, user: Any) -> QuerySet[AnalysisRun]:
    """Return the runs the user may see."""
    analyst_sites = site_ids_with_perm(user, Perm.EXPORT_DATA)
    viewer_sites = site_ids_with_perm(user, Perm.VIEW_DASHBOARDS)
    return (
        AnalysisRun.objects.filter(
            Q(site_id__in=analyst_sites) | Q(site_id__in=viewer_sites, published=True)
        )
        .select_related("site", "created_by")
        .defer("snapshot", "report_html", "tables", "results")
    )


def run_get_visible(*, user: Any, pk: int) -> AnalysisRun:
    """Return one run the user may see, or raise 404."""
    analyst_sites = site_ids_with_perm(user, Perm.EXPORT_DATA)
    viewer_sites = site_ids_with_perm(user, Perm.VIEW_DASHBOARDS)
    run = (
        AnalysisRun.objects.filter(
            Q(site_id__in=analyst_sites) | Q(site_id__in=viewer_sites, published=True), pk=pk
        )
        .select_related("site", "created_by")
        .first()
    )
    if run is None:
        raise Http404("No such analysis run.")
    return run
