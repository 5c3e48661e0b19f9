"""Multiple imputation by chained equations: predictive mean matching as R's ``mice``, in numpy.

The m imputations are m independent chains, run side by side as arrays with a leading chain axis,
so one cycle over the incomplete variables costs a handful of matrix products for all chains at
once. Columns with no missing values are predictors only; their part of every regression's
cross-product matrix is computed once per incomplete variable and reused.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# The ridge penalty mice falls back on when a predictor matrix is (nearly) collinear.
RIDGE = 1e-5


@dataclass
class _Target:
    """The fixed parts of one incomplete variable's regression (complete predictors only)."""

    column: int  # position among the incomplete columns
    observed: np.ndarray  # row indices where the variable is observed
    missing: np.ndarray  # row indices where it is missing
    y: np.ndarray  # its observed values
    fixed_observed: np.ndarray  # complete predictors (with the intercept) on observed rows
    fixed_missing: np.ndarray  # ... and on missing rows
    fixed_gram: np.ndarray  # fixed_observed' fixed_observed
    fixed_y: np.ndarray  # fixed_observed' y


def impute(
    wide: pd.DataFrame,
    *,
    m: int,
    seed: int,
    iterations: int = 10,
    k_pmm: int = 5,
) -> list[pd.DataFrame]:
    """Return m completed copies of a numeric participant-level frame.

    Parameters
    ----------
    wide
        Numeric columns only, one row per participant; NaN marks a missing value. Columns with
        no missing values act as predictors only.
    m
        The number of imputed datasets (independent chains).
    seed
        Seeds a ``numpy.random.Generator``: the same frame, m, iterations and seed give identical
        imputations.
    iterations
        Chained-equation cycles in each chain (``maxit`` in mice); the state after the last
        cycle is the imputed dataset.
    k_pmm
        Donors for predictive mean matching (imputed values are always observed values, so 0/1
        outcomes stay 0/1).

    Returns
    -------
    list of DataFrame
        The completed frames, with the original index and column names.

    Notes
    -----
    As ``mice(method = "pmm", maxit = iterations)``: missing values start as random draws from
    the observed ones; each cycle visits the incomplete variables in column order and regresses
    each on all the other columns (observed rows only). The coefficients are drawn from their
    Bayesian posterior (``sigma* = sqrt(RSS / chi2(n - p))``, ``beta* = beta_hat + sigma* L z``
    with ``L L' = (X'X)^-1``); the missing rows' predictions from ``beta*`` are matched to the
    observed rows' predictions from ``beta_hat`` and each takes the observed value of one of its
    ``k_pmm`` nearest donors at random (mice's type-1 matching).
    """
    if m < 1:
        raise ValueError("m must be at least 1.")
    values = wide.to_numpy(dtype=float)
    missing = np.isnan(values)
    if missing.all(axis=1).any():
        raise ValueError("Every participant needs at least one observed value (such as the arm).")
    empty = [str(c) for c, gone in zip(wide.columns, missing.all(axis=0), strict=True) if gone]
    if empty:
        raise ValueError(f"Nothing observed to impute from in: {', '.join(empty)}.")
    if not missing.any():
        return [wide.copy() for _ in range(m)]

    rng = np.random.default_rng(seed)
    incomplete = np.flatnonzero(missing.any(axis=0))
    complete = np.flatnonzero(~missing.any(axis=0))
    fixed = np.column_stack([np.ones(len(values)), values[:, complete]])
    targets = [_target(j, values[:, col], fixed) for j, col in enumerate(incomplete)]

    # state[c, i, j]: chain c's current value of incomplete column j for participant i.
    state = np.repeat(values[None, :, incomplete], m, axis=0)
    for t in targets:
        state[:, t.missing, t.column] = rng.choice(t.y, size=(m, len(t.missing)))
    for _ in range(iterations):
        for t in targets:
            state[:, t.missing, t.column] = _draw(t, state, rng, k_pmm)

    imputed = []
    for chain in state:
        done = values.copy()
        done[:, incomplete] = chain
        imputed.append(pd.DataFrame(done, index=wide.index, columns=wide.columns))
    return imputed


def _target(column: int, y: np.ndarray, fixed: np.ndarray) -> _Target:
    observed = np.flatnonzero(~np.isnan(y))
    missing = np.flatnonzero(np.isnan(y))
    fixed_observed = fixed[observed]
    # Complete predictors constant or collinear on the observed rows carry nothing (as mice's
    # remove.lindep): keep a linearly independent subset, the intercept first.
    keep = _independent_columns(fixed_observed)
    fixed_observed = np.ascontiguousarray(fixed_observed[:, keep])
    return _Target(
        column=column,
        observed=observed,
        missing=missing,
        y=y[observed],
        fixed_observed=fixed_observed,
        fixed_missing=np.ascontiguousarray(fixed[missing][:, keep]),
        fixed_gram=fixed_observed.T @ fixed_observed,
        fixed_y=fixed_observed.T @ y[observed],
    )


def _independent_columns(x: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Return the indices of a maximal linearly independent set of columns, in order."""
    scale = np.sqrt((x**2).sum(axis=0))
    keep: list[int] = []
    basis = np.empty((x.shape[0], 0))
    for j in range(x.shape[1]):
        if scale[j] == 0:
            continue
        v = x[:, j] / scale[j]
        residual = v - basis @ (basis.T @ v)
        norm = float(np.sqrt(residual @ residual))
        if norm > tol * 1e3:
            keep.append(j)
            basis = np.column_stack([basis, residual / norm])
    return np.array(keep, dtype=int)


def _draw(t: _Target, state: np.ndarray, rng: np.random.Generator, k: int) -> np.ndarray:
    """Draw new values for one variable's missing rows in every chain (m × n_missing)."""
    m = state.shape[0]
    others = [j for j in range(state.shape[2]) if j != t.column]
    var_obs = state[:, t.observed][:, :, others]  # m × n_obs × q
    var_mis = state[:, t.missing][:, :, others]
    f = t.fixed_gram.shape[0]
    p = f + len(others)
    # X'X and X'y for X = [fixed | other incomplete columns], per chain.
    gram = np.empty((m, p, p))
    gram[:, :f, :f] = t.fixed_gram
    cross = t.fixed_observed.T @ var_obs  # m × f × q
    gram[:, :f, f:] = cross
    gram[:, f:, :f] = np.swapaxes(cross, 1, 2)
    gram[:, f:, f:] = np.swapaxes(var_obs, 1, 2) @ var_obs
    xty = np.empty((m, p))
    xty[:, :f] = t.fixed_y
    xty[:, f:] = np.einsum("cnq,n->cq", var_obs, t.y)
    lower = _cholesky(gram)
    coef = _cho_solve(lower, xty)
    fitted = t.fixed_observed @ coef[:, :f].T  # n_obs × m
    fitted = fitted.T + np.einsum("cnq,cq->cn", var_obs, coef[:, f:])
    rss = ((t.y - fitted) ** 2).sum(axis=1)
    df = max(len(t.y) - p, 1)
    sigma = np.sqrt(rss / rng.chisquare(df, size=m))
    # beta* = beta_hat + sigma* L^-T z has covariance sigma*^2 (X'X)^-1.
    z = rng.standard_normal((m, p))
    beta = coef + sigma[:, None] * _solve_upper(np.swapaxes(lower, 1, 2), z)
    predicted = (t.fixed_missing @ beta[:, :f].T).T + np.einsum("cnq,cq->cn", var_mis, beta[:, f:])
    out = np.empty((m, len(t.missing)))
    for c in range(m):
        out[c] = t.y[_match(fitted[c], predicted[c], k, rng)]
    return out


def _cholesky(gram: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.cholesky(gram)
    except np.linalg.LinAlgError:
        # Nearly collinear predictors: mice's ridge, a small multiple of the diagonal.
        diagonal = np.einsum("cii->ci", gram)
        penalised = gram.copy()
        # An all-zero column gets a unit diagonal, so its coefficient is simply zero.
        index = np.arange(gram.shape[1])
        penalised[:, index, index] += RIDGE * diagonal + (diagonal == 0)
        return np.linalg.cholesky(penalised)


def _cho_solve(lower: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    half = np.linalg.solve(lower, rhs[..., None])
    return _solve_upper(np.swapaxes(lower, 1, 2), half[..., 0])


def _solve_upper(upper: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    return np.linalg.solve(upper, rhs[..., None])[..., 0]


def _match(donors: np.ndarray, targets: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Return, for each target, the index of one of its k nearest donors chosen at random."""
    n = len(donors)
    k = min(k, n)
    # A random order first, so that donors with tied predictions are picked evenly (as mice).
    order = rng.permutation(n)
    order = order[np.argsort(donors[order], kind="stable")]
    ranked = donors[order]
    width = min(2 * k, n)
    # The k nearest lie within k places either side of where the target would be inserted.
    start = np.clip(np.searchsorted(ranked, targets) - k, 0, n - width)
    window = start[:, None] + np.arange(width)
    distance = np.abs(ranked[window] - targets[:, None])
    nearest = (
        np.argpartition(distance, k - 1, axis=1)[:, :k] if width > k else window - start[:, None]
    )
    pick = nearest[np.arange(len(targets)), rng.integers(0, k, size=len(targets))]
    return order[window[np.arange(len(targets)), pick]]
