"""Bang's blinding index (Bang, Ni & Davis 2004, Controlled Clinical Trials 25:143-156).

Outcome assessors guess each participant's arm: the active arm, the control arm, or "don't know".
For each true arm the index is

    BI = (2 * correct / (correct + incorrect) - 1) * (correct + incorrect) / n
       = (correct - incorrect) / n

1 means every guess was right (blinding broken), -1 every guess wrong (opposite guessing),
0 is consistent with random guessing. Its variance is the multinomial variance of the difference of
two proportions, [p1(1 - p1) + p2(1 - p2) + 2 p1 p2] / n, with p1 and p2 the proportions of correct
and incorrect guesses; the confidence interval is the normal (Wald) interval, not clipped, as in
Bang's R package BI. Plain Python, no Django: tested against R in trial/tests/reference/.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist


@dataclass(frozen=True)
class GuessCounts:
    """The guesses for participants truly in one arm."""

    correct: int
    incorrect: int
    dont_know: int

    def __post_init__(self) -> None:
        if min(self.correct, self.incorrect, self.dont_know) < 0:
            raise ValueError("Counts of guesses cannot be negative.")

    @property
    def n(self) -> int:
        return self.correct + self.incorrect + self.dont_know


@dataclass(frozen=True)
class BangIndex:
    """The index for one arm, with its standard error and confidence interval."""

    n: int
    estimate: float | None
    std_error: float | None
    lower: float | None
    upper: float | None
    conf_level: float

    @property
    def reading(self) -> str:
        """Say in plain words what the interval is consistent with."""
        if self.estimate is None or self.lower is None or self.upper is None:
            return "No guesses recorded"
        if self.lower > 0:
            return "More correct guesses than chance"
        if self.upper < 0:
            return "More wrong guesses than chance"
        return "Consistent with random guessing"


def bang_index(counts: GuessCounts, *, conf_level: float = 0.95) -> BangIndex:
    """Return Bang's blinding index for one arm (None values when nobody was guessed)."""
    if not 0 < conf_level < 1:
        raise ValueError("The confidence level must be between 0 and 1.")
    n = counts.n
    if n == 0:
        return BangIndex(0, None, None, None, None, conf_level)
    p1, p2 = counts.correct / n, counts.incorrect / n
    estimate = p1 - p2
    std_error = math.sqrt((p1 * (1 - p1) + p2 * (1 - p2) + 2 * p1 * p2) / n)
    z = NormalDist().inv_cdf(1 - (1 - conf_level) / 2)
    return BangIndex(
        n, estimate, std_error, estimate - z * std_error, estimate + z * std_error, conf_level
    )


def bang_indexes(
    table: dict[str, dict[str, int]], *, arms: tuple[str, str], dont_know: str = "dont_know"
) -> dict[str, BangIndex]:
    """Return the index per true arm from a 2x3 table {true arm: {guess: count}}.

    ``arms`` names the two arms; a guess of an arm's own code is correct, of the other arm's code
    incorrect, and ``dont_know`` counts as neither.
    """
    first, second = arms
    result = {}
    for arm, other in ((first, second), (second, first)):
        row = table.get(arm, {})
        unknown = set(row) - {first, second, dont_know}
        if unknown:
            raise ValueError(f"Unknown guesses for arm {arm}: {sorted(unknown)}.")
        counts = GuessCounts(row.get(arm, 0), row.get(other, 0), row.get(dont_know, 0))
        result[arm] = bang_index(counts)
    return result
