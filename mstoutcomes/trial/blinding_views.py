"""Pages for emergency unblinding, the assessors' guesses of the arm and the blinding report."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from mstoutcomes.accounts.decorators import current_user, perm_required
from mstoutcomes.accounts.models import User
from mstoutcomes.accounts.permissions import Perm, site_ids_with_perm, user_has_perm
from mstoutcomes.core.dates import today
from mstoutcomes.trial import blinding, blinding_services, selectors
from mstoutcomes.trial.blinding_forms import BlindingGuessForm, EmergencyUnblindForm
from mstoutcomes.trial.errors import RandomisationError
from mstoutcomes.trial.models import Participant, Trial


def _participant_with(request: HttpRequest, code: str, pk: int, perm: Perm) -> Participant:
    trial = get_object_or_404(
        Trial.objects.filter(sites__in=site_ids_with_perm(request.user, perm)).distinct(),
        code=code,
    )
    participant = get_object_or_404(
        selectors.participants_visible_to(user=request.user, trial=trial), pk=pk
    )
    if not user_has_perm(request.user, perm, site=participant.site_id):
        raise PermissionDenied("You cannot do this for participants at this site.")
    return participant


def _site_people(participant: Participant) -> list[tuple[str, str]]:
    people = User.objects.filter(
        memberships__site_id=participant.site_id, memberships__is_active=True, is_active=True
    ).distinct()
    return [(str(user.pk), f"{user} ({user.username})") for user in people]


@perm_required(Perm.EMERGENCY_UNBLIND)
def emergency_unblind(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """Reveal a participant's arm to a named person in an emergency, once, with a reason."""
    participant = _participant_with(request, code, pk, Perm.EMERGENCY_UNBLIND)
    form = EmergencyUnblindForm(request.POST or None, people=_site_people(participant))
    arm_name = ""
    if request.method == "POST" and form.is_valid():
        person = User.objects.get(pk=form.cleaned_data["unblinded_person"])
        try:
            _, arm = blinding_services.emergency_unblind(
                by=current_user(request),
                participant=participant,
                unblinded_person=person,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        except RandomisationError as error:
            form.add_error(None, str(error))
        else:
            arm_name = {a.code: a.name for a in participant.trial.spec.arms}[arm]
    return render(
        request,
        "trial/emergency_unblind.html",
        {
            "trial": participant.trial,
            "participant": participant,
            "form": form,
            "arm_name": arm_name,
            "nav": "trial",
        },
        status=400 if request.method == "POST" and not arm_name else 200,
    )


@perm_required(Perm.ENTER_TRIAL_OUTCOMES)
def guess_list(request: HttpRequest, code: str) -> HttpResponse:
    """The outcome assessor's list of randomised participants and the guesses recorded so far."""
    trial = get_object_or_404(
        Trial.objects.filter(
            sites__in=site_ids_with_perm(request.user, Perm.ENTER_TRIAL_OUTCOMES)
        ).distinct(),
        code=code,
    )
    participants = (
        selectors.participants_visible_to(user=request.user, trial=trial)
        .filter(
            allocation__isnull=False,
            site_id__in=site_ids_with_perm(request.user, Perm.ENTER_TRIAL_OUTCOMES),
        )
        .order_by("young_person__study_id")
    )
    points = selectors.follow_up_points()
    rows = []
    for participant in participants:
        recorded = blinding.guesses_for(participant)
        rows.append(
            {
                "participant": participant,
                "points": [(point.label, point.code in recorded) for point in points],
                "complete": all(point.code in recorded for point in points),
            }
        )
    return render(request, "trial/guesses.html", {"trial": trial, "rows": rows, "nav": "trial"})


@perm_required(Perm.ENTER_TRIAL_OUTCOMES)
def guess_record(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """Record the assessor's guess of the arm at a follow-up; the form is the same for any arm."""
    participant = _participant_with(request, code, pk, Perm.ENTER_TRIAL_OUTCOMES)
    recorded = blinding.guesses_for(participant)
    points = [(p.code, p.label) for p in selectors.follow_up_points() if p.code not in recorded]
    arms = sorted((a.code, a.name) for a in participant.trial.spec.arms)
    form = BlindingGuessForm(
        request.POST or None,
        timepoints=points,
        arms=arms,
        initial={"recorded_on": today()},
    )
    if request.method == "POST" and form.is_valid():
        try:
            blinding_services.blinding_guess_record(
                by=current_user(request), participant=participant, **form.cleaned_data
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, "Your guess has been recorded.")
            return redirect("trial:guesses", code=code)
    return render(
        request,
        "trial/guess_form.html",
        {
            "trial": participant.trial,
            "participant": participant,
            "form": form,
            "points": points,
            "nav": "trial",
        },
        status=400 if request.method == "POST" else 200,
    )


@perm_required(Perm.UNBLIND)
def blinding_report(request: HttpRequest, code: str) -> HttpResponse:
    """Blinding of outcome assessors: guesses by true arm and Bang's index per arm, per site."""
    trial = get_object_or_404(selectors.trials_visible_to(user=request.user), code=code)
    arms = [(a.code, a.name) for a in trial.spec.arms]
    return render(
        request,
        "trial/blinding_report.html",
        {
            "trial": trial,
            "arms": arms,
            "sites": blinding.blinding_report(user=request.user, trial=trial),
            "nav": "trial",
        },
    )
