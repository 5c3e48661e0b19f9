"""The costs report for programme managers and the steering group, its downloads and edits."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from mstoutcomes.accounts.decorators import current_user, perm_required
from mstoutcomes.accounts.models import Site
from mstoutcomes.accounts.permissions import Perm, user_has_perm
from mstoutcomes.accounts.services import audit_record
from mstoutcomes.costs import services
from mstoutcomes.costs.forms import (
    CostSettingsForm,
    ProgrammeRunningCostForm,
    ProgrammeStaffForm,
    UnitCostForm,
)
from mstoutcomes.costs.models import CostSettings, UnitCost
from mstoutcomes.costs.report import CostReport, build_report
from mstoutcomes.costs.sections import page_for
from mstoutcomes.costs.selectors import sites_for_costs, unit_costs_for


def _site(request: HttpRequest, code: str) -> Site:
    site = sites_for_costs(user=request.user).filter(code=code).first()
    if site is None:
        raise Http404("No costs for that site.")
    return site


def _report(request: HttpRequest, code: str) -> tuple[Site, CostReport | None]:
    site = _site(request, code)
    return site, build_report(user=current_user(request), site=site)


@perm_required(Perm.VIEW_DASHBOARDS)
def index(request: HttpRequest) -> HttpResponse:
    sites = list(sites_for_costs(user=request.user))
    if len(sites) == 1:
        return redirect("costs:report", site_code=sites[0].code)
    return render(request, "costs/index.html", {"sites": sites, "nav": "costs"})


@perm_required(Perm.VIEW_DASHBOARDS)
def report(request: HttpRequest, site_code: str) -> HttpResponse:
    site, built = _report(request, site_code)
    context: dict[str, Any] = {
        "site": site,
        "report": built,
        "page": page_for(built) if built is not None else None,
        "can_manage": user_has_perm(request.user, Perm.MANAGE_COSTS, site=site),
        "unit_costs": unit_costs_for(user=request.user, site=site) if built is not None else [],
        "nav": "costs",
    }
    return render(request, "costs/report.html", context)


def _export(request: HttpRequest, site: Site, built: CostReport, what: str) -> None:
    audit_record(
        actor=current_user(request),
        action="costs.report.exported",
        site=site,
        object_label=f"Cost report {site.code}",
        data={"format": what, "price_year": built.price_year, "seed": built.seed},
        request=request,
    )


@perm_required(Perm.VIEW_DASHBOARDS)
def download_csv(request: HttpRequest, site_code: str, table: str) -> HttpResponse:
    site, built = _report(request, site_code)
    tables = built.tables() if built is not None else {}
    if built is None or table not in tables:
        raise Http404("No such table.")
    _export(request, site, built, f"csv:{table}")
    response = HttpResponse(tables[table].to_csv(index=False), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="costs-{site.code}-{table}.csv"'
    return response


@perm_required(Perm.VIEW_DASHBOARDS)
def download_excel(request: HttpRequest, site_code: str) -> HttpResponse:
    site, built = _report(request, site_code)
    if built is None:
        raise Http404("No cost report yet.")
    _export(request, site, built, "xlsx")
    buffer = io.BytesIO()
    about = pd.DataFrame(
        {
            "item": ["Site", "Price year", "Index", "Index source", "As of", "Seed"],
            "value": [
                site.code,
                built.price_year,
                built.index_name,
                built.index_source,
                built.as_of.isoformat(),
                str(built.seed),
            ],
        }
    )
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        about.to_excel(writer, sheet_name="about", index=False)
        for name, frame in built.tables().items():
            frame.to_excel(writer, sheet_name=name[:31], index=False)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="costs-{site.code}.xlsx"'
    return response


def _form_page(
    request: HttpRequest, form: Any, *, title: str, site: Site, save: Any
) -> HttpResponse:
    if request.method == "POST" and form.is_valid():
        try:
            save(form.cleaned_data)
        except ValidationError as error:
            form.apply_service_errors(error)
        else:
            return redirect("costs:report", site_code=site.code)
    back = reverse("costs:report", args=[site.code])
    context = {"form": form, "title": title, "site": site, "back": back, "nav": "costs"}
    return render(request, "costs/form.html", context, status=400 if form.errors else 200)


def _managed_site(request: HttpRequest, code: str) -> Site:
    site = get_object_or_404(Site, code=code)
    if not user_has_perm(request.user, Perm.MANAGE_COSTS, site=site):
        raise PermissionDenied("You cannot change this site's costs.")
    return site


@perm_required(Perm.MANAGE_COSTS)
def unit_cost_edit(request: HttpRequest, site_code: str, pk: int) -> HttpResponse:
    site = _managed_site(request, site_code)
    unit_cost = get_object_or_404(UnitCost, pk=pk, site=site)
    form = UnitCostForm(request.POST or None, instance=unit_cost)
    return _form_page(
        request,
        form,
        title=f"Change unit cost: {unit_cost.label}",
        site=site,
        save=lambda data: services.unit_cost_update(
            by=current_user(request), unit_cost=unit_cost, fields=data, request=request
        ),
    )


@perm_required(Perm.MANAGE_COSTS)
def settings_edit(request: HttpRequest, site_code: str) -> HttpResponse:
    site = _managed_site(request, site_code)
    settings = get_object_or_404(CostSettings, site=site)
    form = CostSettingsForm(request.POST or None, instance=settings)
    return _form_page(
        request,
        form,
        title="Change cost settings",
        site=site,
        save=lambda data: services.cost_settings_update(
            by=current_user(request), site=site, fields=data, request=request
        ),
    )


@perm_required(Perm.MANAGE_COSTS)
def staff_add(request: HttpRequest, site_code: str) -> HttpResponse:
    site = _managed_site(request, site_code)
    form = ProgrammeStaffForm(request.POST or None)
    return _form_page(
        request,
        form,
        title="Add a post to the MST team",
        site=site,
        save=lambda data: services.programme_staff_add(by=current_user(request), site=site, **data),
    )


@perm_required(Perm.MANAGE_COSTS)
def running_cost_add(request: HttpRequest, site_code: str) -> HttpResponse:
    site = _managed_site(request, site_code)
    form = ProgrammeRunningCostForm(request.POST or None)
    return _form_page(
        request,
        form,
        title="Add a running cost of the MST team",
        site=site,
        save=lambda data: services.programme_running_cost_add(
            by=current_user(request), site=site, **data
        ),
    )
