"""Multiple imputation by chained equations (statsmodels' MICEData, predictive mean matching)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.imputation.mice import MICEData


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
        The number of imputed datasets.
    seed
        Seeds a ``numpy.random.Generator``: the same frame, m and seed give identical imputations.
    iterations
        Chained-equation cycles before the first draw and between consecutive draws.
    k_pmm
        Donors for predictive mean matching (imputed values are always observed values, so 0/1
        outcomes stay 0/1).

    Returns
    -------
    list of DataFrame
        The completed frames, with the original index and column names.

    Notes
    -----
    Each incomplete variable is regressed on all the others (OLS on a Gaussian draw of the
    parameters, then predictive mean matching), as R's ``mice(method = "pmm")`` does.
    """
    if m < 1:
        raise ValueError("m must be at least 1.")
    safe = {column: f"v{i}" for i, column in enumerate(wide.columns)}
    frame = wide.rename(columns=safe).astype(float).reset_index(drop=True)
    if frame.isna().all(axis=1).any():
        raise ValueError("Every participant needs at least one observed value (such as the arm).")
    if not frame.isna().any().any():
        return [wide.copy() for _ in range(m)]
    # Complete variables are predictors only: MICEData cycles over incomplete ones.
    data = MICEData(frame, k_pmm=k_pmm, rng=np.random.default_rng(seed))
    imputed: list[pd.DataFrame] = []
    back = {v: k for k, v in safe.items()}
    data.update_all(iterations)
    for i in range(m):
        if i:
            data.update_all(iterations)
        done = data.data.rename(columns=back).copy()
        done.index = wide.index
        imputed.append(done)
    return imputed
