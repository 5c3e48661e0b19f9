"""statsmodels' MixedLM as an independent cross-check of the closed-form mixed model.

The runner fits repeated measures with ``estimators.mixed.mixed_model`` (profiled REML in closed
form). This is the same model fitted by statsmodels' general optimiser, kept with the tests only:
it is checked against lme4 itself and then used to check the closed form's coefficient table.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from mstoutcomes.analysis.estimators.trial import coefficient_table, prepare
from mstoutcomes.analysis.results import Effect, ModelResult


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
    it is valid when data are missing at random given the terms in the model.
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
    terms = [*prep.terms, "C(time)"] if frame["time"].nunique() > 1 else prep.terms
    formula = "y ~ " + " + ".join(terms)
    # statsmodels warns while it searches (a singular random-effects matrix on the way to the
    # optimum); the warnings are kept and a real failure to converge is reported in extras.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = smf.mixedlm(formula, data=frame, groups=frame["pid"])
        res = model.fit(reml=True, method=["bfgs", "lbfgs", "cg"])
    fixed = res.fe_params
    cov = res.cov_params().loc[fixed.index, fixed.index]
    effect = Effect(
        "adjusted mean difference", float(fixed["treat"]), float(np.sqrt(cov.loc["treat", "treat"]))
    )
    return ModelResult(
        outcome=name or outcome,
        model="Linear mixed model (random intercept, REML)",
        effects=(effect,),
        n_by_arm=n_by_arm,
        coefficients=coefficient_table(fixed, cov, prep.labels | {"C(time)": "timepoint"}),
        extras={
            "random_intercept_variance": float(res.cov_re.iloc[0, 0]),
            "residual_variance": float(res.scale),
            "observations": int(res.nobs),
            "converged": bool(res.converged)
            and not any(issubclass(w.category, ConvergenceWarning) for w in caught),
        },
        comparison=prep.comparison,
    )
