"""Data-quality query pages: the list, one query (answer, close, reopen), raising one by hand."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from mstoutcomes.accounts.decorators import current_user, perm_required
from mstoutcomes.accounts.permissions import Perm, site_ids_with_perm, user_has_perm
from mstoutcomes.cases.models import YoungPerson
from mstoutcomes.quality import access, selectors, services
from mstoutcomes.quality.forms import (
    AnswerForm,
    CloseForm,
    QueryFilterForm,
    QueryOpenForm,
    ReopenForm,
)
from mstoutcomes.quality.models import LIVE_STATES, QueryState
from mstoutcomes.quality.rules import rule_title


@perm_required(Perm.VIEW_QUERIES)
def query_list(request: HttpRequest) -> HttpResponse:
    """The queries the user may see, filtered by state, rule and site, with counts per site."""
    user = request.user
    form = QueryFilterForm(
        request.GET or None,
        sites=selectors.query_sites(user=user),
        rules=selectors.rule_choices(user=user),
    )
    data = form.cleaned_data if form.is_valid() else {}
    filters = selectors.QueryFilter(
        state=data.get("state", ""), rule=data.get("rule", ""), site_id=data.get("site")
    )
    params = request.GET.copy()
    params.pop("page", None)
    found = selectors.queries_visible_to(user=user, filters=filters)
    return render(
        request,
        "quality/list.html",
        {
            "form": form,
            "page": Paginator(found, settings.PAGE_SIZE).get_page(request.GET.get("page")),
            "querystring": params.urlencode(),
            "filtered": any(v not in ("", None) for v in data.values()),
            "counts": selectors.open_query_counts(user=user),
            "may_open": bool(site_ids_with_perm(user, Perm.MANAGE_QUERIES)),
            "nav": "quality",
        },
    )


def _answer(request: HttpRequest, query, form) -> None:  # type: ignore[no-untyped-def]
    services.query_answer(
        by=current_user(request), query=query, answer=form.cleaned_data["answer"], request=request
    )


def _close(request: HttpRequest, query, form) -> None:  # type: ignore[no-untyped-def]
    services.query_close(
        by=current_user(request), query=query, note=form.cleaned_data["note"], request=request
    )


def _reopen(request: HttpRequest, query, form) -> None:  # type: ignore[no-untyped-def]
    services.query_reopen(
        by=current_user(request), query=query, reason=form.cleaned_data["reason"], request=request
    )


ACTIONS = {
    "answer": (AnswerForm, _answer, "Answer saved."),
    "close": (CloseForm, _close, "Query closed."),
    "reopen": (ReopenForm, _reopen, "Query reopened."),
}


def _show_errors(form: Any, error: ValidationError, **renamed: str) -> None:
    """Show a service's refusal against the field it names, or above the form."""
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    for field, errors in error.error_dict.items():
        target = renamed.get(field, field)
        for item in errors:
            form.add_error(target if target in form.fields else None, item)


@perm_required(Perm.VIEW_QUERIES)
def query_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One query: what was found, its history, and the forms to answer, close or reopen it."""
    query = get_object_or_404(selectors.queries_visible_to(user=request.user), pk=pk)
    forms = {name: form_class(prefix=name) for name, (form_class, _, _) in ACTIONS.items()}
    action = request.POST.get("action", "")
    if request.method == "POST":
        if action not in ACTIONS:
            return redirect("quality:detail", pk=pk)
        form_class, act, done = ACTIONS[action]
        form = forms[action] = form_class(request.POST, prefix=action)
        if form.is_valid():
            try:
                act(request, query, form)
            except ValidationError as error:
                _show_errors(form, error)
            else:
                messages.success(request, done)
                return redirect("quality:detail", pk=pk)
    may_manage = access.may_manage(request.user, query)
    blinded = not user_has_perm(request.user, Perm.VIEW_TREATMENT, site=query.site_id)
    return render(
        request,
        "quality/detail.html",
        {
            "query": query,
            "rule_title": rule_title(query.rule),
            "timeline": selectors.query_timeline(query, blinded=blinded),
            "forms": forms,
            "posted": forms.get(action),
            "may_answer": query.state == QueryState.OPEN and access.may_answer(request.user, query),
            "may_close": may_manage and query.state in LIVE_STATES,
            "may_reopen": may_manage and query.state not in LIVE_STATES,
            "nav": "quality",
        },
        status=400 if request.method == "POST" else 200,
    )


@perm_required(Perm.MANAGE_QUERIES)
def query_new(request: HttpRequest) -> HttpResponse:
    """Raise a query by hand (trial managers): about a young person, or about a site."""
    user = current_user(request)
    sites = [
        s
        for s in selectors.query_sites(user=user)
        if user_has_perm(user, Perm.MANAGE_QUERIES, site=s)
    ]
    form = QueryOpenForm(request.POST or None, sites=sites, roles=services.assignable_roles())
    if request.method == "POST":
        form.is_valid()
        data = form.cleaned_data
        person = None
        if data.get("study_id"):
            person = (
                YoungPerson.objects.visible_to(user)
                .filter(study_id=data["study_id"].strip().upper())
                .first()
            )
            if person is None:
                form.add_error("study_id", "No young person you can see has this study ID.")
        if not form.errors:
            site = next(s for s in sites if s.pk == data["site"])
            try:
                query = services.query_open(
                    by=user,
                    site=site,
                    young_person=person,
                    message=data["message"],
                    assigned_role=data["assigned_role"],
                    reveals_arm=data["reveals_arm"],
                    request=request,
                )
            except ValidationError as error:
                _show_errors(form, error, young_person="study_id")
            except PermissionDenied as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, "Query opened.")
                return redirect("quality:detail", pk=query.pk)
    return render(
        request,
        "quality/new.html",
        {"form": form, "nav": "quality"},
        status=400 if form.errors else 200,
    )


def trial_panel(request: HttpRequest, trial: Any) -> str:
    """Render the trial dashboard's "Open queries per site" panel ("" when there is none)."""
    from django.template.loader import render_to_string

    user = request.user
    if not user_has_perm(user, Perm.VIEW_QUERIES):
        return ""
    counts = selectors.open_query_counts(user=user, trial=trial)
    if not counts:
        return ""
    context = {
        "show": True,
        "counts": counts,
        "total": sum(c.live for c in counts),
        "caption": "Open queries per site",
    }
    return render_to_string("quality/_trial_summary.html", context, request=request)
