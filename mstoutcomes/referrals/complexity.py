"""Score a referral's complexity from configured weights, showing what each fact contributed.

Pure Python. Score = the sum of the points of every weighted fact present (counts give points per
unit up to their cap); the band is lower below ``medium_from``, higher from ``higher_from``.
"""

from __future__ import annotations

from dataclasses import dataclass

from mstoutcomes.referrals import codes
from mstoutcomes.referrals.config import ComplexityRules
from mstoutcomes.referrals.facts import ReferralFacts


@dataclass(frozen=True)
class Contribution:
    label: str
    detail: str
    points: float


@dataclass(frozen=True)
class ComplexityProfile:
    score: float
    band: str
    contributions: tuple[Contribution, ...]
    explanation: str

    @property
    def band_label(self) -> str:
        return codes.BANDS[self.band]

    def as_dict(self) -> dict[str, object]:
        return {
            "score": self.score,
            "band": self.band,
            "explanation": self.explanation,
            "contributions": [c.__dict__ for c in self.contributions],
        }


def band_for(score: float, rules: ComplexityRules) -> str:
    if score >= rules.higher_from:
        return "higher"
    if score >= rules.medium_from:
        return "medium"
    return "lower"


def score(facts: ReferralFacts, rules: ComplexityRules) -> ComplexityProfile:
    """Return the complexity score, band and each fact's contribution, largest first."""
    contributions = []
    for weight in rules.weights:
        if weight.count:
            n = facts.count(weight.count)
            counted = min(n, weight.cap) if weight.cap else n
            if counted:
                capped = f", counted up to {weight.cap}" if weight.cap and n > weight.cap else ""
                detail = f"{n} × {weight.points:g} points{capped}"
                contributions.append(Contribution(weight.label, detail, counted * weight.points))
        elif weight.code in facts.codes(weight.kind):
            contributions.append(Contribution(weight.label, "recorded", weight.points))
    contributions.sort(key=lambda c: (-c.points, c.label))
    total = round(sum(c.points for c in contributions), 2)
    band = band_for(total, rules)
    explanation = (
        f"Score {total:g}: {codes.BANDS[band].lower()} "
        f"(medium from {rules.medium_from:g}, higher from {rules.higher_from:g})."
    )
    return ComplexityProfile(total, band, tuple(contributions), explanation)
