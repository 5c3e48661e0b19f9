"""Case mix against the site's target, agencies that skew it, and a suggested order (no Django).

The service's lesson: "there is a tendency for professionals to send all of the most difficult
cases immediately — this needs to be avoided". This module shows the mix and proposes whom to take
next so that the accepted mix stays near target while urgent families and long waits come first.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mstoutcomes.referrals.codes import BANDS

LONG_WAIT_DAYS = 8 * 7  # families waiting this long go before the mix is considered


@dataclass(frozen=True)
class MixCase:
    key: int
    label: str
    agency: str
    band: str
    urgent: bool = False
    waiting_since: dt.date | None = None


@dataclass(frozen=True)
class Mix:
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def share(self, band: str) -> float:
        return self.counts.get(band, 0) / self.total if self.total else 0.0

    def shares(self) -> dict[str, float]:
        return {band: self.share(band) for band in BANDS}


def mix_of(cases: Iterable[MixCase]) -> Mix:
    counted = Counter(case.band for case in cases)
    return Mix({band: counted.get(band, 0) for band in BANDS})


@dataclass(frozen=True)
class AgencySkew:
    agency: str
    referrals: int
    higher: int

    @property
    def share(self) -> float:
        return self.higher / self.referrals if self.referrals else 0.0


@dataclass(frozen=True)
class CaseMixReport:
    received: Mix
    waiting: Mix
    accepted: Mix
    by_agency: dict[str, Mix]
    skewed_agencies: tuple[AgencySkew, ...]
    warnings: tuple[str, ...]


def _pct(value: float) -> str:
    return f"{round(value * 100)}%"


def case_mix(
    *,
    received: list[MixCase],
    waiting: list[MixCase],
    accepted: list[MixCase],
    target: Mapping[str, float],
    tolerance: float,
    skew_share: float,
    skew_min_referrals: int,
) -> CaseMixReport:
    """Return the mix of each group, warnings against the target and agencies that skew higher."""
    groups = {
        "received": mix_of(received),
        "waiting": mix_of(waiting),
        "accepted": mix_of(accepted),
    }
    warnings = []
    for name in ("accepted", "waiting"):
        mix = groups[name]
        share = mix.share("higher")
        if mix.total and share > target["higher"] + tolerance:
            warnings.append(
                f"{mix.counts['higher']} of {mix.total} {name} families ({_pct(share)}) are higher "
                f"complexity, above the target of {_pct(target['higher'])} "
                f"(allowing {_pct(tolerance)})."
            )
    by_agency: dict[str, list[MixCase]] = {}
    for case in received:
        by_agency.setdefault(case.agency, []).append(case)
    skewed = []
    for agency, cases in sorted(by_agency.items()):
        higher = sum(1 for c in cases if c.band == "higher")
        skew = AgencySkew(agency, len(cases), higher)
        if skew.referrals >= skew_min_referrals and skew.share >= skew_share:
            skewed.append(skew)
            warnings.append(
                f"{agency} sent {higher} of {len(cases)} referrals ({_pct(skew.share)}) "
                f"at higher complexity."
            )
    return CaseMixReport(
        received=groups["received"],
        waiting=groups["waiting"],
        accepted=groups["accepted"],
        by_agency={agency: mix_of(cases) for agency, cases in sorted(by_agency.items())},
        skewed_agencies=tuple(skewed),
        warnings=tuple(warnings),
    )


@dataclass(frozen=True)
class Suggestion:
    case: MixCase
    position: int
    reasons: tuple[str, ...]


def _distance(counts: Mapping[str, int], target: Mapping[str, float]) -> float:
    total = sum(counts.values())
    if not total:
        return 0.0
    return sum(abs(counts.get(b, 0) / total - target[b]) for b in BANDS)


def suggest_order(
    candidates: list[MixCase],
    *,
    accepted: Mix,
    target: Mapping[str, float],
    as_of: dt.date,
) -> list[Suggestion]:
    """Order families for the next places: urgent first, then long waits, then nearest the target.

    Among the rest, each place goes to the family whose band brings the accepted mix nearest the
    target; ties go to whoever has waited longest.
    """
    counts = dict(accepted.counts)
    remaining = list(candidates)
    order: list[Suggestion] = []

    def waited(case: MixCase) -> int:
        return (as_of - case.waiting_since).days if case.waiting_since else 0

    while remaining:

        def rank(case: MixCase) -> tuple[int, int, float, int, int]:
            after = {**counts, case.band: counts.get(case.band, 0) + 1}
            return (
                0 if case.urgent else 1,
                0 if waited(case) >= LONG_WAIT_DAYS else 1,
                round(_distance(after, target), 6),
                -waited(case),
                case.key,
            )

        best = min(remaining, key=rank)
        remaining.remove(best)
        total = sum(counts.values())
        share = counts.get(best.band, 0) / total if total else 0.0
        reasons = []
        if best.urgent:
            reasons.append("Marked urgent by the panel, so placed before routine families.")
        if waited(best) >= LONG_WAIT_DAYS:
            reasons.append(f"Has waited {waited(best) // 7} weeks, longer than 8 weeks.")
        band = BANDS[best.band]
        if share < target[best.band]:
            reasons.append(
                f"{band}: {_pct(share)} of accepted families so far against a target of "
                f"{_pct(target[best.band])}, so taking this family moves the mix towards target."
            )
        else:
            reasons.append(
                f"{band}: already {_pct(share)} of accepted families against a target of "
                f"{_pct(target[best.band])}; placed here as the best remaining fit."
            )
        if waited(best) and waited(best) < LONG_WAIT_DAYS:
            reasons.append(f"Waiting {waited(best) // 7} weeks so far.")
        order.append(Suggestion(best, len(order) + 1, tuple(reasons)))
        counts[best.band] = counts.get(best.band, 0) + 1
    return order
