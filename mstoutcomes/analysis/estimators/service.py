"""Service evaluation without a control arm: change before and after MST, and MST's targets.

None of these estimates is a causal effect: young people are referred when things are at their
worst, so scores tend to improve anyway (regression to the mean). Reports say so, and point to
the trial comparison where there is one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from mstoutcomes.analysis.results import Z95, Effect, _plain

RCI_CRITICAL = 1.96
CHANGE_CATEGORIES = ("recovered", "improved", "unchanged", "deteriorated")


@dataclass(frozen=True, eq=False)
class PrePostResult:
    """Change in a continuous score between two timepoints in the same young people."""

    outcome: str
    before: str
    after: str
    n: int
    mean_before: float
    mean_after: float
    sd_before: float
    sd_after: float
    effects: tuple[Effect, ...]
    t_statistic: float
    t_p_value: float
    wilcoxon_statistic: float
    wilcoxon_p_value: float
    categories: dict[str, int] = field(default_factory=dict)
    per_person: pd.DataFrame = field(default_factory=pd.DataFrame)
    reliable_change_threshold: float | None = None

    @property
    def summary(self) -> pd.DataFrame:
        """Return one row per effect: estimate, 95% CI and p-value."""
        rows = [{"outcome": self.outcome, "n": self.n} | e.as_dict() for e in self.effects]
        return pd.DataFrame(rows).set_index("measure")

    def as_dict(self) -> dict[str, Any]:
        return _plain(
            {
                "outcome": self.outcome,
                "before": self.before,
                "after": self.after,
                "n": self.n,
                "mean_before": self.mean_before,
                "mean_after": self.mean_after,
                "sd_before": self.sd_before,
                "sd_after": self.sd_after,
                "effects": [e.as_dict() for e in self.effects],
                "paired_t": {"statistic": self.t_statistic, "p_value": self.t_p_value},
                "wilcoxon": {
                    "statistic": self.wilcoxon_statistic,
                    "p_value": self.wilcoxon_p_value,
                },
                "change_categories": self.categories,
                "reliable_change_threshold": self.reliable_change_threshold,
            }
        )


def pre_post(
    before: pd.Series,
    after: pd.Series,
    *,
    outcome: str,
    labels: tuple[str, str] = ("before", "after"),
    direction: str = "lower_is_better",
    reliability: float | None = None,
    clinical_cutoff: float | None = None,
) -> PrePostResult:
    """Describe change between two timepoints: mean change, paired tests, effect sizes, RCI.

    Parameters
    ----------
    before, after
        Scores indexed by participant; only participants with both are analysed.
    direction
        ``"lower_is_better"`` (SDQ difficulties) or ``"higher_is_better"`` (attendance).
    reliability
        The instrument's reliability (such as Cronbach's alpha) for the Jacobson–Truax reliable
        change index; without it, change categories are not computed.
    clinical_cutoff
        The first score in the clinical range (lower is better: scores at or above it are
        clinical; higher is better: scores below it). With ``reliability`` it classifies reliably
        improved young people who moved out of the clinical range as "recovered".

    Returns
    -------
    PrePostResult
        Effects: mean change (after − before, t interval), Cohen's dz (mean change ÷ SD of
        change) and Hedges' g_av (mean change ÷ mean of the two SDs, small-sample corrected);
        effect-size intervals use the normal approximation SE = sqrt(1/n + d²/(2n)).

    Notes
    -----
    In R: ``t.test(after, before, paired = TRUE)`` and ``wilcox.test(after, before, paired = TRUE)``
    (exact when n < 50 without ties or zeros, otherwise the normal approximation with continuity
    correction). Reliable change (Jacobson & Truax 1991):
    ``RCI = (after − before) / (sqrt(2) · SD_before · sqrt(1 − reliability))``, reliable when
    ``|RCI| > 1.96``.
    """
    pair = pd.concat([before.rename("before"), after.rename("after")], axis=1).dropna()
    n = len(pair)
    if n < 3:
        raise ValueError(f"{outcome}: at least 3 young people need both scores; {n} do.")
    change = pair["after"] - pair["before"]
    mean_change = float(change.mean())
    sd_change = float(change.std(ddof=1))
    sd_before = float(pair["before"].std(ddof=1))
    sd_after = float(pair["after"].std(ddof=1))
    se = sd_change / math.sqrt(n)
    t = stats.ttest_rel(pair["after"], pair["before"])
    wilcoxon = _wilcoxon(change)
    dz = mean_change / sd_change if sd_change > 0 else math.nan
    correction = 1 - 3 / (4 * (n - 1) - 1)
    g = correction * mean_change / ((sd_before + sd_after) / 2)

    def approx_se(d: float) -> float:
        return math.sqrt(1 / n + d**2 / (2 * n))

    effects = (
        Effect("mean change", mean_change, se, df=n - 1),
        Effect("Cohen's dz", dz, approx_se(dz)),
        Effect("Hedges' g (average SD)", g, approx_se(g)),
    )
    per_person = pair.assign(change=change)
    categories: dict[str, int] = {}
    threshold = None
    if reliability is not None:
        s_diff = math.sqrt(2) * sd_before * math.sqrt(1 - reliability)
        threshold = RCI_CRITICAL * s_diff
        sign = -1 if direction == "lower_is_better" else 1
        rci = change / s_diff
        per_person["rci"] = rci
        improved = sign * rci > RCI_CRITICAL
        worse = sign * rci < -RCI_CRITICAL
        category = np.where(improved, "improved", np.where(worse, "deteriorated", "unchanged"))
        if clinical_cutoff is not None:
            clinical = _clinical(pair["before"], clinical_cutoff, direction)
            now_clinical = _clinical(pair["after"], clinical_cutoff, direction)
            category = np.where(improved & clinical & ~now_clinical, "recovered", category)
        per_person["category"] = category
        counts = pd.Series(category).value_counts()
        categories = {c: int(counts.get(c, 0)) for c in CHANGE_CATEGORIES}
        if clinical_cutoff is None:
            categories.pop("recovered")
    return PrePostResult(
        outcome=outcome,
        before=labels[0],
        after=labels[1],
        n=n,
        mean_before=float(pair["before"].mean()),
        mean_after=float(pair["after"].mean()),
        sd_before=sd_before,
        sd_after=sd_after,
        effects=effects,
        t_statistic=float(t.statistic),
        t_p_value=float(t.pvalue),
        wilcoxon_statistic=wilcoxon[0],
        wilcoxon_p_value=wilcoxon[1],
        categories=categories,
        per_person=per_person,
        reliable_change_threshold=threshold,
    )


def _clinical(values: pd.Series, cutoff: float, direction: str) -> pd.Series:
    return values >= cutoff if direction == "lower_is_better" else values < cutoff


def _wilcoxon(change: pd.Series) -> tuple[float, float]:
    """Return the signed-rank statistic V (sum of positive ranks) and p, as R computes them."""
    nonzero = change[change != 0]
    if nonzero.empty:
        return math.nan, math.nan
    exact = (
        len(nonzero) < 50 and not nonzero.abs().duplicated().any() and len(nonzero) == len(change)
    )
    result = stats.wilcoxon(
        nonzero,
        zero_method="wilcox",
        correction=True,
        method="exact" if exact else "asymptotic",
        alternative="two-sided",
    )
    ranks = stats.rankdata(nonzero.abs())
    v = float(ranks[nonzero.to_numpy() > 0].sum())
    return v, float(result.pvalue)


@dataclass(frozen=True, eq=False)
class RateResult:
    """Events per person-year in matched windows before and after the start of MST."""

    outcome: str
    n: int
    events_before: int
    events_after: int
    years_before: float
    years_after: float
    effect: Effect
    ci_low: float
    ci_high: float
    p_value: float

    @property
    def rate_before(self) -> float:
        return self.events_before / self.years_before

    @property
    def rate_after(self) -> float:
        return self.events_after / self.years_after

    @property
    def summary(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "outcome": self.outcome,
                    "n": self.n,
                    "rate_before": self.rate_before,
                    "rate_after": self.rate_after,
                    "rate_ratio": self.effect.estimate,
                    "ci_low": self.ci_low,
                    "ci_high": self.ci_high,
                    "p_value": self.p_value,
                }
            ]
        ).set_index("outcome")

    def as_dict(self) -> dict[str, Any]:
        return _plain(
            {
                "outcome": self.outcome,
                "n": self.n,
                "events_before": self.events_before,
                "events_after": self.events_after,
                "years_before": self.years_before,
                "years_after": self.years_after,
                "rate_before": self.rate_before,
                "rate_after": self.rate_after,
                "rate_ratio": self.effect.estimate,
                "ci_low": self.ci_low,
                "ci_high": self.ci_high,
                "p_value": self.p_value,
            }
        )


def before_after_rates(
    events_before: int,
    years_before: float,
    events_after: int,
    years_after: float,
    *,
    outcome: str,
    n: int,
) -> RateResult:
    """Compare event rates after and before the start of MST with an exact conditional test.

    Returns
    -------
    RateResult
        The rate ratio (after ÷ before) with an exact interval and p-value, conditional on the
        total number of events (as R's ``poisson.test(c(after, before), c(T_after, T_before))``).

    Notes
    -----
    The windows are matched per young person (the same length before and after), so each
    person contributes equal time to both. The exact test assumes Poisson events and ignores
    between-person variation, so its interval is too narrow when a few young people account for
    most events; treat it as descriptive.
    """
    total = events_before + events_after
    share = years_after / (years_after + years_before)
    ratio = (
        (events_after / years_after) / (events_before / years_before) if events_before else math.inf
    )
    if total == 0:
        low, high, p = math.nan, math.nan, 1.0
    else:
        test = stats.binomtest(events_after, total, share)
        ci = test.proportion_ci(confidence_level=0.95, method="exact")
        odds = years_before / years_after

        def to_ratio(q: float) -> float:
            return math.inf if q >= 1 else q / (1 - q) * odds

        low, high, p = to_ratio(ci.low), to_ratio(ci.high), float(test.pvalue)
    se = (
        math.sqrt(1 / events_after + 1 / events_before)
        if events_after and events_before
        else math.nan
    )
    effect = Effect(
        "rate ratio", math.log(ratio) if 0 < ratio < math.inf else math.nan, se, exponentiate=True
    )
    return RateResult(
        outcome, n, events_before, events_after, years_before, years_after, effect, low, high, p
    )


# --- MST discharge targets ---------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    kind: str  # "at_least", "below" (proportions) or "between" (days)
    low: float
    high: float | None = None

    @property
    def text(self) -> str:
        if self.kind == "at_least":
            return f"at least {self.low:.0%}"
        if self.kind == "below":
            return f"below {self.low:.0%}"
        return f"{self.low:.0f}–{self.high:.0f} days"


# MST's targets (MST Institute programme review): ultimate outcomes at discharge and case closure.
MST_TARGETS = (
    Target("living_at_home", "Living at home at discharge", "at_least", 0.90),
    Target("in_school_or_work", "In school or working at discharge", "at_least", 0.90),
    Target("no_new_arrests", "No new arrests during treatment", "at_least", 0.90),
    Target("completed", "Completed treatment", "at_least", 0.85),
    Target("lack_of_engagement", "Closed for lack of engagement", "below", 0.05),
    Target("placed", "Placed out of home during treatment", "below", 0.10),
    Target("length_of_stay", "Average length of stay", "between", 100, 140),
)
# Closures that say nothing about the treatment, left out of case-closure percentages.
EXCLUDED_CLOSURES = ("moved", "administrative")


def wilson_interval(successes: int, n: int) -> tuple[float, float]:
    """Return the Wilson score 95% interval for a proportion (R: ``prop.test(correct = FALSE)``)."""
    if n == 0:
        return math.nan, math.nan
    p = successes / n
    z2 = Z95**2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n**2)) / (1 + z2 / n)
    return centre - half, centre + half


def discharge_targets(closures: pd.DataFrame, ultimate: pd.DataFrame) -> pd.DataFrame:
    """Compare discharge outcomes and case-closure figures with MST's targets.

    Parameters
    ----------
    closures
        One row per discharged young person: ``discharge_reason`` and ``length_days``.
    ultimate
        One row per discharged young person, 0/1 columns ``living_at_home``,
        ``in_school_or_work`` and ``no_new_arrests`` (NaN when not recorded).

    Returns
    -------
    DataFrame
        One row per target: numerator, denominator, observed value, 95% interval, target, met.

    Notes
    -----
    Ultimate outcomes use every discharge with the outcome recorded. Case-closure percentages
    leave out closures for moving away or administrative reasons (as MST's reports do).
    Length of stay is the mean in days over all discharges, with a t interval.
    """
    rows: list[dict[str, Any]] = []
    counted = closures[~closures["discharge_reason"].isin(EXCLUDED_CLOSURES)]
    reasons = counted["discharge_reason"].fillna("")
    closure_flags = {
        "completed": reasons == "completed",
        "lack_of_engagement": reasons == "lack_of_engagement",
        "placed": reasons.str.startswith("placed"),
    }
    for target in MST_TARGETS:
        if target.kind == "between":
            days = closures["length_days"].dropna()
            n = len(days)
            value = float(days.mean()) if n else math.nan
            half = (
                float(stats.t.ppf(0.975, n - 1) * days.std(ddof=1) / math.sqrt(n))
                if n > 1
                else math.nan
            )
            met = bool(n) and target.low <= value <= (target.high or math.inf)
            rows.append(_target_row(target, None, n, value, value - half, value + half, met))
            continue
        if target.key in closure_flags:
            flags = closure_flags[target.key]
        elif target.key in ultimate.columns:
            flags = ultimate[target.key].dropna().astype(bool)
        else:
            continue
        n, k = len(flags), int(flags.sum())
        value = k / n if n else math.nan
        low, high = wilson_interval(k, n)
        met = bool(n) and (value >= target.low if target.kind == "at_least" else value < target.low)
        rows.append(_target_row(target, k, n, value, low, high, met))
    return pd.DataFrame(rows).set_index("key")


def _target_row(
    target: Target, k: int | None, n: int, value: float, low: float, high: float, met: bool
) -> dict[str, Any]:
    return {
        "key": target.key,
        "label": target.label,
        "numerator": k,
        "denominator": n,
        "value": value,
        "ci_low": low,
        "ci_high": high,
        "target": target.text,
        "met": met,
    }
