"""Demo steps: Trafford is a site in the START trial; its families are consented and randomised.

``trial_setup`` (150) sets the trial up from ``trial/config/start-demo.toml`` before any referral
is decided, so the panel's acceptance hands each family to it (enrolment and eligibility from the
referral's criteria). ``trial`` (210) takes consent and randomises through the trial services in
date order, as the trial manager, with the randomisation's real (past) date: minimisation sees
the allocations in the order they were made. A family allocated to management as usual has its
referral closed by the trial; families allocated to MST wait for a therapist. The trial baseline
is recorded before each randomisation (baseline comes first). ``episodes`` (220)
then opens their MST episodes through ``referral_allocate`` in date order, discharges included,
so no therapist goes over their cap. Stockport stays a service outside the trial.

The arms come from the installation's allocation key (``TRIAL_ALLOCATION_KEY``), as real
allocations do: the same seed gives the same site on the same installation, and about 40 families
in each arm on any.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

from django.core.files.base import ContentFile
from django.utils import timezone

from mstoutcomes.cases.services import episode_discharge, episode_update
from mstoutcomes.demo import data
from mstoutcomes.demo.builder import DemoContext, register_step
from mstoutcomes.demo.plan import EpisodeRequest, schedule_episodes
from mstoutcomes.demo.steps.measures import record_trial_baseline
from mstoutcomes.demo.steps.referrals import CAPACITY
from mstoutcomes.referrals.forecast import effective_cap
from mstoutcomes.referrals.models import Referral
from mstoutcomes.referrals.services import referral_allocate
from mstoutcomes.trial.config import load_trial_config
from mstoutcomes.trial.consent_forms import consent_form_add
from mstoutcomes.trial.models import (
    ConsentFormVersion,
    ConsentKind,
    Participant,
    Trial,
    WithdrawalLevel,
)
from mstoutcomes.trial.selectors import reconsent_needed
from mstoutcomes.trial.services import (
    consent_record,
    participant_randomise,
    trial_create,
    withdrawal_record,
)

CONFIG_DIR = Path(__file__).resolve().parents[2] / "trial" / "config"
# The form versions in use from the start, and the carer consent form's later amendment.
FORM_VERSIONS = {
    ConsentKind.CARER_CONSENT: "v2.1",
    ConsentKind.YOUNG_PERSON_ASSENT: "v2.0",
    ConsentKind.DATA_LINKAGE: "v1.0",
}
AMENDED = (ConsentKind.CARER_CONSENT, "v2.2")
ETHICS = "North West – Greater Manchester REC, 23/NW/0417"
# Families not yet seen again since the amendment: the "needs re-consent" list shows them.
NOT_YET_RECONSENTED = 2


def _form_pdf(kind: str, version: str) -> ContentFile:
    """A one-page PDF standing in for the approved form."""
    from mstoutcomes.core.pdf import html_to_pdf

    label = ConsentKind(kind).label
    html = (
        f"<html><body><h1>START trial: {label}</h1><p>Version {version}.</p>"
        "<p>This is a demonstration form: it stands in for the approved document.</p>"
        "</body></html>"
    )
    return ContentFile(html_to_pdf(html), name=f"{kind}-{version}.pdf")


def _add_form(ctx: DemoContext, trial: Trial, kind: str, version: str, on: dt.date) -> None:
    consent_form_add(
        by=ctx.users["trialmanager"],
        trial=trial,
        kind=kind,
        version=version,
        approved_on=on,
        approved_by=ETHICS,
        file=_form_pdf(kind, version),
    )


def _current_form(trial: Trial, kind: str) -> ConsentFormVersion:
    return ConsentFormVersion.objects.get(trial=trial, kind=kind, is_current=True)


@dataclass(frozen=True)
class TrialCourse:
    """What later steps need about a randomised participant."""

    arm: str
    randomised_on: dt.date
    withdrawn_on: dt.date | None = None
    lost_from_month: int | None = None


@register_step("trial_setup", order=150)
def trial_setup(ctx: DemoContext) -> str:
    """Set up the demo trial at the trial sites, before any referral is decided."""
    spec = load_trial_config(CONFIG_DIR / data.TRIAL_CONFIG)
    sites = [ctx.sites[site.code] for site in data.SITES if site.trial_site]
    # A fresh trial gets a random list identity; the demo's is derived from the seed and date,
    # so the same seed builds the same arms on this installation.
    list_id = hashlib.sha256(f"mstoutcomes-demo:{ctx.seed}:{ctx.as_of}".encode()).hexdigest()[:32]
    trial = trial_create(by=None, spec=spec, sites=sites, list_id=list_id)
    ctx.extras["trial_setup"] = {"trial": trial}
    # The forms were approved before the first family at a trial site was referred.
    site_ids = {site.pk for site in sites}
    referred = [p.referred_on for p in ctx.young_people if p.site_id in site_ids and p.referred_on]
    approved_on = min([*referred, ctx.as_of]) - dt.timedelta(days=60)
    for kind, version in FORM_VERSIONS.items():
        _add_form(ctx, trial, kind, version, approved_on)
    return f"trial {trial.code} at {', '.join(s.code for s in sites)}, {len(FORM_VERSIONS)} forms"


def _trial(ctx: DemoContext) -> Trial:
    trial: Trial = ctx.extras["trial_setup"]["trial"]
    return trial


def _allocation_time(day: dt.date, n: int, total: int) -> dt.datetime:
    """Return a randomisation time on a day, in sequence order, never in the future."""
    at = timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)) + dt.timedelta(minutes=n))
    return min(at, timezone.now() - dt.timedelta(minutes=total - n))


def _consent(
    ctx: DemoContext, trial: Trial, participant: Participant
) -> str | tuple[dt.date, dt.date]:
    """Take a family's consent (or refusal); return (consent, randomisation) dates, or what
    happened."""
    person = participant.young_person
    course = ctx.plans[person.study_id].trial
    assert course is not None
    manager = ctx.users["trialmanager"]
    accepted_on = participant.eligibility_confirmed_on or person.referred_on or ctx.as_of
    if participant.is_eligible is False:
        # The trial closed the referral at hand-over ("Not eligible for trial ...").
        return "not eligible"
    consent_on = accepted_on + dt.timedelta(days=course.consent_days)
    if consent_on > ctx.as_of:
        return "awaiting consent"
    if course.disposition == "declined":
        consent_record(
            by=manager,
            participant=participant,
            form=_current_form(trial, ConsentKind.CARER_CONSENT),
            given=False,
            recorded_on=consent_on,
            notes="The family did not want to take part in the trial.",
        )
        # The declined consent closes the referral waiting for the trial (withdrawn).
        return "declined"
    kinds = [ConsentKind.CARER_CONSENT, ConsentKind.YOUNG_PERSON_ASSENT]
    if ctx.rng.random() < 0.9:
        kinds.append(ConsentKind.DATA_LINKAGE)
    for kind in kinds:
        consent_record(
            by=manager,
            participant=participant,
            form=_current_form(trial, kind),
            given=True,
            recorded_on=consent_on,
        )
    randomise_on = consent_on + dt.timedelta(days=course.randomise_days)
    return "awaiting randomisation" if randomise_on > ctx.as_of else (consent_on, randomise_on)


def _randomise(
    ctx: DemoContext, participant: Participant, day: dt.date, at: dt.datetime
) -> TrialCourse:
    """Randomise at the planned (past) time; record the planned withdrawal, if any."""
    manager = ctx.users["trialmanager"]
    allocation = participant_randomise(by=manager, participant=participant, at=at)
    course = ctx.plans[participant.young_person.study_id].trial
    assert course is not None
    withdrawn_on = None
    if course.withdraw_after_days is not None:
        withdrawn_on = day + dt.timedelta(days=course.withdraw_after_days)
        if withdrawn_on > ctx.as_of:
            withdrawn_on = None
        else:
            withdrawal_record(
                by=manager,
                participant=participant,
                level=WithdrawalLevel.FURTHER_DATA,
                on=withdrawn_on,
                reason="The family asked not to be contacted for further research visits.",
            )
    return TrialCourse(
        arm=allocation.arm,
        randomised_on=day,
        withdrawn_on=withdrawn_on,
        lost_from_month=course.lost_from_month,
    )


@register_step("trial", order=210)
def trial_course(ctx: DemoContext) -> str:
    """Take consent (or a refusal) and randomise every eligible family, in date order."""
    trial = _trial(ctx)
    people = [p for p in ctx.young_people if ctx.plans[p.study_id].trial is not None]
    participants = (
        Participant.objects.unscoped()
        .filter(trial=trial, young_person__in=people)
        .select_related("young_person")
        .order_by("young_person__study_id")
    )
    counts: Counter[str] = Counter({"awaiting the panel": len(people) - len(participants)})
    queue: list[tuple[dt.date, str, Participant]] = []
    visits = []
    for participant in ctx.track(list(participants), "Trial consent"):
        outcome = _consent(ctx, trial, participant)
        if isinstance(outcome, str):
            counts[outcome] += 1
            continue
        consent_on, randomise_on = outcome
        queue.append((randomise_on, participant.young_person.study_id, participant))
        # Baseline before randomisation: the research visit falls between consent and then.
        # The baseline window opens at consent and closes 28 days later (measures' trial
        # schedule), so the visit falls in the last fortnight before randomisation, in window.
        last = min(randomise_on, consent_on + dt.timedelta(days=28))
        first = max(consent_on, last - dt.timedelta(days=14))
        day = first + dt.timedelta(days=ctx.rng.randint(0, (last - first).days))
        visits.append((participant.young_person, randomise_on, day))
    record_trial_baseline(ctx, visits)
    queue.sort(key=lambda item: (item[0], item[1]))
    courses: dict[str, TrialCourse] = {}
    for n, (day, study_id, participant) in enumerate(ctx.track(queue, "Randomisation")):
        courses[study_id] = _randomise(ctx, participant, day, _allocation_time(day, n, len(queue)))
        counts[f"randomised to {courses[study_id].arm}"] += 1
    ctx.extras["trial"] = courses
    detail = ", ".join(f"{n} {what}" for what, n in sorted(counts.items()) if n)
    waiting = _amend_carer_consent(ctx, trial)
    return f"{len(people)} families at the trial site: {detail}; {waiting} to re-consent"


def _amend_carer_consent(ctx: DemoContext, trial: Trial) -> int:
    """Approve a later carer consent form and re-consent all but a couple of families on it.

    The amendment is approved after the last consent taken so far (about six weeks before the
    as-of date at the latest); families are re-consented at a visit after the approval, and the
    last few are not seen yet, so the "needs re-consent" list has something to show. Returns how
    many are left to re-consent.
    """
    from mstoutcomes.trial.models import ConsentRecord

    kind, version = AMENDED
    last_consent = (
        ConsentRecord.objects.unscoped()
        .filter(participant__trial=trial)
        .order_by("-recorded_on")
        .values_list("recorded_on", flat=True)
        .first()
    )
    approved_on = max(ctx.as_of - dt.timedelta(days=45), (last_consent or ctx.as_of))
    approved_on = min(approved_on + dt.timedelta(days=1), ctx.as_of)
    manager = ctx.users["trialmanager"]
    _add_form(ctx, trial, kind, version, approved_on)
    form = _current_form(trial, kind)
    rows = reconsent_needed(user=manager, trial=trial)
    due = sorted({row.participant.young_person.study_id: row.participant for row in rows}.items())
    seen = due[: max(0, len(due) - NOT_YET_RECONSENTED)]
    span = max(1, (ctx.as_of - approved_on).days)
    for n, (_study_id, participant) in enumerate(seen):
        consent_record(
            by=manager,
            participant=participant,
            form=form,
            given=True,
            recorded_on=approved_on + dt.timedelta(days=n % span),
            notes="Re-consented on the amended form at the next research visit.",
        )
    return len(due) - len(seen)


@register_step("episodes", order=220)
def episodes(ctx: DemoContext) -> str:
    """Open and discharge the MST arm's episodes through the referral, in date order."""
    trial = _trial(ctx)
    courses: dict[str, TrialCourse] = ctx.extras.get("trial", {})
    mst = [code for code in trial.spec.arm_codes if code != trial.spec.reference_arm.code]
    by_study_id = {p.study_id: p for p in ctx.young_people}
    requests = [
        EpisodeRequest(key, course.randomised_on, ctx.plans[key].trial.wait_days)  # type: ignore[union-attr]
        for key, course in courses.items()
        if course.arm in mst
    ]
    caps = {name: effective_cap(cap, float(Decimal(fte))) for name, (fte, cap) in CAPACITY.items()}
    supervisor = next(site.supervisor for site in data.SITES if site.trial_site)
    plans = schedule_episodes(ctx.rng, requests, caps=caps, supervisor=supervisor, as_of=ctx.as_of)
    referrals = {
        r.young_person.study_id: r
        for r in Referral.objects.unscoped()
        .filter(young_person__study_id__in=list(plans), state="accepted")
        .select_related("young_person")
    }
    events: list[tuple[dt.date, int, str]] = []
    for key, plan in plans.items():
        events.append((plan.start_date, 1, key))
        if plan.end_date is not None:
            events.append((plan.end_date, 0, key))  # a place frees before the day's starts
    opened = {}
    for day, kind, key in ctx.track(sorted(events), "MST episodes"):
        plan = plans[key]
        if kind == 1:
            episode = referral_allocate(
                by=None,
                referral=referrals[key],
                therapist=ctx.users[plan.therapist],
                start_date=day,
            )
            opened[key] = episode_update(
                by=None, episode=episode, fields={"supervisor": ctx.users[plan.supervisor]}
            )
        else:
            opened[key] = episode_discharge(
                by=None, episode=opened[key], fields=plan.discharge_fields()
            )
    for key in sorted(opened, key=lambda k: by_study_id[k].study_id):
        ctx.episodes.append(opened[key])
        ctx.plans[key] = replace(ctx.plans[key], episode=plans[key])
    in_treatment = sum(1 for key in opened if plans[key].end_date is None)
    waiting = len(requests) - len(opened)
    return (
        f"{len(opened)} MST episodes at the trial site: {len(opened) - in_treatment} discharged, "
        f"{in_treatment} in treatment, {waiting} waiting for a therapist"
    )


# Deviations a real site logs: none of them says which arm anyone is in.
DEVIATIONS = (
    (
        "assessment_window",
        "minor",
        200,
        "6-month follow-up questionnaires collected five weeks after the window closed: the "
        "family had moved house and could not be reached.",
        "Contact details are now checked at every research visit.",
    ),
    (
        "consent",
        "minor",
        20,
        "Young person's assent recorded on the superseded form (v1.9) after v2.0 was approved.",
        "Assent retaken on v2.0 at the next visit; superseded forms removed from the office.",
    ),
    (
        "data",
        "major",
        None,
        "A research spreadsheet with names and dates of birth was emailed to an unencrypted "
        "address. It was recalled the same day and reported to the data protection officer.",
        "Research staff retrained; spreadsheets now shared only through the secure drive.",
    ),
)


@register_step("trial_deviations", order=230)
def trial_deviations(ctx: DemoContext) -> str:
    """Log a few protocol deviations, so the deviations log has something to show."""
    from mstoutcomes.trial.services import protocol_deviation_record

    trial = _trial(ctx)
    manager = ctx.users["trialmanager"]
    site = next(ctx.sites[s.code] for s in data.SITES if s.trial_site)
    courses: dict[str, TrialCourse] = ctx.extras.get("trial", {})
    by_study_id = {
        p.young_person.study_id: p
        for p in Participant.objects.unscoped().filter(trial=trial).select_related("young_person")
    }
    logged = 0
    for category, severity, after_days, description, action in DEVIATIONS:
        participant = None
        occurred = ctx.as_of - dt.timedelta(days=90)
        if after_days is not None:
            # The earliest-randomised participants whose deviation date has passed.
            candidates = sorted(
                (c.randomised_on, sid)
                for sid, c in courses.items()
                if c.randomised_on + dt.timedelta(days=after_days + 30) <= ctx.as_of
            )
            if not candidates:
                continue
            day, study_id = ctx.rng.choice(candidates[: max(1, len(candidates) // 3)])
            participant = by_study_id[study_id]
            occurred = day + dt.timedelta(days=after_days)
        protocol_deviation_record(
            by=manager,
            trial=trial,
            site=site,
            participant=participant,
            occurred_on=occurred,
            identified_on=occurred + dt.timedelta(days=12),
            category=category,
            severity=severity,
            description=description,
            corrective_action=action,
            reported_to_sponsor_on=occurred + dt.timedelta(days=14)
            if severity != "minor"
            else None,
        )
        logged += 1
    return f"{logged} protocol deviations"
