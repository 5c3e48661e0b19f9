"""Pages for analysis runs: start one on the pseudonymised export, read, download, publish."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from mstoutcomes.accounts.decorators import current_user, perm_required
from mstoutcomes.accounts.models import Site
from mstoutcomes.accounts.permissions import Perm, site_ids_with_perm, user_has_perm
from mstoutcomes.analysis import execution, selectors, services
from mstoutcomes.analysis.models import AnalysisRun, RunStatus
from mstoutcomes.core.pdf import pdf_response

DOWNLOADS = {"json": "application/json", "html": "text/html; charset=utf-8"}
POLL_SECONDS = 2
MAX_ID = 2**31 - 1  # larger numbers cannot name a row


def _may_view(request: HttpRequest) -> bool:
    return user_has_perm(request.user, Perm.EXPORT_DATA) or user_has_perm(
        request.user, Perm.VIEW_DASHBOARDS
    )


@perm_required(None)
def run_list(request: HttpRequest) -> HttpResponse:
    """List the analysis runs the user may see; analysts may start one."""
    if not _may_view(request):
        raise PermissionDenied("You do not have access to this page.")
    sites = Site.objects.filter(pk__in=site_ids_with_perm(request.user, Perm.EXPORT_DATA))
    runs = list(selectors.run_list_visible_to(user=request.user)[:100])
    by = current_user(request)
    # A run whose worker stopped shows as failed here too, not "running" for ever.
    runs = [
        run if run.is_finished else services.analysis_run_fail_stalled(run=run, by=by)
        for run in runs
    ]
    context = {
        "runs": runs,
        "sites": sites,
        "nav": "analysis",
    }
    return render(request, "analysis/list.html", context)


@require_POST
@perm_required(Perm.EXPORT_DATA)
def run_start(request: HttpRequest) -> HttpResponse:
    """Queue a run that freezes and analyses the pseudonymised records of a site."""
    site_id = request.POST.get("site", "").strip()
    if not (site_id.isascii() and site_id.isdigit()) or not 0 < int(site_id) <= MAX_ID:
        messages.error(request, "Choose the site whose records to analyse.")
        return redirect("analysis:list")
    site = get_object_or_404(Site, pk=int(site_id))
    run = services.analysis_run_start(by=current_user(request), site=site, request=request)
    messages.success(request, _queued_message(run))
    return redirect("analysis:detail", pk=run.pk)


def _queued_message(run: AnalysisRun) -> str:
    if run.status == RunStatus.COMPLETED:
        return "The analysis has run."
    if run.status == RunStatus.FAILED:
        return "The analysis could not run: see the reason below."
    return "The analysis is queued. This page shows its progress."


@perm_required(None)
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a run's provenance, tables and charts."""
    run = selectors.run_get_visible(user=request.user, pk=pk)
    run = services.analysis_run_fail_stalled(run=run, by=current_user(request), request=request)
    context = {
        "run": run,
        "is_analyst": user_has_perm(request.user, Perm.EXPORT_DATA, site=run.site_id),
        "table_names": sorted(run.tables),
        # The stored report is a standalone page; the results page shows its body.
        "report_body": execution.report_body(run.report_html),
        "identical": selectors.repeat_identical(run),
        "poll_seconds": POLL_SECONDS,
        "nav": "analysis",
    }
    return render(request, "analysis/detail.html", context)


@perm_required(None)
def run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """Return a run's progress bar (htmx polls it until the run finishes)."""
    run = selectors.run_progress_visible(user=request.user, pk=pk)
    run = services.analysis_run_fail_stalled(run=run, by=current_user(request), request=request)
    response = render(
        request, "analysis/_progress.html", {"run": run, "poll_seconds": POLL_SECONDS}
    )
    if run.is_finished and request.htmx:  # type: ignore[attr-defined]
        response["HX-Refresh"] = "true"  # reload the page once, to show the results
    return response


@perm_required(None)
def run_download(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """Download a run's results as JSON, one CSV table, or the HTML or PDF report."""
    run = selectors.run_get_visible(user=request.user, pk=pk)
    if run.status != RunStatus.COMPLETED:
        raise Http404("This run has no results to download.")
    if fmt == "pdf":
        if not run.report_pdf:
            raise Http404("This run has no PDF report.")
        services.analysis_run_download(by=current_user(request), run=run, fmt=fmt, request=request)
        return pdf_response(bytes(run.report_pdf), f"analysis-{run.pk}-report.pdf")
    if fmt == "json":
        body, name = json.dumps(run.results, indent=2, sort_keys=True), "results.json"
    elif fmt == "html":
        body, name = run.report_html, "report.html"
    elif fmt in run.tables:
        body, name = run.tables[fmt], f"{fmt}.csv"
    else:
        raise Http404("No such download.")
    services.analysis_run_download(by=current_user(request), run=run, fmt=fmt, request=request)
    response = HttpResponse(body, content_type=DOWNLOADS.get(fmt, "text/csv; charset=utf-8"))
    response["Content-Disposition"] = f'attachment; filename="analysis-{run.pk}-{name}"'
    return response


@require_POST
@perm_required(Perm.EXPORT_DATA)
def run_publish(request: HttpRequest, pk: int) -> HttpResponse:
    """Publish a run to the steering group."""
    run = selectors.run_get_visible(user=request.user, pk=pk)
    services.analysis_run_publish(by=current_user(request), run=run, request=request)
    messages.success(request, "The run is published to the steering group.")
    return redirect("analysis:detail", pk=run.pk)


@require_POST
@perm_required(Perm.EXPORT_DATA)
def run_repeat(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue a new run on a run's frozen dataset."""
    run = selectors.run_get_visible(user=request.user, pk=pk)
    again = services.analysis_run_repeat(by=current_user(request), run=run, request=request)
    messages.success(request, _queued_message(again))
    return redirect("analysis:detail", pk=again.pk)
