"""Trial pages: overview, enrolment, a participant's consent and randomisation, CONSORT."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_POST

from mstoutcomes.accounts.decorators import current_user, perm_required
from mstoutcomes.accounts.permissions import Perm, user_has_perm
from mstoutcomes.cases.models import YoungPerson
from mstoutcomes.core.dates import today
from mstoutcomes.trial import selectors, services
from mstoutcomes.trial.consort import consort_counts, consort_method_text, consort_svg
from mstoutcomes.trial.errors import RandomisationError
from mstoutcomes.trial.forms import (
    ConsentForm,
    EligibilityForm,
    EnrolForm,
    RevealForm,
    WithdrawalForm,
)
from mstoutcomes.trial.models import Participant, Trial


@perm_required(Perm.RANDOMISE)
def trial_list(request: HttpRequest) -> HttpResponse:
    """The trials at the user's sites."""
    trials = selectors.trials_visible_to(user=request.user)
    return render(request, "trial/list.html", {"trials": trials, "nav": "trial"})


def _trial(request: HttpRequest, code: str) -> Trial:
    return get_object_or_404(selectors.trials_visible_to(user=request.user), code=code)


@perm_required(Perm.RANDOMISE)
def trial_detail(request: HttpRequest, code: str) -> HttpResponse:
    """The trial manager's page: participants so far and enrolment of a young person."""
    trial = _trial(request, code)
    participants = selectors.participants_visible_to(user=request.user, trial=trial)
    form = EnrolForm(
        request.POST or None, choices=selectors.enrolable_choices(user=request.user, trial=trial)
    )
    if request.method == "POST" and form.is_valid():
        person = get_object_or_404(
            YoungPerson.objects.visible_to(request.user), study_id=form.cleaned_data["study_id"]
        )
        try:
            participant = services.participant_enrol(
                by=request.user, trial=trial, young_person=person
            )
        except RandomisationError as error:
            form.add_error("study_id", str(error))
        else:
            return redirect("trial:participant", code=code, pk=participant.pk)
    return render(
        request,
        "trial/detail.html",
        {
            "trial": trial,
            "participants": participants,
            "form": form,
            "nav": "trial",
        },
    )


def _participant(request: HttpRequest, code: str, pk: int) -> Participant:
    trial = _trial(request, code)
    participant = get_object_or_404(
        selectors.participants_visible_to(user=request.user, trial=trial), pk=pk
    )
    if not user_has_perm(request.user, Perm.RANDOMISE, site=participant.site_id):
        raise PermissionDenied("You cannot manage participants at this site.")
    return participant


@perm_required(Perm.RANDOMISE)
def participant_detail(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """Eligibility, consents, withdrawals and randomisation of one participant."""
    participant = _participant(request, code, pk)
    forms = {
        "eligibility": EligibilityForm(prefix="eligibility"),
        "consent": ConsentForm(prefix="consent"),
        "withdrawal": WithdrawalForm(prefix="withdrawal"),
    }
    action = request.POST.get("action")
    if request.method == "POST" and action in forms:
        form = forms[action] = type(forms[action])(request.POST, prefix=action)
        if form.is_valid():
            _record(request, participant, action, form.cleaned_data)
            messages.success(request, "Saved.")
            return redirect("trial:participant", code=code, pk=pk)
    return render(
        request,
        "trial/participant.html",
        {
            "trial": participant.trial,
            "participant": participant,
            "forms": forms,
            "nav": "trial",
            "consents": participant.consents.select_related("taken_by"),
            "withdrawals": participant.withdrawals.all(),
            "allocation": getattr(participant, "allocation", None),
            "reveal_form": RevealForm(),
        },
        status=400 if request.method == "POST" else 200,
    )


def _record(request: HttpRequest, participant: Participant, action: str, data: dict) -> None:
    by = request.user
    if action == "eligibility":
        services.eligibility_record(by=by, participant=participant, **data)
    elif action == "consent":
        services.consent_record(by=by, participant=participant, **data)
    else:
        services.withdrawal_record(by=by, participant=participant, **data)


@require_POST
@perm_required(Perm.RANDOMISE)
def participant_randomise(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    participant = _participant(request, code, pk)
    try:
        allocation = services.participant_randomise(
            by=request.user, participant=participant, request=request
        )
    except RandomisationError as error:
        messages.error(request, f"Not randomised: {error}")
    else:
        arm = dict((a.code, a.name) for a in participant.trial.spec.arms)[allocation.arm]
        messages.success(request, f"Randomised to {arm}.")
    return redirect("trial:participant", code=code, pk=pk)


@require_POST
@perm_required(Perm.UNBLIND)
def allocation_reveal(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """Show one participant's arm after the person records why (audited)."""
    participant = _participant(request, code, pk)
    form = RevealForm(request.POST)
    arm_name = ""
    if form.is_valid():
        arm = services.allocation_reveal(
            by=current_user(request), participant=participant, reason=form.cleaned_data["reason"]
        )
        arm_name = {a.code: a.name for a in participant.trial.spec.arms}[arm]
    return render(
        request,
        "trial/reveal.html",
        {
            "trial": participant.trial,
            "participant": participant,
            "form": form,
            "arm_name": arm_name,
            "nav": "trial",
        },
        status=200 if arm_name else 400,
    )


@perm_required(Perm.RANDOMISE)
def recruitment(request: HttpRequest, code: str) -> HttpResponse:
    """Randomisations by site and month against target; balance and follow-up if unblinded."""
    trial = _trial(request, code)
    arms_visible = user_has_perm(request.user, Perm.UNBLIND)
    data = selectors.recruitment(trial=trial, today=today(), arms_visible=arms_visible)
    rows = []
    for site_name, per_month in sorted(data.by_site.items()):
        running = 0
        for n, month in enumerate(data.months, start=1):
            running += per_month.get(month, 0)
            target = data.target_per_site_month * n
            rows.append((site_name, month, per_month.get(month, 0), running, target))
    return render(
        request,
        "trial/recruitment.html",
        {
            "trial": trial,
            "data": data,
            "rows": rows,
            "arms_visible": arms_visible,
            "arm_codes": trial.spec.arm_codes,
            "nav": "trial",
        },
    )


@perm_required(Perm.UNBLIND)
def consort(request: HttpRequest, code: str) -> HttpResponse:
    """The CONSORT flow diagram from live data, up to a cut-off date, with its numbers."""
    trial = _trial(request, code)
    cut_off = parse_date(request.GET.get("cut_off", "")) or today()
    site_id = request.GET.get("site")
    site_id = int(site_id) if site_id and site_id.isdigit() else None
    spec = trial.spec
    counts = consort_counts(
        selectors.consort_dispositions(trial=trial, cut_off=cut_off, site_id=site_id),
        arms=spec.arm_codes,
        timepoints=[],
    )
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="consort-{code}-{cut_off}.csv"'
        writer = csv.writer(response)
        writer.writerow(["stage", "box", "n"])
        writer.writerows(counts.rows())
        return response
    box_url = reverse("trial:participants", args=[code])
    links = {
        key: f"{box_url}?box={key}&cut_off={cut_off}"
        for key in ["assessed", "excluded", "randomised"]
        + [f"allocated:{a}" for a in spec.arm_codes]
    }
    svg = consort_svg(
        counts,
        arm_names={a.code: a.name for a in spec.arms},
        links=links,
        title=f"CONSORT flow diagram, {trial.code}, to {cut_off:%d %B %Y}",
    )
    return render(
        request,
        "trial/consort.html",
        {
            "trial": trial,
            "svg": svg,
            "rows": counts.rows(),
            "cut_off": cut_off,
            "nav": "trial",
            "method_text": consort_method_text(spec, reveal_block_sizes=False),
            "sites": trial.sites.all(),
            "site_id": site_id,
        },
    )


@perm_required(Perm.UNBLIND)
def box_participants(request: HttpRequest, code: str) -> HttpResponse:
    """The participants behind one CONSORT box, linked to their records."""
    trial = _trial(request, code)
    cut_off = parse_date(request.GET.get("cut_off", "")) or today()
    box = request.GET.get("box", "")
    people = selectors.box_members(user=request.user, trial=trial, box=box, cut_off=cut_off)
    if people is None:
        raise Http404("No such box.")
    return render(
        request,
        "trial/box.html",
        {
            "trial": trial,
            "box": box,
            "people": people,
            "cut_off": cut_off,
            "nav": "trial",
        },
    )
