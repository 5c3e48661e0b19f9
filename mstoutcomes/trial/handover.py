"""The trial's side of the referral hand-over: enrol and check eligibility, then act on the arm.

A referral accepted at a site in a live trial comes here (``referrals.handover.trial_handover``):
the young person is enrolled and their eligibility recorded from the criteria the referral was
evaluated against (age and the site's rules), with every criterion's reason, and the referral
waits in the state ``awaiting_trial`` ("Awaiting consent, baseline and randomisation"; closed at
once as declined when the family is not eligible). Consent and randomisation stay explicit steps
taken by people; a declined consent or a withdrawal before randomisation closes the waiting
referral (``close_before_randomisation``, called by the trial's services). After randomisation
``participant_randomise`` calls ``allocation_handover`` in the same transaction: a family
allocated to management as usual has its referral closed (no MST episode), one allocated to MST
moves on to wait for a therapist as any accepted family does. The seam's treatment rule
(``trial.protocol``) stops a therapist being allocated to a family before randomisation or in the
management-as-usual arm.

Blinding: the arm is written only on the referral (its history and closing reason), which
research workers cannot see, and in audit events, which they cannot read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction

from mstoutcomes.accounts.services import audit_record
from mstoutcomes.core.dates import today
from mstoutcomes.trial.models import Allocation, Participant, Trial

if TYPE_CHECKING:
    from django.http import HttpRequest

    from mstoutcomes.accounts.models import Site, User
    from mstoutcomes.referrals.handover import HandedOver
    from mstoutcomes.referrals.models import Referral

# Referral states from which a trial result may still move the referral.
OPEN_STATES = ("accepted", "waiting_list", "awaiting_trial")
AWAITING = "awaiting_trial"


def live_trial_for(site: Site | int) -> Trial | None:
    """Return the trial a site recruits to (test-mode trials never touch real referrals).

    A trial whose database is locked has finished: it recruits no one.
    """
    return (
        Trial.objects.filter(sites=site, is_test_mode=False, locked_at__isnull=True)
        .order_by("pk")
        .first()
    )


def eligibility_from_referral(referral: Referral) -> tuple[bool, str, list[dict[str, Any]]]:
    """Return (eligible, notes, criteria) from the referral's evaluated eligibility.

    The evaluation stored when screening started is used (the rules in force then, by version);
    a referral without one is evaluated now against its site's rules.
    """
    stored = referral.eligibility or {}
    if stored.get("results"):
        eligible = bool(stored.get("eligible"))
        results = list(stored["results"])
        version = str(stored.get("rules_version", ""))
    else:
        from mstoutcomes.referrals import eligibility
        from mstoutcomes.referrals.config import rules_for_site

        rules = rules_for_site(referral.site.code)
        evaluated = eligibility.evaluate(referral.facts(), rules.eligibility, version=rules.version)
        eligible, version = evaluated.eligible, evaluated.rules_version
        results = [r.as_dict() for r in evaluated.results]
    criteria = [
        {k: r.get(k) for k in ("kind", "code", "met", "reason")}
        for r in results
        if not str(r.get("kind", "")).endswith("_item") or r.get("met")
    ]
    failed = [r["reason"] for r in criteria if not r["met"]]
    met = [r["reason"] for r in criteria if r["met"]]
    heading = (
        f"Eligible on {referral.reference}'s criteria"
        if eligible
        else f"Not eligible on {referral.reference}'s criteria"
    )
    lines = [heading + (f" (rules version {version})." if version else ".")]
    lines += [f"Not met: {reason}" for reason in failed]
    lines += [f"Met: {reason}" for reason in met]
    return eligible, "\n".join(lines), criteria


@transaction.atomic
def referral_to_trial(*, by: User | None, referral: Referral, trial: Trial) -> Participant:
    """Enrol an accepted referral's young person and record eligibility from its criteria.

    Idempotent: a second hand-over of the same young person returns the participant as it is and
    never overwrites an eligibility someone has already recorded.
    """
    from mstoutcomes.trial.services import eligibility_record, participant_enrol

    person = referral.young_person
    if person is None:
        raise ValueError(f"{referral.reference} has no young person's record to enrol.")
    on = referral.decided_on or referral.referred_on
    participant = participant_enrol(by=None, trial=trial, young_person=person, on=on)
    if participant.is_eligible is None:
        eligible, notes, criteria = eligibility_from_referral(referral)
        participant = eligibility_record(
            by=None,
            participant=participant,
            eligible=eligible,
            on=on or today(),
            notes=notes,
            criteria=criteria,
        )
    _hold_for_trial(by, referral, participant, trial)
    audit_record(
        actor=by,
        action="trial.participant.handed_over",
        obj=participant,
        site=participant.site,
        data={
            "reference": referral.reference,
            "young_person": person.study_id,
            "eligible": participant.is_eligible,
        },
    )
    return participant


def referral_handed_over(*, by: User | None, referral: Referral) -> HandedOver:
    """The trial's listener to referrals' hand-over: enrol when the site is in a live trial.

    Subscribed in ``trial.protocol.subscribe_rules`` (TrialConfig.ready()); referrals calls it
    through ``referrals.handover.trial_handover`` without importing the trial.
    """
    from mstoutcomes.referrals.handover import HandedOver

    trial = live_trial_for(referral.site_id)
    participant = None
    if trial is not None and referral.young_person is not None:
        participant = referral_to_trial(by=by, referral=referral, trial=trial)
    return HandedOver(trial=trial.code if trial else None, enrolled=participant is not None)


def _hold_for_trial(
    by: User | None, referral: Referral, participant: Participant, trial: Trial
) -> None:
    """Hold the accepted referral for the trial; close it at once if the family is not eligible."""
    from mstoutcomes.referrals.services import referral_await_trial, referral_trial_exit

    if (
        referral.state != "accepted"
        or Allocation.objects.unscoped().filter(participant=participant).exists()
    ):
        return
    referral_await_trial(by=by, referral=referral, trial=trial.code)
    if participant.is_eligible is False:
        referral_trial_exit(
            by=by,
            referral=referral,
            reason=f"Not eligible for trial {trial.code}",
            not_eligible=True,
        )


def close_before_randomisation(
    *, by: User | None, participant: Participant, reason: str, not_eligible: bool = False
) -> list[Referral]:
    """Close the referrals still waiting for the trial when a family leaves before randomisation.

    Called by the trial's services when eligibility is refused, consent is declined or the
    family withdraws, before any allocation; referrals already moved on are left alone.
    """
    if (
        participant.trial.is_test_mode
        or Allocation.objects.unscoped().filter(participant=participant).exists()
    ):
        return []
    from mstoutcomes.referrals.services import referral_trial_exit

    return [
        referral_trial_exit(by=by, referral=referral, reason=reason, not_eligible=not_eligible)
        for referral in _open_referrals(participant)
        if referral.state == AWAITING
    ]


def _open_referrals(participant: Participant) -> list[Referral]:
    from mstoutcomes.referrals.models import Referral

    return list(
        Referral.objects.unscoped()
        .filter(
            young_person=participant.young_person_id,
            site=participant.site_id,
            state__in=OPEN_STATES,
        )
        .order_by("pk")
    )


def allocation_handover(
    *, by: User | None, allocation: Allocation, request: HttpRequest | None = None
) -> list[Referral]:
    """Act on a new allocation: close the referral for management as usual; MST waits.

    Called by ``participant_randomise`` inside its transaction. Returns the referrals closed.
    """
    if allocation.is_test:
        return []
    trial = allocation.trial
    participant = allocation.participant
    if allocation.arm != trial.spec.reference_arm.code:
        # MST: the referral waits for a therapist (referral_allocate opens the episode).
        from mstoutcomes.referrals.services import referral_trial_randomised_to_mst

        for referral in _open_referrals(participant):
            if referral.state == AWAITING:
                referral_trial_randomised_to_mst(
                    by=by,
                    referral=referral,
                    reason=f"Randomised to MST in trial {trial.code}",
                    request=request,
                )
        return []
    from mstoutcomes.referrals.services import referral_close_for_trial

    closed = []
    for referral in _open_referrals(participant):
        closed.append(
            referral_close_for_trial(
                by=by,
                referral=referral,
                reason=f"Allocated to management as usual in trial {trial.code}",
                on=allocation.allocated_at,
                request=request,
            )
        )
    return closed
