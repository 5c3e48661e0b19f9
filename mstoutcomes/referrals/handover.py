"""The seam between an accepted referral and the trial (consent, eligibility, randomisation).

At a site whose configuration says ``trial_site = true``, accepting a referral does not open an MST
episode: the family is handed to the trial, which records consent and randomises. If the family is
allocated to MST, the trial calls ``referrals.services.referral_allocate`` to open the episode;
if to management as usual, it closes the referral. Until the trial app exists this function only
records the hand-over; the trial issue replaces its body (keep the signature).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mstoutcomes.accounts.services import audit_record

if TYPE_CHECKING:
    from mstoutcomes.accounts.models import User
    from mstoutcomes.referrals.models import Referral


def trial_handover(*, by: User | None, referral: Referral) -> None:
    """Hand an accepted referral at a trial site to the trial's consent and randomisation."""
    audit_record(
        actor=by,
        action="referrals.referral.handed_to_trial",
        obj=referral,
        site=referral.site,
        data={"young_person": referral.young_person.study_id if referral.young_person else None},
    )
