"""Negative binomial fits on small, sparse counts, against MASS::glm.nb (results/sparse_counts).

Most young people commit no recorded offence in a follow-up year, so a site's count outcome is
often a few events among many zeros. statsmodels' Newton steps from its default start fail on
such data (an invalid log or no convergence); our fit falls back to BFGS and polishes with
Newton, and must still agree with R to the issue's tolerance.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from mstoutcomes.analysis.estimators import trial

HERE = Path(__file__).parent / "results" / "sparse_counts"
R = {
    key: float(value)
    for key, value in (
        line.split() for line in (HERE / "sparse_counts.txt").read_text().splitlines()
    )
}
ARMS = ["MAU", "MST"]


def _frame(name: str) -> pd.DataFrame:
    return pd.read_csv(HERE / f"{name}.csv")


def _plain_newton_fails(frame: pd.DataFrame) -> bool:
    model = smf.negativebinomial("count ~ arm", data=frame, offset=np.log(frame["years"]))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            fit = model.fit(disp=0, maxiter=500, method="newton", tol=1e-12)
        except RuntimeWarning:
            return True
    return not fit.mle_retvals["converged"]


def test_the_datasets_defeat_a_plain_newton_fit():
    # Otherwise these tests would not exercise the fallback at all.
    assert any(_plain_newton_fails(_frame(n)) for n in ("sparse1", "sparse3", "sparse7"))


@pytest.mark.parametrize("name", ["sparse1", "sparse3", "sparse7"])
def test_sparse_counts_match_r_glm_nb_to_1e4(name):
    result = trial.negative_binomial(_frame(name), outcome="count", years="years", arms=ARMS)
    assert result.effect.coef == pytest.approx(R[f"{name}.coef"], abs=1e-4)
    assert result.effect.std_error == pytest.approx(R[f"{name}.se"], abs=1e-4)
    assert result.extras["theta"] == pytest.approx(R[f"{name}.theta"], rel=1e-4)


def test_an_arm_with_no_events_is_refused_by_name():
    frame = _frame("sparse6")
    assert frame.groupby("arm")["count"].sum()["MST"] == 0
    with pytest.raises(ValueError, match="no events in MST"):
        trial.negative_binomial(frame, outcome="count", years="years", arms=ARMS)
