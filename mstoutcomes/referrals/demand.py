"""Demand from families a trial still has to randomise: the hook the trial fills at start-up.

At a trial site an accepted family waits in the referral state ``awaiting_trial`` until it is
randomised. Such families are not MST starts: only the MST share of the allocation ratio of them
(0.5 for 1:1) is expected to start MST, and none has a therapist yet. Capacity, the waiting-list
forecast, case mix and the dashboard show them as their own line.

The referrals app must not import the trial (the trial sits above it), so the trial publishes the
share through this hook: ``TrialConfig.ready()`` (``trial.protocol.subscribe_rules``) calls
``set_mst_share_provider`` with a function answering "what share of this site's randomised
families go to MST?". Without a provider (no trial app, or a site in no live trial) the share is
None and pages show the count without an expected number of starts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mstoutcomes.referrals.workflow import State

ShareProvider = Callable[[int], float | None]

_provider: list[ShareProvider] = []


def set_mst_share_provider(provider: ShareProvider) -> None:
    """Register the function giving a site's MST share (the last one registered wins)."""
    _provider[:] = [provider]


def mst_share(site_id: int) -> float | None:
    """Return the share of a site's randomised families allocated to MST, or None if unknown."""
    return _provider[0](site_id) if _provider else None


@dataclass(frozen=True)
class AwaitingRandomisation:
    """Families at a site waiting for the trial, and the MST starts they are expected to bring."""

    families: int
    share: float | None

    @property
    def expected_mst_starts(self) -> float | None:
        return None if self.share is None else round(self.families * self.share, 1)

    @property
    def line(self) -> str:
        text = f"Awaiting randomisation: {self.families}"
        if self.expected_mst_starts is not None:
            text += (
                f"; expected MST starts: {self.expected_mst_starts:g} "
                f"({self.families} × {self.share:g}, the MST share of the allocation ratio)"
            )
        return text


def awaiting_randomisation(site_id: int) -> AwaitingRandomisation:
    """Count the site's referrals waiting for the trial's consent, baseline and randomisation."""
    from mstoutcomes.referrals.models import Referral

    families = Referral.objects.unscoped().filter(site=site_id, state=State.AWAITING_TRIAL).count()
    return AwaitingRandomisation(families, mst_share(site_id))
