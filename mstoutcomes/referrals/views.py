"""Pages for referring, screening, the panel, capacity, case mix and the dashboard."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from mstoutcomes.accounts.decorators import perm_required
from mstoutcomes.accounts.models import Agency, Site
from mstoutcomes.accounts.permissions import Perm, grants_for, user_has_perm
from mstoutcomes.accounts.selectors import sites_for
from mstoutcomes.cases.models import YoungPerson
from mstoutcomes.cases.protocol import Check, Refusal, refusal_for
from mstoutcomes.core.dates import today
from mstoutcomes.referrals import dashboard, selectors, services
from mstoutcomes.referrals.forms import (
    PAGES,
    AllocateForm,
    DecideForm,
    GdsForm,
    PanelForm,
    ReasonForm,
    StartForm,
)
from mstoutcomes.referrals.models import Referral
from mstoutcomes.referrals.workflow import PANEL_OUTCOMES, InvalidTransition, State


def _form_page(
    request: HttpRequest,
    form: GdsForm,
    *,
    title: str,
    save: Callable[[dict[str, Any]], Any],
    done: Callable[[Any], str],
    back: str,
    referral: Referral | None = None,
) -> HttpResponse:
    """Render a form; on a valid POST call the service and go on, or show its errors."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(form.cleaned_data)
        except (ValidationError, InvalidTransition) as error:
            form.apply_service_errors(
                error if isinstance(error, ValidationError) else ValidationError(str(error))
            )
        else:
            return redirect(done(saved))
    context = {"form": form, "title": title, "back": back, "referral": referral, "nav": "referrals"}
    return render(request, "referrals/form.html", context, status=400 if form.errors else 200)


@perm_required(Perm.VIEW_REFERRALS)
def referral_list(request: HttpRequest) -> HttpResponse:
    """The referrals the user may see: a referrer's own agency's, or the site's screening log."""
    state = request.GET.get("state", "")
    referrals = selectors.referral_list_visible_to(
        user=request.user, state=state, search=request.GET.get("q", "")
    )
    page = Paginator(referrals, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "state": state,
        "states": [(s.value, s) for s in State],
        "q": request.GET.get("q", ""),
        "notifications": selectors.notifications_for(user=request.user),
        "can_refer": user_has_perm(request.user, Perm.MAKE_REFERRAL),
        "can_panel": user_has_perm(request.user, Perm.RUN_PANEL),
        "nav": "referrals",
    }
    return render(request, "referrals/list.html", context)


def _agencies_for(user: Any) -> Any:
    own = {g.agency_id for g in grants_for(user) if g.agency_scoped and g.agency_id}
    agencies = Agency.objects.filter(is_active=True)
    return agencies.filter(pk__in=own) if own else agencies


@perm_required(Perm.MAKE_REFERRAL)
def referral_start(request: HttpRequest) -> HttpResponse:
    """Choose the team and agency, then start a draft."""
    sites = sites_for(request.user, Perm.MAKE_REFERRAL)
    form = StartForm(request.POST or None, sites=sites, agencies=_agencies_for(request.user))
    return _form_page(
        request,
        form,
        title="Refer a young person to MST",
        save=lambda data: services.referral_start(
            by=request.user, site=data["site"], agency=data["agency"], request=request
        ),
        done=lambda referral: reverse("referrals:page", args=[referral.pk, "person"]),
        back=reverse("referrals:list"),
    )


def _draft(request: HttpRequest, pk: int) -> Referral:
    referral = selectors.referral_get_visible(user=request.user, pk=pk)
    if referral.state != State.DRAFT or referral.referrer_id != request.user.pk:
        raise PermissionDenied("Only the person writing a draft referral can change it.")
    return referral


@perm_required(Perm.MAKE_REFERRAL)
def referral_page(request: HttpRequest, pk: int, page: str) -> HttpResponse:
    """One page of the referral form; each save keeps the draft."""
    if page not in PAGES:
        raise Http404("No such page")
    referral = _draft(request, pk)
    title, form_class = PAGES[page]
    form = form_class(request.POST or None, initial=form_class.initial_from(referral))
    keys = list(PAGES)
    following = keys[keys.index(page) + 1] if page != keys[-1] else None

    def save(data: dict[str, Any]) -> Referral:
        agencies = data.pop("agencies_involved", None)
        fields = {"carers": form.carers()} if page == "carers" else data
        return services.referral_draft_save(
            by=request.user,
            referral=referral,
            fields=fields,
            agencies_involved=agencies,
            request=request,
        )

    return _form_page(
        request,
        form,
        title=title,
        save=save,
        done=lambda r: (
            reverse("referrals:page", args=[r.pk, following])
            if following
            else reverse("referrals:check", args=[r.pk])
        ),
        back=reverse("referrals:check", args=[referral.pk]),
        referral=referral,
    )


@perm_required(Perm.MAKE_REFERRAL)
def referral_check(request: HttpRequest, pk: int) -> HttpResponse:
    """Check the answers, see possible matches with known young people, and submit."""
    referral = _draft(request, pk)
    matches = selectors.visible_matches_for_draft(user=request.user, referral=referral)
    errors: list[str] = []
    if request.method == "POST":
        chosen = request.POST.get("young_person")
        person = next((p for p in matches if str(p.pk) == chosen), None)
        try:
            services.referral_submit(
                by=request.user, referral=referral, young_person=person, request=request
            )
        except ValidationError as error:
            errors = error.messages
        else:
            messages.success(request, f"Referral {referral.reference} sent to the MST team.")
            return redirect("referrals:detail", pk=referral.pk)
    context = {"referral": referral, "matches": matches, "errors": errors, "pages": PAGES}
    return render(request, "referrals/check.html", {**context, "nav": "referrals"})


@perm_required(Perm.VIEW_REFERRALS)
def referral_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A referral's status, history, eligibility and complexity, and the team's next steps."""
    referral = selectors.referral_get_visible(user=request.user, pk=pk)
    site = referral.site_id
    context = {
        "referral": referral,
        "history": selectors.referral_history(referral),
        "duplicates": selectors.possible_duplicates_for(user=request.user, referral=referral),
        "can_panel": user_has_perm(request.user, Perm.RUN_PANEL, site=site),
        "can_override": user_has_perm(request.user, Perm.OVERRIDE_CONSENT, site=site),
        "allocation_refusal": _allocation_refusal(request, referral),
        "nav": "referrals",
    }
    return render(request, "referrals/detail.html", context)


def _allocation_refusal(request: HttpRequest, referral: Referral) -> Refusal | None:
    """Why no therapist may be allocated now (the trial's order); the service enforces it."""
    if referral.young_person is None or not user_has_perm(
        request.user, Perm.RUN_PANEL, site=referral.site_id
    ):
        return None
    return refusal_for(referral.young_person, Check.TREATMENT)


@require_POST
@perm_required(Perm.RUN_PANEL)
def referral_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    """Screen, send to panel, or link to a known young person (buttons on the referral page)."""
    referral = selectors.referral_get_visible(user=request.user, pk=pk)
    try:
        if step == "screen":
            services.referral_screen(by=request.user, referral=referral, request=request)
        elif step == "ready":
            services.referral_ready_for_panel(by=request.user, referral=referral, request=request)
        elif step == "consent":
            services.referral_consent_given(
                by=request.user,
                referral=referral,
                notes=request.POST.get("notes", ""),
                request=request,
            )
            messages.success(request, "Consent to share information recorded as given.")
        elif step == "link":
            person = get_object_or_404(
                YoungPerson.objects.visible_to(request.user),
                pk=request.POST.get("young_person"),
                pk__in=referral.possible_duplicates,
            )
            services.referral_link_young_person(
                by=request.user, referral=referral, young_person=person, request=request
            )
        else:
            raise Http404("No such step")
    except (ValidationError, InvalidTransition) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    return redirect("referrals:detail", pk=referral.pk)


@perm_required(Perm.RUN_PANEL)
def referral_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the panel's (or screening's) decision with its reason."""
    referral = selectors.referral_get_visible(user=request.user, pk=pk)
    outcomes = PANEL_OUTCOMES if referral.state != State.SCREENING else PANEL_OUTCOMES[2:]
    panels = selectors.panels_for(user=request.user).filter(site=referral.site)
    form = DecideForm(request.POST or None, panels=panels, outcomes=outcomes)
    return _form_page(
        request,
        form,
        title="Record the decision",
        save=lambda data: services.referral_decide(
            by=request.user, referral=referral, request=request, **data
        ),
        done=lambda r: reverse("referrals:detail", args=[r.pk]),
        back=reverse("referrals:detail", args=[referral.pk]),
        referral=referral,
    )


@perm_required(Perm.RUN_PANEL)
def referral_allocate(request: HttpRequest, pk: int) -> HttpResponse:
    """Allocate a family to a therapist within their cap (or record why not).

    When the trial's order refuses treatment (not yet randomised, or management as usual) the
    page says so plainly instead of offering a form; a POST still goes to the service, which
    refuses and audits the attempt.
    """
    referral = selectors.referral_get_visible(user=request.user, pk=pk)
    refusal = _allocation_refusal(request, referral)
    if refusal is not None and request.method != "POST":
        context = {
            "title": "Allocate to a therapist",
            "refusal": refusal,
            "back": reverse("referrals:detail", args=[referral.pk]),
            "referral": referral,
            "nav": "referrals",
        }
        return render(request, "referrals/form.html", context, status=403)
    form = AllocateForm(
        request.POST or None,
        therapists=selectors.therapists_at(referral.site_id),
        initial={"start_date": today()},
    )
    return _form_page(
        request,
        form,
        title="Allocate to a therapist",
        save=lambda data: services.referral_allocate(
            by=request.user, referral=referral, request=request, **data
        ),
        done=lambda episode: reverse("referrals:detail", args=[referral.pk]),
        back=reverse("referrals:detail", args=[referral.pk]),
        referral=referral,
    )


@perm_required(Perm.OVERRIDE_CONSENT)
def referral_consent_override(request: HttpRequest, pk: int) -> HttpResponse:
    referral = selectors.referral_get_visible(user=request.user, pk=pk)
    return _form_page(
        request,
        ReasonForm(request.POST or None),
        title="Send to panel without consent to share",
        save=lambda data: services.referral_consent_override(
            by=request.user, referral=referral, reason=data["reason"], request=request
        ),
        done=lambda r: reverse("referrals:detail", args=[r.pk]),
        back=reverse("referrals:detail", args=[referral.pk]),
        referral=referral,
    )


@perm_required(Perm.VIEW_REFERRALS)
def referral_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    referral = selectors.referral_get_visible(user=request.user, pk=pk)
    return _form_page(
        request,
        ReasonForm(request.POST or None),
        title="Withdraw the referral",
        save=lambda data: services.referral_withdraw(
            by=request.user, referral=referral, reason=data["reason"], request=request
        ),
        done=lambda r: reverse("referrals:detail", args=[r.pk]),
        back=reverse("referrals:detail", args=[referral.pk]),
        referral=referral,
    )


@perm_required(Perm.RUN_PANEL)
def panel_list(request: HttpRequest) -> HttpResponse:
    """Panel meetings, and a form to record one."""
    form = PanelForm(request.POST or None, sites=selectors.panel_sites(request.user))
    if request.method != "POST":
        panels = selectors.panels_for(user=request.user)[:50]
        ready = selectors.referral_list_visible_to(user=request.user, state=State.READY_FOR_PANEL)
        context = {"panels": panels, "form": form, "ready": ready, "nav": "referrals"}
        return render(request, "referrals/panels.html", context)
    return _form_page(
        request,
        form,
        title="Record a panel meeting",
        save=lambda data: services.panel_meeting_create(
            by=request.user,
            site=data["site"],
            held_on=data["held_on"],
            agencies=data["agencies_present"],
            attendees=data["attendees"],
            notes=data["notes"],
            request=request,
        ),
        done=lambda panel: reverse("referrals:panels"),
        back=reverse("referrals:panels"),
    )


def _site(request: HttpRequest, perm: Perm) -> Site:
    sites = sites_for(request.user, perm)
    code = request.GET.get("site")
    site = sites.filter(code=code).first() if code else sites.order_by("name").first()
    if site is None:
        raise Http404("No such team")
    return site


@perm_required(Perm.RUN_PANEL)
def capacity(request: HttpRequest) -> HttpResponse:
    """Places now, free places week by week, and the waiting list with forecast starts."""
    site = _site(request, Perm.RUN_PANEL)
    data = selectors.capacity_forecast(site=site, as_of=today())
    context = {"site": site, **data, "nav": "referrals"}
    return render(request, "referrals/capacity.html", context)


@perm_required(Perm.RUN_PANEL)
def case_mix(request: HttpRequest) -> HttpResponse:
    """The complexity mix against the target, agency skew, and a suggested order."""
    site = _site(request, Perm.RUN_PANEL)
    data = selectors.case_mix_for_site(site=site, as_of=today())
    context = {"site": site, **data, "nav": "referrals"}
    return render(request, "referrals/case_mix.html", context)


@perm_required(Perm.VIEW_DASHBOARDS)
def dashboard_view(request: HttpRequest) -> HttpResponse:
    """Referrals, funnel, declines, waits, capacity and case mix: charts with their tables."""
    site = _site(request, Perm.VIEW_DASHBOARDS)
    context = {"site": site, **dashboard.build(site=site, as_of=today()), "nav": "referrals"}
    return render(request, "referrals/dashboard.html", context)
