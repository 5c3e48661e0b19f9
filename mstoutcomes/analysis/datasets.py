"""Write the analysis data contract from the database, with keyed pseudonyms.

The only module of the analysis library that reads the ORM. Each source of data is one function
returning contract-shaped frames of strings, so the apps being built alongside plug in here:

- ``participants_source``   young people with an MST episode (cases) — today's participants
- ``trial_source``          arm and randomisation date (trial app) — seam, returns None today
- ``discharge_source``      MST's ultimate outcomes at discharge (cases) — binary measurements
- ``measures_source``       SDQ total difficulties by schedule timepoint (measures app)
- ``events_source``         offences, exclusions, placements (outcomes app)

Pseudonyms: every exported ``participant_id`` is ``HMAC-SHA256(key, study_id)`` cut to 16 hex
characters, with the key derived from ``SECRET_KEY``. Study IDs are already pseudonyms inside the
service, but files leave it: the keyed pseudonym cannot be joined back to a study ID (or to the
app's pages) without the key, yet it is stable, so the same records always give the same dataset
hash. Rotating ``SECRET_KEY`` changes every pseudonym (and so every dataset hash).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from django.conf import settings

from mstoutcomes.analysis.contract import (
    EVENT_COLUMNS,
    MEASUREMENT_COLUMNS,
    Dataset,
    build_dataset,
    parse_plan,
)
from mstoutcomes.analysis.synthetic import write_directory
from mstoutcomes.cases.models import Episode, YoungPerson
from mstoutcomes.core.dates import today

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
class Export:
    participants: pd.DataFrame
    measurements: pd.DataFrame
    events: pd.DataFrame


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
    columns = [
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
    return pd.DataFrame(rows, columns=columns)


def trial_source(*, site_ids: Collection[int]) -> pd.DataFrame | None:
    """Return arm and randomised_on by study ID from the trial app (not built yet: None)."""
    return None


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


def measures_source(*, site_ids: Collection[int], as_of: dt.date) -> pd.DataFrame:
    """Return completed instrument scores as measurements, by the service schedule's timepoints.

    Outcome names are ``<instrument>_<scale>`` with dashes as underscores (``sdq_p_total``);
    timepoints are the schedule's codes (baseline, discharge, followup_6m, month_N, t0, t6…).
    When a timepoint was completed more than once, the latest completion counts.
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
        )
    )
    latest: dict[tuple[str, str, str], str] = {}
    for study_id, instrument, scale, timepoint, value in rows:
        if (instrument, scale) not in EXPORTED_SCALES:
            continue
        outcome = f"{instrument}_{scale}".replace("-", "_")
        latest[(study_id, outcome, timepoint)] = "" if value is None else f"{value:g}"
    return pd.DataFrame(
        [(sid, outcome, tp, value) for (sid, outcome, tp), value in latest.items()],
        columns=list(MEASUREMENT_COLUMNS),
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
    participants = participants_source(site_ids=site_ids, as_of=as_of)
    arms = trial_source(site_ids=site_ids)
    if arms is not None:
        participants = participants.drop(columns=["arm", "randomised_on"]).merge(
            arms, on="participant_id", how="inner"
        )
    measurements = pd.concat(
        [
            frame
            for frame in (
                discharge_source(site_ids=site_ids, as_of=as_of),
                measures_source(site_ids=site_ids, as_of=as_of),
            )
            if not frame.empty
        ]
        or [pd.DataFrame(columns=list(MEASUREMENT_COLUMNS))],
        ignore_index=True,
    )
    events = events_source(site_ids=site_ids, as_of=as_of)
    known = set(participants["participant_id"])
    measurements = measurements[measurements["participant_id"].isin(known)]
    events = events[events["participant_id"].isin(known)]
    key = _key()
    for frame in (participants, measurements, events):
        frame["participant_id"] = frame["participant_id"].map(lambda s: pseudonym(s, key=key))
    return Export(participants, measurements.reset_index(drop=True), events.reset_index(drop=True))


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
    """Return the service-evaluation plan for what the export holds.

    The MST discharge outcomes always; parent SDQ change when baseline, discharge and 6-month
    scores exist; offences before and after MST when any offence was recorded.
    """
    plan = DEFAULT_SERVICE_PLAN
    m = export.measurements
    sdq_points = set(m.loc[m["outcome"] == "sdq_p_total", "timepoint"])
    if {"baseline", "discharge", "followup_6m"} <= sdq_points:
        plan += SDQ_OUTCOME
    if (export.events["event"] == "offence").any():
        plan += OFFENCES_OUTCOME
    return plan


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
