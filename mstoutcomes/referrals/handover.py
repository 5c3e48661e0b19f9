"""The seam between an accepted referral and the trial (consent, eligibility, randomisation).

At a site whose configuration says ``trial_site = true``, accepting a referral does not open an MST
episode: the family is handed to the trial. referrals never imports the trial: this module
publishes a small listener interface and the trial subscribes in ``TrialConfig.ready()``
(``trial.protocol.subscribe_rules`` → ``subscribe_referral_handover``). The trial's listener
(``trial.handover.referral_handed_over``) enrols the young person when the site is in a live trial
and records their eligibility from the referral's evaluated criteria. Consent and randomisation
stay explicit steps for the trial team. After randomisation the trial closes the referral of a
family allocated to management as usual; a family allocated to MST waits for a therapist, and
``referral_allocate`` opens the episode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from mstoutcomes.accounts.services import audit_record

if TYPE_CHECKING:
    from mstoutcomes.accounts.models import User
    from mstoutcomes.referrals.models import Referral


@dataclass(frozen=True)
class HandedOver:
    """What a listener did with a referral handed over: the trial it recruits to, and whether the
    young person was enrolled (None and False when the site is in no live trial)."""

    trial: str | None
    enrolled: bool


class HandoverListener(Protocol):
    def __call__(self, *, by: User | None, referral: Referral) -> HandedOver: ...


_listeners: dict[str, HandoverListener] = {}


def subscribe_referral_handover(*, name: str, listener: HandoverListener) -> None:
    """Register a listener to referrals accepted at a trial site (replaces one of that name)."""
    _listeners[name] = listener


def trial_handover(*, by: User | None, referral: Referral) -> None:
    """Hand an accepted referral at a trial site to the trial's consent and randomisation.

    Runs in the caller's transaction: a listener that fails rolls the acceptance back.
    """
    trial: str | None = None
    enrolled = False
    for listener in _listeners.values():
        outcome = listener(by=by, referral=referral)
        trial = trial or outcome.trial
        enrolled = enrolled or outcome.enrolled
    audit_record(
        actor=by,
        action="referrals.referral.handed_to_trial",
        obj=referral,
        site=referral.site,
        data={
            "young_person": referral.young_person.study_id if referral.young_person else None,
            "trial": trial,
            "enrolled": enrolled,
        },
    )
