"""Trial pages: enrolment, consent and randomisation, recruitment, CONSORT, deviations log."""

from __future__ import annotations

import csv
import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_POST

from mstoutcomes.accounts.decorators import current_user, perm_required
from mstoutcomes.accounts.models import Site
from mstoutcomes.accounts.permissions import Perm, site_ids_with_perm, user_has_perm
from mstoutcomes.cases.models import YoungPerson
from mstoutcomes.core.dates import today
from mstoutcomes.core.pdf import pdf_response, render_pdf
from mstoutcomes.trial import charts, consent_forms, lock, lockchecks, selectors, services
from mstoutcomes.trial.consort import consort_counts, consort_method_text, consort_svg
from mstoutcomes.trial.errors import RandomisationError
from mstoutcomes.trial.forms import (
    ConsentForm,
    ConsentFormVersionForm,
    DeviationFilterForm,
    DeviationForm,
    EligibilityForm,
    EnrolForm,
    LockForm,
    RevealForm,
    UnlockRequestForm,
    WithdrawalForm,
)
from mstoutcomes.trial.models import ConsentFormVersion, DeviationCategory, Participant, Trial
from mstoutcomes.trial.panels import dashboard_panels


@perm_required(None)
def trial_list(request: HttpRequest) -> HttpResponse:
    """The trials at the user's sites, for trial managers, outcome assessors and log readers."""
    manage_ids = site_ids_with_perm(request.user, Perm.RANDOMISE)
    log_ids = site_ids_with_perm(request.user, Perm.VIEW_DEVIATIONS)
    guess_ids = site_ids_with_perm(request.user, Perm.ENTER_TRIAL_OUTCOMES)
    if not (manage_ids or log_ids or guess_ids):
        raise PermissionDenied("You do not have access to this page.")
    trials = Trial.objects.filter(
        Q(pk__in=selectors.trials_visible_to(user=request.user)) | Q(sites__in=guess_ids)
    ).distinct()
    rows = []
    for trial in trials.order_by("code").prefetch_related("sites"):
        site_ids = {site.pk for site in trial.sites.all()}
        # Link only to the pages the user may open for this trial's own sites (no 403s).
        rows.append(
            {
                "trial": trial,
                "may_manage": bool(site_ids & manage_ids),
                "may_see_log": bool(site_ids & log_ids),
                "may_guess": bool(site_ids & guess_ids),
            }
        )
    return render(request, "trial/list.html", {"rows": rows, "nav": "trial"})


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
        except (RandomisationError, ValidationError) as error:
            form.add_error("study_id", " ".join(getattr(error, "messages", [str(error)])))
        else:
            return redirect("trial:participant", code=code, pk=participant.pk)
    return render(
        request,
        "trial/detail.html",
        {
            "trial": trial,
            "participants": participants,
            "form": form,
            "may_see_log": bool(selectors.deviation_sites(user=request.user, trial=trial)),
            "may_lock": lock.may_lock(request.user, trial),
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
    consent_kwargs = {"forms_qs": selectors.current_consent_forms(trial=participant.trial)}
    forms = {
        "eligibility": EligibilityForm(prefix="eligibility"),
        "consent": ConsentForm(prefix="consent", **consent_kwargs),
        "withdrawal": WithdrawalForm(prefix="withdrawal"),
    }
    action = request.POST.get("action")
    if request.method == "POST" and action in forms:
        extra = consent_kwargs if action == "consent" else {}
        form = forms[action] = type(forms[action])(request.POST, prefix=action, **extra)
        if form.is_valid():
            try:
                _record(request, participant, action, form.cleaned_data)
            except ValidationError as error:
                # The record's own rules (no future dates…): shown on the form, nothing saved.
                for message in error.messages:
                    form.add_error(None, message)
            else:
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
            "consents": participant.consents.select_related("taken_by", "form"),
            "locked": participant.trial.is_locked,
            "has_consent_forms": consent_kwargs["forms_qs"].exists(),
            "withdrawals": participant.withdrawals.all(),
            "allocation": getattr(participant, "allocation", None),
            "reveal_form": RevealForm(),
            **_before_randomisation(participant),
        },
        status=400 if request.method == "POST" else 200,
    )


def _before_randomisation(participant: Participant) -> dict[str, Any]:
    """What the randomise form shows: missing baseline items and when MST could start."""
    if hasattr(participant, "allocation"):
        return {}
    from mstoutcomes.referrals.selectors import next_mst_start
    from mstoutcomes.trial.order import baseline_missing

    spec = participant.trial.spec
    pace = next_mst_start(site=participant.site_id, as_of=today())
    return {
        "baseline_missing": baseline_missing(participant),
        "pace": pace,
        "max_wait_days": spec.max_wait_days,
        "wait_too_long": pace.too_long(spec.max_wait_days),
    }


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
            by=request.user,
            participant=participant,
            request=request,
            baseline_waiver_reason=request.POST.get("baseline_waiver_reason", ""),
        )
    except RandomisationError as error:
        messages.error(request, f"Not randomised: {error}")
    except ValidationError as error:  # the seam's refusal: the trial's data are read-only
        messages.error(request, f"Not randomised: {' '.join(error.messages)}")
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
    rows, totals, sites = [], [], []
    target = data.target_per_site_month
    for site_name, per_month in sorted(data.by_site.items()):
        running = 0
        for n, month in enumerate(data.months, start=1):
            running += per_month.get(month, 0)
            rows.append((site_name, month, per_month.get(month, 0), running, target * n))
        sites.append(
            {"site": site_name, "randomised": running, "target": target * len(data.months)}
        )
    n_sites = trial.sites.count()
    overall = 0
    for n, month in enumerate(data.months, start=1):
        overall += sum(per_month.get(month, 0) for per_month in data.by_site.values())
        totals.append(
            {"month": month, "Randomised so far": overall, "Target so far": target * n_sites * n}
        )
    may_see_log = bool(selectors.deviation_sites(user=request.user, trial=trial))
    return render(
        request,
        "trial/recruitment.html",
        {
            "panels": dashboard_panels(request, trial),
            "trial": trial,
            "data": data,
            "rows": rows,
            "totals": totals,
            "total_rows": [tuple(t.values()) for t in totals],
            "sites": sites,
            "cumulative_chart": charts.cumulative_against_target(
                totals, title="Randomised so far against target, all sites"
            ),
            "site_chart": charts.site_bars(sites, title="Randomised by site (target so far)"),
            "arms_visible": arms_visible,
            "arm_codes": trial.spec.arm_codes,
            "deviations": selectors.deviation_summary(user=request.user, trial=trial)
            if may_see_log
            else None,
            "nav": "trial",
        },
    )


# Largest value a database integer key holds: larger "IDs" cannot name a row.
MAX_ID = 2**31 - 1


def _cut_off(request: HttpRequest, *, page: bool = True) -> dt.date:
    """Return the cut-off date asked for, or today when it is not a real date (said on a page)."""
    text = request.GET.get("cut_off", "").strip()
    if not text:
        return today()
    try:
        cut_off = parse_date(text)
    except ValueError:
        cut_off = None
    if cut_off is None:
        if page:  # a download says the date it used in its title and file name instead
            messages.error(
                request,
                f"The cut-off date \u201c{text[:20]}\u201d is not a real date: showing today.",
            )
        return today()
    return cut_off


def _site_param(request: HttpRequest) -> int | None:
    """Return the site ID asked for, or None (all sites) when it is not a plausible ID."""
    text = request.GET.get("site", "").strip()
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= MAX_ID:
        return None
    return int(text)


def _consort(
    request: HttpRequest, code: str, *, page: bool = True
) -> tuple[Trial, dt.date, Site | None, Any]:
    """Return the trial, cut-off, site (or None: all) and the counts a CONSORT request asks for."""
    trial = _trial(request, code)
    cut_off = _cut_off(request, page=page and request.GET.get("format") != "csv")
    site_id = _site_param(request)
    site = trial.sites.filter(pk=site_id).first() if site_id is not None else None
    points = selectors.follow_up_points()
    counts = consort_counts(
        selectors.consort_dispositions(
            trial=trial, cut_off=cut_off, site_id=site.pk if site else None
        ),
        arms=trial.spec.arm_codes,
        timepoints=[p.code for p in points],
        timepoint_labels={p.code: p.label for p in points},
    )
    return trial, cut_off, site, counts


def _consort_title(trial: Trial, cut_off: dt.date, site: Site | None) -> str:
    where = f", {site.name}" if site else ""
    return f"CONSORT flow diagram, {trial.code}{where}, to {cut_off:%d %B %Y}"


@perm_required(Perm.UNBLIND)
def consort(request: HttpRequest, code: str) -> HttpResponse:
    """The CONSORT flow diagram from live data, up to a cut-off date, with its numbers."""
    trial, cut_off, site, counts = _consort(request, code)
    spec = trial.spec
    query = f"cut_off={cut_off}" + (f"&site={site.pk}" if site else "")
    if request.GET.get("format") == "csv":
        services.consort_export_record(
            by=current_user(request),
            trial=trial,
            fmt="csv",
            cut_off=cut_off,
            site=site,
            request=request,
        )
        response = HttpResponse(content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="consort-{code}-{cut_off}.csv"'
        writer = csv.writer(response)
        writer.writerow(["stage", "box", "n"])
        writer.writerows(counts.rows())
        return response
    box_url = reverse("trial:participants", args=[code])
    keys = ["assessed", "excluded", "randomised"]
    for arm in spec.arm_codes:
        keys += [f"allocated:{arm}", f"analysed:{arm}"]
        keys += [f"follow_up:{arm}:{t}" for t in counts.timepoints]
    links = {key: f"{box_url}?box={key}&{query}" for key in keys}
    svg = consort_svg(
        counts,
        arm_names={a.code: a.name for a in spec.arms},
        links=links,
        title=_consort_title(trial, cut_off, site),
    )
    return render(
        request,
        "trial/consort.html",
        {
            "trial": trial,
            "svg": svg,
            "rows": counts.rows(),
            "cut_off": cut_off,
            "query": query,
            "nav": "trial",
            "method_text": consort_method_text(spec, reveal_block_sizes=False),
            "sites": trial.sites.all(),
            "site_id": site.pk if site else None,
        },
    )


@perm_required(Perm.UNBLIND)
def consort_pdf(request: HttpRequest, code: str) -> HttpResponse:
    """The CONSORT diagram, its numbers and the method text (items 8a to 10) as a PDF."""
    trial, cut_off, site, counts = _consort(request, code, page=False)
    spec = trial.spec
    title = _consort_title(trial, cut_off, site)
    services.consort_export_record(
        by=current_user(request),
        trial=trial,
        fmt="pdf",
        cut_off=cut_off,
        site=site,
        request=request,
    )
    pdf = render_pdf(
        "trial/consort_print.html",
        {
            "title": title,
            "trial": trial,
            "site": site,
            "cut_off": cut_off,
            "printed_on": today(),
            "svg": consort_svg(counts, arm_names={a.code: a.name for a in spec.arms}, title=title),
            "rows": counts.rows(),
            "method_text": consort_method_text(spec, reveal_block_sizes=False),
        },
    )
    where = f"-{site.code}" if site else ""
    return pdf_response(pdf, f"consort-{trial.code}{where}-{cut_off}.pdf")


@perm_required(Perm.UNBLIND)
def box_participants(request: HttpRequest, code: str) -> HttpResponse:
    """The participants behind one CONSORT box, linked to their records."""
    trial = _trial(request, code)
    cut_off = _cut_off(request)
    people = selectors.box_members(
        user=request.user,
        trial=trial,
        box=request.GET.get("box", ""),
        cut_off=cut_off,
        site_id=_site_param(request),
    )
    if people is None:
        raise Http404("No such box.")
    return render(
        request,
        "trial/box.html",
        {
            "trial": trial,
            "box": request.GET.get("box", ""),
            "people": people,
            "cut_off": cut_off,
            "nav": "trial",
        },
    )


# Protocol deviations

RECORD = Perm.RECORD_DEVIATIONS


def _deviation_trial(request: HttpRequest, code: str) -> tuple[Trial, list[Site]]:
    trial = _trial(request, code)
    sites = selectors.deviation_sites(user=request.user, trial=trial)
    if not sites:
        raise PermissionDenied("You cannot see this trial's protocol deviations.")
    return trial, sites


@perm_required(Perm.VIEW_DEVIATIONS)
def deviation_list(request: HttpRequest, code: str) -> HttpResponse:
    """The protocol deviations log, filtered by category, severity and site; CSV download."""
    trial, sites = _deviation_trial(request, code)
    form = DeviationFilterForm(request.GET or None, sites=sites)
    data = form.cleaned_data if form.is_valid() else {}
    query = selectors.DeviationQuery(
        category=data.get("category", ""),
        severity=data.get("severity", ""),
        site_id=data.get("site"),
    )
    deviations = selectors.deviations_visible_to(user=request.user, trial=trial, query=query)
    if request.GET.get("format") == "csv":
        filters = {k: str(data.get(k) or "") for k in ("category", "severity", "site")}
        return _deviations_csv(request, trial, deviations, filters)
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "trial/deviations.html",
        {
            "trial": trial,
            "form": form,
            "page": Paginator(deviations, settings.PAGE_SIZE).get_page(request.GET.get("page")),
            "querystring": params.urlencode(),
            "filtered": any(data.values()),
            "can_record": bool(
                selectors.deviation_sites(user=request.user, trial=trial, perm=RECORD)
            ),
            "breaches": selectors.order_breaches_visible_to(user=request.user, trial=trial),
            "site_names": {site.pk: site.name for site in sites},
            "nav": "trial",
        },
    )


def _deviations_csv(
    request: HttpRequest, trial: Trial, deviations: Any, filters: dict[str, str]
) -> HttpResponse:
    rows = list(deviations)
    services.deviations_export_record(
        by=current_user(request),
        trial=trial,
        rows=rows,
        filters=filters,
        request=request,
    )
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="deviations-{trial.code}.csv"'
    writer = csv.writer(response)
    writer.writerow(["id", *services.DEVIATION_FIELDS, "recorded_by"])
    for d in rows:
        writer.writerow(
            [
                d.pk,
                d.site.code,
                d.participant.young_person.study_id if d.participant else "",
                d.occurred_on,
                d.identified_on,
                d.get_category_display(),
                d.get_severity_display(),
                d.description,
                d.corrective_action,
                d.reported_to_sponsor_on or "",
                d.recorded_by,
            ]
        )
    return response


def _deviation_initial(request: HttpRequest, participants: Any) -> dict[str, Any]:
    """Prefill a new deviation from a possible deviation found in the records (query string)."""
    initial: dict[str, Any] = {"identified_on": today()}
    participant = participants.filter(pk=request.GET.get("participant") or 0).first()
    if participant is not None:
        initial.update(participant=participant.pk, site=participant.site_id)
    on = parse_date(request.GET.get("on", "") or "")
    if on is not None:
        initial["occurred_on"] = on
    if request.GET.get("category") in DeviationCategory.values:
        initial["category"] = request.GET["category"]
    if request.GET.get("description"):
        initial["description"] = request.GET["description"][:2000]
    return initial


@perm_required(RECORD)
def deviation_edit(request: HttpRequest, code: str, pk: int | None = None) -> HttpResponse:
    """Log a protocol deviation, or change one already logged."""
    trial = _trial(request, code)
    sites = selectors.deviation_sites(user=request.user, trial=trial, perm=RECORD)
    if not sites:
        raise PermissionDenied("You cannot record protocol deviations in this trial.")
    deviation = None
    if pk is not None:
        deviation = get_object_or_404(
            selectors.deviations_visible_to(user=request.user, trial=trial), pk=pk
        )
        if deviation.site not in sites:
            raise PermissionDenied("You can see this deviation but not change it.")
    participants = (
        selectors.participants_visible_to(user=request.user, trial=trial)
        .filter(site__in=sites)
        .order_by("young_person__study_id")
    )
    form = DeviationForm(
        request.POST or None,
        instance=deviation,
        sites=sites,
        participants=participants,
        initial=_deviation_initial(request, participants) if deviation is None else None,
    )
    if request.method == "POST" and form.is_valid():
        by, data = current_user(request), form.cleaned_data
        try:
            if deviation is None:
                services.protocol_deviation_record(by=by, trial=trial, request=request, **data)
            else:
                services.protocol_deviation_update(
                    by=by, deviation=deviation, request=request, **data
                )
        except ValidationError as error:
            form.apply_service_errors(error)
        else:
            messages.success(request, "Protocol deviation saved.")
            return redirect("trial:deviations", code=code)
    return render(
        request,
        "trial/deviation_form.html",
        {
            "trial": trial,
            "form": form,
            "title": "Change a protocol deviation" if deviation else "Log a protocol deviation",
            "nav": "trial",
        },
        status=400 if form.errors else 200,
    )


# Database lock


@perm_required(Perm.LOCK_TRIAL)
def trial_lock_page(request: HttpRequest, code: str) -> HttpResponse:
    """The lock state, what blocks locking, the lock and unlock forms and the lock history."""
    trial = _trial(request, code)
    user = current_user(request)
    if not lock.may_lock(user, trial):
        raise PermissionDenied("You cannot lock this trial's database.")
    lock_form = LockForm(prefix="lock")
    unlock_form = UnlockRequestForm(prefix="unlock")
    errors: list[str] = []
    action = request.POST.get("action", "")
    if request.method == "POST":
        try:
            done = _lock_action(request, trial, action, lock_form, unlock_form)
        except ValidationError as error:
            errors = error.messages
        else:
            if done:
                messages.success(request, done)
                return redirect("trial:lock", code=code)
            lock_form = LockForm(request.POST, prefix="lock") if action == "lock" else lock_form
            unlock_form = (
                UnlockRequestForm(request.POST, prefix="unlock")
                if action == "request"
                else unlock_form
            )
    on = today()
    pending = lock.pending_unlock_request(trial)
    return render(
        request,
        "trial/lock.html",
        {
            "trial": trial,
            "windows": lockchecks.open_windows(trial, on=on),
            "blockers": [] if trial.is_locked else lockchecks.lock_blockers(trial, on=on),
            "pending": pending,
            "may_approve": pending is not None and pending.by_id != user.pk,
            "history": selectors.lock_history(trial=trial),
            "lock_form": lock_form,
            "unlock_form": unlock_form,
            "errors": errors,
            "nav": "trial",
        },
        status=400 if request.method == "POST" else 200,
    )


def _lock_action(
    request: HttpRequest,
    trial: Trial,
    action: str,
    lock_form: LockForm,
    unlock_form: UnlockRequestForm,
) -> str:
    """Do what the lock page's form asked; return the success message ('' when the form is bad)."""
    by = current_user(request)
    if action == "lock":
        form: LockForm | UnlockRequestForm = LockForm(request.POST, prefix="lock")
        if not form.is_valid():
            return ""
        lock.trial_lock(
            by=by, trial=trial, reason=form.cleaned_data["reason"], http_request=request
        )
        return f"Trial {trial.code}'s database is locked: its data are now read-only."
    if action == "request":
        form = UnlockRequestForm(request.POST, prefix="unlock")
        if not form.is_valid():
            return ""
        lock.trial_unlock_request(
            by=by, trial=trial, reason=form.cleaned_data["reason"], http_request=request
        )
        return "Unlock asked for: a second person must approve it."
    if action == "approve":
        pending = lock.pending_unlock_request(trial)
        if pending is None:
            raise ValidationError("There is no unlock request waiting for approval.")
        lock.trial_unlock_approve(by=by, request=pending, http_request=request)
        return f"Trial {trial.code}'s database is unlocked: its data can be changed again."
    raise ValidationError("Choose lock, ask to unlock, or approve the unlock.")


# Consent forms and re-consent


def _forms_trial(request: HttpRequest, code: str) -> Trial:
    trial = _trial(request, code)
    if not consent_forms.may_see_forms(request.user, trial):
        raise PermissionDenied("You cannot see this trial's consent forms.")
    return trial


@perm_required(None)
def consent_form_list(request: HttpRequest, code: str) -> HttpResponse:
    """The trial's consent form versions, and (for those who manage them) adding a new one."""
    trial = _forms_trial(request, code)
    may_manage = consent_forms.may_manage_forms(request.user, trial)
    needing = selectors.reconsent_needed(user=request.user, trial=trial)
    form = ConsentFormVersionForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied("You cannot add consent form versions.")
        if form.is_valid():
            try:
                added = consent_forms.consent_form_add(
                    by=current_user(request), trial=trial, request=request, **form.cleaned_data
                )
            except ValidationError as error:
                if hasattr(error, "error_dict"):
                    for field, problems in error.message_dict.items():
                        for problem in problems:
                            form.add_error(field if field in form.fields else None, problem)
                else:
                    for problem in error.messages:
                        form.add_error(None, problem)
            else:
                messages.success(
                    request,
                    f"{added.get_kind_display()} version {added.version} is now the current "
                    "version.",
                )
                return redirect("trial:consent_forms", code=code)
    return render(
        request,
        "trial/consent_forms.html",
        {
            "trial": trial,
            "forms_list": selectors.consent_forms(trial=trial),
            "form": form if may_manage else None,
            "needing": len({row.participant.pk for row in needing}),
            "nav": "trial",
        },
        status=400 if form.errors else 200,
    )


@perm_required(None)
def consent_form_download(request: HttpRequest, code: str, pk: int) -> FileResponse:
    """One version's PDF, to trial staff (audited)."""
    trial = _forms_trial(request, code)
    version = get_object_or_404(ConsentFormVersion, trial=trial, pk=pk)
    if not version.file:
        raise Http404("This version has no file (it was recorded before forms were managed).")
    consent_forms.consent_form_download_record(
        by=current_user(request), form=version, request=request
    )
    return FileResponse(
        version.file.open("rb"),
        as_attachment=True,
        filename=f"{trial.code}-{version.kind}-{version.version}.pdf",
        content_type="application/pdf",
    )


@perm_required(Perm.RANDOMISE)
def reconsent_list(request: HttpRequest, code: str) -> HttpResponse:
    """Participants whose latest consent is on an older form version, with counts by site."""
    trial = _forms_trial(request, code)
    rows = selectors.reconsent_needed(user=request.user, trial=trial)
    return render(
        request,
        "trial/reconsent.html",
        {
            "trial": trial,
            "rows": rows,
            "by_site": selectors.reconsent_by_site(rows),
            "nav": "trial",
        },
    )
