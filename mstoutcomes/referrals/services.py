"""Every write to referrals, panels, capacity and notifications; each audited in its transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest

from mstoutcomes.accounts.models import Agency, Site, User
from mstoutcomes.accounts.permissions import Perm, grants_for, user_has_perm
from mstoutcomes.accounts.services import audit_record
from mstoutcomes.cases import services as case_services
from mstoutcomes.cases.models import Episode, YoungPerson
from mstoutcomes.cases.protocol import protocol_gate
from mstoutcomes.core.audit import diff, snapshot
from mstoutcomes.core.dates import today
from mstoutcomes.core.identifiers import normalise_postcode_district
from mstoutcomes.core.services import assign_fields, clean_and_save, require
from mstoutcomes.referrals import codes, complexity, eligibility
from mstoutcomes.referrals.config import SiteRules, rules_for_site
from mstoutcomes.referrals.forecast import effective_cap
from mstoutcomes.referrals.handover import trial_handover
from mstoutcomes.referrals.models import (
    DecisionReason,
    Notification,
    PanelMeeting,
    Referral,
    ReferralTransition,
    TherapistCapacity,
)
from mstoutcomes.referrals.selectors import find_possible_duplicates
from mstoutcomes.referrals.workflow import CLOSED, State, check_transition

DRAFT_FIELDS = (
    "referrer_name",
    "referrer_role",
    "referrer_email",
    "referrer_phone",
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "postcode_district",
    "school",
    "carers",
    "behaviours",
    "behaviour_details",
    "risks",
    "statuses",
    "exclusions",
    "offences_12m",
    "offences_18m",
    "fixed_term_exclusions",
    "previous_placements",
    "consent_referral",
    "consent_share",
    "assent",
)
CODE_FIELDS = {
    "behaviours": codes.BEHAVIOURS,
    "risks": codes.RISKS,
    "statuses": codes.STATUSES,
    "exclusions": codes.EXCLUSIONS,
}
ACTIONS = {
    State.SUBMITTED: "submitted",
    State.SCREENING: "screening_started",
    State.READY_FOR_PANEL: "ready_for_panel",
    State.ACCEPTED: "accepted",
    State.WAITING_LIST: "waitlisted",
    State.ALLOCATED: "allocated",
    State.DECLINED: "declined",
    State.SIGNPOSTED: "signposted",
    State.WITHDRAWN: "withdrawn",
    State.USUAL_SERVICES: "allocated_usual_services",
    State.AWAITING_TRIAL: "awaiting_trial",
}


def _may(by: User | None, perm: Perm, site: Site | int) -> bool:
    # by=None is the system itself (demo builder, jobs run by an operator).
    return by is None or user_has_perm(by, perm, site=site)


def _lock(referral: Referral) -> Referral:
    """Re-read the referral under a row lock so two people cannot move it at once."""
    locked = Referral.objects.unscoped().select_for_update().get(pk=referral.pk)
    referral.state = locked.state
    return referral


def _audit(
    by: User | None,
    verb: str,
    referral: Referral,
    *,
    changes: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> None:
    audit_record(
        actor=by,
        action=f"referrals.referral.{verb}",
        obj=referral,
        site=referral.site,
        changes=dict(changes or {}),
        data={"reference": referral.reference, **(data or {})},
        request=request,
    )


def _move(
    referral: Referral,
    target: State,
    *,
    by: User | None,
    reason: str = "",
    data: Mapping[str, Any] | None = None,
    request: HttpRequest | None = None,
    update_fields: Iterable[str] = (),
) -> None:
    """Move the referral to a state (refusing invalid moves), record the history and audit it."""
    check_transition(referral.state, target)
    before = referral.state
    referral.state = target
    referral.save(update_fields=["state", "updated_at", *update_fields])
    ReferralTransition.objects.create(
        referral=referral, from_state=before, to_state=target, by=by, reason=reason, data=data or {}
    )
    _audit(
        by,
        ACTIONS[target],
        referral,
        changes={"state": [before, str(target)]},
        data={"reason": reason, **(data or {})},
        request=request,
    )


def _agency_of(by: User | None, site: Site) -> int | None:
    for grant in grants_for(by):
        if grant.site_id == site.pk and grant.agency_scoped:
            return grant.agency_id
    return None


def _require_writer(by: User | None, referral: Referral) -> None:
    require(_may(by, Perm.MAKE_REFERRAL, referral.site_id), "You cannot make referrals here.")
    agency = _agency_of(by, referral.site) if by is not None else None
    if agency is not None and agency != referral.referring_agency_id:
        raise PermissionDenied("This referral belongs to another agency.")


# -- intake ------------------------------------------------------------------------------------


@transaction.atomic
def referral_start(
    *, by: User | None, site: Site, agency: Agency, request: HttpRequest | None = None
) -> Referral:
    """Start a draft referral from an agency; a referrer may refer only for their own agency."""
    require(_may(by, Perm.MAKE_REFERRAL, site), "You cannot make referrals at this site.")
    own = _agency_of(by, site) if by is not None else None
    if own is not None and own != agency.pk:
        raise ValidationError({"agency": "You can refer only for your own agency."})
    referral = Referral(site=site, referring_agency=agency, referrer=by)
    if by is not None:
        referral.referrer_name = by.get_full_name()
        referral.referrer_role = by.job_title
        referral.referrer_email = by.email
    clean_and_save(referral)
    referral.agencies_involved.add(agency)
    ReferralTransition.objects.create(referral=referral, to_state=State.DRAFT, by=by)
    _audit(by, "created", referral, data={"agency": agency.name}, request=request)
    return referral


def _check_codes(fields: Mapping[str, Any]) -> None:
    errors = {}
    for name, known in CODE_FIELDS.items():
        unknown = sorted(set(fields.get(name) or []) - set(known))
        if unknown:
            errors[name] = f"Unknown codes: {', '.join(unknown)}."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def referral_draft_save(
    *,
    by: User | None,
    referral: Referral,
    fields: Mapping[str, Any],
    agencies_involved: Iterable[Agency] | None = None,
    request: HttpRequest | None = None,
) -> Referral:
    """Save part of a draft referral (one page of the form); only drafts can be changed."""
    _require_writer(by, referral)
    _lock(referral)
    if referral.state != State.DRAFT:
        raise ValidationError("This referral has been submitted, so it can no longer be changed.")
    _check_codes(fields)
    fields = dict(fields)
    if "postcode_district" in fields:
        fields["postcode_district"] = normalise_postcode_district(fields["postcode_district"] or "")
    names = [*DRAFT_FIELDS]
    before = snapshot(referral, names)
    assign_fields(referral, fields, allowed=DRAFT_FIELDS)
    clean_and_save(referral)
    changes = diff(before, snapshot(referral, names))
    if agencies_involved is not None:
        old = sorted(referral.agencies_involved.values_list("pk", flat=True))
        referral.agencies_involved.set(agencies_involved)
        new = sorted(a.pk for a in agencies_involved)
        if old != new:
            changes["agencies_involved"] = [old, new]
    if changes:
        # Names and dates of birth stay out of the trail's data; the changed field names suffice.
        _audit(by, "draft_saved", referral, data={"fields": sorted(changes)}, request=request)
    return referral


def _missing_for_submit(referral: Referral) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not referral.given_name:
        errors["given_name"] = "Enter the young person's first name"
    if not referral.family_name:
        errors["family_name"] = "Enter the young person's last name"
    if not referral.date_of_birth:
        errors["date_of_birth"] = "Enter the young person's date of birth"
    if not referral.carers:
        errors["carers"] = "Enter at least one carer"
    if not referral.behaviours:
        errors["behaviours"] = "Select the behaviours that prompt this referral"
    if referral.consent_referral is None:
        errors["consent_referral"] = "Say whether the carer consents to the referral"
    elif referral.consent_referral is False:
        errors["consent_referral"] = "A referral needs the carer's consent to be made"
    if referral.consent_share is None:
        errors["consent_share"] = "Say whether the carer consents to sharing information"
    return errors


def assess(referral: Referral, rules: SiteRules) -> None:
    """Work out eligibility and complexity from the referral's facts, with the rules' version."""
    facts = referral.facts()
    result = eligibility.evaluate(facts, rules.eligibility, version=rules.version)
    profile = complexity.score(facts, rules.complexity)
    referral.eligible = result.eligible
    referral.eligibility = result.as_dict()
    referral.complexity_score = profile.score
    referral.complexity_band = profile.band
    referral.complexity = profile.as_dict()
    referral.rules_version = rules.version


ASSESSED_FIELDS = (
    "eligible",
    "eligibility",
    "complexity_score",
    "complexity_band",
    "complexity",
    "rules_version",
)


@transaction.atomic
def referral_submit(
    *,
    by: User | None,
    referral: Referral,
    young_person: YoungPerson | None = None,
    referred_on: dt.date | None = None,
    request: HttpRequest | None = None,
) -> Referral:
    """Send a draft to the MST team: checks it is complete, records possible duplicates, assesses.

    young_person: an existing record the referrer confirmed is this person (one they may see).
    """
    _require_writer(by, referral)
    _lock(referral)
    check_transition(referral.state, State.SUBMITTED)
    errors = _missing_for_submit(referral)
    if errors:
        raise ValidationError(errors)
    referral.referred_on = referred_on or today()
    if referral.referred_on > today():
        raise ValidationError({"referred_on": "The referral date cannot be in the future."})
    matches = find_possible_duplicates(
        site=referral.site_id,
        given_name=referral.given_name,
        family_name=referral.family_name,
        date_of_birth=referral.date_of_birth,
        postcode_district=referral.postcode_district,
    )
    if young_person is not None:
        if young_person.pk not in {m.pk for m in matches}:
            raise ValidationError("That young person does not match this referral's details.")
        referral.young_person = young_person
    referral.possible_duplicates = [m.pk for m in matches]
    assess(referral, rules_for_site(referral.site.code))
    _move(
        referral,
        State.SUBMITTED,
        by=by,
        data={"possible_duplicates": len(matches), "eligible": referral.eligible},
        request=request,
        update_fields=[
            "referred_on",
            "young_person",
            "possible_duplicates",
            *ASSESSED_FIELDS,
        ],
    )
    return referral


# -- screening and panel ----------------------------------------------------------------------


def _require_panel(by: User | None, referral: Referral) -> None:
    require(_may(by, Perm.RUN_PANEL, referral.site_id), "You cannot screen or decide referrals.")


@transaction.atomic
def referral_screen(
    *, by: User | None, referral: Referral, request: HttpRequest | None = None
) -> Referral:
    """Start screening: re-assess against the site's current rules."""
    _require_panel(by, referral)
    _lock(referral)
    check_transition(referral.state, State.SCREENING)
    assess(referral, rules_for_site(referral.site.code))
    _move(referral, State.SCREENING, by=by, request=request, update_fields=ASSESSED_FIELDS)
    return referral


@transaction.atomic
def referral_consent_override(
    *, by: User | None, referral: Referral, reason: str, request: HttpRequest | None = None
) -> Referral:
    """Let a referral without consent to share go to panel, recording who decided and why."""
    require(
        _may(by, Perm.OVERRIDE_CONSENT, referral.site_id),
        "You cannot override consent to share information.",
    )
    reason = reason.strip()
    if len(reason) < 10:
        raise ValidationError({"reason": "Explain why the panel may see this referral"})
    if referral.consent_share:
        raise ValidationError("The carer has consented to sharing; no override is needed.")
    referral.consent_override_reason = reason
    referral.consent_override_by = by
    referral.save(update_fields=["consent_override_reason", "consent_override_by", "updated_at"])
    _audit(by, "consent_overridden", referral, data={"reason": reason}, request=request)
    return referral


@transaction.atomic
def referral_consent_given(
    *, by: User | None, referral: Referral, notes: str = "", request: HttpRequest | None = None
) -> Referral:
    """Record that a carer whose consent to share was pending (or refused) has now given it."""
    require(
        _may(by, Perm.RUN_PANEL, referral.site_id),
        "You cannot record consent on referrals at this site.",
    )
    _lock(referral)
    if referral.consent_share:
        raise ValidationError("The carer's consent to share is already recorded.")
    if State(referral.state) in CLOSED:
        raise ValidationError(
            f"This referral is {referral.state_label.lower()}, so its consent can no longer change."
        )
    before = referral.consent_share
    referral.consent_share = True
    referral.save(update_fields=["consent_share", "updated_at"])
    _audit(
        by,
        "consent_given",
        referral,
        changes={"consent_share": [before, True]},
        data={"notes": notes.strip()},
        request=request,
    )
    return referral


@transaction.atomic
def referral_ready_for_panel(
    *, by: User | None, referral: Referral, request: HttpRequest | None = None
) -> Referral:
    """Put a screened referral on the panel's list; needs consent to share or an override."""
    _require_panel(by, referral)
    _lock(referral)
    check_transition(referral.state, State.READY_FOR_PANEL)
    if not referral.consent_cleared:
        raise ValidationError(
            "The carer has not consented to sharing information, so this referral cannot go to "
            "the panel unless someone allowed to override records why."
        )
    _move(referral, State.READY_FOR_PANEL, by=by, request=request)
    return referral


@transaction.atomic
def referral_link_young_person(
    *,
    by: User | None,
    referral: Referral,
    young_person: YoungPerson,
    request: HttpRequest | None = None,
) -> Referral:
    """Record that the referral is about a young person the service already knows."""
    _require_panel(by, referral)
    if young_person.site_id != referral.site_id:
        raise ValidationError("That young person belongs to another site.")
    referral.young_person = young_person
    referral.save(update_fields=["young_person", "updated_at"])
    _audit(by, "linked", referral, data={"young_person": young_person.study_id}, request=request)
    return referral


def _ensure_young_person(by: User | None, referral: Referral) -> YoungPerson:
    """Return the referral's young person, creating the record (and carers) if new.

    A referral with possible duplicates not yet resolved is refused: link it first.
    """
    if referral.young_person is not None:
        return referral.young_person
    if referral.possible_duplicates:
        raise ValidationError(
            "This young person may already be known to the service. Link the referral to the "
            "existing record before deciding."
        )
    person = case_services.young_person_create(
        by=by,
        site=referral.site,
        fields={
            "given_name": referral.given_name,
            "family_name": referral.family_name,
            "date_of_birth": referral.date_of_birth,
            "sex": referral.sex or "not_known",
            "postcode_district": referral.postcode_district,
            "school": referral.school,
            "referring_agency": referral.referring_agency,
            "referred_on": referral.referred_on,
        },
    )
    for n, carer in enumerate(referral.carers):
        fields = {k: v for k, v in carer.items() if k in case_services.FAMILY_MEMBER_FIELDS}
        fields.setdefault("relationship", "other")
        fields["is_primary_carer"] = n == 0
        case_services.family_member_save(by=by, young_person=person, fields=fields)
    case_services.agency_involvement_save(
        by=by,
        young_person=person,
        fields={
            "agency": referral.referring_agency,
            "worker_name": referral.referrer_name,
            "worker_role": referral.referrer_role,
            "worker_email": referral.referrer_email,
            "worker_phone": referral.referrer_phone,
        },
    )
    referral.young_person = person
    referral.save(update_fields=["young_person", "updated_at"])
    return person


@transaction.atomic
def referral_decide(
    *,
    by: User | None,
    referral: Referral,
    outcome: str,
    panel: PanelMeeting | None = None,
    reason: str = "",
    notes: str = "",
    urgent: bool = False,
    decided_on: dt.date | None = None,
    request: HttpRequest | None = None,
) -> Referral:
    """Record the panel's decision (or screening's): accepted, waiting list, declined, signposted.

    Accepted at a trial site hands the family to the trial; otherwise allocate to a therapist next.
    """
    _require_panel(by, referral)
    _lock(referral)
    target = State(outcome)
    if target not in (State.ACCEPTED, State.WAITING_LIST, State.DECLINED, State.SIGNPOSTED):
        raise ValidationError({"outcome": "Select the panel's decision"})
    check_transition(referral.state, target)
    errors = {}
    if target in (State.DECLINED, State.SIGNPOSTED) and not reason:
        errors["reason"] = "Select the reason for the decision"
    if reason and reason not in DecisionReason.values:
        errors["reason"] = "Select a reason from the list"
    if referral.state == State.READY_FOR_PANEL and panel is None:
        errors["panel"] = "Select the panel meeting that decided"
    if panel is not None and panel.site_id != referral.site_id:
        errors["panel"] = "That panel belongs to another site"
    if errors:
        raise ValidationError(errors)
    referral.decided_on = decided_on or (panel.held_on if panel else today())
    referral.panel = panel or referral.panel
    referral.decision_reason = reason
    referral.decision_notes = notes.strip()
    referral.urgent = urgent
    if target in (State.ACCEPTED, State.WAITING_LIST):
        _ensure_young_person(by, referral)
    if target == State.WAITING_LIST and referral.waiting_since is None:
        referral.waiting_since = referral.decided_on
    _move(
        referral,
        target,
        by=by,
        reason=referral.get_decision_reason_display() if reason else notes,
        data={"panel": panel.pk if panel else None, "urgent": urgent},
        request=request,
        update_fields=[
            "decided_on",
            "panel",
            "decision_reason",
            "decision_notes",
            "urgent",
            "waiting_since",
        ],
    )
    if target == State.ACCEPTED and rules_for_site(referral.site.code).trial_site:
        trial_handover(by=by, referral=referral)
    _notify_referrer(referral, _decision_message(referral))
    return referral


def _decision_message(referral: Referral) -> str:
    name = referral.full_name
    messages = {
        State.ACCEPTED: f"{referral.reference} ({name}) was accepted for MST.",
        State.WAITING_LIST: (
            f"{referral.reference} ({name}) was accepted and is on the waiting list for the next "
            f"free place."
        ),
        State.DECLINED: (
            f"{referral.reference} ({name}) was declined: "
            f"{referral.get_decision_reason_display().lower()}."
        ),
        State.SIGNPOSTED: (
            f"{referral.reference} ({name}) was signposted to another service: "
            f"{referral.get_decision_reason_display().lower()}."
        ),
        State.ALLOCATED: f"{referral.reference} ({name}) has started MST.",
        State.AWAITING_TRIAL: (
            f"{referral.reference} ({name}) was accepted and handed to the trial: it waits for "
            f"consent, the baseline assessments and randomisation before any therapist is "
            f"allocated."
        ),
        State.WITHDRAWN: f"{referral.reference} ({name}) was withdrawn.",
    }
    return messages.get(State(referral.state), f"{referral.reference}: {referral.state_label}.")


def _notify_referrer(referral: Referral, message: str) -> None:
    """Tell the referring worker in the service, and by email once the change is committed."""
    if referral.referrer is not None:
        Notification.objects.create(user=referral.referrer, referral=referral, message=message)
    address = referral.referrer_email or (referral.referrer.email if referral.referrer else "")
    if address:
        transaction.on_commit(
            lambda: send_mail(
                subject=f"MST referral {referral.reference}: {referral.state_label.lower()}",
                message=f"{message}\n\nSign in to mstoutcomes to see the referral.",
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[address],
                fail_silently=True,
            )
        )


@transaction.atomic
def referral_withdraw(
    *, by: User | None, referral: Referral, reason: str, request: HttpRequest | None = None
) -> Referral:
    """Withdraw a referral (the referrer's agency or the MST team), with the reason."""
    if not _may(by, Perm.RUN_PANEL, referral.site_id):
        _require_writer(by, referral)
    _lock(referral)
    if not reason.strip():
        raise ValidationError({"reason": "Enter why the referral is withdrawn"})
    _move(referral, State.WITHDRAWN, by=by, reason=reason.strip(), request=request)
    _notify_referrer(referral, _decision_message(referral))
    return referral


# -- allocation and capacity ------------------------------------------------------------------


def therapist_load(*, site: Site | int, therapist: User) -> tuple[int, int]:
    """Return (open episodes, effective cap) for a therapist at a site."""
    open_cases = (
        Episode.objects.unscoped()
        .filter(therapist=therapist, end_date__isnull=True, young_person__site=site)
        .count()
    )
    capacity = TherapistCapacity.objects.filter(site=site, therapist=therapist).first()
    site_code = site.code if isinstance(site, Site) else Site.objects.get(pk=site).code
    default_cap = rules_for_site(site_code).default_caseload_cap
    if capacity is None:
        return open_cases, default_cap
    return open_cases, effective_cap(capacity.caseload_cap, float(capacity.fte))


def _referral_person(kwargs: dict[str, Any]) -> YoungPerson | None:
    referral = kwargs.get("referral")
    return referral.young_person if isinstance(referral, Referral) else None


@protocol_gate("referrals.referral.allocate", _referral_person)
@transaction.atomic
def referral_allocate(
    *,
    by: User | None,
    referral: Referral,
    therapist: User,
    start_date: dt.date,
    override_reason: str = "",
    request: HttpRequest | None = None,
) -> Episode:
    """Allocate an accepted or waiting family to a therapist, opening their MST episode.

    A therapist at their cap is refused unless an override reason is recorded. The protocol's
    treatment rules (a trial participant not randomised to MST) refuse it, audited, first.
    """
    _require_panel(by, referral)
    require(
        _may(by, Perm.MANAGE_EPISODES, referral.site_id), "You cannot open episodes at this site."
    )
    _lock(referral)
    check_transition(referral.state, State.ALLOCATED)
    # Lock the therapist's row so two allocations cannot both take their last place.
    User.objects.select_for_update().filter(pk=therapist.pk).first()
    open_cases, cap = therapist_load(site=referral.site, therapist=therapist)
    override_reason = override_reason.strip()
    if open_cases >= cap and not override_reason:
        raise ValidationError(
            {
                "override_reason": (
                    f"{therapist.get_full_name()} already has {open_cases} families (cap {cap}). "
                    f"Choose another therapist, or give the reason for going over the cap"
                )
            }
        )
    person = _ensure_young_person(by, referral)
    episode = case_services.episode_open(
        by=by,
        young_person=person,
        fields={"start_date": start_date, "therapist": therapist},
        request=request,
    )
    referral.episode = episode
    referral.allocation_override_reason = override_reason if open_cases >= cap else ""
    _move(
        referral,
        State.ALLOCATED,
        by=by,
        reason=referral.allocation_override_reason,
        data={
            "therapist": therapist.pk,
            "open_cases": open_cases,
            "cap": cap,
            "over_cap": open_cases >= cap,
            "young_person": person.study_id,
        },
        request=request,
        update_fields=["episode", "allocation_override_reason"],
    )
    _notify_referrer(referral, _decision_message(referral))
    return episode


@transaction.atomic
def referral_close_for_trial(
    *,
    by: User | None,
    referral: Referral,
    reason: str,
    on: dt.datetime | dt.date | None = None,
    request: HttpRequest | None = None,
) -> Referral:
    """Close an accepted family's referral because the trial allocated them to usual services.

    Called by the trial after randomisation (never from a view). The referral is closed as
    allocated to usual services with the trial's reason, so no MST episode can be opened for it
    and the referrals dashboard still counts the panel's acceptance.
    """
    require(_may(by, Perm.RANDOMISE, referral.site_id), "Not permitted.")
    _lock(referral)
    day = on.date() if isinstance(on, dt.datetime) else on
    referral.decision_notes = "\n".join(filter(None, [referral.decision_notes, reason]))
    _move(
        referral,
        State.USUAL_SERVICES,
        by=by,
        reason=reason,
        data={"closed_by": "trial", "on": (day or today()).isoformat()},
        request=request,
        update_fields=["decision_notes"],
    )
    _notify_referrer(
        referral,
        f"{referral.reference} ({referral.full_name}) will not start MST: {reason[0].lower()}"
        f"{reason[1:]}.",
    )
    return referral


def _require_trial(by: User | None, referral: Referral) -> None:
    # The trial moves a referral on behalf of the panel (hand-over) or the randomiser.
    require(
        _may(by, Perm.RANDOMISE, referral.site_id) or _may(by, Perm.RUN_PANEL, referral.site_id),
        "Not permitted.",
    )


@transaction.atomic
def referral_await_trial(
    *, by: User | None, referral: Referral, trial: str, request: HttpRequest | None = None
) -> Referral:
    """Hold an accepted referral for the trial's consent, baseline and randomisation.

    Called by the trial when it enrols an eligible family (never from a view); until the trial
    moves it on, no therapist can be allocated and demand counts it as awaiting randomisation.
    """
    _require_trial(by, referral)
    _lock(referral)
    _move(
        referral,
        State.AWAITING_TRIAL,
        by=by,
        reason=f"Handed to trial {trial} for consent, baseline and randomisation",
        data={"trial": trial},
        request=request,
    )
    return referral


@transaction.atomic
def referral_trial_randomised_to_mst(
    *, by: User | None, referral: Referral, reason: str, request: HttpRequest | None = None
) -> Referral:
    """Move a referral the trial randomised to MST on to wait for a therapist (accepted)."""
    _require_trial(by, referral)
    _lock(referral)
    _move(referral, State.ACCEPTED, by=by, reason=reason, data={"by": "trial"}, request=request)
    _notify_referrer(
        referral,
        f"{referral.reference} ({referral.full_name}) was randomised to MST and is waiting for a "
        f"therapist.",
    )
    return referral


@transaction.atomic
def referral_trial_exit(
    *,
    by: User | None,
    referral: Referral,
    reason: str,
    not_eligible: bool = False,
    request: HttpRequest | None = None,
) -> Referral:
    """Close a referral waiting for the trial: not eligible (declined) or consent refused or
    withdrawn before randomisation (withdrawn), with the trial's plain reason."""
    _require_trial(by, referral)
    _lock(referral)
    target = State.DECLINED if not_eligible else State.WITHDRAWN
    referral.decision_notes = "\n".join(filter(None, [referral.decision_notes, reason]))
    _move(
        referral,
        target,
        by=by,
        reason=reason,
        data={"closed_by": "trial"},
        request=request,
        update_fields=["decision_notes"],
    )
    _notify_referrer(
        referral,
        f"{referral.reference} ({referral.full_name}) will not start MST: {reason[0].lower()}"
        f"{reason[1:]}.",
    )
    return referral


@transaction.atomic
def therapist_capacity_set(
    *,
    by: User | None,
    site: Site,
    therapist: User,
    fte: Any,
    caseload_cap: int,
    request: HttpRequest | None = None,
) -> TherapistCapacity:
    """Record a therapist's FTE and caseload cap (4 to 6 families at full time)."""
    require(_may(by, Perm.RUN_PANEL, site), "You cannot change the team's capacity.")
    capacity = TherapistCapacity.objects.filter(site=site, therapist=therapist).first()
    capacity = capacity or TherapistCapacity(site=site, therapist=therapist)
    before = snapshot(capacity, ["fte", "caseload_cap"]) if capacity.pk else {}
    capacity.fte, capacity.caseload_cap = fte, caseload_cap
    clean_and_save(capacity)
    changes = diff(before, snapshot(capacity, ["fte", "caseload_cap"]))
    if changes:
        audit_record(
            actor=by,
            action="referrals.capacity.set",
            obj=capacity,
            site=site,
            changes=changes,
            request=request,
        )
    return capacity


@transaction.atomic
def panel_meeting_create(
    *,
    by: User | None,
    site: Site,
    held_on: dt.date,
    agencies: Iterable[Agency] = (),
    attendees: str = "",
    notes: str = "",
    request: HttpRequest | None = None,
) -> PanelMeeting:
    """Record a multi-agency panel meeting and who attended from which agency."""
    require(_may(by, Perm.RUN_PANEL, site), "You cannot record panels at this site.")
    panel = PanelMeeting(site=site, held_on=held_on, attendees=attendees.strip(), notes=notes)
    clean_and_save(panel)
    agencies = list(agencies)
    panel.agencies_present.set(agencies)
    audit_record(
        actor=by,
        action="referrals.panel.recorded",
        obj=panel,
        site=site,
        data={"held_on": held_on, "agencies": sorted(a.pk for a in agencies)},
        request=request,
    )
    return panel


@transaction.atomic
def notifications_mark_read(*, by: User) -> int:
    """Mark the user's notifications read."""
    from django.utils import timezone

    return Notification.objects.filter(user=by, read_at__isnull=True).update(read_at=timezone.now())


@transaction.atomic
def referral_link_episode(
    *, by: User | None, referral: Referral, episode: Episode, request: HttpRequest | None = None
) -> Referral:
    """Record that an accepted family started MST in an episode opened elsewhere (back-filling)."""
    _require_panel(by, referral)
    _lock(referral)
    check_transition(referral.state, State.ALLOCATED)
    if referral.young_person_id is None or episode.young_person_id != referral.young_person_id:
        raise ValidationError("That episode is not this referral's young person's.")
    referral.episode = episode
    _move(
        referral,
        State.ALLOCATED,
        by=by,
        data={"episode": episode.pk, "therapist": episode.therapist_id, "linked": True},
        request=request,
        update_fields=["episode"],
    )
    return referral
