"""Design matrices for the estimators' formulas, built directly from a frame (no formula parser).

Terms are those ``trial.prepare`` produces: ``treat``, ``base`` and numeric covariates enter as
they are; ``C(name)`` is a categorical term in treatment coding against its first level (levels
sorted as text). Columns come in patsy's order — the intercept, categorical terms, then numeric
terms, each group in formula order — and with patsy's names (``C(c0)[T.S02]``), so coefficient
tables read the same as from a formula.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def design_matrix(frame: pd.DataFrame, terms: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Return the design matrix (with an intercept) and its column names."""
    names = ["Intercept"]
    blocks = [np.ones((len(frame), 1))]
    categorical = [t for t in terms if t.startswith("C(") and t.endswith(")")]
    numeric = [t for t in terms if t not in categorical]
    for term in categorical:
        values = frame[term[2:-1]].astype(str).to_numpy()
        levels, codes = np.unique(values, return_inverse=True)
        dummies = np.zeros((len(frame), len(levels) - 1))
        rows = np.flatnonzero(codes > 0)
        dummies[rows, codes[rows] - 1] = 1.0
        blocks.append(dummies)
        names.extend(f"{term}[T.{level}]" for level in levels[1:])
    for term in numeric:
        blocks.append(frame[term].to_numpy(dtype=float)[:, None])
        names.append(term)
    return np.hstack(blocks), names
