"""Running a whole plan: multiple imputation, Rubin's rules, identical reruns, outputs."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command

from mstoutcomes.analysis.contract import load_dataset
from mstoutcomes.analysis.estimators.missing import impute
from mstoutcomes.analysis.report import results_json
from mstoutcomes.analysis.results import Effect, ModelResult, pool_results, pool_scalar
from mstoutcomes.analysis.runner import fit_outcome, imputation_frame, participant_frame, run_plan
from mstoutcomes.analysis.synthetic import write_service_example

TRIAL = Path(__file__).parent / "results" / "trial"
EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "analysis"


@pytest.fixture(scope="module")
def dataset():
    loaded = load_dataset(TRIAL)
    # Small m keeps the suite fast; the plan's own m is used by the command.
    return replace(
        loaded, plan=replace(loaded.plan, missing=replace(loaded.plan.missing, m=3, iterations=3))
    )


@pytest.fixture(scope="module")
def results(dataset):
    return run_plan(dataset)


def test_every_outcome_has_a_complete_case_result_and_imputation_where_data_are_missing(results):
    by_name = {o.spec.name: o for o in results.outcomes}
    assert [r.missing for r in by_name["sdq_total_12m"].results] == [
        "complete_case",
        "multiple_imputation",
    ]
    assert [r.missing for r in by_name["out_of_home_18m"].results] == [
        "complete_case",
        "multiple_imputation",
    ]
    assert [r.missing for r in by_name["offences"].results] == ["complete_case"]
    assert by_name["time_to_first_offence"].results[0].effect.measure == "hazard ratio"
    assert by_name["sdq_total_repeated"].results[0].model.startswith("Linear mixed model")
    assert all(not o.notes or "No missing values" in o.notes[0] for o in results.outcomes)


def test_a_rerun_with_the_same_seed_gives_identical_json(dataset, results):
    assert results_json(run_plan(dataset)) == results_json(results)


def test_a_different_seed_changes_only_the_imputed_numbers(dataset, results):
    other_plan = replace(dataset.plan, missing=replace(dataset.plan.missing, seed=7))
    other = run_plan(replace(dataset, plan=other_plan))
    first, second = results.outcomes[0].results, other.outcomes[0].results
    assert first[0].effect.estimate == second[0].effect.estimate
    assert first[1].effect.estimate != second[1].effect.estimate


def test_imputation_is_seeded_and_keeps_observed_values():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)})
    frame.loc[::5, "b"] = np.nan
    one = impute(frame, m=2, seed=9, iterations=2)
    two = impute(frame, m=2, seed=9, iterations=2)
    assert all(x.equals(y) for x, y in zip(one, two, strict=True))
    observed = frame["b"].notna()
    assert one[0].loc[observed, "b"].equals(frame.loc[observed, "b"])
    assert not one[0]["b"].isna().any()
    assert set(one[0].loc[~observed, "b"]) <= set(
        frame.loc[observed, "b"]
    )  # predictive mean matching


def test_the_imputed_result_is_rubins_rules_over_the_model_on_each_imputation(dataset, results):
    frame = participant_frame(dataset)
    imputed = impute(
        imputation_frame(dataset, frame),
        m=dataset.plan.missing.m,
        seed=dataset.plan.missing.seed,
        iterations=dataset.plan.missing.iterations,
    )
    spec = dataset.plan.outcomes[0]
    fits = []
    for done in imputed:
        copy = frame.copy()
        measured = [c for c in done.columns if "@" in c]
        copy[measured] = done[measured]
        fits.append(fit_outcome(spec, copy, dataset.plan).effect)
    pooled = pool_scalar(
        [f.coef for f in fits], [f.std_error**2 for f in fits], dfcom=fits[0].df or math.inf
    )
    reported = results.outcomes[0].results[1].effect
    assert reported.coef == pytest.approx(pooled.qbar, rel=1e-12)
    assert reported.std_error == pytest.approx(pooled.std_error, rel=1e-12)
    assert reported.df == pytest.approx(pooled.df, rel=1e-12)


def test_pooling_applies_rubins_rules_exactly_on_the_log_scale():
    fits = [
        ModelResult("o", "m", (Effect("odds ratio", q, se, exponentiate=True),), {"A": 1})
        for q, se in ((0.2, 0.1), (0.4, 0.2), (0.3, 0.15))
    ]
    pooled = pool_results(fits).effect
    qbar = 0.3
    ubar = (0.01 + 0.04 + 0.0225) / 3
    b = ((0.1**2) + 0 + (0.1**2)) / 2
    assert pooled.coef == pytest.approx(qbar, abs=1e-15)
    assert pooled.std_error**2 == pytest.approx(ubar + (1 + 1 / 3) * b, abs=1e-15)
    assert pooled.estimate == pytest.approx(np.exp(qbar), abs=1e-15)


def test_service_evaluation_reports_change_rates_and_targets_without_a_trial(tmp_path: Path):
    dataset = load_dataset(write_service_example(tmp_path / "svc"))
    results = run_plan(dataset)
    sdq, offences = results.outcomes
    assert sdq.results == () and offences.results == ()
    assert [s.after for s in sdq.service] == ["discharge", "6m"]
    assert sum(sdq.service[0].categories.values()) == sdq.service[0].n
    assert offences.service[0].effect.measure == "rate ratio"
    assert list(results.targets.index)[:3] == [
        "living_at_home",
        "in_school_or_work",
        "no_new_arrests",
    ]
    assert "not a causal effect" in results.as_dict()["statement"]


def test_analyse_command_runs_the_worked_example_and_writes_every_output(tmp_path: Path):
    out = tmp_path / "out"
    call_command("analyse", data=str(EXAMPLES / "service-evaluation"), out=str(out), verbosity=0)
    written = {p.name for p in out.iterdir()}
    assert {"results.json", "report.html", "service_evaluation.csv", "mst_targets.csv"} <= written
    payload = json.loads((out / "results.json").read_text())
    assert payload["design"] == "service evaluation"
    report = (out / "report.html").read_text()
    assert "<svg" in report and "regression to the mean" in report


def test_analyse_command_refuses_a_broken_directory_with_the_problem(tmp_path: Path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=r"plan\.toml: is missing"):
        call_command("analyse", data=str(tmp_path), out=str(tmp_path / "out"), verbosity=0)


def test_progress_counts_every_step_and_ends_with_all_done(dataset, results):
    steps: list[tuple[int, int, str]] = []
    again = run_plan(dataset, on_step=lambda done, total, label: steps.append((done, total, label)))
    total = 1 + len(dataset.plan.outcomes) + dataset.plan.mst_targets  # imputation is needed
    assert {t for _, t, _ in steps} == {total}
    assert [d for d, _, _ in steps] == list(range(total + 1))
    assert steps[0][2].startswith("Imputing") and steps[-1] == (total, total, "Analyses finished")
    assert results_json(again) == results_json(results)  # reporting progress changes nothing
