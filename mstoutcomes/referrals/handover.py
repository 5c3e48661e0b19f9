"""The seam between an accepted referral and the trial (consent, eligibility, randomisation).

At a site whose configuration says ``trial_site = true``, accepting a referral does not open an MST
episode: the family is handed to the trial. When the site is in a live trial the young person is
enrolled and their eligibility recorded from the referral's evaluated criteria
(``trial.handover.referral_to_trial``). Consent and randomisation stay explicit steps for the trial
team. After randomisation the trial closes the referral of a family allocated to management as
usual; a family allocated to MST waits for a therapist, and ``referral_allocate`` opens the episode.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mstoutcomes.accounts.services import audit_record

if TYPE_CHECKING:
    from mstoutcomes.accounts.models import User
    from mstoutcomes.referrals.models import Referral


def trial_handover(*, by: User | None, referral: Referral) -> None:
    """Hand an accepted referral at a trial site to the trial's consent and randomisation."""
    from mstoutcomes.trial.handover import live_trial_for, referral_to_trial

    trial = live_trial_for(referral.site_id)
    participant = None
    if trial is not None and referral.young_person is not None:
        participant = referral_to_trial(by=by, referral=referral, trial=trial)
    audit_record(
        actor=by,
        action="referrals.referral.handed_to_trial",
        obj=referral,
        site=referral.site,
        data={
            "young_person": referral.young_person.study_id if referral.young_person else None,
            "trial": trial.code if trial is not None else None,
            "enrolled": participant is not None,
        },
    )
