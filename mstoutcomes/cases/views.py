"""Pages for the caseload, a young person's record and the forms that change it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from mstoutcomes.accounts.decorators import perm_required
from mstoutcomes.accounts.permissions import Perm, site_ids_with_perm, user_has_perm
from mstoutcomes.accounts.selectors import sites_for, therapists_visible_to
from mstoutcomes.cases import selectors, services
from mstoutcomes.cases.forms import (
    AgencyInvolvementForm,
    CaseloadFilterForm,
    ContactForm,
    DesiredOutcomeForm,
    DischargeForm,
    EpisodeForm,
    FamilyMemberForm,
    IntermediateGoalForm,
    OverarchingGoalForm,
    ProfessionalMeetingForm,
    YoungPersonForm,
)
from mstoutcomes.cases.models import YoungPerson
from mstoutcomes.cases.protocol import Check, Refusal, refusal_for
from mstoutcomes.core.forms import ServiceForm


@perm_required(Perm.VIEW_YOUNG_PEOPLE)
def young_person_list(request: HttpRequest) -> HttpResponse:
    """List the young people the user may see, with search, filters, sort and pages."""
    therapists = therapists_visible_to(request.user)
    form = CaseloadFilterForm(request.GET or None, user=request.user, therapists=therapists)
    treatment_sites = site_ids_with_perm(request.user, Perm.VIEW_TREATMENT)
    query = form.to_query()
    if not treatment_sites:
        # Blinded users may not filter by treatment status or therapist: it would reveal arms.
        query = replace(query, status="", therapist_id=None)
    people = selectors.young_person_list_visible_to(user=request.user, query=query)
    page = Paginator(people, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "querystring": params.urlencode(),
        "ident_sites": selectors.identifiable_site_ids(request.user),
        "treatment_sites": treatment_sites,
        "can_add": user_has_perm(request.user, Perm.EDIT_CASE),
        "nav": "caseload",
    }
    partial = getattr(request, "htmx", False) and request.htmx.target == "caseload-results"
    return render(request, "cases/_results.html" if partial else "cases/list.html", context)


@perm_required(Perm.VIEW_YOUNG_PEOPLE)
def young_person_detail(request: HttpRequest, study_id: str) -> HttpResponse:
    """Show a young person's record; opening it is recorded in the audit trail."""
    person = selectors.young_person_get_visible(user=request.user, study_id=study_id)
    identifiable = user_has_perm(request.user, Perm.VIEW_IDENTIFIABLE, site=person.site_id)
    services.young_person_record_view(
        by=request.user, young_person=person, request=request, identifiable=identifiable
    )
    context = {
        "person": person,
        "identifiable": identifiable,
        "can_edit": user_has_perm(request.user, Perm.EDIT_CASE, site=person.site_id),
        "can_manage": user_has_perm(request.user, Perm.MANAGE_EPISODES, site=person.site_id),
        "can_view_treatment": user_has_perm(request.user, Perm.VIEW_TREATMENT, site=person.site_id),
        "treatment_refusal": _treatment_refusal(request, person),
        "audit_events": selectors.audit_events_for_young_person(user=request.user, person=person)[
            :100
        ],
        "nav": "caseload",
        **selectors.young_person_detail(person),
    }
    return render(request, "cases/detail.html", context)


def _form_page(
    request: HttpRequest,
    form: ServiceForm,
    *,
    title: str,
    person: YoungPerson | None,
    save: Callable[[dict[str, Any]], Any],
    back: str = "cases:detail",
) -> HttpResponse:
    """Render a form page; on a valid POST call the service and go back (to the record)."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(form.cleaned_data)
        except ValidationError as error:
            form.apply_service_errors(error)
        else:
            target = person or saved
            return redirect(back, study_id=target.study_id)
    cancel = reverse(back, args=[person.study_id]) if person else reverse("cases:list")
    context = {
        "form": form,
        "title": title,
        "person": person,
        "cancel_url": cancel,
        "nav": "caseload",
    }
    return render(request, "cases/form.html", context, status=400 if form.errors else 200)


def _editable_person(request: HttpRequest, study_id: str, perm: Perm) -> YoungPerson:
    person = selectors.young_person_get_visible(user=request.user, study_id=study_id)
    if not user_has_perm(request.user, perm, site=person.site_id):
        raise PermissionDenied("You can see this record but not change it.")
    return person


@perm_required(Perm.EDIT_CASE)
def young_person_create(request: HttpRequest) -> HttpResponse:
    """Add a young person at a site where the user may edit cases."""
    sites = sites_for(request.user, Perm.EDIT_CASE)
    form = YoungPersonForm(request.POST or None)
    if sites.count() > 1:
        form.fields["site"] = forms.ModelChoiceField(queryset=sites, label="MST site")
        form.helper.layout.fields.insert(0, "site")

    def save(data: dict[str, Any]) -> YoungPerson:
        site = data.pop("site", None) or sites.get()
        return services.young_person_create(
            by=request.user, site=site, fields=data, request=request
        )

    return _form_page(request, form, title="Add a young person", person=None, save=save)


@perm_required(Perm.EDIT_CASE)
def young_person_edit(request: HttpRequest, study_id: str) -> HttpResponse:
    person = _editable_person(request, study_id, Perm.EDIT_CASE)
    form = YoungPersonForm(request.POST or None, instance=person)
    return _form_page(
        request,
        form,
        title="Change details",
        person=person,
        save=lambda data: services.young_person_update(
            by=request.user, young_person=person, fields=data, request=request
        ),
    )


@perm_required(Perm.EDIT_CASE)
def family_member_edit(request: HttpRequest, study_id: str, pk: int | None = None) -> HttpResponse:
    person = _editable_person(request, study_id, Perm.EDIT_CASE)
    member = get_object_or_404(person.family_members.all(), pk=pk) if pk else None
    form = FamilyMemberForm(request.POST or None, instance=member)
    return _form_page(
        request,
        form,
        title="Change family member" if member else "Add a family member",
        person=person,
        save=lambda data: services.family_member_save(
            by=request.user, young_person=person, member=member, fields=data, request=request
        ),
    )


@perm_required(Perm.EDIT_CASE)
def involvement_edit(request: HttpRequest, study_id: str, pk: int | None = None) -> HttpResponse:
    person = _editable_person(request, study_id, Perm.EDIT_CASE)
    involvement = get_object_or_404(person.agency_involvements.all(), pk=pk) if pk else None
    form = AgencyInvolvementForm(request.POST or None, instance=involvement)
    return _form_page(
        request,
        form,
        title="Change agency" if involvement else "Add an agency",
        person=person,
        save=lambda data: services.agency_involvement_save(
            by=request.user,
            young_person=person,
            involvement=involvement,
            fields=data,
            request=request,
        ),
    )


@perm_required(Perm.MANAGE_EPISODES)
def episode_edit(request: HttpRequest, study_id: str, pk: int | None = None) -> HttpResponse:
    person = _editable_person(request, study_id, Perm.MANAGE_EPISODES)
    episode = get_object_or_404(person.episodes.all(), pk=pk) if pk else None
    form = EpisodeForm(request.POST or None, instance=episode, site_id=person.site_id)
    if episode is None:
        return _form_page(
            request,
            form,
            title="Start an MST episode",
            person=person,
            save=lambda data: services.episode_open(
                by=request.user, young_person=person, fields=data, request=request
            ),
        )
    return _form_page(
        request,
        form,
        title="Change episode",
        person=person,
        save=lambda data: services.episode_update(
            by=request.user, episode=episode, fields=data, request=request
        ),
    )


@perm_required(Perm.MANAGE_EPISODES)
def episode_discharge(request: HttpRequest, study_id: str, pk: int) -> HttpResponse:
    person = _editable_person(request, study_id, Perm.MANAGE_EPISODES)
    episode = get_object_or_404(person.episodes.all(), pk=pk, end_date__isnull=True)
    form = DischargeForm(request.POST or None, instance=episode)
    return _form_page(
        request,
        form,
        title="Discharge from MST",
        person=person,
        save=lambda data: services.episode_discharge(
            by=request.user, episode=episode, fields=data, request=request
        ),
    )


# Family goals, contacts and professional meetings.


def _treatment_refusal(request: HttpRequest, person: YoungPerson) -> Refusal | None:
    """Why treatment may not be recorded for this young person now (only to those who see it).

    The services enforce the rule; pages use this to hide the actions it would refuse. The
    message can name the trial arm, so it is only worked out for users who see treatment.
    """
    if not user_has_perm(request.user, Perm.VIEW_TREATMENT, site=person.site_id):
        return None
    return refusal_for(person, Check.TREATMENT)


def _treatment_person(request: HttpRequest, study_id: str) -> YoungPerson:
    person = selectors.young_person_get_visible(user=request.user, study_id=study_id)
    if not user_has_perm(request.user, Perm.VIEW_TREATMENT, site=person.site_id):
        raise PermissionDenied("Treatment records are hidden from you (trial blinding).")
    return person


@perm_required(Perm.VIEW_TREATMENT)
def goals(request: HttpRequest, study_id: str) -> HttpResponse:
    """Show the family's desired outcomes, overarching goals and weekly intermediate goals."""
    person = _treatment_person(request, study_id)
    context = {
        "person": person,
        "can_edit": user_has_perm(request.user, Perm.EDIT_CASE, site=person.site_id),
        "treatment_refusal": _treatment_refusal(request, person),
        "nav": "caseload",
        **selectors.goals_for_person(user=request.user, person=person),
    }
    return render(request, "cases/goals.html", context)


@perm_required(Perm.EDIT_CASE)
def desired_outcome_edit(
    request: HttpRequest, study_id: str, pk: int | None = None
) -> HttpResponse:
    person = _editable_person(request, study_id, Perm.EDIT_CASE)
    outcome = get_object_or_404(person.desired_outcomes.all(), pk=pk) if pk else None
    form = DesiredOutcomeForm(request.POST or None, instance=outcome, person=person)
    return _form_page(
        request,
        form,
        title="Desired outcome",
        person=person,
        back="cases:goals",
        save=lambda data: services.desired_outcome_save(
            by=request.user, young_person=person, outcome=outcome, fields=data, request=request
        ),
    )


@perm_required(Perm.EDIT_CASE)
def overarching_goal_edit(
    request: HttpRequest, study_id: str, pk: int | None = None
) -> HttpResponse:
    person = _editable_person(request, study_id, Perm.EDIT_CASE)
    goal = get_object_or_404(person.overarching_goals.all(), pk=pk) if pk else None
    form = OverarchingGoalForm(request.POST or None, instance=goal, person=person)
    return _form_page(
        request,
        form,
        title="Overarching goal",
        person=person,
        back="cases:goals",
        save=lambda data: services.overarching_goal_save(
            by=request.user, young_person=person, goal=goal, fields=data, request=request
        ),
    )


@perm_required(Perm.EDIT_CASE)
def intermediate_goal_edit(
    request: HttpRequest, study_id: str, pk: int | None = None
) -> HttpResponse:
    person = _editable_person(request, study_id, Perm.EDIT_CASE)
    goal = get_object_or_404(person.intermediate_goals.all(), pk=pk) if pk else None
    form = IntermediateGoalForm(request.POST or None, instance=goal, person=person)
    return _form_page(
        request,
        form,
        title="Intermediate goal",
        person=person,
        back="cases:goals",
        save=lambda data: services.intermediate_goal_save(
            by=request.user, young_person=person, goal=goal, fields=data, request=request
        ),
    )


@perm_required(Perm.VIEW_TREATMENT)
def contacts(request: HttpRequest, study_id: str) -> HttpResponse:
    """Show contacts with the family, professional meetings and staff time by phase of MST."""
    from mstoutcomes.core.dates import today

    person = _treatment_person(request, study_id)
    context = {
        "person": person,
        "can_edit": user_has_perm(request.user, Perm.EDIT_CASE, site=person.site_id),
        "treatment_refusal": _treatment_refusal(request, person),
        "nav": "caseload",
        **selectors.contacts_and_meetings(user=request.user, person=person, today=today()),
    }
    return render(request, "cases/contacts.html", context)


@perm_required(Perm.EDIT_CASE)
def contact_edit(request: HttpRequest, study_id: str, pk: int | None = None) -> HttpResponse:
    person = _editable_person(request, study_id, Perm.EDIT_CASE)
    contact = get_object_or_404(person.contacts.all(), pk=pk) if pk else None
    form = ContactForm(request.POST or None, instance=contact, person=person)
    return _form_page(
        request,
        form,
        title="Contact with the family",
        person=person,
        back="cases:contacts",
        save=lambda data: services.contact_save(
            by=request.user,
            young_person=person,
            contact=contact,
            fields={**data, "staff": contact.staff if contact else request.user},
            request=request,
        ),
    )


@perm_required(Perm.EDIT_CASE)
def meeting_edit(request: HttpRequest, study_id: str, pk: int | None = None) -> HttpResponse:
    person = _editable_person(request, study_id, Perm.EDIT_CASE)
    meeting = get_object_or_404(person.professional_meetings.all(), pk=pk) if pk else None
    form = ProfessionalMeetingForm(request.POST or None, instance=meeting, person=person)
    return _form_page(
        request,
        form,
        title="Professional meeting",
        person=person,
        back="cases:contacts",
        save=lambda data: services.professional_meeting_save(
            by=request.user,
            young_person=person,
            meeting=meeting,
            fields=form.meeting_fields(),
            attendees=form.attendees(),
            request=request,
        ),
    )
