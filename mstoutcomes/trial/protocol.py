"""The trial's rules at the seam with treatment, subscribed to ``cases.protocol`` at start-up.

At a site in a live trial (not test mode), a young person enrolled in the trial may receive MST
treatment only once randomised to MST: before randomisation every treatment write is refused, and
a family randomised to management as usual never receives an MST episode, goals, contacts or
treatment measures. Once a trial's database is locked, every write to its participants' data is
refused (the lock rule, a ``Check.DATA`` rule: treatment writes are data writes too).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mstoutcomes.cases.protocol import Check, Refusal, subscribe

if TYPE_CHECKING:
    from mstoutcomes.cases.models import YoungPerson


def treatment_rule(young_person: YoungPerson) -> Refusal | None:
    """Refuse treatment for a live trial's participant who is not randomised to MST."""
    from mstoutcomes.trial.models import Participant

    participant = (
        Participant.objects.unscoped()
        .filter(young_person=young_person, trial__is_test_mode=False)
        .select_related("trial", "allocation")
        .order_by("pk")
        .first()
    )
    if participant is None:
        return None
    trial = participant.trial
    allocation = getattr(participant, "allocation", None)
    who = young_person.study_id
    if allocation is None:
        return Refusal(
            "not_randomised",
            f"{who} is in trial {trial.code} and has not been randomised: treatment can start "
            "only after randomisation to MST.",
        )
    if allocation.arm == trial.spec.reference_arm.code:
        return Refusal(
            "management_as_usual",
            f"{who} was allocated to management as usual in trial {trial.code}, so they cannot "
            "receive MST treatment.",
        )
    return None


def lock_rule(young_person: YoungPerson) -> Refusal | None:
    """Refuse any write to the data of a participant of a trial whose database is locked."""
    from django.utils import timezone

    from mstoutcomes.trial.models import Trial

    trial = (
        Trial.objects.filter(participants__young_person=young_person, locked_at__isnull=False)
        .order_by("locked_at", "pk")
        .first()
    )
    if trial is None or trial.locked_at is None:
        return None
    return Refusal(
        "locked",
        f"Trial {trial.code}'s database was locked on "
        f"{timezone.localtime(trial.locked_at):%-d %B %Y}: its data are read-only.",
    )


def subscribe_rules() -> None:
    """Register the trial's rules with the seam (called from TrialConfig.ready)."""
    from mstoutcomes.referrals.demand import set_mst_share_provider
    from mstoutcomes.referrals.handover import subscribe_referral_handover
    from mstoutcomes.trial.handover import referral_handed_over

    # referrals hands an accepted referral at a trial site over to us (it never imports the trial).
    subscribe_referral_handover(name="trial", listener=referral_handed_over)
    subscribe(Check.TREATMENT, treatment_rule)
    subscribe(Check.DATA, lock_rule)
    # Demand at a trial site: the share of families awaiting randomisation expected to start MST.
    set_mst_share_provider(site_mst_share)


def site_mst_share(site_id: int) -> float | None:
    """The MST share of the allocation ratio of the live trial a site recruits to (or None)."""
    from mstoutcomes.trial.handover import live_trial_for

    trial = live_trial_for(site_id)
    return None if trial is None else trial.spec.mst_share
