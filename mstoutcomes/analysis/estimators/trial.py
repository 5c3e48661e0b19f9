"""Intention-to-treat estimators for a two-arm trial, each adjusted for the plan's covariates.

Every estimator takes a participant-level (or, for the mixed model, long) frame and returns a
frozen ``ModelResult`` whose first effect compares the second arm with the first (reference) arm.
Rows missing any variable the model uses are dropped (complete case); multiple imputation lives
in ``analysis.estimators.missing`` and calls these same functions on each imputed dataset.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.exceptions import ConvergenceWarning as LifelinesConvergenceWarning
from lifelines.statistics import logrank_test
from scipy import stats
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from mstoutcomes.analysis.results import Effect, ModelResult, nnt_effects


@dataclass
class Prepared:
    """A model frame with safe column names: y, treat, base, c0…, and the terms to fit."""

    frame: pd.DataFrame
    terms: list[str]
    labels: dict[str, str]
    n_by_arm: dict[str, int]
    comparison: str


def prepare(
    data: pd.DataFrame,
    *,
    outcome: str | None,
    arms: Sequence[str],
    covariates: Sequence[str] = (),
    baseline: str | None = None,
    arm: str = "arm",
    keep: Sequence[str] = (),
) -> Prepared:
    """Rename the columns a model needs to safe names and drop incomplete rows."""
    if len(arms) != 2:
        raise ValueError("Trial estimators compare exactly two arms; the first is the reference.")
    reference, active = arms
    columns: dict[str, str] = {arm: "arm"}
    if outcome is not None:
        columns[outcome] = "y"
    if baseline is not None:
        columns[baseline] = "base"
    for i, covariate in enumerate(covariates):
        columns[covariate] = f"c{i}"
    for name in keep:
        columns[name] = name
    frame = data[list(columns)].rename(columns=columns)
    frame = frame[frame["arm"].isin(arms)].dropna().copy()
    frame["treat"] = (frame["arm"] == active).astype(float)
    terms = ["treat"]
    labels = {"treat": f"arm[{active}]"}
    if baseline is not None:
        terms.append("base")
        labels["base"] = f"baseline ({baseline})"
    for i, covariate in enumerate(covariates):
        name = f"c{i}"
        numeric = pd.api.types.is_numeric_dtype(frame[name])
        if not numeric:
            frame[name] = frame[name].astype(str)
        # A constant categorical covariate (one site) has nothing to adjust for.
        if frame[name].nunique() > 1:
            terms.append(name if numeric else f"C({name})")
        labels[name] = covariate
    counts = frame["arm"].value_counts()
    n_by_arm = {a: int(counts.get(a, 0)) for a in arms}
    return Prepared(frame, terms, labels, n_by_arm, f"{active} vs {reference}")


def _relabel(name: str, labels: dict[str, str]) -> str:
    for short, long in sorted(labels.items(), key=lambda kv: -len(kv[0])):
        if name == short:
            return long
        if name.startswith(f"C({short})"):
            return long + name[len(f"C({short})") :]
    return name


def coefficient_table(
    params: pd.Series, cov: pd.DataFrame, labels: dict[str, str], *, df: float | None = None
) -> pd.DataFrame:
    """Return estimate, SE, 95% CI and p for every model term."""
    se = np.sqrt(np.diag(cov.loc[params.index, params.index]))
    crit = stats.norm.ppf(0.975) if df is None else stats.t.ppf(0.975, df)
    z = params.to_numpy() / se
    p = 2 * (stats.norm.sf(np.abs(z)) if df is None else stats.t.sf(np.abs(z), df))
    table = pd.DataFrame(
        {
            "estimate": params.to_numpy(),
            "std_error": se,
            "ci_low": params.to_numpy() - crit * se,
            "ci_high": params.to_numpy() + crit * se,
            "p_value": p,
        },
        index=pd.Index([_relabel(str(n), labels) for n in params.index], name="term"),
    )
    return table


def _require(prep: Prepared, minimum: int = 2) -> None:
    if min(prep.n_by_arm.values()) < minimum:
        raise ValueError(
            f"Too few participants to analyse: {prep.n_by_arm} (need {minimum} in each arm)."
        )


# --- continuous -----------------------------------------------------------------------------


def fit_ols(prep: Prepared, extra: Sequence[str] = ()):
    formula = "y ~ " + " + ".join([*prep.terms, *extra])
    return smf.ols(formula, data=prep.frame).fit()


def ancova(
    data: pd.DataFrame,
    *,
    outcome: str,
    baseline: str,
    arms: Sequence[str],
    covariates: Sequence[str] = (),
    name: str = "",
) -> ModelResult:
    """Estimate the adjusted mean difference between arms by ANCOVA.

    Parameters
    ----------
    data
        One row per participant with the arm, the outcome, its baseline value and covariates.
    outcome, baseline
        Columns holding the follow-up value and the baseline value.
    arms
        ``(reference, active)``.
    covariates
        Adjustment covariates (text columns are treated as categorical).

    Returns
    -------
    ModelResult
        Effects: the adjusted mean difference (t interval on the residual df), then the
        standardised effect size (difference ÷ pooled within-arm SD of the outcome).

    Notes
    -----
    In R: ``lm(y ~ arm + baseline + site)``. The standardised effect size divides the adjusted
    difference (and its SE) by the pooled SD of the outcome at follow-up, so it is on the scale of
    Cohen's d.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"arm": ["A", "B"] * 4, "y": [3, 5, 4, 6, 2, 5, 3, 7],
    ...                       "y0": [3, 3, 4, 4, 2, 3, 3, 4]})
    >>> round(ancova(frame, outcome="y", baseline="y0", arms=["A", "B"]).effect.estimate, 3)
    2.382
    """
    prep = prepare(data, outcome=outcome, baseline=baseline, arms=arms, covariates=covariates)
    _require(prep)
    res = fit_ols(prep)
    se = float(res.bse["treat"])
    diff = float(res.params["treat"])
    groups = [g["y"] for _, g in prep.frame.groupby("arm")]
    pooled_sd = math.sqrt(
        sum((len(g) - 1) * g.var(ddof=1) for g in groups) / sum(len(g) - 1 for g in groups)
    )
    effects = (
        Effect("adjusted mean difference", diff, se, df=float(res.df_resid)),
        Effect(
            "standardised effect size", diff / pooled_sd, se / pooled_sd, df=float(res.df_resid)
        ),
    )
    return ModelResult(
        outcome=name or outcome,
        model="ANCOVA (OLS)",
        effects=effects,
        n_by_arm=prep.n_by_arm,
        coefficients=coefficient_table(res.params, res.cov_params(), prep.labels, df=res.df_resid),
        extras={"pooled_sd": pooled_sd, "r_squared": float(res.rsquared)},
        comparison=prep.comparison,
    )


# --- binary ----------------------------------------------------------------------------------


def fit_logit(prep: Prepared, extra: Sequence[str] = ()):
    formula = "y ~ " + " + ".join([*prep.terms, *extra])
    return smf.glm(formula, data=prep.frame, family=sm.families.Binomial()).fit()


def logistic(
    data: pd.DataFrame,
    *,
    outcome: str,
    arms: Sequence[str],
    covariates: Sequence[str] = (),
    name: str = "",
) -> ModelResult:
    """Estimate the adjusted odds ratio by logistic regression, with risk difference, ratio and NNT.

    Returns
    -------
    ModelResult
        Effects: odds ratio (Wald interval), then the risk difference and risk ratio by marginal
        standardisation over the analysed participants (delta-method intervals, the ratio on the
        log scale), then the number needed to treat (reciprocal of the risk difference and its
        interval; no interval when the risk difference's interval includes zero).

    Notes
    -----
    In R: ``glm(y ~ arm + site, family = binomial)``; risks are the means of
    ``predict(fit, newdata, type = "response")`` with everyone set to each arm.
    """
    prep = prepare(data, outcome=outcome, arms=arms, covariates=covariates)
    _require(prep)
    values = set(prep.frame["y"].unique())
    if not values <= {0.0, 1.0}:
        raise ValueError(f"A binary outcome must be 0 or 1; {outcome!r} has {sorted(values)}.")
    res = fit_logit(prep)
    beta = res.params.to_numpy()
    cov = res.cov_params().to_numpy()
    risks, grads = [], []
    column = list(res.params.index).index("treat")
    for value in (0.0, 1.0):
        # Everyone set to one arm; treat enters linearly, so only its column changes.
        x = np.array(res.model.exog, dtype=float, copy=True)
        x[:, column] = value
        p = 1 / (1 + np.exp(-(x @ beta)))
        risks.append(float(p.mean()))
        grads.append((x * (p * (1 - p))[:, None]).mean(axis=0))
    p0, p1 = risks
    g_rd = grads[1] - grads[0]
    g_lrr = grads[1] / p1 - grads[0] / p0
    rd = Effect("risk difference", p1 - p0, float(np.sqrt(g_rd @ cov @ g_rd)))
    rr = Effect(
        "risk ratio", math.log(p1 / p0), float(np.sqrt(g_lrr @ cov @ g_lrr)), exponentiate=True
    )
    odds = Effect(
        "odds ratio", float(res.params["treat"]), float(res.bse["treat"]), exponentiate=True
    )
    return ModelResult(
        outcome=name or outcome,
        model="Logistic regression",
        effects=(odds, rd, rr, *nnt_effects(rd)),
        n_by_arm=prep.n_by_arm,
        coefficients=coefficient_table(res.params, res.cov_params(), prep.labels),
        extras={
            "risk_reference": p0,
            "risk_active": p1,
            "events_by_arm": prep.frame.groupby("arm")["y"].sum().astype(int).to_dict(),
        },
        comparison=prep.comparison,
    )


# --- counts ----------------------------------------------------------------------------------


def _converged(fit) -> bool:  # type: ignore[no-untyped-def]
    return bool(fit.mle_retvals.get("converged", False)) and bool(np.all(np.isfinite(fit.params)))


def fit_negbin(prep: Prepared, extra: Sequence[str] = ()):
    """Fit NB2 by maximum likelihood, then refit as a GLM with that dispersion (as glm.nb does)."""
    formula = "y ~ " + " + ".join([*prep.terms, *extra])
    offset = np.log(prep.frame["years"].to_numpy())
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        # The ML fit reaches its optimum through Newton steps; statsmodels warns on slow starts,
        # and a trial step can overshoot into an invalid dispersion (log of a negative number)
        # before the step is corrected. Only the end point matters: it is checked below.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = smf.negativebinomial(formula, data=prep.frame, offset=offset)
        ml = model.fit(disp=0, maxiter=500, method="newton", tol=1e-12)
        if not _converged(ml):
            # Newton from statsmodels' default start can wander off; BFGS is slower but steady,
            # and Newton from its end point restores the precision the tests hold us to.
            start = model.fit(disp=0, maxiter=2000, method="bfgs")
            if _converged(start):
                ml = model.fit(
                    disp=0, maxiter=500, method="newton", tol=1e-12, start_params=start.params
                )
                if not _converged(ml):
                    ml = start
    alpha = float(ml.params["alpha"])
    if not _converged(ml):
        raise ValueError("the negative binomial model did not converge")
    glm = smf.glm(
        formula,
        data=prep.frame,
        family=sm.families.NegativeBinomial(alpha=alpha),
        offset=offset,
    ).fit(tol=1e-12)
    return glm, alpha


def negative_binomial(
    data: pd.DataFrame,
    *,
    outcome: str,
    years: str,
    arms: Sequence[str],
    covariates: Sequence[str] = (),
    name: str = "",
) -> ModelResult:
    """Estimate the adjusted rate ratio of a count by negative binomial regression.

    Parameters
    ----------
    data
        One row per participant: the count, the follow-up in years (the offset is its log), the
        arm and covariates. Participants with no follow-up time are dropped.

    Returns
    -------
    ModelResult
        The rate ratio (Wald interval), with the dispersion ``theta = 1 / alpha`` in extras.

    Notes
    -----
    In R: ``MASS::glm.nb(y ~ arm + site + offset(log(years)))``. Standard errors treat theta as
    known, as ``glm.nb`` reports them.
    """
    prep = prepare(data, outcome=outcome, arms=arms, covariates=covariates, keep=[years])
    prep.frame = prep.frame.rename(columns={years: "years"})
    prep.frame = prep.frame[prep.frame["years"] > 0]
    counts = prep.frame["arm"].value_counts()
    prep.n_by_arm = {a: int(counts.get(a, 0)) for a in arms}
    _require(prep)
    events = prep.frame.groupby("arm")["y"].sum()
    empty = [a for a in arms if events.get(a, 0) == 0]
    if empty:
        # Zero events in an arm: the likelihood has no finite maximum (the rate ratio runs off
        # to 0 or infinity), so any "estimate" would be an artefact of where the optimiser gave up.
        raise ValueError(f"no events in {', '.join(empty)}, so a rate ratio cannot be estimated")
    res, alpha = fit_negbin(prep)
    effect = Effect(
        "rate ratio", float(res.params["treat"]), float(res.bse["treat"]), exponentiate=True
    )
    totals = prep.frame.groupby("arm")[["y", "years"]].sum()
    return ModelResult(
        outcome=name or outcome,
        model="Negative binomial regression (log follow-up years offset)",
        effects=(effect,),
        n_by_arm=prep.n_by_arm,
        coefficients=coefficient_table(res.params, res.cov_params(), prep.labels),
        extras={
            "theta": 1 / alpha if alpha > 0 else math.inf,
            "rate_per_year_by_arm": (totals["y"] / totals["years"]).to_dict(),
        },
        comparison=prep.comparison,
    )


# --- time to event ---------------------------------------------------------------------------


def fit_cox(prep: Prepared, extra: Sequence[str] = ()) -> CoxPHFitter:
    from patsy import dmatrix

    rhs = " + ".join([*prep.terms, *extra])
    design = dmatrix(rhs, prep.frame, return_type="dataframe").drop(columns="Intercept")
    design["T"] = prep.frame["T"].to_numpy()
    design["E"] = prep.frame["E"].to_numpy()
    cph = CoxPHFitter()  # lifelines uses Efron's method for ties
    with warnings.catch_warnings():
        # lifelines warns, and carries on, when a column barely varies between those with and
        # without the event (complete or quasi-complete separation, e.g. no events in one arm of
        # a small subgroup): the hazard ratio it would report is meaningless, so say so instead.
        warnings.simplefilter("error", LifelinesConvergenceWarning)
        try:
            cph.fit(design, duration_col="T", event_col="E", fit_options={"precision": 1e-10})
        except LifelinesConvergenceWarning as warning:
            raise ValueError(
                "the Cox model cannot be estimated: the events separate completely on a "
                f"covariate ({str(warning).split('.')[0]})"
            ) from None
    return cph


def cox(
    data: pd.DataFrame,
    *,
    duration: str,
    event: str,
    arms: Sequence[str],
    covariates: Sequence[str] = (),
    name: str = "",
) -> ModelResult:
    """Estimate the adjusted hazard ratio by Cox regression (Efron ties), with a log-rank test.

    Returns
    -------
    ModelResult
        The hazard ratio (Wald interval). Extras hold the (unadjusted) log-rank test and the
        Kaplan–Meier estimate for each arm.

    Notes
    -----
    In R: ``coxph(Surv(days, event) ~ arm + site, ties = "efron")`` and
    ``survdiff(Surv(days, event) ~ arm)``.
    """
    prep = prepare(data, outcome=None, arms=arms, covariates=covariates, keep=[duration, event])
    prep.frame = prep.frame.rename(columns={duration: "T", event: "E"})
    _require(prep)
    cph = fit_cox(prep)
    effect = Effect(
        "hazard ratio",
        float(cph.params_["treat"]),
        float(cph.standard_errors_["treat"]),
        exponentiate=True,
    )
    ref, act = (prep.frame[prep.frame["arm"] == a] for a in arms)
    lr = logrank_test(ref["T"], act["T"], event_observed_A=ref["E"], event_observed_B=act["E"])
    return ModelResult(
        outcome=name or duration,
        model="Cox proportional hazards (Efron ties)",
        effects=(effect,),
        n_by_arm=prep.n_by_arm,
        coefficients=coefficient_table(cph.params_, cph.variance_matrix_, prep.labels),
        extras={
            "logrank_chisq": float(lr.test_statistic),
            "logrank_p": float(lr.p_value),
            "events_by_arm": prep.frame.groupby("arm")["E"].sum().astype(int).to_dict(),
            "kaplan_meier": kaplan_meier(prep.frame, arms),
        },
        comparison=prep.comparison,
    )


def kaplan_meier(frame: pd.DataFrame, arms: Sequence[str]) -> pd.DataFrame:
    """Return the Kaplan–Meier survival and 95% CI by arm (columns arm, day, survival, ci_*)."""
    parts = []
    for arm in arms:
        group = frame[frame["arm"] == arm]
        if group.empty:
            continue
        kmf = KaplanMeierFitter().fit(group["T"], group["E"], label="survival")
        table = pd.concat([kmf.survival_function_, kmf.confidence_interval_], axis=1)
        table.columns = ["survival", "ci_low", "ci_high"]
        table = table.rename_axis("day").reset_index()
        table.insert(0, "arm", arm)
        parts.append(table)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


# --- subgroups ---------------------------------------------------------------------------------

FITTERS = {
    "continuous": fit_ols,
    "binary": fit_logit,
    "count": fit_negbin,
    "time_to_event": fit_cox,
}


def interaction_test(prep: Prepared, kind: str, subgroup: pd.Series) -> tuple[float, float, int]:
    """Return the Wald chi-square, p-value and df for treatment × subgroup interaction."""
    levels = sorted(subgroup.dropna().astype(str).unique())
    frame = prep.frame
    extra = []
    for j, level in enumerate(levels[1:]):
        indicator = (subgroup.loc[frame.index].astype(str) == level).astype(float)
        frame[f"s{j}"] = indicator
        frame[f"ix{j}"] = indicator * frame["treat"]
        extra += [f"s{j}", f"ix{j}"]
    fitted = FITTERS[kind](prep, extra)
    if kind == "count":
        fitted = fitted[0]
    if kind == "time_to_event":
        params, cov = fitted.params_, fitted.variance_matrix_
    else:
        params, cov = fitted.params, fitted.cov_params()
    names = [f"ix{j}" for j in range(len(levels) - 1)]
    b = params[names].to_numpy()
    v = cov.loc[names, names].to_numpy()
    chisq = float(b @ np.linalg.solve(v, b))
    return chisq, float(stats.chi2.sf(chisq, len(names))), len(names)
