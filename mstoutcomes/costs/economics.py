"""Savings, honestly: arms compared with bootstrap CIs, before/after, break-even, ICER, sensitivity.

Pure Python (no Django). Every analysis works on one linear cost model: a people x items table of
*units* (nights, hours, events — each in its unit cost's unit) and a rate per item, so that

    cost of person p = sum over items i of units[p, i] x rate[i].

The MST programme is an item too (one "family" unit for each young person who started MST, split
into one column per budget holder that funds it), so the net saving, the ICER and the sensitivity
analyses all come from the same table. Random results take a seed and are identical for the same
seed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mstoutcomes.costs.costing import BUDGET_HOLDER_LABELS, Catalogue, ProgrammeCost, Unit

PROGRAMME_PREFIX = "mst_programme:"
DEFAULT_SEED = 20240607
DEFAULT_BOOT = 2000

BEFORE_AFTER_WARNING = (
    "Before/after comparison, not a controlled estimate. Young people are referred to MST at a "
    "crisis, when their use of services is at its highest; much of that use falls afterwards "
    "whatever is done (regression to the mean). This comparison therefore overstates what MST "
    "saves. Use the comparison with the trial's management-as-usual arm where there is one."
)


@dataclass(frozen=True)
class CostModel:
    """Units of use per person and item, with each item's rate, range and budget holder."""

    units: pd.DataFrame
    rates: pd.Series
    holders: pd.Series
    low: pd.Series
    high: pd.Series

    def __post_init__(self) -> None:
        missing = [c for c in self.units.columns if c not in self.rates.index]
        if missing:
            raise ValueError(f"No rate for {', '.join(map(str, missing))}.")

    @property
    def items(self) -> list[str]:
        return [str(c) for c in self.units.columns]

    def costs(self, rates: pd.Series | None = None) -> pd.DataFrame:
        """Return people x items costs."""
        r = (self.rates if rates is None else rates).reindex(self.units.columns)
        return self.units.mul(r, axis=1)

    def by_holder(self) -> pd.DataFrame:
        """Return people x budget holder costs (MST programme shares included)."""
        costs = self.costs()
        return costs.T.groupby(self.holders.reindex(costs.columns)).sum().T

    @classmethod
    def from_units(
        cls, units: pd.DataFrame, catalogue: Catalogue, people: Sequence[str]
    ) -> CostModel:
        """Return the model of a units table built by costing.units_by_person."""
        codes = list(catalogue.costs)
        table = units.reindex(index=list(people), columns=codes).fillna(0.0)
        return cls(
            units=table,
            rates=pd.Series({c: catalogue[c].value for c in codes}, dtype=float),
            holders=pd.Series({c: str(catalogue[c].budget_holder) for c in codes}),
            low=pd.Series({c: catalogue[c].range[0] for c in codes}, dtype=float),
            high=pd.Series({c: catalogue[c].range[1] for c in codes}, dtype=float),
        )

    def with_programme(
        self, programme: ProgrammeCost, received: pd.Series, *, range_fraction: float = 0.2
    ) -> CostModel:
        """Return the model with the MST programme cost for each young person who started MST.

        ``received`` maps person to whether they started MST; the cost per family is split
        between the budget holders that fund the team, each varied by ``range_fraction``.
        """
        given = received.to_dict()
        flags = pd.Series(
            [1.0 if given.get(p) else 0.0 for p in self.units.index], index=self.units.index
        )
        shares = programme.per_family_by_holder()
        units = self.units.copy()
        rates, holders = self.rates.copy(), self.holders.copy()
        low, high = self.low.copy(), self.high.copy()
        for holder, amount in shares.items():
            code = PROGRAMME_PREFIX + holder
            units[code] = flags
            rates[code] = amount
            holders[code] = holder
            low[code] = amount * (1 - range_fraction)
            high[code] = amount * (1 + range_fraction)
        return CostModel(units, rates, holders, low, high)


def _check_seed(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def bootstrap_indices(n: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Return n_boot rows of n indices drawn with replacement."""
    if n == 0:
        return np.zeros((n_boot, 0), dtype=int)
    return rng.integers(0, n, size=(n_boot, n))


def bootstrap_mean_ci(
    values: Sequence[float] | np.ndarray,
    *,
    n_boot: int = DEFAULT_BOOT,
    seed: int = DEFAULT_SEED,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """Return the mean and its percentile bootstrap interval."""
    x = np.asarray(values, dtype=float)
    rng = _check_seed(seed)
    means = x[bootstrap_indices(len(x), n_boot, rng)].mean(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(x.mean()), float(low), float(high)


def _interval(draws: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    tail = (1 - level) / 2 * 100
    return np.percentile(draws, tail, axis=0), np.percentile(draws, 100 - tail, axis=0)


# --- comparison of arms ------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ArmComparison:
    """Mean cost per young person in each arm and the net saving, with bootstrap intervals.

    ``saving`` is control minus treatment (positive: the treatment arm cost less), after the MST
    programme cost. ``unit_replicates`` holds the bootstrap replicates of the difference in mean
    units per item (treatment minus control); ``effect_replicates`` those of each effect avoided.
    """

    treatment: str
    control: str
    n: Mapping[str, int]
    table: pd.DataFrame
    unit_difference: pd.Series
    unit_replicates: pd.DataFrame
    effects: pd.DataFrame
    effect_replicates: pd.DataFrame
    seed: int
    n_boot: int
    model: CostModel = field(repr=False)

    @property
    def summary(self) -> pd.DataFrame:
        """Return one row per budget holder and a total: means by arm, saving and its 95% CI."""
        return self.table

    @property
    def total(self) -> pd.Series:
        return self.table.T["total"]

    def incremental_cost_replicates(self) -> np.ndarray:
        """Return bootstrap replicates of the incremental cost (treatment minus control)."""
        return (
            self.unit_replicates.to_numpy()
            @ self.model.rates.reindex(self.unit_replicates.columns).to_numpy()
        )


def compare_arms(
    model: CostModel,
    arms: pd.Series,
    *,
    treatment: str,
    control: str,
    effects: pd.DataFrame | None = None,
    n_boot: int = DEFAULT_BOOT,
    seed: int = DEFAULT_SEED,
) -> ArmComparison:
    """Compare mean cost per young person between arms, resampling people within each arm.

    ``effects`` (optional) holds per-person outcomes whose *reduction* is the benefit, such as
    ``placed`` (0/1) and ``offences`` (count); the difference reported is control minus treatment
    ("avoided"). The same bootstrap draws resample costs and effects together.
    """
    arms = arms.reindex(model.units.index)
    t_idx = np.flatnonzero((arms == treatment).to_numpy())
    c_idx = np.flatnonzero((arms == control).to_numpy())
    if len(t_idx) == 0 or len(c_idx) == 0:
        raise ValueError(
            f"Both arms need people: {treatment}={len(t_idx)}, {control}={len(c_idx)}."
        )
    units = model.units.to_numpy(dtype=float)
    effect_frame = (
        effects.reindex(model.units.index).fillna(0.0)
        if effects is not None
        else pd.DataFrame(index=model.units.index)
    )
    eff = effect_frame.to_numpy(dtype=float)
    rng = _check_seed(seed)
    bt = t_idx[bootstrap_indices(len(t_idx), n_boot, rng)]
    bc = c_idx[bootstrap_indices(len(c_idx), n_boot, rng)]
    du = units[bt].mean(axis=1) - units[bc].mean(axis=1)  # (B, items)
    de = eff[bc].mean(axis=1) - eff[bt].mean(axis=1)  # (B, effects): avoided
    unit_reps = pd.DataFrame(du, columns=model.units.columns)

    rates = model.rates.reindex(model.units.columns).to_numpy()
    holders = model.holders.reindex(model.units.columns).to_numpy()
    rows = {}
    for holder in [*BUDGET_HOLDER_LABELS, None]:
        mask = np.ones(len(rates), bool) if holder is None else holders == holder
        if not mask.any():
            continue
        service = mask & ~np.array(
            [str(c).startswith(PROGRAMME_PREFIX) for c in model.units.columns]
        )
        costs_t = units[t_idx][:, mask] @ rates[mask]
        costs_c = units[c_idx][:, mask] @ rates[mask]
        programme_t = units[t_idx][:, mask & ~service] @ rates[mask & ~service]
        saving_reps = -(du[:, mask] @ rates[mask])
        low, high = _interval(saving_reps)
        rows["total" if holder is None else holder] = {
            "budget_holder": "All budget holders"
            if holder is None
            else BUDGET_HOLDER_LABELS[holder],
            f"mean_{control}": float(costs_c.mean()),
            f"mean_{treatment}_services": float((costs_t - programme_t).mean()),
            f"mean_{treatment}_mst": float(programme_t.mean()),
            f"mean_{treatment}": float(costs_t.mean()),
            "net_saving": float(costs_c.mean() - costs_t.mean()),
            "ci_low": float(low),
            "ci_high": float(high),
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    unit_diff = pd.Series(
        units[t_idx].mean(axis=0) - units[c_idx].mean(axis=0), index=model.units.columns
    )
    effect_rows = []
    for j, name in enumerate(effect_frame.columns):
        low, high = _interval(de[:, j])
        effect_rows.append(
            {
                "effect": name,
                f"mean_{control}": float(eff[c_idx, j].mean()),
                f"mean_{treatment}": float(eff[t_idx, j].mean()),
                "avoided": float(eff[c_idx, j].mean() - eff[t_idx, j].mean()),
                "ci_low": float(low),
                "ci_high": float(high),
            }
        )
    return ArmComparison(
        treatment=treatment,
        control=control,
        n={treatment: len(t_idx), control: len(c_idx)},
        table=table,
        unit_difference=unit_diff,
        unit_replicates=unit_reps,
        effects=pd.DataFrame(effect_rows).set_index("effect") if effect_rows else pd.DataFrame(),
        effect_replicates=pd.DataFrame(de, columns=effect_frame.columns),
        seed=seed,
        n_boot=n_boot,
        model=model,
    )


# --- cost-effectiveness ------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CostEffectiveness:
    """Incremental cost per unit of an effect avoided, its CE plane and acceptability curve."""

    effect: str
    incremental_cost: float
    effect_avoided: float
    plane: pd.DataFrame
    acceptability: pd.DataFrame

    @property
    def icer(self) -> float | None:
        """Return the ICER, or None when it means nothing (no effect, or MST dominates)."""
        # A negative ratio mixes "cheaper and better" with "dearer and worse": never quote one.
        if self.effect_avoided <= 0 or self.incremental_cost < 0:
            return None
        return self.incremental_cost / self.effect_avoided

    @property
    def verdict(self) -> str:
        c, e = self.incremental_cost, self.effect_avoided
        if e > 0 and c <= 0:
            return "MST dominates: fewer events and lower cost"
        if e <= 0 and c >= 0:
            return "MST is dominated: no fewer events and higher cost"
        if e > 0:
            return "MST costs more and avoids events: judge the cost per event avoided"
        return "MST costs less but avoids no events"

    @property
    def summary(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "effect": self.effect,
                    "incremental_cost": self.incremental_cost,
                    "effect_avoided": self.effect_avoided,
                    "icer": self.icer,
                    "verdict": self.verdict,
                    "p_cost_saving": float((self.plane["incremental_cost"] < 0).mean()),
                }
            ]
        ).set_index("effect")


def cost_effectiveness(
    comparison: ArmComparison, effect: str, *, thresholds: Sequence[float] | None = None
) -> CostEffectiveness:
    """Return the ICER for one effect, the bootstrap CE plane and the acceptability curve.

    The curve gives, for each amount a commissioner would pay per event avoided, the share of
    bootstrap replicates in which MST is worth it (net monetary benefit above zero).
    """
    d_cost = comparison.incremental_cost_replicates()
    d_eff = comparison.effect_replicates[effect].to_numpy()
    incremental = -float(comparison.total["net_saving"])
    avoided = float(comparison.effects["avoided"].astype(float)[effect])
    if thresholds is None:
        top = max(abs(incremental / avoided) * 3 if avoided > 0 else 0.0, 50_000.0)
        thresholds = list(np.linspace(0, top, 41))
    curve = pd.DataFrame(
        {
            "threshold": [float(t) for t in thresholds],
            "probability": [float(((t * d_eff - d_cost) > 0).mean()) for t in thresholds],
        }
    )
    plane = pd.DataFrame({"effect_avoided": d_eff, "incremental_cost": d_cost})
    return CostEffectiveness(effect, incremental, avoided, plane, curve)


# --- sensitivity -------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Tornado:
    """Net saving per young person with each unit cost set to its low and high value in turn."""

    base: float
    table: pd.DataFrame

    @property
    def summary(self) -> pd.DataFrame:
        return self.table


def one_way(comparison: ArmComparison, *, labels: Mapping[str, str] | None = None) -> Tornado:
    """Return the one-way sensitivity of the net saving to each unit cost's range, widest first."""
    model, diff = comparison.model, comparison.unit_difference
    base = -float((diff * model.rates.reindex(diff.index)).sum())
    rows = []
    for item in diff.index:
        d = float(diff[item])
        if d == 0:
            continue
        rate, low, high = float(model.rates[item]), float(model.low[item]), float(model.high[item])
        at_low, at_high = base - d * (low - rate), base - d * (high - rate)
        rows.append(
            {
                "item": item,
                "label": (labels or {}).get(item, item),
                "low_value": low,
                "high_value": high,
                "saving_at_low": at_low,
                "saving_at_high": at_high,
                "swing": abs(at_high - at_low),
            }
        )
    columns = [
        "item",
        "label",
        "low_value",
        "high_value",
        "saving_at_low",
        "saving_at_high",
        "swing",
    ]
    table = pd.DataFrame(rows, columns=columns).sort_values("swing", ascending=False)
    return Tornado(base, table.reset_index(drop=True))


@dataclass(frozen=True, eq=False)
class Probabilistic:
    """Monte Carlo over unit-cost ranges and bootstrapped use: the distribution of net saving."""

    draws: np.ndarray
    seed: int

    @property
    def mean(self) -> float:
        return float(self.draws.mean())

    @property
    def interval(self) -> tuple[float, float]:
        low, high = _interval(self.draws)
        return float(low), float(high)

    @property
    def probability_of_saving(self) -> float:
        return float((self.draws > 0).mean())

    @property
    def summary(self) -> pd.DataFrame:
        low, high = self.interval
        return pd.DataFrame(
            [
                {
                    "draws": len(self.draws),
                    "seed": self.seed,
                    "mean_net_saving": self.mean,
                    "ci_low": low,
                    "ci_high": high,
                    "probability_of_saving": self.probability_of_saving,
                }
            ]
        )


def probabilistic(comparison: ArmComparison, *, seed: int = DEFAULT_SEED) -> Probabilistic:
    """Return net savings with each unit cost drawn from a triangular distribution over its range.

    Draw k pairs the k-th bootstrap replicate of use with the k-th draw of unit costs, so the
    result carries both sources of uncertainty; the same seed gives the same draws.
    """
    model = comparison.model
    items = list(comparison.unit_replicates.columns)
    rng = _check_seed(seed)
    n = len(comparison.unit_replicates)
    rates = np.empty((n, len(items)))
    for j, item in enumerate(items):
        low, mode, high = (float(s[item]) for s in (model.low, model.rates, model.high))
        rates[:, j] = mode if high <= low else rng.triangular(low, mode, high, size=n)
    draws = -(comparison.unit_replicates.to_numpy() * rates).sum(axis=1)
    return Probabilistic(draws, seed)


# --- before and after; break-even --------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class BeforeAfter:
    """Mean cost per young person in the 12 months before and after MST, paired by person."""

    table: pd.DataFrame
    n: int
    warning: str = BEFORE_AFTER_WARNING

    @property
    def summary(self) -> pd.DataFrame:
        return self.table


def before_after(
    before: pd.DataFrame,
    after: pd.DataFrame,
    *,
    n_boot: int = DEFAULT_BOOT,
    seed: int = DEFAULT_SEED,
) -> BeforeAfter:
    """Compare people x budget-holder costs before and after MST, resampling people.

    The fall (before minus after) is what a before/after study calls a saving; see the warning.
    """
    people = before.index.union(after.index)
    columns = sorted(set(before.columns) | set(after.columns))
    b = before.reindex(index=people, columns=columns).fillna(0.0)
    a = after.reindex(index=people, columns=columns).fillna(0.0)
    b["total"], a["total"] = b.sum(axis=1), a.sum(axis=1)
    fall = (b - a).to_numpy()
    rng = _check_seed(seed)
    reps = fall[bootstrap_indices(len(people), n_boot, rng)].mean(axis=1)
    low, high = _interval(reps) if len(people) else (np.full(len(b.columns), np.nan),) * 2
    rows = {}
    for j, col in enumerate(b.columns):
        rows[col] = {
            "budget_holder": BUDGET_HOLDER_LABELS.get(col, "All budget holders"),
            "mean_before": float(b[col].mean()) if len(people) else float("nan"),
            "mean_after": float(a[col].mean()) if len(people) else float("nan"),
            "fall": float(fall[:, j].mean()) if len(people) else float("nan"),
            "ci_low": float(low[j]),
            "ci_high": float(high[j]),
        }
    return BeforeAfter(pd.DataFrame.from_dict(rows, orient="index"), len(people))


def break_even(
    cost_per_family: float, catalogue: Catalogue, items: Mapping[str, str]
) -> pd.DataFrame:
    """Return how much of each avoided use pays for one family's MST.

    ``items`` maps a unit-cost code to what to count it in: "week", "night" or "event".
    """
    rows = []
    for code, per in items.items():
        if code not in catalogue:
            continue
        cost = catalogue[code]
        rate = cost.rate_per(Unit(per))
        rows.append(
            {
                "item": code,
                "label": cost.label,
                "per": per,
                "unit_cost": rate,
                "avoided_to_break_even": cost_per_family / rate if rate else float("inf"),
            }
        )
    return pd.DataFrame(
        rows, columns=["item", "label", "per", "unit_cost", "avoided_to_break_even"]
    )
