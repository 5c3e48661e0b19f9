"""Estimators against reference numbers from R.

The numbers in ``results/r_reference.txt`` were printed by ``results/reference.R`` (R 4.2.2,
survival, MASS, lme4, mice from Debian bookworm) run on the contract files in
``results/trial/``. Tolerances follow the issue: OLS 1e-6; GLM, negative binomial and Cox 1e-4
on estimates and standard errors; mixed models 1e-3.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from mstoutcomes.analysis.contract import load_dataset
from mstoutcomes.analysis.estimators import mixed, service, trial
from mstoutcomes.analysis.results import pool_scalar
from mstoutcomes.analysis.runner import (
    column,
    event_frame,
    matched_windows,
    participant_frame,
)
from mstoutcomes.analysis.tests.statsmodels_reference import mixed_model as statsmodels_mixed

RESULTS = Path(__file__).parent / "results"
ARMS = ("MAU", "MST")


def _reference() -> dict[str, float]:
    lines = (RESULTS / "r_reference.txt").read_text().splitlines()
    return {key: float(value) for key, value in (line.split() for line in lines if line)}


R = _reference()


@pytest.fixture(scope="module")
def dataset():
    return load_dataset(RESULTS / "trial")


@pytest.fixture(scope="module")
def frame(dataset):
    return participant_frame(dataset).join(event_frame(dataset, "offence"))


def close(ours: float, theirs: float, tol: float) -> bool:
    return math.isclose(ours, theirs, rel_tol=tol, abs_tol=tol)


def test_ancova_matches_r_lm_to_1e6(frame):
    """> lm(y12 ~ arm + y0 + site)"""
    result = trial.ancova(
        frame, outcome="sdq_total@12m", baseline="sdq_total@0m", arms=ARMS, covariates=["site"]
    )
    diff, smd = result.effects
    assert close(diff.coef, R["ancova.coef"], 1e-6)
    assert close(diff.std_error, R["ancova.se"], 1e-6)
    assert close(diff.p_value, R["ancova.p"], 1e-6)
    assert diff.df == R["ancova.df"]
    assert close(result.extras["pooled_sd"], R["ancova.pooled_sd"], 1e-6)
    assert close(smd.estimate, R["ancova.smd"], 1e-6)
    assert result.n_by_arm == {"MAU": R["ancova.n_MAU"], "MST": R["ancova.n_MST"]}


def test_mixed_model_matches_lme4_to_1e3(frame):
    """> lmer(y ~ arm + y0 + factor(time) + site + (1 | id), REML = TRUE)"""
    base = "sdq_total@0m"
    long = frame.reset_index().melt(
        id_vars=["participant_id", "arm", base, "site"],
        value_vars=[column("sdq_total", t) for t in ("6m", "12m", "18m")],
        var_name="timepoint",
        value_name="y",
    )
    result = statsmodels_mixed(long, outcome="y", baseline=base, arms=ARMS, covariates=["site"])
    assert close(result.effect.coef, R["lmm.coef"], 1e-3)
    assert close(result.effect.std_error, R["lmm.se"], 1e-3)
    assert close(result.extras["random_intercept_variance"], R["lmm.re_var"], 1e-3)
    assert close(result.extras["residual_variance"], R["lmm.resid_var"], 1e-3)
    assert result.extras["converged"]


def test_closed_form_mixed_model_matches_lme4_to_1e5(frame):
    """> lmer(...) again, by the profiled REML criterion the runner uses (estimators.mixed)."""
    base = "sdq_total@0m"
    long = frame.reset_index().melt(
        id_vars=["participant_id", "arm", base, "site"],
        value_vars=[column("sdq_total", t) for t in ("6m", "12m", "18m")],
        var_name="timepoint",
        value_name="y",
    )
    result = mixed.mixed_model(long, outcome="y", baseline=base, arms=ARMS, covariates=["site"])
    assert close(result.effect.coef, R["lmm.coef"], 1e-5)
    assert close(result.effect.std_error, R["lmm.se"], 1e-5)
    assert close(result.extras["random_intercept_variance"], R["lmm.re_var"], 1e-5)
    assert close(result.extras["residual_variance"], R["lmm.resid_var"], 1e-5)
    assert result.extras["converged"]
    reference = statsmodels_mixed(
        long, outcome="y", baseline=base, arms=ARMS, covariates=["site"]
    ).coefficients
    assert list(result.coefficients.index) == list(reference.index)
    assert (result.coefficients["estimate"] - reference["estimate"]).abs().max() < 1e-3


def test_logistic_regression_and_marginal_risks_match_r_glm_to_1e4(frame):
    """> glm(placed ~ arm + site, family = binomial), risks by marginal standardisation"""
    result = trial.logistic(frame, outcome="out_of_home@18m", arms=ARMS, covariates=["site"])
    effects = {e.measure: e for e in result.effects}
    assert close(effects["odds ratio"].coef, R["logit.coef"], 1e-4)
    assert close(effects["odds ratio"].std_error, R["logit.se"], 1e-4)
    assert close(effects["odds ratio"].p_value, R["logit.p"], 1e-4)
    assert close(result.extras["risk_reference"], R["logit.risk0"], 1e-4)
    assert close(result.extras["risk_active"], R["logit.risk1"], 1e-4)
    assert close(effects["risk difference"].coef, R["logit.rd"], 1e-4)
    assert close(effects["risk difference"].std_error, R["logit.rd_se"], 1e-4)
    assert close(effects["risk ratio"].coef, R["logit.log_rr"], 1e-4)
    assert close(effects["risk ratio"].std_error, R["logit.log_rr_se"], 1e-4)
    nnt = effects["number needed to treat"]
    assert close(nnt.estimate, 1 / R["logit.rd"], 1e-4)
    rd = effects["risk difference"]
    assert close(nnt.ci_low, 1 / rd.ci_high, 1e-9) and close(nnt.ci_high, 1 / rd.ci_low, 1e-9)


def test_negative_binomial_matches_r_glm_nb_to_1e4(frame):
    """> MASS::glm.nb(count ~ arm + site + offset(log(years)))"""
    result = trial.negative_binomial(
        frame, outcome="count", years="years", arms=ARMS, covariates=["site"]
    )
    assert close(result.effect.coef, R["nb.coef"], 1e-4)
    assert close(result.effect.std_error, R["nb.se"], 1e-4)
    assert close(result.extras["theta"], R["nb.theta"], 1e-4)
    site2 = result.coefficients.loc["site[T.S02]"]
    assert close(site2["estimate"], R["nb.coef_site2"], 1e-4)
    assert close(site2["std_error"], R["nb.se_site2"], 1e-4)


def test_cox_log_rank_and_kaplan_meier_match_r_survival_to_1e4(frame):
    """> coxph(Surv(days, event) ~ arm + site, ties = "efron"); survdiff(Surv(days, event) ~ arm)"""
    result = trial.cox(frame, duration="days", event="event", arms=ARMS, covariates=["site"])
    assert close(result.effect.coef, R["cox.coef"], 1e-4)
    assert close(result.effect.std_error, R["cox.se"], 1e-4)
    site2 = result.coefficients.loc["site[T.S02]"]
    assert close(site2["estimate"], R["cox.coef_site2"], 1e-4)
    assert close(site2["std_error"], R["cox.se_site2"], 1e-4)
    assert close(result.extras["logrank_chisq"], R["logrank.chisq"], 1e-6)
    km = result.extras["kaplan_meier"]
    for arm in ARMS:
        curve = km[km["arm"] == arm].set_index("day")["survival"]
        for day in (90, 365):
            assert close(float(curve[curve.index <= day].iloc[-1]), R[f"km.{arm}.{day}"], 1e-9)


def test_subgroup_interaction_wald_tests_match_r(dataset, frame):
    """> glm(placed ~ arm * sex + site, binomial); lm(y12 ~ arm * age_band + y0 + site)"""
    prep = trial.prepare(
        frame, outcome="out_of_home@18m", arms=ARMS, covariates=["site"], keep=["sex"]
    )
    chisq, p, df = trial.interaction_test(prep, "binary", frame.loc[prep.frame.index, "sex"])
    assert df == 1
    assert close(chisq, R["interaction.logit_sex.chisq"], 1e-4)
    assert close(p, R["interaction.logit_sex.p"], 1e-4)
    prep = trial.prepare(
        frame,
        outcome="sdq_total@12m",
        baseline="sdq_total@0m",
        arms=ARMS,
        covariates=["site"],
        keep=["age_band"],
    )
    chisq, _, _ = trial.interaction_test(
        prep, "continuous", frame.loc[prep.frame.index, "age_band"]
    )
    assert close(chisq, R["interaction.ancova_age.chisq"], 1e-6)


def test_pre_post_change_matches_r_t_test_wilcoxon_and_reliable_change(frame):
    """> t.test(y12, y0, paired = TRUE); wilcox.test(y12, y0, paired = TRUE)"""
    mst = frame[frame["arm"] == "MST"]
    result = service.pre_post(
        mst["sdq_total@0m"],
        mst["sdq_total@12m"],
        outcome="sdq",
        reliability=0.80,
        clinical_cutoff=17,
    )
    change, dz, g = result.effects
    assert result.n == R["prepost.n"]
    assert close(change.estimate, R["prepost.mean_change"], 1e-9)
    assert close(change.ci_low, R["prepost.ci_low"], 1e-9)
    assert close(change.ci_high, R["prepost.ci_high"], 1e-9)
    assert close(result.t_statistic, R["prepost.t"], 1e-9)
    assert close(result.t_p_value, R["prepost.t_p"], 1e-6)
    assert result.wilcoxon_statistic == R["prepost.wilcoxon_v"]
    assert close(result.wilcoxon_p_value, R["prepost.wilcoxon_p"], 1e-6)
    assert close(dz.estimate, R["prepost.dz"], 1e-9)
    assert close(g.estimate, R["prepost.g_av"], 1e-9)
    assert result.categories == {
        "recovered": R["rci.recovered"],
        "improved": R["rci.improved"],
        "unchanged": R["rci.unchanged"],
        "deteriorated": R["rci.deteriorated"],
    }


def test_exact_wilcoxon_matches_r_for_small_samples_without_ties():
    before = pd.Series([21, 18, 25, 19, 23, 17, 20, 26, 22, 24], dtype=float)
    after = pd.Series([15.5, 17.2, 18.1, 19.9, 14.4, 16.8, 20.7, 19.3, 18.6, 13.0])
    result = service.pre_post(before, after, outcome="small")
    assert result.wilcoxon_statistic == R["wilcoxon_exact.v"]
    assert close(result.wilcoxon_p_value, R["wilcoxon_exact.p"], 1e-9)


def test_before_after_rates_match_r_poisson_test(dataset):
    """> poisson.test(c(after, before), c(years, years))"""
    windows = matched_windows(dataset, "offence", 365)
    mst = dataset.participants.set_index("participant_id")["arm"] == "MST"
    windows = windows[mst]
    years = float(windows["years"].sum())
    result = service.before_after_rates(
        int(windows["before"].sum()), years, int(windows["after"].sum()), years, outcome="x", n=1
    )
    assert result.events_before == R["rates.before"]
    assert result.events_after == R["rates.after"]
    assert close(years, R["rates.years"], 1e-9)
    assert close(result.effect.estimate, R["rates.ratio"], 1e-9)
    assert close(result.ci_low, R["rates.ci_low"], 1e-6)
    assert close(result.ci_high, R["rates.ci_high"], 1e-6)
    assert close(result.p_value, R["rates.p"], 1e-6)


def test_wilson_interval_matches_r_prop_test():
    low, high = service.wilson_interval(41, 48)
    assert close(low, R["wilson.low"], 1e-9)
    assert close(high, R["wilson.high"], 1e-9)


def test_rubins_rules_match_mice_pool_scalar():
    """> pool.scalar(Q, U, n = 150, k = 6)"""
    q = [-1.21, -0.98, -1.35, -1.02, -1.17]
    u = [0.181, 0.176, 0.190, 0.169, 0.185]
    pooled = pool_scalar(q, u, dfcom=150 - 6)
    for name in ("qbar", "ubar", "b", "t", "df", "r", "fmi"):
        assert close(getattr(pooled, name), R[f"rubin.{name}"], 1e-9), name
    large = pool_scalar(q, u)
    assert close(large.df, R["rubin_inf.df"], 1e-9)
    assert close(large.fmi, R["rubin_inf.fmi"], 1e-9)
