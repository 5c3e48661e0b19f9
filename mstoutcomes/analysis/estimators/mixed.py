"""Linear mixed model with a random intercept, fitted by REML on a profiled likelihood (as lme4).

With one random intercept per participant the marginal covariance of participant i's n_i rows
is ``sigma^2 (I + gamma J)``, whose inverse and determinant have closed forms
(``I - w_i J`` with ``w_i = gamma / (1 + n_i gamma)``; ``(1 + n_i gamma)``). Every quantity the
REML criterion needs is then the ordinary cross-products ``X'X``, ``X'y``, ``y'y`` minus a
weighted sum of per-participant totals, and participants with the same number of rows share a
weight: after one pass over the data, each evaluation of the criterion costs one p × p Cholesky
factorisation, whatever the number of participants. ``sigma^2`` and the fixed effects are
profiled out, leaving a one-dimensional search over ``theta = sqrt(gamma) >= 0`` (lme4's
parameter).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize

from mstoutcomes.analysis.estimators.design import design_matrix
from mstoutcomes.analysis.estimators.trial import coefficient_table, prepare
from mstoutcomes.analysis.results import Effect, ModelResult

# Where the search for theta starts: 0 (no between-participant variance) and a log-spaced grid.
THETA_GRID = np.concatenate([[0.0], np.logspace(-3, 2, 31)])


@dataclass(frozen=True)
class RandomInterceptFit:
    """REML estimates of ``y = X beta + b_group + e``, ``b ~ N(0, tau^2)``, ``e ~ N(0, s^2)``."""

    params: np.ndarray
    cov_params: np.ndarray
    random_intercept_variance: float
    residual_variance: float
    reml_deviance: float
    converged: bool
    nobs: int


def fit_random_intercept(y: np.ndarray, x: np.ndarray, groups: np.ndarray) -> RandomInterceptFit:
    """Fit a random-intercept linear mixed model by REML.

    Parameters
    ----------
    y
        The outcome (n).
    x
        The fixed-effects design matrix (n × p, full column rank).
    groups
        The group (participant) of each row, any hashable labels (n).

    Returns
    -------
    RandomInterceptFit
        Fixed effects with covariance ``sigma^2 (X' H^-1 X)^-1`` (as lme4's ``vcov``), the
        random-intercept and residual variances.
    """
    n, p = x.shape
    if n <= p:
        raise ValueError(f"Too few observations ({n}) for {p} fixed effects.")
    _, codes = np.unique(np.asarray(groups), return_inverse=True)
    order = np.argsort(codes, kind="stable")
    sizes = np.bincount(codes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    group_x = np.add.reduceat(x[order], starts, axis=0)
    group_y = np.add.reduceat(y[order], starts)
    xtx, xty, yty = x.T @ x, x.T @ y, float(y @ y)
    # Per distinct group size s: the sums over groups of that size of s_x s_x', s_x s_y, s_y^2.
    parts = []
    for size in np.unique(sizes):
        rows = sizes == size
        gx, gy = group_x[rows], group_y[rows]
        parts.append((float(size), int(rows.sum()), gx.T @ gx, gx.T @ gy, float(gy @ gy)))

    def solve(theta: float) -> tuple[float, np.ndarray, np.ndarray, float]:
        gamma = theta * theta
        a, b, c, logdet_h = xtx.copy(), xty.copy(), yty, 0.0
        for size, count, mxx, mxy, myy in parts:
            w = gamma / (1 + size * gamma)
            a -= w * mxx
            b -= w * mxy
            c -= w * myy
            logdet_h += count * math.log1p(size * gamma)
        lower = np.linalg.cholesky(a)
        beta = np.linalg.solve(lower.T, np.linalg.solve(lower, b))
        rss = c - float(b @ beta)
        logdet_a = 2 * float(np.log(np.diag(lower)).sum())
        deviance = (n - p) * math.log(rss / (n - p)) + logdet_h + logdet_a
        return deviance, beta, lower, rss

    deviances = [solve(theta)[0] for theta in THETA_GRID]
    best = int(np.argmin(deviances))
    low = THETA_GRID[max(best - 1, 0)]
    high = THETA_GRID[min(best + 1, len(THETA_GRID) - 1)]
    search = optimize.minimize_scalar(
        lambda theta: solve(theta)[0],
        bounds=(low, high),
        method="bounded",
        options={"xatol": 1e-10},
    )
    theta = float(search.x) if search.fun <= deviances[best] else float(THETA_GRID[best])
    deviance, beta, lower, rss = solve(theta)
    sigma2 = rss / (n - p)
    inverse = np.linalg.inv(lower)
    return RandomInterceptFit(
        params=beta,
        cov_params=sigma2 * (inverse.T @ inverse),
        random_intercept_variance=theta * theta * sigma2,
        residual_variance=sigma2,
        reml_deviance=deviance,
        converged=bool(search.success) and best < len(THETA_GRID) - 1,
        nobs=n,
    )


def mixed_model(
    long: pd.DataFrame,
    *,
    outcome: str,
    baseline: str,
    arms: Sequence[str],
    covariates: Sequence[str] = (),
    participant: str = "participant_id",
    timepoint: str = "timepoint",
    name: str = "",
) -> ModelResult:
    """Estimate the arm effect over repeated follow-ups with a random-intercept linear mixed model.

    Parameters
    ----------
    long
        One row per participant and follow-up timepoint: the outcome, the baseline value,
        the arm and covariates.

    Returns
    -------
    ModelResult
        The adjusted mean difference averaged over follow-ups (normal interval), fitted by REML.

    Notes
    -----
    In R: ``lmer(y ~ arm + baseline + factor(timepoint) + site + (1 | id), REML = TRUE)``.
    Rows with a missing follow-up value are dropped; the model uses every observed follow-up, so
    it is valid when data are missing at random given the terms in the model. The same model as
    statsmodels' MixedLM (kept in the tests as a cross-check), in closed form (see the module
    docstring).
    """
    prep = prepare(
        long,
        outcome=outcome,
        baseline=baseline,
        arms=arms,
        covariates=covariates,
        keep=[participant, timepoint],
    )
    frame = prep.frame.rename(columns={participant: "pid", timepoint: "time"})
    frame["time"] = frame["time"].astype(str)
    people = frame.drop_duplicates("pid")["arm"].value_counts()
    n_by_arm = {a: int(people.get(a, 0)) for a in arms}
    if min(n_by_arm.values()) < 2:
        raise ValueError(f"Too few participants to analyse: {n_by_arm} (need 2 in each arm).")
    terms = [*prep.terms, "C(time)"] if frame["time"].nunique() > 1 else prep.terms
    x, names = design_matrix(frame, terms)
    fit = fit_random_intercept(frame["y"].to_numpy(dtype=float), x, frame["pid"].to_numpy())
    fixed = pd.Series(fit.params, index=names)
    cov = pd.DataFrame(fit.cov_params, index=names, columns=names)
    effect = Effect(
        "adjusted mean difference",
        float(fixed["treat"]),
        math.sqrt(fit.cov_params[names.index("treat"), names.index("treat")]),
    )
    return ModelResult(
        outcome=name or outcome,
        model="Linear mixed model (random intercept, REML)",
        effects=(effect,),
        n_by_arm=n_by_arm,
        coefficients=coefficient_table(fixed, cov, prep.labels | {"C(time)": "timepoint"}),
        extras={
            "random_intercept_variance": fit.random_intercept_variance,
            "residual_variance": fit.residual_variance,
            "observations": fit.nobs,
            "converged": fit.converged,
        },
        comparison=prep.comparison,
    )
