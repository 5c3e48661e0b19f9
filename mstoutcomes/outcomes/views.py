"""Pages for a young person's administrative records, entry by hand and imports."""

from __future__ import annotations

import csv
import io

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from mstoutcomes.accounts.decorators import perm_required
from mstoutcomes.accounts.permissions import Perm, user_has_perm
from mstoutcomes.accounts.selectors import sites_for
from mstoutcomes.cases.selectors import young_person_get_visible
from mstoutcomes.outcomes import importers, selectors, services
from mstoutcomes.outcomes.forms import ImportForm, record_form_class


@perm_required(Perm.VIEW_YOUNG_PEOPLE)
def person_records(request: HttpRequest, study_id: str) -> HttpResponse:
    """Show a young person's school, justice, placement and activity records."""
    person = young_person_get_visible(user=request.user, study_id=study_id)
    context = {
        "person": person,
        "sections": selectors.records_for_person(user=request.user, person=person),
        "can_edit": user_has_perm(request.user, Perm.EDIT_CASE, site=person.site_id),
        "nav": "caseload",
    }
    return render(request, "outcomes/person.html", context)


@perm_required(Perm.EDIT_CASE)
def record_edit(
    request: HttpRequest, study_id: str, kind: str, pk: int | None = None
) -> HttpResponse:
    """Enter an administrative record by hand, or correct one."""
    person = young_person_get_visible(user=request.user, study_id=study_id)
    if not user_has_perm(request.user, Perm.EDIT_CASE, site=person.site_id):
        raise PermissionDenied("You can see this record but not change it.")
    if kind not in selectors.KIND_MODELS:
        raise Http404("No such kind of record.")
    model = selectors.KIND_MODELS[kind]
    record = (
        selectors.record_get_visible(user=request.user, person=person, kind=kind, pk=pk)
        if pk
        else None
    )
    form = record_form_class(model)(request.POST or None, instance=record)
    back = reverse("outcomes:person", args=[person.study_id])
    if request.method == "POST" and form.is_valid():
        try:
            services.administrative_record_save(
                by=request.user,
                young_person=person,
                model=model,
                record=record,
                fields=form.cleaned_data,
                request=request,
            )
        except ValidationError as error:
            form.apply_service_errors(error)
        else:
            return redirect(back)
    context = {
        "form": form,
        "person": person,
        "title": selectors.LABELS[kind],
        "cancel_url": back,
        "nav": "caseload",
    }
    return render(request, "cases/form.html", context, status=400 if form.errors else 200)


@perm_required(Perm.IMPORT_DATA)
def import_file(request: HttpRequest) -> HttpResponse:
    """Check (dry run) or import a CSV or Excel file of administrative records."""
    sites = sites_for(request.user, Perm.IMPORT_DATA)
    form = ImportForm(request.POST or None, request.FILES or None, sites=sites)
    report = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        upload = data["file"]
        report = importers.import_records(
            by=request.user,
            kind=data["kind"],
            site=data["site"],
            stream=upload.file,
            file_name=upload.name,
            source_system=data["source_system"],
            extracted_on=data["extracted_on"],
            dry_run="import" not in request.POST,
            skip_unmatched=data["skip_unmatched"],
        )
    context = {"form": form, "report": report, "kinds": importers.KINDS, "nav": "imports"}
    return render(request, "outcomes/import.html", context, status=400 if form.errors else 200)


@perm_required(Perm.IMPORT_DATA)
def import_template(request: HttpRequest, kind: str, extension: str) -> HttpResponse:
    """Download a template for a kind: the header and one example row (CSV or Excel)."""
    if kind not in importers.KINDS or extension not in ("csv", "xlsx"):
        raise Http404("No such template.")
    rows = importers.template_rows(kind)
    if extension == "csv":
        buffer = io.StringIO()
        csv.writer(buffer).writerows(rows)
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    else:
        from openpyxl import Workbook

        book = Workbook()
        for row in rows:
            book.active.append(row)
        output = io.BytesIO()
        book.save(output)
        response = HttpResponse(
            output.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="{kind}-template.{extension}"'
    return response
