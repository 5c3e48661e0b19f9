"""The trial's rules at the seam with treatment, subscribed to ``cases.protocol`` at start-up.

At a site in a live trial (not test mode), a young person enrolled in the trial may receive MST
treatment only once randomised to MST: before randomisation every treatment write is refused, and
a family randomised to management as usual never receives an MST episode, goals, contacts or
treatment measures. Once a trial's database is locked, every write to its participants' data is
refused (the lock rule, a ``Check.DATA`` rule: treatment writes are data writes too).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from mstoutcomes.cases.protocol import Check, Refusal, subscribe
from mstoutcomes.measures.anchors import ResearchAnchors, Stop, subscribe_research_anchors

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


def research_anchors(person_ids: Collection[int] | Any) -> dict[int, ResearchAnchors]:
    """Return the live trial's anchors for measures' schedules, for many young people at once.

    One query: consent (the first carer consent given), randomisation (the allocation's local
    day) and the first withdrawal from further data collection or from use of the data, which
    stop the research timepoints. Test-mode trials are left out: their schedules never run.
    """
    from django.db.models import Min, Q
    from django.utils import timezone

    from mstoutcomes.trial.models import ConsentKind, Participant, WithdrawalLevel

    rows = (
        Participant.objects.unscoped()
        .filter(young_person_id__in=person_ids, trial__is_test_mode=False)
        .annotate(
            consented=Min(
                "consents__recorded_on",
                filter=Q(consents__kind=ConsentKind.CARER_CONSENT, consents__given=True),
            ),
            further_data=Min(
                "withdrawals__withdrawn_on",
                filter=Q(withdrawals__level=WithdrawalLevel.FURTHER_DATA),
            ),
            data_use=Min(
                "withdrawals__withdrawn_on", filter=Q(withdrawals__level=WithdrawalLevel.DATA_USE)
            ),
        )
        .order_by("young_person_id", "pk")
        .values_list(
            "young_person_id",
            "consented",
            "allocation__allocated_at",
            "allocation__is_test",
            "further_data",
            "data_use",
        )
    )
    found: dict[int, ResearchAnchors] = {}
    for person_id, consented, allocated_at, is_test, further_data, data_use in rows:
        stops = tuple(
            Stop(on, reason)
            for on, reason in (
                (further_data, WithdrawalLevel.FURTHER_DATA.label),
                (data_use, WithdrawalLevel.DATA_USE.label),
            )
            if on is not None
        )
        found.setdefault(
            person_id,
            ResearchAnchors(
                in_trial=True,
                consented_on=consented,
                randomised_on=timezone.localdate(allocated_at)
                if allocated_at is not None and not is_test
                else None,
                stops=stops,
            ),
        )
    return found


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
    # Measures anchor the trial's outcome schedule on consent and randomisation, and stop it at
    # a withdrawal from further data collection, through this provider.
    subscribe_research_anchors(research_anchors)


def site_mst_share(site_id: int) -> float | None:
    """The MST share of the allocation ratio of the live trial a site recruits to (or None)."""
    from mstoutcomes.trial.handover import live_trial_for

    trial = live_trial_for(site_id)
    return None if trial is None else trial.spec.mst_share
