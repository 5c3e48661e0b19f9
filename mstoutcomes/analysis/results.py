"""Frozen result objects returned by the estimators, and Rubin's rules for pooling them."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

Z95 = float(stats.norm.ppf(0.975))


@dataclass(frozen=True)
class Effect:
    """One estimated effect, held on the scale it was estimated on.

    ``coef`` and ``std_error`` are on the linear (estimation) scale: a mean difference, a log odds
    ratio, a log hazard ratio. When ``exponentiate`` is true the reported estimate and interval are
    ``exp`` of that scale. ``df`` is None for normal-theory intervals, or the t degrees of freedom.
    """

    measure: str
    coef: float
    std_error: float
    exponentiate: bool = False
    df: float | None = None
    p_override: float | None = None

    @property
    def _crit(self) -> float:
        if self.df is None or math.isinf(self.df):
            return Z95
        return float(stats.t.ppf(0.975, self.df))

    def _out(self, value: float) -> float:
        return math.exp(value) if self.exponentiate else value

    @property
    def estimate(self) -> float:
        return self._out(self.coef)

    @property
    def ci_low(self) -> float:
        return self._out(self.coef - self._crit * self.std_error)

    @property
    def ci_high(self) -> float:
        return self._out(self.coef + self._crit * self.std_error)

    @property
    def statistic(self) -> float:
        return self.coef / self.std_error if self.std_error > 0 else math.nan

    @property
    def p_value(self) -> float:
        if self.p_override is not None:
            return self.p_override
        if not self.std_error > 0:
            return math.nan
        z = abs(self.statistic)
        if self.df is None or math.isinf(self.df):
            return float(2 * stats.norm.sf(z))
        return float(2 * stats.t.sf(z, self.df))

    def as_dict(self) -> dict[str, Any]:
        return {
            "measure": self.measure,
            "estimate": self.estimate,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "p_value": self.p_value,
            "coef": self.coef,
            "std_error": self.std_error,
            "scale": "log" if self.exponentiate else "identity",
            "df": self.df,
        }


@dataclass(frozen=True, eq=False)
class ModelResult:
    """The result of fitting one model to one outcome.

    Attributes
    ----------
    outcome
        The plan's outcome name.
    model
        A short description of the model ("ANCOVA (OLS)", "Cox proportional hazards (Efron)").
    effects
        The main effect first (the comparison of arms), then derived effects (standardised effect
        size; risk difference, risk ratio, number needed to treat).
    n_by_arm
        Participants analysed in each arm.
    coefficients
        Every model term: estimate, standard error, interval and p on the estimation scale.
    extras
        Anything else worth keeping (dispersion, log-rank test, random-effect variance).
    """

    outcome: str
    model: str
    effects: tuple[Effect, ...]
    n_by_arm: Mapping[str, int]
    coefficients: pd.DataFrame = field(default_factory=pd.DataFrame)
    extras: Mapping[str, Any] = field(default_factory=dict)
    missing: str = "complete_case"
    comparison: str = ""

    @property
    def effect(self) -> Effect:
        return self.effects[0]

    @property
    def summary(self) -> pd.DataFrame:
        """Return one row per effect: estimate, 95% CI and p-value."""
        rows = [
            {"outcome": self.outcome, "comparison": self.comparison, "missing": self.missing}
            | e.as_dict()
            for e in self.effects
        ]
        return pd.DataFrame(rows).set_index("measure")

    def as_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "model": self.model,
            "comparison": self.comparison,
            "missing": self.missing,
            "effects": [e.as_dict() for e in self.effects],
            "n_by_arm": dict(self.n_by_arm),
            "extras": _plain(dict(self.extras)),
        }


def _plain(value: Any) -> Any:
    """Return value with numpy scalars and frames turned into JSON-ready Python objects."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, pd.DataFrame):
        return _plain(value.reset_index().to_dict(orient="records"))
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        v = float(value)
        return None if math.isnan(v) or math.isinf(v) else v
    if isinstance(value, np.bool_):
        return bool(value)
    return value


@dataclass(frozen=True)
class PooledScalar:
    """Rubin's rules for one scalar: the pooled estimate, its variance parts and df.

    Matches ``mice::pool.scalar(Q, U, n, k)`` in R (Barnard–Rubin degrees of freedom).
    """

    qbar: float
    ubar: float
    b: float
    t: float
    df: float
    r: float
    fmi: float
    m: int

    @property
    def std_error(self) -> float:
        return math.sqrt(self.t)


def pool_scalar(q: Sequence[float], u: Sequence[float], dfcom: float = math.inf) -> PooledScalar:
    """Combine m estimates and their squared standard errors by Rubin's rules.

    Parameters
    ----------
    q
        The m point estimates (on the linear scale: log odds ratios, not odds ratios).
    u
        Their m within-imputation variances (squared standard errors).
    dfcom
        Degrees of freedom of the complete-data analysis (``inf`` for large-sample tests).

    Returns
    -------
    PooledScalar

    Notes
    -----
    .. math::

        \\bar Q = \\frac1m\\sum Q_l,\\quad \\bar U = \\frac1m\\sum U_l,\\quad
        B = \\frac1{m-1}\\sum (Q_l-\\bar Q)^2,\\quad T = \\bar U + (1+\\tfrac1m)B

    with Barnard and Rubin's (1999) small-sample degrees of freedom, as in ``mice``.

    Examples
    --------
    >>> pooled = pool_scalar([1.0, 1.2, 0.9], [0.04, 0.05, 0.045])
    >>> round(pooled.qbar, 4), round(pooled.t, 5)
    (1.0333, 0.07278)
    """
    qs = np.asarray(q, dtype=float)
    us = np.asarray(u, dtype=float)
    m = len(qs)
    if m < 2 or len(us) != m:
        raise ValueError("Rubin's rules need at least two estimates, each with its variance.")
    qbar = float(qs.mean())
    ubar = float(us.mean())
    b = float(qs.var(ddof=1))
    t = ubar + (1 + 1 / m) * b
    r = (1 + 1 / m) * b / ubar if ubar > 0 else math.inf
    lam = (1 + 1 / m) * b / t if t > 0 else 0.0
    lam = max(lam, 1e-04)  # as mice's barnard.rubin() does, so df stays finite
    df_old = (m - 1) / lam**2
    if math.isinf(dfcom):
        df = df_old
    else:
        df_obs = (dfcom + 1) / (dfcom + 3) * dfcom * (1 - lam)
        df = df_old * df_obs / (df_old + df_obs)
    fmi = (r + 2 / (df + 3)) / (r + 1) if math.isfinite(r) else 1.0
    return PooledScalar(qbar=qbar, ubar=ubar, b=b, t=t, df=df, r=r, fmi=fmi, m=m)


def pool_results(results: Sequence[ModelResult]) -> ModelResult:
    """Pool the same model fitted to m imputed datasets into one result by Rubin's rules.

    Each effect is pooled on its estimation scale (log scale for ratios). An effect with t-based
    intervals passes its residual df as the complete-data df. A number needed to treat is
    re-derived from the pooled risk difference, never pooled itself.
    """
    first = results[0]
    pooled: list[Effect] = []
    fmis: dict[str, float] = {}
    for i, effect in enumerate(first.effects):
        if effect.measure.startswith("number needed"):
            continue
        parts = pool_scalar(
            [r.effects[i].coef for r in results],
            [r.effects[i].std_error ** 2 for r in results],
            dfcom=math.inf if effect.df is None else effect.df,
        )
        fmis[effect.measure] = parts.fmi
        pooled.append(
            replace(
                effect,
                coef=parts.qbar,
                std_error=parts.std_error,
                df=parts.df,
                p_override=None,
            )
        )
    rd = next((e for e in pooled if e.measure == "risk difference"), None)
    if rd is not None and any(e.measure.startswith("number needed") for e in first.effects):
        pooled.extend(nnt_effects(rd))
    return ModelResult(
        outcome=first.outcome,
        model=first.model,
        effects=tuple(pooled),
        n_by_arm=first.n_by_arm,
        coefficients=pd.DataFrame(),
        extras={"imputations": len(results), "fraction_missing_information": fmis},
        missing="multiple_imputation",
        comparison=first.comparison,
    )


def nnt_effects(rd: Effect) -> list[Effect]:
    """Return the number needed to treat derived from a risk difference (Altman 1998).

    The interval is the reciprocal of the risk difference's interval; when that interval crosses
    zero the NNT interval runs through infinity, which the p-value and bounds show as NaN.
    """
    if rd.coef == 0:
        return []
    nnt = 1 / rd.coef
    low, high = rd.coef - rd._crit * rd.std_error, rd.coef + rd._crit * rd.std_error
    crosses = low < 0 < high
    # Hold NNT as an effect whose interval is computed from the RD's; store the bounds directly.
    return [
        NntEffect(
            measure="number needed to treat",
            coef=nnt,
            std_error=rd.std_error,
            df=rd.df,
            p_override=rd.p_value,
            low=math.nan if crosses else min(1 / low, 1 / high),
            high=math.nan if crosses else max(1 / low, 1 / high),
        )
    ]


@dataclass(frozen=True)
class NntEffect(Effect):
    """A number needed to treat: its bounds are reciprocals of the risk difference's bounds."""

    low: float = math.nan
    high: float = math.nan

    @property
    def ci_low(self) -> float:
        return self.low

    @property
    def ci_high(self) -> float:
        return self.high
