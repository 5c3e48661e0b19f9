"""Multiple imputation: seeded, keeps observed values, plausible draws, pooled by Rubin's rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mstoutcomes.analysis.estimators.missing import _match, impute
from mstoutcomes.analysis.results import pool_scalar


def _slope(frame: pd.DataFrame) -> tuple[float, float]:
    """Return the OLS slope of y on x and its squared standard error."""
    x = np.column_stack([np.ones(len(frame)), frame["x"].to_numpy()])
    y = frame["y"].to_numpy()
    beta, rss, *_ = np.linalg.lstsq(x, y, rcond=None)
    sigma2 = float(rss[0]) / (len(y) - 2)
    return float(beta[1]), sigma2 * float(np.linalg.inv(x.T @ x)[1, 1])


@pytest.fixture(scope="module")
def mar() -> pd.DataFrame:
    """y = 1 + 0.5 x + e; x is missing more often when y is high (missing at random given y)."""
    rng = np.random.default_rng(20260101)
    n = 4000
    x = rng.normal(size=n)
    y = 1 + 0.5 * x + rng.normal(size=n)
    binary = (rng.random(n) < 1 / (1 + np.exp(-(x - 0.5)))).astype(float)
    frame = pd.DataFrame({"y": y, "x": x, "flag": binary})
    frame.loc[rng.random(n) < 1 / (1 + np.exp(-(2 * y - 2))), "x"] = np.nan
    frame.loc[rng.random(n) < 0.2, "flag"] = np.nan
    return frame


def test_the_same_seed_gives_identical_imputations_and_another_seed_does_not(mar):
    one = impute(mar, m=3, seed=5, iterations=3)
    two = impute(mar, m=3, seed=5, iterations=3)
    other = impute(mar, m=3, seed=6, iterations=3)
    assert all(a.equals(b) for a, b in zip(one, two, strict=True))
    assert not one[0].equals(other[0])
    assert not one[0].equals(one[1])  # the chains are independent draws


def test_observed_values_are_kept_and_imputed_values_are_observed_ones(mar):
    for done in impute(mar, m=2, seed=1, iterations=2):
        assert list(done.columns) == list(mar.columns) and done.index.equals(mar.index)
        assert not done.isna().any().any()
        for name in ("x", "flag"):
            seen = mar[name].notna()
            assert done.loc[seen, name].equals(mar.loc[seen, name])
            assert set(done.loc[~seen, name]) <= set(mar.loc[seen, name])
    assert set(done["flag"]) == {0.0, 1.0}


def test_imputation_recovers_the_slope_that_complete_cases_get_wrong(mar):
    truth = 0.5
    complete, _ = _slope(mar.dropna(subset=["x"]))
    fits = [_slope(done) for done in impute(mar, m=10, seed=11, iterations=5)]
    pooled = pool_scalar([q for q, _ in fits], [u for _, u in fits], dfcom=len(mar) - 2)
    assert abs(complete - truth) > 0.1  # selection on the outcome biases complete cases
    assert abs(pooled.qbar - truth) < 0.05
    assert abs(pooled.qbar - truth) < abs(complete - truth) / 3
    assert abs(pooled.qbar - truth) < 2.5 * pooled.std_error


def test_imputed_binary_values_keep_the_relation_with_their_predictors(mar):
    done = impute(mar, m=1, seed=3, iterations=5)[0]
    gone = mar["flag"].isna()
    high = done["x"] > 0.5
    # P(flag = 1) rises with x among imputed rows as among observed ones.
    assert done.loc[gone & high, "flag"].mean() > done.loc[gone & ~high, "flag"].mean() + 0.2


def test_predictive_mean_matching_picks_among_the_k_nearest_donors():
    rng = np.random.default_rng(0)
    donors = np.arange(100.0)
    picks = _match(donors, np.array([50.2] * 2000 + [-10.0] * 2000), 5, rng)
    assert set(picks[:2000]) == {48, 49, 50, 51, 52}
    assert set(picks[2000:]) == {0, 1, 2, 3, 4}
    few = _match(np.array([3.0, 1.0]), np.array([2.0] * 200), 5, rng)
    assert set(few) == {0, 1}


def test_a_frame_without_missing_values_is_copied_and_an_empty_column_is_refused():
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    assert all(done.equals(frame) for done in impute(frame, m=2, seed=1))
    frame["c"] = np.nan
    with pytest.raises(ValueError, match="Nothing observed to impute from in: c"):
        impute(frame, m=2, seed=1)


def test_collinear_and_constant_predictors_do_not_stop_imputation():
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"a": rng.normal(size=200), "one": 1.0})
    frame["twice"] = 2 * frame["a"]
    frame["y"] = frame["a"] + rng.normal(size=200)
    frame.loc[::4, "y"] = np.nan
    done = impute(frame, m=2, seed=1, iterations=2)
    assert not done[1].isna().any().any()
    # An incomplete column that is all zero where observed makes X'X singular: mice's ridge.
    frame["zero"] = 0.0
    frame.loc[1::5, "zero"] = np.nan
    done = impute(frame, m=2, seed=1, iterations=2)
    assert not done[0].isna().any().any() and set(done[0]["zero"]) == {0.0}
