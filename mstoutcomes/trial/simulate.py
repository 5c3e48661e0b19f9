"""Simulate a trial configuration before go-live: balance and predictability, without Django.

Each simulated trial recruits `participants` people whose factor levels are drawn from given
probabilities (uniform by default) and allocates them as the live trial would. We report:

- overall imbalance: |arm A − arm B| (ratio-adjusted, largest pair) at the end of the trial;
- worst level imbalance: the largest ratio-adjusted imbalance within any factor level;
- predictability: the share of allocations a recruiter would guess right by always guessing the
  arm that is "due" (for minimisation, the preferred arm; for blocks, the arm furthest behind its
  share in the current block). 1/arms means unpredictable.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from mstoutcomes.trial.blocks import stratum_blocks
from mstoutcomes.trial.config import TrialSpec
from mstoutcomes.trial.drbg import Drbg
from mstoutcomes.trial.minimisation import add_to_counts, minimise


@dataclass(frozen=True)
class SimulationResult:
    """Balance and predictability over many simulated trials."""

    trials: int
    participants: int
    method: str
    overall_imbalance: list[float]
    worst_level_imbalance: list[float]
    correct_guess_rate: list[float]

    @property
    def summary(self) -> pd.DataFrame:
        rows = []
        for name, values in (
            ("Overall imbalance (participants)", self.overall_imbalance),
            ("Worst factor-level imbalance", self.worst_level_imbalance),
            ("Correct guesses by a recruiter", self.correct_guess_rate),
        ):
            ordered = sorted(values)
            rows.append(
                {
                    "measure": name,
                    "mean": statistics.fmean(values),
                    "median": statistics.median(values),
                    "p95": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
                    "max": ordered[-1],
                }
            )
        return pd.DataFrame(rows).set_index("measure")


def _adjusted_gap(counts: Mapping[str, int], spec: TrialSpec) -> float:
    values = [counts.get(arm.code, 0) / arm.ratio for arm in spec.arms]
    return max(values) - min(values)


def _draw_levels(spec: TrialSpec, drbg: Drbg, probabilities: Mapping[str, Mapping[str, float]]):
    levels = {}
    for factor in spec.factors:
        weights = probabilities.get(factor.name)
        if not weights:
            levels[factor.name] = factor.categories[drbg.randbelow(len(factor.categories))]
            continue
        u, running = drbg.uniform() * sum(weights.values()), 0.0
        for category in factor.categories:
            running += weights.get(category, 0.0)
            if u < running:
                levels[factor.name] = category
                break
        else:
            levels[factor.name] = factor.categories[-1]
    return levels


def _one_trial(spec: TrialSpec, n: int, seed: str, probabilities) -> tuple[float, float, float]:
    drbg = Drbg(seed.encode(), f"simulation|{spec.code}")
    counts: dict[str, dict[str, dict[str, int]]] = {}
    totals: dict[str, int] = {}
    blocks: dict[str, tuple[object, list[str], dict[str, int]]] = {}
    correct = 0
    for _ in range(n):
        levels = _draw_levels(spec, drbg, probabilities)
        if spec.method == "minimisation":
            decision = minimise(spec, counts, levels, draw=drbg.uniform(), tie_draw=drbg.uniform())
            arm, guess = decision.arm, decision.preferred
        else:
            stratum = spec.stratum_of(levels)
            if stratum not in blocks or not blocks[stratum][1]:
                generator = (
                    blocks[stratum][0]
                    if stratum in blocks
                    else stratum_blocks(spec, key=seed.encode(), list_id="sim", stratum=stratum)
                )
                block = list(next(generator))  # type: ignore[call-overload]
                blocks[stratum] = (generator, block, {})
            _, remaining, used = blocks[stratum]
            # The recruiter guesses the arm with most places left in the block.
            left = {a: remaining.count(a) for a in spec.arm_codes}
            guess = max(spec.arm_codes, key=lambda a: left[a])
            arm = remaining.pop(0)
            used[arm] = used.get(arm, 0) + 1
        correct += arm == guess
        add_to_counts(counts, levels, arm)
        totals[arm] = totals.get(arm, 0) + 1
    worst = max(
        (_adjusted_gap(cell, spec) for factor in counts.values() for cell in factor.values()),
        default=0.0,
    )
    return _adjusted_gap(totals, spec), worst, correct / n


def simulate(
    spec: TrialSpec,
    *,
    trials: int,
    participants: int,
    seed: str,
    probabilities: Mapping[str, Mapping[str, float]] | None = None,
    progress=None,
) -> SimulationResult:
    """Simulate `trials` trials of `participants` each; reproducible from `seed`."""
    if trials < 1 or participants < 1:
        raise ValueError("Simulate at least one trial of at least one participant.")
    overall, worst, guesses = [], [], []
    for t in range(trials):
        o, w, g = _one_trial(spec, participants, f"{seed}|{t}", probabilities or {})
        overall.append(o)
        worst.append(w)
        guesses.append(g)
        if progress is not None:
            progress()
    return SimulationResult(trials, participants, spec.method, overall, worst, guesses)
