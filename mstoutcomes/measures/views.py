"""Pages for entering measures, a young person's schedule and progress, and worklists."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from mstoutcomes.accounts.decorators import perm_required
from mstoutcomes.accounts.models import Role
from mstoutcomes.accounts.permissions import Perm, grants_for, user_has_perm
from mstoutcomes.cases.selectors import young_person_get_visible
from mstoutcomes.core.dates import today
from mstoutcomes.measures import blinding, registry, selectors, services
from mstoutcomes.measures.forms import AssessmentForm, NotDoneForm, RespondentForm
from mstoutcomes.measures.progress import progress_for_person


def _person_for_entry(request: HttpRequest, study_id: str):  # type: ignore[no-untyped-def]
    person = young_person_get_visible(user=request.user, study_id=study_id)
    if not user_has_perm(request.user, Perm.ENTER_MEASURES, site=person.site_id):
        raise PermissionDenied("You can see this record but not enter measures for it.")
    return person


# The same answer, whatever the arm, to a blinded user asking for a treatment page.
NOT_FOUND = "Page not found."


def _hide_treatment_from_blinded(request: HttpRequest, person, instrument: str, respondent: str):  # type: ignore[no-untyped-def]
    if services.is_blinded(request.user, person) and not blinding.blinded_may_enter(
        instrument, respondent
    ):
        raise Http404(NOT_FOUND)


def _entry_choices(context: services.EntryContext | None, blinded: bool) -> list[Any]:
    """Return (code, definition, respondent) a user may enter unscheduled for a young person."""
    return [
        (code, definition, respondent)
        for code, definition in registry.instruments().items()
        for respondent in definition.respondents
        if (not blinded or blinding.blinded_may_enter(code, respondent))
        and (context is None or services.may_enter_instrument(context, code, respondent))
    ]


@perm_required(Perm.VIEW_YOUNG_PEOPLE)
def person_measures(request: HttpRequest, study_id: str) -> HttpResponse:
    """Show a young person's schedule, assessments, timeline and charts of each scale."""
    person = young_person_get_visible(user=request.user, study_id=study_id)
    progress = progress_for_person(user=request.user, person=person, today=today())
    blinded = not user_has_perm(request.user, Perm.VIEW_TREATMENT, site=person.site_id)
    if blinded:
        progress = blinding.blind_progress(progress)
    can_enter = user_has_perm(request.user, Perm.ENTER_MEASURES, site=person.site_id)
    # Only the timepoints this user may record against get "Enter" and "Not done" links.
    entry = services.entry_context(request.user, person) if can_enter else None
    context = {
        "entry_keys": {t.key for t in entry.entry_tasks} if entry else set(),
        "entry_choices": _entry_choices(entry, blinded),
        "person": person,
        "identifiable": user_has_perm(request.user, Perm.VIEW_IDENTIFIABLE, site=person.site_id),
        "can_enter": can_enter,
        "instruments": registry.instruments(),
        "nav": "caseload",
        **progress,
    }
    return render(request, "measures/person.html", context)


@perm_required(Perm.ENTER_MEASURES)
def assessment_enter(
    request: HttpRequest, study_id: str, instrument: str, respondent: str
) -> HttpResponse:
    """Enter one instrument from the paper form: item by item, or the scored totals."""
    person = _person_for_entry(request, study_id)
    definition = registry.instruments().get(instrument)
    if definition is None or respondent not in definition.respondents:
        raise Http404(NOT_FOUND)
    _hide_treatment_from_blinded(request, person, instrument, respondent)
    by_scores = request.GET.get("entry") == "scores" or not definition.item_entry
    entry = services.entry_context(request.user, person)
    form = AssessmentForm(
        request.POST or None,
        instrument=definition,
        respondent=respondent,
        tasks=entry.entry_tasks,
        by_scores=by_scores,
    )
    # A trial outcome measure for a non-assessor: say so plainly instead of offering a form
    # (a POST still goes to the service, which refuses and audits the attempt).
    refusal = services.assessor_only_refusal(entry, definition.code, respondent)
    if refusal is not None and request.method != "POST":
        context = {
            "refusal": refusal,
            "person": person,
            "instrument": definition,
            "cancel_url": reverse("measures:person", args=[person.study_id]),
            "nav": "caseload",
        }
        return render(request, "measures/enter.html", context, status=403)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.assessment_record(
                by=request.user,
                young_person=person,
                instrument=definition.code,
                respondent=respondent,
                request=request,
                **form.service_arguments(),
            )
        except ValidationError as error:
            form.apply_service_errors(error)
        else:
            return redirect("measures:assessment", study_id=person.study_id, pk=saved.pk)
    context = {
        "form": form,
        "person": person,
        "instrument": definition,
        "respondent": respondent,
        "by_scores": by_scores,
        "cancel_url": reverse("measures:person", args=[person.study_id]),
        "nav": "caseload",
    }
    return render(request, "measures/enter.html", context, status=400 if form.errors else 200)


@perm_required(Perm.ENTER_MEASURES)
def assessment_not_done(
    request: HttpRequest,
    study_id: str,
    schedule: str,
    timepoint: str,
    instrument: str,
    respondent: str,
) -> HttpResponse:
    """Record that a scheduled instrument was missed or refused."""
    person = _person_for_entry(request, study_id)
    if registry.instruments().get(instrument) is None:
        raise Http404(NOT_FOUND)
    _hide_treatment_from_blinded(request, person, instrument, respondent)
    if services.is_blinded(request.user, person) and blinding.is_treatment_schedule(schedule):
        raise Http404(NOT_FOUND)
    form = NotDoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.assessment_mark_not_done(
                by=request.user,
                young_person=person,
                schedule=schedule,
                timepoint=timepoint,
                instrument=instrument,
                respondent=respondent,
                request=request,
                status=form.cleaned_data["status"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            form.apply_service_errors(error)
        else:
            return redirect("measures:person", study_id=person.study_id)
    context = {
        "form": form,
        "person": person,
        "title": f"{registry.instrument(instrument).short_name} not completed",
        "cancel_url": reverse("measures:person", args=[person.study_id]),
        "nav": "caseload",
    }
    return render(request, "cases/form.html", context, status=400 if form.errors else 200)


@perm_required(Perm.VIEW_YOUNG_PEOPLE)
def assessment_detail(request: HttpRequest, study_id: str, pk: int) -> HttpResponse:
    """Show one assessment's answers and scores with their bands."""
    person = young_person_get_visible(user=request.user, study_id=study_id)
    assessment = selectors.assessment_get_visible(user=request.user, person=person, pk=pk)
    blinded = not user_has_perm(request.user, Perm.VIEW_TREATMENT, site=person.site_id)
    if blinded and not blinding.blind_assessments([assessment]):
        raise Http404(NOT_FOUND)
    definition = registry.instruments().get(assessment.instrument)
    context = {
        "person": person,
        "assessment": assessment,
        "window": selectors.assessment_window(assessment),
        "entered_by": selectors.entered_by_text(assessment, blinded=blinded),
        "instrument": definition,
        "scales": [
            (definition.scale(code) if definition else None, values)
            for code, values in assessment.scores.get("scales", {}).items()
        ],
        "nav": "caseload",
    }
    return render(request, "measures/assessment.html", context)


def _collector_for(request: HttpRequest) -> str:
    roles = {grant.role for grant in grants_for(request.user)}
    asked = request.GET.get("for")
    if asked in ("therapist", "research"):
        return asked
    return "therapist" if roles & {Role.THERAPIST} else "research"


@perm_required(Perm.ENTER_MEASURES)
def worklist(request: HttpRequest) -> HttpResponse:
    """List what is due this week and overdue: a therapist's caseload, or research work."""
    collected_by = _collector_for(request)
    rows = selectors.worklist(user=request.user, today=today(), collected_by=collected_by)
    sees_treatment = user_has_perm(request.user, Perm.VIEW_TREATMENT)
    if not sees_treatment:
        rows = blinding.blind_rows(rows)
    context = {
        "rows": rows,
        "sees_treatment": sees_treatment,
        "collected_by": collected_by,
        "instruments": registry.instruments(),
        "nav": "measures",
    }
    return render(request, "measures/worklist.html", context)


@perm_required(Perm.VIEW_YOUNG_PEOPLE)
def completeness(request: HttpRequest) -> HttpResponse:
    """Show, per site and timepoint, how many scheduled measures were completed."""
    from mstoutcomes.accounts.models import Site

    rows = selectors.completeness(user=request.user, today=today())
    if not user_has_perm(request.user, Perm.VIEW_TREATMENT):
        neutral = blinding.arm_neutral_schedules()
        rows = [r for r in rows if r.schedule in neutral]
    sites = dict(Site.objects.filter(pk__in={r.site_id for r in rows}).values_list("pk", "name"))
    context = {"rows": rows, "sites": sites, "schedules": registry.schedules(), "nav": "measures"}
    return render(request, "measures/completeness.html", context)


@perm_required(None)
def instrument_list(request: HttpRequest) -> HttpResponse:
    """List the instruments, their licences and how their scores are banded."""
    context = {"instruments": registry.instruments(), "nav": "measures"}
    return render(request, "measures/instruments.html", context)


@perm_required(Perm.ENTER_MEASURES)
def response_link_create(
    request: HttpRequest, study_id: str, instrument: str, respondent: str
) -> HttpResponse:
    """Make a single-use link for a respondent to complete an instrument online (POST)."""
    person = _person_for_entry(request, study_id)
    definition = registry.instruments().get(instrument)
    if definition is None:
        raise Http404(NOT_FOUND)
    _hide_treatment_from_blinded(request, person, instrument, respondent)
    context: dict[str, object] = {
        "person": person,
        "instrument": definition,
        "respondent": respondent,
        "nav": "caseload",
    }
    if request.method == "POST":
        try:
            link, token = services.response_link_create(
                by=request.user,
                young_person=person,
                instrument=instrument,
                respondent=respondent,
                request=request,
            )
        except ValidationError as error:
            context["error"] = " ".join(error.messages)
        else:
            context["link"] = link
            context["url"] = request.build_absolute_uri(reverse("measures:respond", args=[token]))
    return render(request, "measures/link.html", context)


def respond(request: HttpRequest, token: str) -> HttpResponse:
    """Let a respondent complete an instrument through a link, without signing in."""
    link = services.response_link_open(token)
    if link is None:
        return render(request, "measures/respond_gone.html", status=410)
    definition = registry.instrument(link.instrument)
    form = RespondentForm(request.POST or None, instrument=definition, respondent=link.respondent)
    if request.method == "POST" and form.is_valid():
        try:
            services.response_link_submit(token=token, responses=form.responses(), request=request)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return render(request, "measures/respond_done.html")
    context = {"form": form, "instrument": definition}
    return render(request, "measures/respond.html", context, status=400 if form.errors else 200)
