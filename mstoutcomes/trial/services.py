"""Every write of the trial: setting up, enrolling, consent, eligibility, randomising, withdrawing.

Randomisation is called explicitly (after consent), never from a signal. It is concurrency-safe:
the participant row is locked so a person is never randomised twice, and the stratum's list row
(blocks) or the trial row (minimisation) is locked so two requests never take the same slot or
see the same counts; unique constraints back both up in the database.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.http import HttpRequest
from django.utils import timezone

from mstoutcomes.accounts.models import Site, User
from mstoutcomes.accounts.permissions import Perm, user_has_perm
from mstoutcomes.accounts.services import audit_record
from mstoutcomes.cases.models import YoungPerson
from mstoutcomes.cases.protocol import Check, protocol_gate
from mstoutcomes.core.dates import age_on
from mstoutcomes.core.services import clean_and_save, require
from mstoutcomes.trial.blocks import arm_at, list_checksum
from mstoutcomes.trial.config import TrialSpec
from mstoutcomes.trial.drbg import Drbg
from mstoutcomes.trial.errors import (
    AlreadyRandomised,
    BaselineIncomplete,
    InvalidAllocationDate,
    ListExhausted,
    NoConsent,
    NotEligible,
    RandomisationError,
    Withdrawn,
)
from mstoutcomes.trial.minimisation import minimise
from mstoutcomes.trial.models import (
    Allocation,
    ConsentFormVersion,
    ConsentKind,
    ConsentRecord,
    DeviationCategory,
    DeviationSeverity,
    Method,
    Participant,
    ProtocolDeviation,
    StratumList,
    Trial,
    Withdrawal,
)
from mstoutcomes.trial.order import baseline_missing


def _participant_person(kwargs: dict[str, Any]) -> YoungPerson:
    """The young person a participant write is about (for the lock check at the seam)."""
    participant: Participant = kwargs["participant"]
    return participant.young_person


def _deviation_person(kwargs: dict[str, Any]) -> YoungPerson | None:
    """The young person a deviation names, if any (for the lock check at the seam)."""
    participant = kwargs.get("participant")
    if participant is None and kwargs.get("deviation") is not None:
        participant = kwargs["deviation"].participant
    return participant.young_person if participant is not None else None


REQUIRED_CONSENTS = (ConsentKind.CARER_CONSENT, ConsentKind.YOUNG_PERSON_ASSENT)
DEFAULT_STRATUM_LENGTH = 60


def allocation_key() -> bytes:
    return str(settings.TRIAL_ALLOCATION_KEY).encode()


@transaction.atomic
def trial_create(
    *,
    by: User | None,
    spec: TrialSpec,
    sites: list[Site],
    low_list_warning: int = 10,
    list_id: str | None = None,
) -> Trial:
    """Set up a trial from a validated configuration, with a fresh allocation sequence.

    ``list_id`` names the allocation sequence (random unless given). Arms come from it and the
    secret TRIAL_ALLOCATION_KEY together, so a given list_id reproduces arms only where the key
    is the same: the demo uses one derived from its seed; a live trial never needs it.
    """
    if list_id is not None and not (8 <= len(list_id) <= 64 and list_id.isalnum()):
        raise ValidationError({"list_id": "A list identity is 8 to 64 letters or digits."})
    trial = Trial(
        code=spec.code,
        title=spec.title,
        registration=spec.registration,
        method=spec.method,
        config=spec.as_dict(),
        is_test_mode=spec.test_mode,
        list_id=list_id or secrets.token_hex(16),
        low_list_warning=low_list_warning,
    )
    clean_and_save(trial)
    trial.sites.set(sites)
    audit_record(
        actor=by,
        action="trial.trial.created",
        obj=trial,
        data={
            "method": spec.method,
            "sites": [s.code for s in sites],
            "list_id_given": list_id is not None,
        },
    )
    return trial


def levels_for(
    trial: Trial,
    young_person: YoungPerson,
    extra: dict[str, str],
    *,
    on: dt.date | None = None,
) -> dict[str, str]:
    """Return the factor levels for a young person: site, sex and age band (age on `on`)."""
    spec = trial.spec
    derived: dict[str, str] = {}
    for factor in spec.factors:
        if factor.name == "site":
            derived["site"] = young_person.site.code
        elif factor.name == "sex":
            derived["sex"] = young_person.sex
        elif factor.name == "age_band":
            age = age_on(young_person.date_of_birth, on or timezone.localdate())
            for band in factor.categories:
                low, _, high = band.partition("-")
                if low.isdigit() and high.isdigit() and int(low) <= age <= int(high):
                    derived["age_band"] = band
    derived.update(extra)
    spec.check_levels(derived)
    return derived


@protocol_gate("trial.participant.enrol", lambda kw: kw["young_person"], Check.DATA)
@transaction.atomic
def participant_enrol(
    *,
    by: User | None,
    trial: Trial,
    young_person: YoungPerson,
    extra_levels: dict[str, str] | None = None,
    on: dt.date | None = None,
) -> Participant:
    """Add a young person to a trial's screening, with their stratification levels.

    Idempotent: a young person already in the trial is returned as they are (levels are never
    recomputed, so minimisation always sees the levels recorded at enrolment). ``on`` is the
    enrolment date the age band is worked out on (today if not given).
    """
    require(
        by is None or user_has_perm(by, Perm.RANDOMISE, site=young_person.site_id),
        "You cannot enrol participants at this site.",
    )
    if not trial.sites.filter(pk=young_person.site_id).exists():
        raise NotEligible(f"{young_person.site} is not a site in trial {trial.code}.")
    if trial.is_locked:
        raise NotEligible(f"Trial {trial.code}'s database is locked: no one can be enrolled.")
    existing = (
        Participant.objects.unscoped()
        .select_for_update()
        .filter(trial=trial, young_person=young_person)
        .first()
    )
    if existing is not None:
        return existing
    enrolled_on = on or timezone.localdate()
    participant = Participant(
        trial=trial,
        young_person=young_person,
        site=young_person.site,
        levels=levels_for(trial, young_person, extra_levels or {}, on=enrolled_on),
        enrolled_on=enrolled_on,
    )
    clean_and_save(participant)
    audit_record(
        actor=by,
        action="trial.participant.enrolled",
        obj=participant,
        site=participant.site,
        data={
            "young_person": young_person.study_id,
            "levels": participant.levels,
            "on": enrolled_on.isoformat(),
        },
    )
    return participant


@protocol_gate("trial.participant.eligibility", _participant_person, Check.DATA)
@transaction.atomic
def eligibility_record(
    *,
    by: User | None,
    participant: Participant,
    eligible: bool,
    on: dt.date,
    notes: str = "",
    criteria: list[dict[str, Any]] | None = None,
) -> Participant:
    """Confirm (or refuse) a participant's eligibility against the referral's criteria.

    ``by=None`` is the system recording the referral's evaluated criteria at hand-over; the
    criteria (kind, code, met, reason) go into the audit event so the evidence is kept.
    """
    require(
        by is None or user_has_perm(by, Perm.RANDOMISE, site=participant.site_id),
        "Not permitted.",
    )
    participant.is_eligible = eligible
    participant.eligibility_confirmed_on = on
    participant.eligibility_confirmed_by = by
    participant.eligibility_notes = notes
    clean_and_save(participant)
    data: dict[str, Any] = {"eligible": eligible, "young_person": participant.young_person.study_id}
    if criteria is not None:
        data["criteria"] = criteria
    audit_record(
        actor=by,
        action="trial.participant.eligibility_recorded",
        obj=participant,
        site=participant.site,
        data=data,
    )
    if not eligible:
        from mstoutcomes.trial.handover import close_before_randomisation

        close_before_randomisation(
            by=by,
            participant=participant,
            reason=f"Not eligible for trial {participant.trial.code}",
            not_eligible=True,
        )
    return participant


@protocol_gate("trial.consent.record", _participant_person, Check.DATA)
@transaction.atomic
def consent_record(
    *,
    by: User,
    participant: Participant,
    form: ConsentFormVersion | None,
    given: bool,
    recorded_on: dt.date,
    kind: str | None = None,
    notes: str = "",
    request: HttpRequest | None = None,
) -> ConsentRecord:
    """Record one consent or assent on the current version of a form of this trial.

    The kind of consent is the form's; ``kind``, when given, must agree with it. A form of
    another trial, another kind, or one superseded by a newer version is refused.
    """
    require(user_has_perm(by, Perm.RANDOMISE, site=participant.site_id), "Not permitted.")
    if form is None:
        raise ValidationError({"form": "Choose the consent form version the family signed."})
    if form.trial_id != participant.trial_id:
        raise ValidationError({"form": "That consent form belongs to another trial."})
    if kind is not None and kind != form.kind:
        raise ValidationError(
            {"form": f"That form is for {form.get_kind_display().lower()}, not this consent."}
        )
    # Read from the database: the form passed in may be older than a new version just added.
    if not ConsentFormVersion.objects.filter(pk=form.pk, is_current=True).exists():
        current = (
            ConsentFormVersion.objects.filter(
                trial_id=form.trial_id, kind=form.kind, is_current=True
            )
            .values_list("version", flat=True)
            .first()
        )
        raise ValidationError(
            {
                "form": f"Version {form.version} of this form has been superseded"
                + (f" by version {current}" if current else "")
                + ": take consent on the current version."
            }
        )
    if recorded_on is not None and recorded_on < form.approved_on:
        raise ValidationError(
            {
                "recorded_on": f"A consent cannot be dated before its form version was approved "
                f"({form.approved_on:%-d %B %Y})."
            }
        )
    record = ConsentRecord(
        participant=participant,
        kind=form.kind,
        form=form,
        form_version=form.version,
        given=given,
        recorded_on=recorded_on,
        taken_by=by,
        notes=notes,
    )
    clean_and_save(record)
    audit_record(
        actor=by,
        action="trial.consent.recorded",
        obj=record,
        site=participant.site,
        data={
            "kind": form.kind,
            "form_version": form.version,
            "given": given,
            "young_person": participant.young_person.study_id,
        },
        request=request,
    )
    if not given and form.kind in REQUIRED_CONSENTS:
        from mstoutcomes.trial.handover import close_before_randomisation

        close_before_randomisation(
            by=by,
            participant=participant,
            reason=(
                f"{ConsentKind(form.kind).label} was declined for trial {participant.trial.code}"
            ),
        )
    return record


@protocol_gate("trial.participant.withdraw", _participant_person, Check.DATA)
@transaction.atomic
def withdrawal_record(
    *, by: User, participant: Participant, level: str, on: dt.date, reason: str = ""
) -> Withdrawal:
    """Record a withdrawal at one of the three levels."""
    require(user_has_perm(by, Perm.RANDOMISE, site=participant.site_id), "Not permitted.")
    withdrawal = Withdrawal(
        participant=participant, level=level, withdrawn_on=on, reason=reason, recorded_by=by
    )
    clean_and_save(withdrawal)
    audit_record(
        actor=by,
        action="trial.participant.withdrawn",
        obj=withdrawal,
        site=participant.site,
        data={"level": level, "young_person": participant.young_person.study_id},
    )
    from mstoutcomes.trial.handover import close_before_randomisation

    close_before_randomisation(
        by=by,
        participant=participant,
        reason=f"The family withdrew from trial {participant.trial.code} before randomisation",
    )
    return withdrawal


def _latest_consents(participant: Participant) -> dict[str, bool]:
    latest: dict[str, bool] = {}
    for record in participant.consents.order_by("recorded_on", "id"):
        latest[record.kind] = record.given
    return latest


def _check_ready(participant: Participant) -> None:
    if Allocation.objects.unscoped().filter(participant=participant).exists():
        raise AlreadyRandomised(f"{participant.young_person.study_id} is already randomised.")
    if participant.is_eligible is not True:
        raise NotEligible(f"{participant.young_person.study_id} has not been confirmed eligible.")
    consents = _latest_consents(participant)
    missing = [ConsentKind(k).label for k in REQUIRED_CONSENTS if consents.get(k) is not True]
    if missing:
        raise NoConsent(f"Randomisation needs: {', '.join(missing)}.")
    if participant.withdrawals.exists():
        raise Withdrawn(f"{participant.young_person.study_id} has withdrawn from the trial.")


def _allocate_blocks(trial: Trial, participant: Participant) -> tuple[str, str, int, dict]:
    spec = trial.spec
    stratum = spec.stratum_of(participant.levels)
    StratumList.objects.get_or_create(
        trial=trial, stratum=stratum, defaults={"length": DEFAULT_STRATUM_LENGTH}
    )
    slots = StratumList.objects.select_for_update().get(trial=trial, stratum=stratum)
    if slots.used >= slots.length:
        raise ListExhausted(
            f"The allocation list for {stratum} is used up; a trial manager must extend it."
        )
    sequence = slots.used + 1
    arm = arm_at(
        spec, key=allocation_key(), list_id=trial.list_id, stratum=stratum, sequence=sequence
    )
    slots.used = sequence
    slots.save(update_fields=["used"])
    return arm, stratum, sequence, {"remaining": slots.remaining}


def _allocate_minimisation(trial: Trial, participant: Participant) -> tuple[str, str, int, dict]:
    spec = trial.spec
    Trial.objects.select_for_update().get(pk=trial.pk)  # one minimisation at a time per trial
    counts: dict[str, dict[str, dict[str, int]]] = {}
    rows = (
        Allocation.objects.unscoped().filter(trial=trial).values_list("participant__levels", "arm")
    )
    for levels, arm in rows:
        for factor, level in levels.items():
            cell = counts.setdefault(factor, {}).setdefault(level, {})
            cell[arm] = cell.get(arm, 0) + 1
    sequence = Allocation.objects.unscoped().filter(trial=trial).count() + 1
    drbg = Drbg(allocation_key(), f"minimisation|{trial.code}|{trial.list_id}|{sequence}")
    decision = minimise(
        spec, counts, participant.levels, draw=drbg.uniform(), tie_draw=drbg.uniform()
    )
    return decision.arm, "*", sequence, decision.as_dict()


@protocol_gate("trial.participant.randomise", _participant_person, Check.DATA)
def participant_randomise(
    *,
    by: User,
    participant: Participant,
    request: HttpRequest | None = None,
    at: dt.datetime | None = None,
    baseline_waiver_reason: str = "",
) -> Allocation:
    """Randomise a consented, eligible participant, exactly once; refusals are audited.

    Baseline comes before randomisation: it is refused (``BaselineIncomplete``, naming what is
    missing) until every baseline task of the trial schedule has a completed assessment, unless
    ``baseline_waiver_reason`` is given; then the randomisation goes ahead and a minor protocol
    deviation recording the missing items and the reason is saved in the same transaction.

    ``at`` records a randomisation made earlier (the demo's history, or entering one done by
    telephone): it is refused in the future, before the consents it needs, or before the last
    allocation already in the same sequence, so allocation times always follow the sequence.
    After the allocation is saved, ``trial.handover.allocation_handover`` tells the referral the
    result in the same transaction (management as usual closes it; MST waits for a therapist).
    """
    require(
        user_has_perm(by, Perm.RANDOMISE, site=participant.site_id),
        "You cannot randomise participants at this site.",
    )
    try:
        with transaction.atomic():
            locked = Participant.objects.unscoped().select_for_update().get(pk=participant.pk)
            _check_ready(locked)
            missing = baseline_missing(locked)
            waiver = baseline_waiver_reason.strip()
            if missing and not waiver:
                raise BaselineIncomplete(
                    f"{locked.young_person.study_id}'s baseline assessments are not complete. "
                    f"Still missing: {'; '.join(missing)}. Complete them first, or give a "
                    f"reason to randomise without them (recorded as a protocol deviation)."
                )
            schedule_before = _schedule_before(locked)
            trial = locked.trial
            if trial.method == Method.BLOCKS:
                arm, stratum, sequence, details = _allocate_blocks(trial, locked)
            else:
                arm, stratum, sequence, details = _allocate_minimisation(trial, locked)
            allocated_at = timezone.now() if at is None else _check_allocation_time(locked, at)
            allocation = Allocation(
                trial=trial,
                participant=locked,
                arm=arm,
                method=trial.method,
                stratum=stratum,
                sequence=sequence,
                details=details,
                is_test=trial.is_test_mode,
                allocated_at=allocated_at,
                allocated_by=by,
            )
            try:
                with transaction.atomic():
                    allocation.save()
            except IntegrityError:
                if not Allocation.objects.unscoped().filter(participant=locked).exists():
                    raise  # a slot collision would be a locking bug: never hide it
                raise AlreadyRandomised(
                    f"{locked.young_person.study_id} was randomised by another request."
                ) from None
            audit_record(
                actor=by,
                action="trial.participant.randomised",
                obj=locked,
                site=locked.site,
                data={
                    "young_person": locked.young_person.study_id,
                    "sequence": sequence,
                    "stratum": stratum,
                    "test": trial.is_test_mode,
                    **({"allocated_at": allocated_at.isoformat()} if at is not None else {}),
                },
                request=request,
            )
            if missing:
                _baseline_waiver_deviation(by, locked, allocated_at, missing, waiver, request)
            _warn_if_low(by, trial, stratum, details)
            # Randomisation anchors the trial's follow-up schedule: record the new due dates.
            from mstoutcomes.measures.services import schedule_recompute

            schedule_recompute(
                by=by, young_person=locked.young_person, before=schedule_before, request=request
            )
            # The referral learns the result in the same transaction, so an allocation and the
            # referral's closure (management as usual) are committed together or not at all.
            from mstoutcomes.trial.handover import allocation_handover

            allocation_handover(by=by, allocation=allocation, request=request)
            return allocation
    except RandomisationError as error:
        audit_record(
            actor=by,
            action="trial.randomisation.refused",
            obj=participant,
            site=participant.site,
            data={"reason": error.code, "message": str(error)},
            request=request,
        )
        raise


def _baseline_waiver_deviation(
    by: User,
    participant: Participant,
    allocated_at: dt.datetime,
    missing: list[str],
    reason: str,
    request: HttpRequest | None,
) -> ProtocolDeviation:
    """Record randomisation without a complete baseline as a minor deviation (same transaction)."""
    day = timezone.localdate(allocated_at)
    deviation = ProtocolDeviation(
        trial=participant.trial,
        participant=participant,
        site=participant.site,
        occurred_on=day,
        identified_on=day,
        category=DeviationCategory.RANDOMISATION,
        severity=DeviationSeverity.MINOR,
        description=(
            f"Randomised before the baseline assessments were complete. Missing: "
            f"{'; '.join(missing)}. Reason: {reason}"
        ),
        recorded_by=by,
    )
    clean_and_save(deviation)
    audit_record(
        actor=by,
        action="trial.deviation.recorded",
        obj=deviation,
        site=participant.site,
        data={**_deviation_data(deviation), "baseline_waiver": True, "missing": len(missing)},
        request=request,
    )
    return deviation


def _check_allocation_time(participant: Participant, at: dt.datetime) -> dt.datetime:
    """Return a back-dated allocation time, refusing one in the future or out of order."""
    if timezone.is_naive(at):
        raise InvalidAllocationDate("Give the randomisation time with its time zone.")
    if at > timezone.now():
        raise InvalidAllocationDate("A randomisation cannot be dated in the future.")
    consented = participant.consents.filter(kind__in=REQUIRED_CONSENTS, given=True).values_list(
        "recorded_on", flat=True
    )
    if consented and timezone.localdate(at) < max(consented):
        raise InvalidAllocationDate("A randomisation cannot be dated before the consents it needs.")
    previous = (
        Allocation.objects.unscoped()
        .filter(trial=participant.trial)
        .order_by("-allocated_at")
        .values_list("allocated_at", flat=True)
        .first()
    )
    if previous is not None and at < previous:
        raise InvalidAllocationDate(
            "A randomisation cannot be dated before the trial's latest allocation "
            f"({timezone.localtime(previous):%d %B %Y %H:%M})."
        )
    return at


def _schedule_before(participant: Participant) -> list[Any]:
    from mstoutcomes.measures.services import latest_episode, tasks_for

    person = participant.young_person
    return tasks_for(person, latest_episode(person))


def _warn_if_low(by: User, trial: Trial, stratum: str, details: dict[str, Any]) -> None:
    remaining = details.get("remaining")
    if remaining is not None and remaining < trial.low_list_warning:
        audit_record(
            actor=by,
            action="trial.list.running_low",
            obj=trial,
            data={"stratum": stratum, "remaining": remaining},
        )


@transaction.atomic
def stratum_list_extend(*, by: User, trial: Trial, stratum: str, extra: int) -> StratumList:
    """Make more slots of a stratum's sequence available; earlier slots never change."""
    require(user_has_perm(by, Perm.RANDOMISE), "You cannot extend allocation lists.")
    if extra < 1:
        raise ValueError("Extend by at least one slot.")
    trial.spec.check_levels(dict(part.split("=", 1) for part in stratum.split("|")))
    StratumList.objects.get_or_create(
        trial=trial, stratum=stratum, defaults={"length": DEFAULT_STRATUM_LENGTH}
    )
    slots = StratumList.objects.select_for_update().get(trial=trial, stratum=stratum)
    slots.length += extra
    slots.save(update_fields=["length"])
    audit_record(
        actor=by,
        action="trial.list.extended",
        obj=trial,
        data={"stratum": stratum, "length": slots.length, "checksum": trial_list_checksum(trial)},
    )
    return slots


def trial_list_checksum(trial: Trial) -> str:
    """Return the checksum of the whole list as currently available (all strata)."""
    lengths = dict(trial.stratum_lists.values_list("stratum", "length"))
    return list_checksum(trial.spec, key=allocation_key(), list_id=trial.list_id, lengths=lengths)


def allocation_list_export(*, by: User, trial: Trial) -> list[dict[str, Any]]:
    """Return the full list (used and upcoming slots) for verification; audited."""
    require(
        user_has_perm(by, Perm.EXPORT_ALLOCATION_LIST),
        "Exporting the allocation list is a separately granted permission.",
    )
    from mstoutcomes.trial.blocks import stratum_arms

    rows: list[dict[str, Any]] = []
    for stratum, length, used in trial.stratum_lists.values_list("stratum", "length", "used"):
        arms = stratum_arms(
            trial.spec, key=allocation_key(), list_id=trial.list_id, stratum=stratum, length=length
        )
        rows.extend(
            {"stratum": stratum, "slot": n, "arm": arm, "used": n <= used}
            for n, arm in enumerate(arms, start=1)
        )
    audit_record(
        actor=by,
        action="trial.list.exported",
        obj=trial,
        data={"rows": len(rows), "checksum": trial_list_checksum(trial)},
    )
    return rows


def arm_counts(trial: Trial) -> dict[str, int]:
    """Return allocations per arm (for unblinded users and reports)."""
    return dict(
        Allocation.objects.unscoped().filter(trial=trial).values_list("arm").annotate(n=Count("id"))
    )


def allocation_reveal(*, by: User, participant: Participant, reason: str) -> str:
    """Return a participant's arm to someone allowed to unblind, recording why (audited)."""
    require(
        user_has_perm(by, Perm.UNBLIND, site=participant.site_id),
        "Seeing an allocation needs the unblinding permission.",
    )
    if not reason.strip():
        raise ValidationError({"reason": "Enter why you need to see the allocation."})
    allocation = Allocation.objects.unscoped().filter(participant=participant).first()
    if allocation is None:
        raise NotEligible(f"{participant.young_person.study_id} has not been randomised.")
    # The audit records who looked and why, never the arm itself.
    audit_record(
        actor=by,
        action="trial.allocation.unblinded",
        obj=participant,
        site=participant.site,
        data={"reason": reason.strip(), "young_person": participant.young_person.study_id},
    )
    return allocation.arm


def consort_export_record(
    *,
    by: User,
    trial: Trial,
    fmt: str,
    cut_off: dt.date,
    site: Site | None = None,
    request: HttpRequest | None = None,
) -> None:
    """Record that someone downloaded the CONSORT counts (CSV) or diagram (PDF)."""
    require(user_has_perm(by, Perm.UNBLIND), "You cannot download the CONSORT diagram.")
    audit_record(
        actor=by,
        action="trial.consort.exported",
        obj=trial,
        site=site,
        data={"format": fmt, "cut_off": cut_off.isoformat(), "site": site.code if site else ""},
        request=request,
    )


# The fields a deviation is recorded with, in the order forms and the CSV show them.
DEVIATION_FIELDS = (
    "site",
    "participant",
    "occurred_on",
    "identified_on",
    "category",
    "severity",
    "description",
    "corrective_action",
    "reported_to_sponsor_on",
)


def _check_deviation_site(by: User, trial: Trial, site: Site | None) -> None:
    if site is None or not trial.sites.filter(pk=site.pk).exists():
        raise ValidationError({"site": "Choose a site that takes part in this trial."})
    require(
        user_has_perm(by, Perm.RECORD_DEVIATIONS, site=site.pk),
        "You cannot record protocol deviations at this site.",
    )


def _deviation_data(deviation: ProtocolDeviation) -> dict[str, Any]:
    return {
        "category": deviation.category,
        "severity": deviation.severity,
        "site": deviation.site.code,
        "young_person": deviation.participant.young_person.study_id
        if deviation.participant
        else "",
    }


@protocol_gate("trial.deviation.record", _deviation_person, Check.DATA)
@transaction.atomic
def protocol_deviation_record(
    *,
    by: User,
    trial: Trial,
    site: Site,
    occurred_on: dt.date,
    identified_on: dt.date,
    category: str,
    severity: str,
    description: str,
    participant: Participant | None = None,
    corrective_action: str = "",
    reported_to_sponsor_on: dt.date | None = None,
    request: HttpRequest | None = None,
) -> ProtocolDeviation:
    """Log a protocol deviation at a trial site (trial and programme managers)."""
    _check_deviation_site(by, trial, site)
    deviation = ProtocolDeviation(
        trial=trial,
        participant=participant,
        site=site,
        occurred_on=occurred_on,
        identified_on=identified_on,
        category=category,
        severity=severity,
        description=description.strip(),
        corrective_action=corrective_action.strip(),
        reported_to_sponsor_on=reported_to_sponsor_on,
        recorded_by=by,
    )
    clean_and_save(deviation)
    # The description can reveal the arm: the audit trail keeps only what kind of deviation.
    audit_record(
        actor=by,
        action="trial.deviation.recorded",
        obj=deviation,
        site=site,
        data=_deviation_data(deviation),
        request=request,
    )
    return deviation


@protocol_gate("trial.deviation.update", _deviation_person, Check.DATA)
@transaction.atomic
def protocol_deviation_update(
    *,
    by: User,
    deviation: ProtocolDeviation,
    request: HttpRequest | None = None,
    **fields: Any,
) -> ProtocolDeviation:
    """Change a logged deviation (for example the corrective action or sponsor report date)."""
    from mstoutcomes.core.services import assign_fields

    _check_deviation_site(by, deviation.trial, deviation.site)
    before = {name: getattr(deviation, name) for name in DEVIATION_FIELDS}
    assign_fields(deviation, fields, allowed=DEVIATION_FIELDS)
    _check_deviation_site(by, deviation.trial, deviation.site)
    clean_and_save(deviation)
    changed = sorted(name for name in DEVIATION_FIELDS if getattr(deviation, name) != before[name])
    audit_record(
        actor=by,
        action="trial.deviation.updated",
        obj=deviation,
        site=deviation.site,
        data={**_deviation_data(deviation), "fields": changed},
        request=request,
    )
    return deviation


def deviations_export_record(
    *,
    by: User,
    trial: Trial,
    rows: list[ProtocolDeviation],
    filters: dict[str, str] | None = None,
    request: HttpRequest | None = None,
) -> None:
    """Record a download of the protocol deviations log (CSV): which rows, filtered how."""
    require(user_has_perm(by, Perm.VIEW_DEVIATIONS), "You cannot see the deviations log.")
    audit_record(
        actor=by,
        action="trial.deviations.exported",
        obj=trial,
        data={
            "rows": len(rows),
            "deviations": sorted(d.pk for d in rows),
            "sites": sorted({d.site.code for d in rows}),
            "filters": {k: v for k, v in (filters or {}).items() if v},
        },
        request=request,
    )
