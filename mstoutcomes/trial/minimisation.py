"""Pocock–Simon minimisation with a biased coin, without Django.

For each arm we ask how imbalanced each factor level of the new participant would become if the
participant went to that arm (counts divided by the arm's ratio, so unequal ratios are respected),
measure it by range or variance, and weight by factor. The arm with the least total imbalance is
preferred and given with probability p (default 0.8); otherwise one of the other arms, in
proportion to their ratios. Ties among preferred arms are broken at random, by ratio. The random
draws come from the trial's key and the allocation's sequence number, so every decision can be
reproduced from the key and the history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mstoutcomes.trial.config import TrialSpec

# counts[factor][level][arm] -> participants already allocated
Counts = Mapping[str, Mapping[str, Mapping[str, int]]]


@dataclass(frozen=True)
class MinimisationDecision:
    """What minimisation chose and why."""

    arm: str
    preferred: str
    scores: dict[str, float]
    draw: float
    tie_draw: float
    p_preferred: float

    def as_dict(self) -> dict[str, object]:
        return {
            "arm": self.arm,
            "preferred": self.preferred,
            "scores": self.scores,
            "draw": self.draw,
            "tie_draw": self.tie_draw,
            "p_preferred": self.p_preferred,
        }


def _imbalance(values: Sequence[float], how: str) -> float:
    if how == "range":
        return max(values) - min(values)
    mean = sum(values) / len(values)
    return sum((v - mean) ** 2 for v in values) / len(values)


def imbalance_scores(
    spec: TrialSpec, counts: Counts, levels: Mapping[str, str]
) -> dict[str, float]:
    """Return, for each arm, the weighted imbalance if the participant were given that arm."""
    spec.check_levels(dict(levels))
    ratios = {arm.code: arm.ratio for arm in spec.arms}
    scores = {}
    for candidate in spec.arm_codes:
        total = 0.0
        for factor in spec.factors:
            row = counts.get(factor.name, {}).get(levels[factor.name], {})
            adjusted = [
                (row.get(arm, 0) + (1 if arm == candidate else 0)) / ratios[arm]
                for arm in spec.arm_codes
            ]
            total += spec.weights.get(factor.name, 1.0) * _imbalance(adjusted, spec.imbalance)
        scores[candidate] = round(total, 12)
    return scores


def _pick(arms: Sequence[str], ratios: Mapping[str, int], draw: float) -> str:
    total = sum(ratios[a] for a in arms)
    threshold = draw * total
    running = 0.0
    for arm in arms:
        running += ratios[arm]
        if threshold < running:
            return arm
    return arms[-1]


def minimise(
    spec: TrialSpec, counts: Counts, levels: Mapping[str, str], *, draw: float, tie_draw: float
) -> MinimisationDecision:
    """Choose an arm for a participant with these factor levels, given the counts so far.

    `draw` and `tie_draw` are uniform numbers in [0, 1).
    """
    if not (0 <= draw < 1 and 0 <= tie_draw < 1):
        raise ValueError("Draws must be in [0, 1).")
    scores = imbalance_scores(spec, counts, levels)
    ratios = {arm.code: arm.ratio for arm in spec.arms}
    best = min(scores.values())
    tied = [arm for arm in spec.arm_codes if scores[arm] == best]
    preferred = _pick(tied, ratios, tie_draw)
    if len(tied) == len(spec.arm_codes):
        # No arm is better: allocate at random in the allocation ratio.
        arm = preferred
    elif draw < spec.p_preferred:
        arm = preferred
    else:
        others = [a for a in spec.arm_codes if a != preferred]
        arm = _pick(others, ratios, (draw - spec.p_preferred) / (1 - spec.p_preferred))
    return MinimisationDecision(arm, preferred, scores, draw, tie_draw, spec.p_preferred)


def add_to_counts(
    counts: dict[str, dict[str, dict[str, int]]], levels: Mapping[str, str], arm: str
) -> None:
    """Record an allocation in the counts."""
    for factor, level in levels.items():
        cell = counts.setdefault(factor, {}).setdefault(level, {})
        cell[arm] = cell.get(arm, 0) + 1
