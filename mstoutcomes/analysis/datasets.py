"""Write the analysis data contract from the database, with keyed pseudonyms.

The only module of the analysis library that reads the ORM. Each source of data is one function
returning contract-shaped frames of strings, so the apps being built alongside plug in here:

- ``participants_source``   young people with an MST episode (cases) — today's participants
- ``trial_source``          randomised participants, arm and randomisation date (trial app)
- ``discharge_source``      MST's ultimate outcomes at discharge (cases) — binary measurements
- ``measures_source``       SDQ total difficulties by schedule timepoint (measures app)
- ``events_source``         offences, exclusions, placements (outcomes app)

Pseudonyms: every exported ``participant_id`` is ``HMAC-SHA256(key, study_id)`` cut to 16 hex
characters, with the key derived from ``SECRET_KEY``. Study IDs are already pseudonyms inside the
service, but files leave it: the keyed pseudonym cannot be joined back to a study ID (or to the
app's pages) without the key, yet it is stable, so the same records always give the same dataset
hash. Rotating ``SECRET_KEY`` changes every pseudonym (and so every dataset hash).

Trial sites: when the sites have randomised participants in a (non-test) trial, the export is the
trial's intention-to-treat population instead of the young people with an MST episode — every
randomised participant in the arm they were allocated, whatever happened after, anchored at the
randomisation date — and the default plan is the trial analysis (``default_plan``).
Participants who withdrew use of the data already collected are left out, and counted in a note.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd
from django.conf import settings
from django.utils import timezone

from mstoutcomes.analysis.contract import (
    EVENT_COLUMNS,
    MEASUREMENT_COLUMNS,
    MEASUREMENT_FLAGS,
    Dataset,
    build_dataset,
    parse_plan,
)
from mstoutcomes.analysis.synthetic import write_directory
from mstoutcomes.cases.models import Episode, YoungPerson
from mstoutcomes.core.dates import today

PARTICIPANT_EXPORT_COLUMNS = [
    "participant_id",
    "arm",
    "site",
    "randomised_on",
    "followup_end",
    "sex",
    "age_band",
    "discharged_on",
    "discharge_reason",
]

SERVICE_ARM = "MST"
FOLLOW_UP_DAYS = 548  # 18 months after the start of MST, or the export date if sooner

DEFAULT_SERVICE_PLAN = """\
title = "Service evaluation from the database"
arms = ["MST"]
covariates = []
mst_targets = true

[[outcome]]
name = "living_at_home"
label = "Living at home at discharge"
type = "binary"
timepoint = "discharge"

[[outcome]]
name = "in_school_or_work"
label = "In school or working at discharge"
type = "binary"
timepoint = "discharge"

[[outcome]]
name = "no_new_arrests"
label = "No new arrests during treatment"
type = "binary"
timepoint = "discharge"
"""


def pseudonym(study_id: str, *, key: bytes | None = None) -> str:
    """Return the keyed pseudonym of a study ID."""
    secret = key if key is not None else _key()
    return hmac.new(secret, study_id.encode(), hashlib.sha256).hexdigest()[:16]


def _key() -> bytes:
    return hashlib.sha256(
        b"mstoutcomes.analysis.pseudonym:" + settings.SECRET_KEY.encode()
    ).digest()


def _age_band(age: int) -> str:
    return "11-13" if age < 14 else "14-17"


@dataclass(frozen=True)
class TrialPopulation:
    """A trial's intention-to-treat participants at some sites, in contract shape."""

    participants: pd.DataFrame  # participant_id is the study ID here; pseudonymised on export
    title: str
    arms: tuple[str, ...]  # arm names from the trial configuration, the reference arm first
    factors: tuple[str, ...]  # stratification factors, each a participants column
    notes: tuple[str, ...] = ()
    # Study ID -> the day a participant withdrew from further data collection: their
    # follow-up ends that day and nothing dated after it is exported.
    data_end: dict[str, dt.date] = field(default_factory=dict)


@dataclass(frozen=True)
class Export:
    participants: pd.DataFrame
    measurements: pd.DataFrame
    events: pd.DataFrame
    trial: TrialPopulation | None = None

    @property
    def notes(self) -> tuple[str, ...]:
        return self.trial.notes if self.trial is not None else ()


def participants_source(*, site_ids: Collection[int], as_of: dt.date) -> pd.DataFrame:
    """Return one row per young person with an episode: their first episode starts the record."""
    episodes = (
        Episode.objects.unscoped()
        .filter(young_person__site_id__in=site_ids, start_date__lte=as_of)
        .order_by("young_person_id", "start_date")
        .values(
            "young_person__study_id",
            "young_person__site__code",
            "young_person__sex",
            "young_person__date_of_birth",
            "start_date",
            "end_date",
            "discharge_reason",
        )
    )
    rows, seen = [], set()
    for e in episodes:
        study_id = e["young_person__study_id"]
        if study_id in seen:
            continue  # a second episode is part of the same participant's follow-up
        seen.add(study_id)
        start: dt.date = e["start_date"]
        end = min(as_of, start + dt.timedelta(days=FOLLOW_UP_DAYS))
        born: dt.date = e["young_person__date_of_birth"]
        age = start.year - born.year - ((start.month, start.day) < (born.month, born.day))
        discharged = e["end_date"] if e["end_date"] and e["end_date"] <= as_of else None
        rows.append(
            {
                "participant_id": study_id,  # replaced by the pseudonym in export_frames
                "arm": SERVICE_ARM,
                "site": e["young_person__site__code"],
                "randomised_on": start.isoformat(),
                "followup_end": end.isoformat(),
                "sex": e["young_person__sex"],
                "age_band": _age_band(age),
                "discharged_on": discharged.isoformat() if discharged else "",
                "discharge_reason": e["discharge_reason"] if discharged else "",
            }
        )
    return pd.DataFrame(rows, columns=PARTICIPANT_EXPORT_COLUMNS)


def trial_source(
    *, site_ids: Collection[int], as_of: dt.date | None = None
) -> TrialPopulation | None:
    """Return the randomised participants of the sites' trial, or None if nobody is randomised.

    Intention to treat: one row per randomised participant, in the arm allocated (its name in
    the trial configuration), whatever happened after — withdrawal from treatment or from
    further data collection included. Participants who withdrew use of the data already
    collected are excluded (and counted in a note). Test-mode trials and allocations never
    count. With more than one trial at the sites, the one with most participants is exported.
    ``randomised_on`` is the allocation date; the stratification levels recorded at
    randomisation become columns (covariates for the analysis).
    """
    from mstoutcomes.trial.models import Allocation, Trial, Withdrawal, WithdrawalLevel
    from mstoutcomes.trial.selectors import data_collection_stops

    as_of = as_of or today()
    allocations = (
        Allocation.objects.unscoped()
        .filter(
            is_test=False,
            trial__is_test_mode=False,
            participant__site_id__in=site_ids,
            allocated_at__date__lte=as_of,
        )
        .order_by("allocated_at", "pk")
        .values(
            "trial_id",
            "participant_id",
            "arm",
            "allocated_at",
            "participant__levels",
            "participant__young_person_id",
            "participant__young_person__study_id",
            "participant__young_person__site__code",
            "participant__young_person__sex",
            "participant__young_person__date_of_birth",
        )
    )
    rows = list(allocations)
    if not rows:
        return None
    by_trial: dict[int, int] = {}
    for row in rows:
        by_trial[row["trial_id"]] = by_trial.get(row["trial_id"], 0) + 1
    trial_id = max(by_trial, key=lambda t: (by_trial[t], -t))
    trial = Trial.objects.get(pk=trial_id)
    spec = trial.spec
    names = {arm.code: arm.name for arm in spec.arms}
    rows = [r for r in rows if r["trial_id"] == trial_id]
    withdrawn = set(
        Withdrawal.objects.unscoped()
        .filter(
            participant_id__in=[r["participant_id"] for r in rows],
            level=WithdrawalLevel.DATA_USE,
        )
        .values_list("participant_id", flat=True)
    )
    notes = [f"Trial {trial.code}: {len(rows)} randomised participant(s) at these sites."]
    if withdrawn:
        notes.append(
            f"{len(withdrawn)} randomised participant(s) withdrew use of the data already "
            "collected and are excluded."
        )
    if len(by_trial) > 1:
        notes.append(f"Participants of {len(by_trial) - 1} other trial(s) are not exported.")
    stops = data_collection_stops([r["participant__young_person_id"] for r in rows], as_of=as_of)
    stopped_data = {
        r["participant_id"]: stops[r["participant__young_person_id"]]
        for r in rows
        if r["participant__young_person_id"] in stops and r["participant_id"] not in withdrawn
    }
    if stopped_data:
        notes.append(
            f"{len(stopped_data)} randomised participant(s) withdrew from further data "
            "collection: they stay in their arm, their follow-up ends on the day they withdrew, "
            "and nothing recorded after that day is exported."
        )
    data_end: dict[str, dt.date] = {}
    episodes = _first_episodes_from(
        {r["participant__young_person_id"]: _local_date(r["allocated_at"]) for r in rows}, as_of
    )
    factors = tuple(f.name for f in spec.factors)
    records = []
    for r in rows:
        if r["participant_id"] in withdrawn:
            continue
        randomised = _local_date(r["allocated_at"])
        born: dt.date = r["participant__young_person__date_of_birth"]
        age = (
            randomised.year
            - born.year
            - ((randomised.month, randomised.day) < (born.month, born.day))
        )
        episode = episodes.get(r["participant__young_person_id"])
        discharged = episode[0] if episode else None
        levels: dict[str, str] = r["participant__levels"] or {}
        followup_end = min(as_of, randomised + dt.timedelta(days=FOLLOW_UP_DAYS))
        if r["participant_id"] in stopped_data:
            followup_end = min(followup_end, max(randomised, stopped_data[r["participant_id"]]))
            data_end[r["participant__young_person__study_id"]] = followup_end
        record = {
            "participant_id": r["participant__young_person__study_id"],
            "arm": names.get(r["arm"], r["arm"]),
            "site": r["participant__young_person__site__code"],
            "randomised_on": randomised.isoformat(),
            "followup_end": followup_end.isoformat(),
            "sex": r["participant__young_person__sex"],
            "age_band": _age_band(age),
            "discharged_on": discharged.isoformat() if discharged else "",
            "discharge_reason": episode[1] if episode and discharged else "",
        }
        # The levels the allocation used are the covariates (site, sex, age band…).
        record.update({name: str(levels.get(name, record.get(name, ""))) for name in factors})
        records.append(record)
    columns = list(dict.fromkeys([*PARTICIPANT_EXPORT_COLUMNS, *factors]))
    return TrialPopulation(
        participants=pd.DataFrame(records, columns=columns),
        title=trial.title,
        arms=tuple(names[arm.code] for arm in spec.arms),
        factors=factors,
        notes=tuple(notes),
        data_end=data_end,
    )


def _local_date(moment: dt.datetime) -> dt.date:
    return timezone.localdate(moment)


def _first_episodes_from(
    starts: dict[int, dt.date], as_of: dt.date
) -> dict[int, tuple[dt.date | None, str]]:
    """Return (discharge date or None, reason) of each young person's first episode after a date."""
    found: dict[int, tuple[dt.date | None, str]] = {}
    episodes = (
        Episode.objects.unscoped()
        .filter(young_person_id__in=list(starts), start_date__lte=as_of)
        .order_by("young_person_id", "start_date")
        .values_list("young_person_id", "start_date", "end_date", "discharge_reason")
    )
    for person, start, end, reason in episodes:
        if person in found or start < starts[person]:
            continue
        found[person] = (end if end and end <= as_of else None, reason or "")
    return found


def discharge_source(*, site_ids: Collection[int], as_of: dt.date) -> pd.DataFrame:
    """Return MST's ultimate outcomes at discharge as 0/1 measurements at timepoint "discharge"."""
    rows = []
    episodes = (
        Episode.objects.unscoped()
        .filter(young_person__site_id__in=site_ids, end_date__isnull=False, end_date__lte=as_of)
        .order_by("young_person_id", "start_date")
        .values("young_person__study_id", "living_at_home", "in_school_or_work", "no_new_arrests")
    )
    seen = set()
    for e in episodes:
        study_id = e["young_person__study_id"]
        if study_id in seen:
            continue
        seen.add(study_id)
        for name in ("living_at_home", "in_school_or_work", "no_new_arrests"):
            value = e[name]
            rows.append((study_id, name, "discharge", "" if value is None else str(int(value))))
    return pd.DataFrame(rows, columns=list(MEASUREMENT_COLUMNS))


# Scores exported as outcomes: "<instrument>_<scale>", e.g. sdq-p_total -> sdq_p_total.
EXPORTED_SCALES = {("sdq-p", "total"), ("sdq-s", "total"), ("sdq-t", "total")}


def measures_source(
    *, site_ids: Collection[int], as_of: dt.date, data_end: dict[str, dt.date] | None = None
) -> pd.DataFrame:
    """Return completed instrument scores as measurements, by the service schedule's timepoints.

    Outcome names are ``<instrument>_<scale>`` with dashes as underscores (``sdq_p_total``);
    timepoints are the schedule's codes (baseline, discharge, followup_6m, month_N, t0, t6…).
    When a timepoint was completed more than once, the latest completion counts. Each row says
    whether it was collected out of its window (``out_of_window``: "1" or "0").
    """
    from mstoutcomes.measures.models import AssessmentStatus, ScaleScore

    rows = (
        ScaleScore.objects.unscoped()
        .filter(
            assessment__young_person__site_id__in=site_ids,
            assessment__status=AssessmentStatus.COMPLETED,
            assessment__completed_on__lte=as_of,
        )
        .exclude(assessment__timepoint="")
        .order_by("assessment__completed_on", "assessment_id")
        .values_list(
            "assessment__young_person__study_id",
            "assessment__instrument",
            "scale",
            "assessment__timepoint",
            "value",
            "assessment__completed_on",
            "assessment__out_of_window",
        )
    )
    ends = data_end or {}
    latest: dict[tuple[str, str, str], tuple[str, str]] = {}
    for study_id, instrument, scale, timepoint, value, completed_on, outside in rows:
        if (instrument, scale) not in EXPORTED_SCALES:
            continue
        if study_id in ends and completed_on is not None and completed_on > ends[study_id]:
            continue  # collected after the young person withdrew from further data collection
        outcome = f"{instrument}_{scale}".replace("-", "_")
        latest[(study_id, outcome, timepoint)] = (
            "" if value is None else f"{value:g}",
            "1" if outside else "0",
        )
    return pd.DataFrame(
        [(sid, outcome, tp, value, flag) for (sid, outcome, tp), (value, flag) in latest.items()],
        columns=[*MEASUREMENT_COLUMNS, *MEASUREMENT_FLAGS],
    )


def events_source(*, site_ids: Collection[int], as_of: dt.date) -> pd.DataFrame:
    """Return dated administrative events: offences, exclusions and out-of-home placements."""
    from mstoutcomes.outcomes.models import Exclusion, Offence, Placement

    sources = (
        ("offence", Offence, "offence_date"),
        ("exclusion", Exclusion, "start_date"),
        ("placement", Placement, "start_date"),
    )
    rows = []
    for event, model, date_field in sources:
        for study_id, on in (
            model.objects.unscoped()  # type: ignore[attr-defined]
            .filter(young_person__site_id__in=site_ids, **{f"{date_field}__lte": as_of})
            .order_by(date_field, "pk")
            .values_list("young_person__study_id", date_field)
        ):
            rows.append((study_id, event, on.isoformat()))
    return pd.DataFrame(rows, columns=list(EVENT_COLUMNS))


def export_frames(*, site_ids: Collection[int], as_of: dt.date | None = None) -> Export:
    """Return the contract frames for the sites, with keyed pseudonyms in place of study IDs."""
    as_of = as_of or today()
    trial = trial_source(site_ids=site_ids, as_of=as_of)
    if trial is None:
        participants = participants_source(site_ids=site_ids, as_of=as_of)
    else:
        participants = trial.participants.copy()
    measurements = pd.concat(
        [
            frame
            for frame in (
                discharge_source(site_ids=site_ids, as_of=as_of),
                measures_source(
                    site_ids=site_ids,
                    as_of=as_of,
                    data_end=trial.data_end if trial is not None else None,
                ),
            )
            if not frame.empty
        ]
        or [pd.DataFrame(columns=[*MEASUREMENT_COLUMNS, *MEASUREMENT_FLAGS])],
        ignore_index=True,
    )
    # Discharge outcomes have no window: their flag is empty.
    for flag in MEASUREMENT_FLAGS:
        measurements[flag] = measurements[flag].fillna("") if flag in measurements else ""
    events = events_source(site_ids=site_ids, as_of=as_of)
    known = set(participants["participant_id"])
    measurements = measurements[measurements["participant_id"].isin(known)]
    events = events[events["participant_id"].isin(known)]
    if trial is not None and trial.data_end:
        ends = {p: d.isoformat() for p, d in trial.data_end.items()}
        after = [
            pid in ends and date > ends[pid]
            for pid, date in zip(events["participant_id"], events["date"], strict=True)
        ]
        events = events[~pd.Series(after, index=events.index, dtype=bool)]
    key = _key()
    for frame in (participants, measurements, events):
        frame["participant_id"] = frame["participant_id"].map(lambda s: pseudonym(s, key=key))
    return Export(
        participants, measurements.reset_index(drop=True), events.reset_index(drop=True), trial
    )


def blind_export(export: Export, *, codes: dict[str, str]) -> Export:
    """Return a trial export as a statistician blind to allocation may see it.

    Arm names become the codes given (Arm A / Arm B, from trial.blinding), listed in code order
    so the reference arm is not given away; what only the MST arm can have is dropped: MST
    discharge dates and reasons, and every measurement outside the trial's research schedule
    (t0, t6, ...), such as GBO ratings and discharge outcomes.
    """
    if export.trial is None:
        return export
    people = export.participants.copy()
    people["arm"] = people["arm"].map(lambda arm: codes.get(arm, arm))
    for column in ("discharged_on", "discharge_reason"):
        if column in people.columns:
            people[column] = ""
    m = export.measurements
    research = m["timepoint"].astype(str).str.fullmatch(r"t\d+")
    trial = replace(export.trial, arms=tuple(sorted(codes.get(a, a) for a in export.trial.arms)))
    return Export(people, m[research].reset_index(drop=True), export.events, trial)


SDQ_OUTCOME = """
[[outcome]]
name = "sdq_p_total"
label = "SDQ total difficulties (parent)"
type = "continuous"
baseline = "baseline"
timepoint = "discharge"
direction = "lower_is_better"
reliability = 0.80
clinical_cutoff = 17
maintenance = ["discharge", "followup_6m"]
"""

OFFENCES_OUTCOME = """
[[outcome]]
name = "offences"
label = "Offences in the year before and after starting MST"
type = "count"
event = "offence"
window_days = 365
"""


def default_plan(export: Export) -> str:
    """Return the default plan for what the export holds.

    A trial export gets the trial analyses (``default_trial_plan``). Otherwise the service
    evaluation: the MST discharge outcomes always; parent SDQ change when baseline, discharge
    and 6-month scores exist; offences before and after MST when any offence was recorded.
    """
    if export.trial is not None:
        return default_trial_plan(export)
    plan = DEFAULT_SERVICE_PLAN
    m = export.measurements
    sdq_points = set(m.loc[m["outcome"] == "sdq_p_total", "timepoint"])
    if {"baseline", "discharge", "followup_6m"} <= sdq_points:
        plan += SDQ_OUTCOME
    if (export.events["event"] == "offence").any():
        plan += OFFENCES_OUTCOME
    return plan


# The trial's SDQ: self-report (the research assessments' instrument), else parent report.
TRIAL_SDQ = (("sdq_s_total", "self-report"), ("sdq_p_total", "parent"))
TRIAL_BASELINE, TRIAL_6M = "t0", "t6"


def _toml(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)  # JSON strings and lists are valid TOML


def default_trial_plan(export: Export) -> str:
    """Return the trial's intention-to-treat analyses, adjusted for the stratification factors.

    ANCOVA of the 6-month SDQ total on its baseline (when both were collected); living at home
    at discharge when it was recorded in every arm; offences (count, negative binomial) and
    time to first offence (Cox) over follow-up, when any offence was recorded. Missing SDQ
    scores are multiply imputed.
    """
    trial = export.trial
    assert trial is not None
    people, m = export.participants, export.measurements
    covariates = [f for f in trial.factors if f in people.columns]
    lines = [f"# {note}" for note in trial.notes]
    lines += [
        f"title = {_toml('Trial analysis: ' + trial.title)}",
        f"arms = {_toml(list(trial.arms))}",
        f"covariates = {_toml(covariates)}",
        "mst_targets = true",
    ]
    outcomes = []
    arm_of = people.set_index("participant_id")["arm"]
    for measure, respondent in TRIAL_SDQ:
        scores = m[(m["outcome"] == measure) & (m["value"] != "")]
        if {TRIAL_BASELINE, TRIAL_6M} <= set(scores["timepoint"]):
            outcomes.append(
                f"""
[[outcome]]
name = "sdq_total_6m"
label = "SDQ total difficulties at 6 months ({respondent})"
measure = "{measure}"
type = "continuous"
timepoint = "{TRIAL_6M}"
baseline = "{TRIAL_BASELINE}"
direction = "lower_is_better"
"""
            )
            lines += ["", "[missing]", 'method = "multiple_imputation"', "m = 20"]
            break
    home = m[(m["outcome"] == "living_at_home") & (m["value"] != "")]
    if set(home["participant_id"].map(arm_of)) >= set(trial.arms):
        outcomes.append(
            """
[[outcome]]
name = "living_at_home"
label = "Living at home at discharge"
type = "binary"
timepoint = "discharge"
"""
        )
    if (export.events["event"] == "offence").any():
        outcomes.append(
            """
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
        )
    if not outcomes:
        lines.insert(0, "# No trial outcome is recorded yet: add an [[outcome]] to analyse.")
    return "\n".join(lines) + "\n" + "".join(outcomes)


def export_dataset(
    *,
    site_ids: Collection[int],
    plan_text: str | None = None,
    as_of: dt.date | None = None,
) -> tuple[Dataset, Export]:
    """Return the validated dataset of the sites' records and the frames it was built from."""
    export = export_frames(site_ids=site_ids, as_of=as_of)
    return dataset_from(export, plan_text), export


def dataset_from(export: Export, plan_text: str | None = None) -> Dataset:
    """Return the validated dataset of an export under a plan (default: default_plan)."""
    plan = parse_plan(plan_text if plan_text is not None else default_plan(export))
    return build_dataset(export.participants, export.measurements, export.events, plan)


def write_export(directory: str | Path, export: Export, plan_text: str | None = None) -> Path:
    """Write an export as a contract directory (for `mstoutcomes analyse` or a researcher)."""
    plan = plan_text if plan_text is not None else default_plan(export)
    return write_directory(directory, export.participants, export.measurements, export.events, plan)


def young_people_count(site_ids: Collection[int]) -> int:
    return YoungPerson.objects.unscoped().filter(site_id__in=site_ids).count()
