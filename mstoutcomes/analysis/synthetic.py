"""Synthetic datasets that follow the contract: the worked example, test data and the benchmark.

Nothing here is real: participants are drawn from a seeded generator with modest treatment
effects, some missing follow-ups and a few hundred events, so every estimator has work to do.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

TRIAL_PLAN = """\
title = "Synthetic two-arm trial of MST against management as usual"
arms = ["MAU", "MST"]          # the first arm is the reference
covariates = ["site"]
subgroups = ["sex", "age_band"]
mst_targets = true

[missing]
method = "multiple_imputation"
m = {m}
seed = 20260101
iterations = {iterations}

[[outcome]]
name = "sdq_total_12m"
label = "SDQ total difficulties at 12 months (ANCOVA)"
measure = "sdq_total"
type = "continuous"
timepoint = "12m"
baseline = "0m"
direction = "lower_is_better"
reliability = 0.80
clinical_cutoff = 17
maintenance = ["6m", "12m"]

[[outcome]]
name = "sdq_total_repeated"
label = "SDQ total difficulties over follow-up (mixed model)"
measure = "sdq_total"
type = "continuous"
repeated = ["6m", "12m", "18m"]
baseline = "0m"

[[outcome]]
name = "out_of_home_18m"
label = "Out-of-home placement by 18 months"
measure = "out_of_home"
type = "binary"
timepoint = "18m"

[[outcome]]
name = "offences"
label = "Offences during follow-up"
type = "count"
event = "offence"
window_days = 365

[[outcome]]
name = "time_to_first_offence"
label = "Time to first offence"
type = "time_to_event"
event = "offence"
"""

SERVICE_PLAN = """\
title = "Service evaluation of the MST team (before and after)"
arms = ["MST"]
covariates = []
mst_targets = true

[[outcome]]
name = "sdq_total"
label = "SDQ total difficulties"
type = "continuous"
baseline = "0m"
timepoint = "discharge"
direction = "lower_is_better"
reliability = 0.80
clinical_cutoff = 17
maintenance = ["discharge", "6m"]

[[outcome]]
name = "offences"
label = "Offences in the year before and after starting MST"
type = "count"
event = "offence"
window_days = 365
"""

REASONS = (
    ("completed", 0.82),
    ("lack_of_engagement", 0.06),
    ("placed_care", 0.05),
    ("placed_custody", 0.03),
    ("moved", 0.02),
    ("administrative", 0.02),
)


def make_trial(  # noqa: C901 - one generator per variable, in order
    n: int = 240,
    *,
    sites: int = 4,
    seed: int = 1,
    offence_rate: float = 1.2,
    start: dt.date = dt.date(2022, 1, 3),
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Return participants, measurements and events of a synthetic two-arm trial."""
    rng = np.random.default_rng(seed)
    ids = [f"P{i:05d}" for i in range(1, n + 1)]
    arm = np.where(rng.random(n) < 0.5, "MAU", "MST")
    mst = arm == "MST"
    site_index = rng.integers(0, sites, n)
    site = np.array([f"S{k + 1:02d}" for k in site_index])
    site_effect = rng.normal(0, 1.5, sites)[site_index]
    sex = np.where(rng.random(n) < 0.35, "female", "male")
    age = rng.integers(11, 18, n)
    age_band = np.where(age < 14, "11-13", "14-17")
    randomised = pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, 540, n), unit="D")
    followup = randomised + pd.to_timedelta(rng.integers(400, 548, n), unit="D")
    length = rng.normal(125, 25, n).clip(30, 240).round()
    reasons = rng.choice([r for r, _ in REASONS], n, p=[p for _, p in REASONS])
    discharged = pd.Series(randomised + pd.to_timedelta(length, unit="D"))
    participants = pd.DataFrame(
        {
            "participant_id": ids,
            "arm": arm,
            "site": site,
            "randomised_on": randomised.strftime("%Y-%m-%d"),
            "followup_end": followup.strftime("%Y-%m-%d"),
            "sex": sex,
            "age_band": age_band,
            "discharged_on": np.where(mst, discharged.dt.strftime("%Y-%m-%d"), ""),
            "discharge_reason": np.where(mst, reasons, ""),
        }
    )
    person = rng.normal(0, 3, n)
    baseline = (18 + site_effect + person + rng.normal(0, 2, n)).clip(0, 40).round()
    rows = []
    drift = {"0m": 0.0, "discharge": -2.5, "6m": -3.0, "12m": -3.5, "18m": -4.0}
    effect = {"0m": 0.0, "discharge": -1.5, "6m": -1.5, "12m": -1.2, "18m": -1.0}
    missing = {"0m": 0.0, "discharge": 0.10, "6m": 0.12, "12m": 0.18, "18m": 0.22}
    for point in drift:
        if point == "0m":
            values = baseline
        else:
            values = (
                (
                    baseline * 0.55
                    + 8
                    + drift[point]
                    + effect[point] * mst
                    + site_effect * 0.3
                    + person * 0.5
                    + rng.normal(0, 3, n)
                )
                .clip(0, 40)
                .round()
            )
        gone = rng.random(n) < missing[point]
        for pid, value, miss, treated in zip(ids, values, gone, mst, strict=True):
            if point == "discharge" and not treated:
                continue  # only MST has a discharge
            rows.append((pid, "sdq_total", point, "" if miss else f"{value:g}"))
    logit = -1.2 + 0.08 * (baseline - 18) - 0.25 * mst
    placed = rng.random(n) < 1 / (1 + np.exp(-logit))
    placed_missing = rng.random(n) < 0.1
    for pid, value, miss in zip(ids, placed, placed_missing, strict=True):
        rows.append((pid, "out_of_home", "18m", "" if miss else str(int(value))))
    for name, p in (("living_at_home", 0.88), ("in_school_or_work", 0.84), ("no_new_arrests", 0.8)):
        flags = rng.random(n) < p
        for pid, value, treated in zip(ids, flags, mst, strict=True):
            if treated:
                rows.append((pid, name, "discharge", str(int(value))))
    measurements = pd.DataFrame(rows, columns=["participant_id", "outcome", "timepoint", "value"])
    years = (followup - randomised).days.to_numpy() / 365.25
    frailty = rng.gamma(1.5, 1 / 1.5, n)
    after_rate = offence_rate * frailty * np.exp(-0.3 * mst + 0.03 * (baseline - 18))
    counts_after = rng.poisson(after_rate * years)
    counts_before = rng.poisson(offence_rate * 1.4 * frailty)
    events = []
    for i, pid in enumerate(ids):
        span = (followup[i] - randomised[i]).days
        for offset in np.sort(rng.integers(0, span + 1, counts_after[i])):
            events.append((pid, "offence", (randomised[i] + pd.Timedelta(days=int(offset)))))
        for offset in rng.integers(1, 366, counts_before[i]):
            events.append((pid, "offence", (randomised[i] - pd.Timedelta(days=int(offset)))))
    event_frame = pd.DataFrame(events, columns=["participant_id", "event", "date"])
    event_frame["date"] = pd.to_datetime(event_frame["date"]).dt.strftime("%Y-%m-%d")
    return participants, measurements, event_frame


def write_directory(
    directory: str | Path,
    participants: pd.DataFrame,
    measurements: pd.DataFrame,
    events: pd.DataFrame,
    plan: str,
) -> Path:
    """Write the four contract files into a directory (created if need be)."""
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    participants.to_csv(root / "participants.csv", index=False, lineterminator="\n")
    measurements.to_csv(root / "measurements.csv", index=False, lineterminator="\n")
    events.to_csv(root / "events.csv", index=False, lineterminator="\n")
    (root / "plan.toml").write_text(plan, encoding="utf-8")
    return root


def write_trial_example(
    directory: str | Path,
    *,
    n: int = 240,
    seed: int = 1,
    m: int = 5,
    iterations: int = 5,
    sites: int = 4,
    offence_rate: float = 1.2,
) -> Path:
    """Write the synthetic trial (the worked example) into a directory."""
    participants, measurements, events = make_trial(
        n, seed=seed, sites=sites, offence_rate=offence_rate
    )
    return write_directory(
        directory, participants, measurements, events, TRIAL_PLAN.format(m=m, iterations=iterations)
    )


def write_service_example(directory: str | Path, *, n: int = 48, seed: int = 2) -> Path:
    """Write a single-arm service evaluation of about 48 young people into a directory."""
    participants, measurements, events = make_trial(n * 2, seed=seed, sites=1)
    keep = participants[participants["arm"] == "MST"].head(n)
    ids = set(keep["participant_id"])
    return write_directory(
        directory,
        keep,
        measurements[measurements["participant_id"].isin(ids)],
        events[events["participant_id"].isin(ids)],
        SERVICE_PLAN,
    )
