"""Run a dataset's whole plan: trial comparisons, imputation, subgroups, service evaluation."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.tools.sm_exceptions import PerfectSeparationError

from mstoutcomes.analysis.contract import DAYS_PER_YEAR, Dataset, OutcomeSpec, Plan
from mstoutcomes.analysis.estimators import mixed, service, trial
from mstoutcomes.analysis.estimators.missing import impute
from mstoutcomes.analysis.results import ModelResult, _plain, pool_results

Progress = Callable[[str], None]
# Called as on_step(done, total, label): `done` of `total` steps are finished, `label` is under way.
StepProgress = Callable[[int, int, str], None]
# Failures of one analysis that should be reported, not stop the others.
ANALYSIS_ERRORS = (ValueError, np.linalg.LinAlgError, PerfectSeparationError, ZeroDivisionError)
ULTIMATE_OUTCOMES = ("living_at_home", "in_school_or_work", "no_new_arrests")

NOT_CAUSAL = (
    "Change before and after MST is not a causal effect. Young people are referred when things "
    "are at their worst, so many improve whatever happens next (regression to the mean), and "
    "other things change over the same months. Only the comparison with the randomised control "
    "arm estimates what MST itself achieved."
)


def code_version() -> str:
    """Return the versions of this package and the numerical libraries that shape the numbers."""
    names = ("mstoutcomes", "numpy", "pandas", "scipy", "statsmodels", "lifelines")
    parts = []
    for name in names:
        try:
            parts.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{name} unknown")
    return "; ".join(parts)


@dataclass(frozen=True, eq=False)
class OutcomeAnalysis:
    """Everything estimated for one ``[[outcome]]`` of the plan."""

    spec: OutcomeSpec
    results: tuple[ModelResult, ...] = ()
    subgroups: tuple[dict[str, Any], ...] = ()
    arm_summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    service: tuple[Any, ...] = ()  # PrePostResult / RateResult for the service arm
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return _plain(
            {
                "name": self.spec.name,
                "label": self.spec.title,
                "type": self.spec.type,
                "analyses": [
                    {
                        "model": r.model,
                        "missing": r.missing,
                        "comparison": r.comparison,
                        "effect_measure": r.effect.measure,
                        "estimate": r.effect.estimate,
                        "ci_low": r.effect.ci_low,
                        "ci_high": r.effect.ci_high,
                        "p_value": r.effect.p_value,
                        "n_by_arm": dict(r.n_by_arm),
                        "effects": [e.as_dict() for e in r.effects],
                        "extras": {k: v for k, v in r.extras.items() if k != "kaplan_meier"},
                    }
                    for r in self.results
                ],
                "arm_summaries": self.arm_summary.to_dict(orient="records"),
                "subgroups": list(self.subgroups),
                "service_evaluation": [s.as_dict() for s in self.service],
                "notes": list(self.notes),
            }
        )


@dataclass(frozen=True, eq=False)
class AnalysisResults:
    """The results of running a plan on a dataset, ready for JSON, CSV tables and the report."""

    plan: Plan
    dataset_sha256: str
    code_version: str
    n_by_arm: dict[str, int]
    outcomes: tuple[OutcomeAnalysis, ...]
    targets: pd.DataFrame | None = None

    def as_dict(self) -> dict[str, Any]:
        return _plain(
            {
                "title": self.plan.title,
                "design": "trial" if self.plan.is_trial else "service evaluation",
                "dataset_sha256": self.dataset_sha256,
                "code_version": self.code_version,
                "seed": self.plan.missing.seed,
                "plan": self.plan.as_dict(),
                "n_by_arm": self.n_by_arm,
                "outcomes": [o.as_dict() for o in self.outcomes],
                "mst_targets": (
                    None if self.targets is None else self.targets.reset_index().to_dict("records")
                ),
                "statement": NOT_CAUSAL,
            }
        )

    def tables(self) -> dict[str, pd.DataFrame]:
        """Return the CSV tables: effects, subgroups, service evaluation, arm summaries, targets."""
        effects = [
            r.summary.reset_index().assign(outcome_type=o.spec.type, model=r.model)
            for o in self.outcomes
            for r in o.results
        ]
        subgroups = [
            pd.DataFrame(s["levels"]).assign(
                outcome=o.spec.name, subgroup=s["subgroup"], interaction_p=s["interaction_p"]
            )
            for o in self.outcomes
            for s in o.subgroups
        ]
        services = [
            s.summary.reset_index().assign(outcome=o.spec.name)
            for o in self.outcomes
            for s in o.service
        ]
        arms = [o.arm_summary.assign(outcome=o.spec.name) for o in self.outcomes]
        tables = {
            "effects": effects,
            "subgroups": subgroups,
            "service_evaluation": services,
            "arm_summaries": arms,
        }
        out = {k: concat(v) for k, v in tables.items() if v}
        if self.targets is not None:
            out["mst_targets"] = self.targets.reset_index()
        return out


def concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Stack frames whose columns may differ, keeping the first-seen column order."""
    columns = list(dict.fromkeys(c for f in frames for c in f.columns))
    # All-NA columns are dropped before stacking (pandas deprecates guessing their dtype).
    stacked = pd.concat([f.dropna(axis=1, how="all") for f in frames], ignore_index=True)
    return stacked.reindex(columns=columns)


# --- frames from the contract ---------------------------------------------------------------------


def column(outcome: str, timepoint: str) -> str:
    return f"{outcome}@{timepoint}"


def wide_measurements(dataset: Dataset) -> pd.DataFrame:
    """Return one row per participant, one column per ``outcome@timepoint``."""
    m = dataset.measurements
    wide = m.pivot(index="participant_id", columns=["outcome", "timepoint"], values="value")
    wide.columns = [column(str(o), str(t)) for o, t in wide.columns]  # type: ignore[misc,has-type]
    ids = dataset.participants["participant_id"]
    return wide.reindex(ids.to_numpy()).sort_index(axis=1)


def event_frame(dataset: Dataset, event: str) -> pd.DataFrame:
    """Return count, follow-up years, days to first event and the event flag per participant."""
    people = dataset.participants.set_index("participant_id")
    events = dataset.events[dataset.events["event"] == event]
    joined = events.join(people[["randomised_on", "followup_end"]], on="participant_id")
    inside = joined[
        (joined["date"] >= joined["randomised_on"]) & (joined["date"] <= joined["followup_end"])
    ]
    count = inside.groupby("participant_id").size().reindex(people.index, fill_value=0)
    first = inside.groupby("participant_id")["date"].min().reindex(people.index)
    days_followed = (people["followup_end"] - people["randomised_on"]).dt.days
    happened = first.notna()
    days = np.where(happened, (first - people["randomised_on"]).dt.days, days_followed)
    return pd.DataFrame(
        {
            "count": count.astype(float),
            "years": days_followed / DAYS_PER_YEAR,
            "days": days.astype(float),
            "event": happened.astype(float),
        },
        index=people.index,
    )


def matched_windows(dataset: Dataset, event: str, window_days: int) -> pd.DataFrame:
    """Count events in equal windows before and after randomised_on (the start of MST)."""
    people = dataset.participants.set_index("participant_id")
    after_days = (people["followup_end"] - people["randomised_on"]).dt.days.clip(upper=window_days)
    start = people["randomised_on"]
    events = dataset.events[dataset.events["event"] == event].join(
        pd.DataFrame({"start": start, "length": after_days}), on="participant_id"
    )
    offset = (events["date"] - events["start"]).dt.days
    before = events[(offset < 0) & (offset >= -events["length"])]
    after = events[(offset >= 0) & (offset < events["length"])]
    return pd.DataFrame(
        {
            "before": before.groupby("participant_id").size().reindex(people.index, fill_value=0),
            "after": after.groupby("participant_id").size().reindex(people.index, fill_value=0),
            "years": after_days / DAYS_PER_YEAR,
        }
    )


def _design_columns(plan: Plan, spec: OutcomeSpec) -> list[str]:
    if spec.type == "continuous":
        points = [spec.baseline, spec.timepoint, *spec.repeated]
    elif spec.type == "binary":
        points = [spec.timepoint]
    else:
        return []
    return [column(spec.source, p) for p in points if p]


# --- one outcome ------------------------------------------------------------------------------


def fit_outcome(spec: OutcomeSpec, frame: pd.DataFrame, plan: Plan) -> ModelResult:
    """Fit the plan's model for one outcome to a participant-level frame (observed or imputed)."""
    common: dict[str, Any] = {"arms": plan.arms, "covariates": plan.covariates, "name": spec.name}
    if spec.type == "continuous" and spec.repeated:
        base = column(spec.source, spec.baseline or "")
        long = frame.reset_index().melt(
            id_vars=["participant_id", "arm", base, *plan.covariates],
            value_vars=[column(spec.source, t) for t in spec.repeated],
            var_name="timepoint",
            value_name="y",
        )
        long["timepoint"] = long["timepoint"].map(
            {column(spec.source, t): t for t in spec.repeated}
        )
        return mixed.mixed_model(long, outcome="y", baseline=base, **common)
    if spec.type == "continuous":
        return trial.ancova(
            frame,
            outcome=column(spec.source, spec.timepoint or ""),
            baseline=column(spec.source, spec.baseline or ""),
            **common,
        )
    if spec.type == "binary":
        return trial.logistic(frame, outcome=column(spec.source, spec.timepoint or ""), **common)
    if spec.type == "count":
        return trial.negative_binomial(frame, outcome="count", years="years", **common)
    return trial.cox(frame, duration="days", event="event", **common)


def arm_summary(spec: OutcomeSpec, frame: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """Describe the outcome in each arm: mean, SD and 95% CI per timepoint, or risks and rates."""
    rows = []
    for arm in plan.arms:
        group = frame[frame["arm"] == arm]
        if spec.type in ("continuous", "binary"):
            points = [spec.baseline, spec.timepoint, *spec.repeated]
            for point in dict.fromkeys(p for p in points if p):
                values = group[column(spec.source, point)].dropna()
                n = len(values)
                mean = float(values.mean()) if n else math.nan
                sd = float(values.std(ddof=1)) if n > 1 else math.nan
                half = 1.959964 * sd / math.sqrt(n) if n > 1 else math.nan
                rows.append(
                    {
                        "arm": arm,
                        "timepoint": point,
                        "n": n,
                        "mean": mean,
                        "sd": sd,
                        "ci_low": mean - half,
                        "ci_high": mean + half,
                    }
                )
        elif spec.type == "count":
            years = float(group["years"].sum())
            rows.append(
                {
                    "arm": arm,
                    "n": len(group),
                    "events": float(group["count"].sum()),
                    "person_years": years,
                    "rate_per_year": float(group["count"].sum()) / years if years else math.nan,
                }
            )
        else:
            rows.append(
                {
                    "arm": arm,
                    "n": len(group),
                    "events": float(group["event"].sum()),
                    "median_days_followed": float(group["days"].median())
                    if len(group)
                    else math.nan,
                }
            )
    return pd.DataFrame(rows)


def _subgroups(spec: OutcomeSpec, frame: pd.DataFrame, plan: Plan) -> list[dict[str, Any]]:
    if spec.repeated or not plan.is_trial:
        return []
    out = []
    for subgroup in plan.subgroups:
        levels = []
        for level, part in frame.groupby(frame[subgroup].astype(str), sort=True):
            try:
                result = fit_outcome(spec, part, plan)
            except ANALYSIS_ERRORS as error:
                levels.append({"level": level, "n": len(part), "note": str(error)})
                continue
            e = result.effect
            levels.append(
                {
                    "level": level,
                    "n": len(part),
                    "measure": e.measure,
                    "estimate": e.estimate,
                    "ci_low": e.ci_low,
                    "ci_high": e.ci_high,
                    "p_value": e.p_value,
                }
            )
        try:
            chisq, p, df = _interaction(spec, frame, plan, subgroup)
        except ANALYSIS_ERRORS as error:
            chisq, p, df = math.nan, math.nan, 0
            levels.append({"level": "(interaction)", "note": str(error)})
        out.append(
            {
                "subgroup": subgroup,
                "interaction_chisq": chisq,
                "interaction_df": df,
                "interaction_p": p,
                "levels": levels,
            }
        )
    return out


def _interaction(
    spec: OutcomeSpec, frame: pd.DataFrame, plan: Plan, subgroup: str
) -> tuple[float, float, int]:
    keep: list[str] = [subgroup] if subgroup not in plan.covariates else []
    if spec.type == "continuous":
        prep = trial.prepare(
            frame,
            outcome=column(spec.source, spec.timepoint or ""),
            baseline=column(spec.source, spec.baseline or ""),
            arms=plan.arms,
            covariates=plan.covariates,
            keep=keep,
        )
    elif spec.type == "binary":
        prep = trial.prepare(
            frame,
            outcome=column(spec.source, spec.timepoint or ""),
            arms=plan.arms,
            covariates=plan.covariates,
            keep=keep,
        )
    elif spec.type == "count":
        prep = trial.prepare(
            frame,
            outcome="count",
            arms=plan.arms,
            covariates=plan.covariates,
            keep=[*keep, "years"],
        )
        prep.frame = prep.frame[prep.frame["years"] > 0]
    else:
        prep = trial.prepare(
            frame,
            outcome=None,
            arms=plan.arms,
            covariates=plan.covariates,
            keep=[*keep, "days", "event"],
        )
        prep.frame = prep.frame.rename(columns={"days": "T", "event": "E"})
    return trial.interaction_test(prep, spec.type, frame.loc[prep.frame.index, subgroup])


def _service(spec: OutcomeSpec, frame: pd.DataFrame, dataset: Dataset) -> list[Any]:
    plan = dataset.plan
    group = frame[frame["arm"] == plan.service_arm]
    out: list[Any] = []
    if spec.type == "continuous" and spec.baseline:
        pairs = [(spec.baseline, p) for p in (spec.timepoint, *spec.repeated) if p]
        if spec.maintenance:
            pairs.append((spec.maintenance[0], spec.maintenance[1]))
        for before, after in pairs:
            out.append(
                service.pre_post(
                    group[column(spec.source, before)],
                    group[column(spec.source, after)],
                    outcome=f"{spec.name}: {before} to {after}",
                    labels=(before, after),
                    direction=spec.direction,
                    reliability=spec.reliability,
                    clinical_cutoff=spec.clinical_cutoff,
                )
            )
    elif spec.type == "count" and spec.event:
        windows = matched_windows(dataset, spec.event, spec.window_days)
        windows = windows.loc[group.index]
        windows = windows[windows["years"] > 0]
        years = float(windows["years"].sum())
        out.append(
            service.before_after_rates(
                int(windows["before"].sum()),
                years,
                int(windows["after"].sum()),
                years,
                outcome=f"{spec.name}: {spec.window_days}-day windows",
                n=len(windows),
            )
        )
    return out


def _attempt(notes: list[str], label: str, function: Callable[[], Any]) -> Any:
    try:
        return function()
    except ANALYSIS_ERRORS as error:
        notes.append(f"{label}: not estimated ({error}).")
        return None


def analyse_outcome(
    spec: OutcomeSpec, frame: pd.DataFrame, dataset: Dataset, imputed: list[pd.DataFrame] | None
) -> OutcomeAnalysis:
    """Run every analysis the plan asks of one outcome."""
    plan = dataset.plan
    notes: list[str] = []
    results: list[ModelResult] = []
    if plan.is_trial:
        cc = _attempt(notes, "Complete-case analysis", lambda: fit_outcome(spec, frame, plan))
        if cc is not None:
            results.append(cc)
        used = _design_columns(plan, spec)
        if imputed and used and frame[used].isna().any().any():

            def pooled() -> ModelResult:
                fits = []
                for done in imputed:
                    copy = frame.copy()
                    copy[used] = done[used]
                    fits.append(fit_outcome(spec, copy, plan))
                return pool_results(fits)

            mi = _attempt(notes, "Multiple imputation", pooled)
            if mi is not None:
                results.append(mi)
        elif imputed:
            notes.append(
                "No missing values: multiple imputation would repeat the complete-case result."
            )
    subgroups = _subgroups(spec, frame, plan)
    served = _attempt(notes, "Service evaluation", lambda: _service(spec, frame, dataset)) or []
    return OutcomeAnalysis(
        spec=spec,
        results=tuple(results),
        subgroups=tuple(subgroups),
        arm_summary=arm_summary(spec, frame, plan),
        service=tuple(served),
        notes=tuple(notes),
    )


def participant_frame(dataset: Dataset) -> pd.DataFrame:
    """Return one row per participant: arm, covariates, subgroups and every outcome@timepoint."""
    plan = dataset.plan
    people = dataset.participants.set_index("participant_id")
    keep = list(dict.fromkeys(["arm", *plan.covariates, *plan.subgroups]))
    return people[keep].join(wide_measurements(dataset))


def imputation_frame(dataset: Dataset, frame: pd.DataFrame) -> pd.DataFrame:
    """Return the numeric frame multiple imputation works on: arm, covariates, plan measurements."""
    plan = dataset.plan
    used = sorted({c for s in plan.outcomes for c in _design_columns(plan, s)})
    numeric = pd.DataFrame(index=frame.index)
    for arm in plan.arms[1:]:
        numeric[f"arm={arm}"] = (frame["arm"] == arm).astype(float)
    for covariate in plan.covariates:
        values = frame[covariate]
        if pd.api.types.is_numeric_dtype(values):
            numeric[covariate] = values.astype(float)
        else:
            dummies = pd.get_dummies(
                values.astype(str), prefix=covariate, drop_first=True, dtype=float
            )
            numeric = numeric.join(dummies)
    return numeric.join(frame[used])


def run_plan(
    dataset: Dataset, *, progress: Progress | None = None, on_step: StepProgress | None = None
) -> AnalysisResults:
    """Run every analysis of the dataset's plan.

    Parameters
    ----------
    dataset
        A validated dataset (``contract.load_dataset``).
    progress
        Called with a short description before each step.
    on_step
        Called as ``on_step(done, total, label)`` before each step and once at the end
        (``done == total``); the steps are imputation (when needed), each outcome and MST's
        targets (when the plan asks).

    Returns
    -------
    AnalysisResults
        The same dataset and plan always give the same numbers: imputations are seeded by the
        plan's ``[missing] seed``.
    """
    plan = dataset.plan
    frame = participant_frame(dataset)
    numeric = None
    if plan.is_trial and plan.missing.method == "multiple_imputation":
        numeric = imputation_frame(dataset, frame)
        if not numeric.isna().any().any():
            numeric = None
    total = (numeric is not None) + len(plan.outcomes) + bool(plan.mst_targets)
    done = 0

    def say(message: str) -> None:
        if progress is not None:
            progress(message)
        if on_step is not None:
            on_step(done, total, message)

    imputed = None
    if numeric is not None:
        say(f"Imputing missing values ({plan.missing.m} datasets)")
        imputed = impute(
            numeric,
            m=plan.missing.m,
            seed=plan.missing.seed,
            iterations=plan.missing.iterations,
        )
        done += 1
    analyses = []
    for spec in plan.outcomes:
        say(f"Analysing {spec.title}")
        outcome_frame = frame
        if spec.type in ("count", "time_to_event") and spec.event:
            outcome_frame = frame.join(event_frame(dataset, spec.event))
        analyses.append(analyse_outcome(spec, outcome_frame, dataset, imputed))
        done += 1
    targets = None
    if plan.mst_targets:
        say("Comparing discharges with MST's targets")
        targets = mst_targets(dataset, frame)
        done += 1
    if on_step is not None:
        on_step(done, total, "Analyses finished")
    counts = dataset.participants["arm"].value_counts()
    return AnalysisResults(
        plan=plan,
        dataset_sha256=dataset.sha256(),
        code_version=code_version(),
        n_by_arm={a: int(counts.get(a, 0)) for a in plan.arms},
        outcomes=tuple(analyses),
        targets=targets,
    )


def mst_targets(dataset: Dataset, frame: pd.DataFrame) -> pd.DataFrame | None:
    """Compare the service arm's discharges with MST's targets (needs discharge columns)."""
    people = dataset.participants.set_index("participant_id")
    if "discharged_on" not in people or "discharge_reason" not in people:
        return None
    served = people[(people["arm"] == dataset.plan.service_arm) & people["discharged_on"].notna()]
    closures = pd.DataFrame(
        {
            "discharge_reason": served["discharge_reason"],
            "length_days": (served["discharged_on"] - served["randomised_on"]).dt.days,
        }
    )
    ultimate = pd.DataFrame(index=served.index)
    for name in ULTIMATE_OUTCOMES:
        key = column(name, "discharge")
        if key in frame:
            ultimate[name] = frame.loc[served.index, key]
    return service.discharge_targets(closures, ultimate)
