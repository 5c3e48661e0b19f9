"""The analysis data contract: load, validate and hash a dataset directory.

A dataset is a directory holding ``participants.csv``, ``measurements.csv``, ``events.csv`` and
``plan.toml`` (see ``docs/analysis.md``). The same contract is written from the database by
``analysis.datasets`` and read from files a researcher brings. Every problem is reported with the
file, line and column it was found in, and all problems are collected before raising, so a
researcher can fix a file in one pass.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

PARTICIPANTS = "participants.csv"
MEASUREMENTS = "measurements.csv"
EVENTS = "events.csv"
PLAN = "plan.toml"

PARTICIPANT_COLUMNS = ("participant_id", "arm", "site", "randomised_on", "followup_end")
MEASUREMENT_COLUMNS = ("participant_id", "outcome", "timepoint", "value")
# Optional measurement column: "1" when the value was collected outside its timepoint's window
# (kept, with a reason, and flagged), "0" in window, empty where windows do not apply.
MEASUREMENT_FLAGS = ("out_of_window",)
EVENT_COLUMNS = ("participant_id", "event", "date")
# Optional participant columns with a meaning of their own (the rest are covariates).
DISCHARGE_COLUMNS = ("discharged_on", "discharge_reason")

OUTCOME_TYPES = ("continuous", "binary", "count", "time_to_event")
MISSING_METHODS = ("complete_case", "multiple_imputation")
DIRECTIONS = ("lower_is_better", "higher_is_better")
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a dataset, located as precisely as it can be."""

    file: str
    message: str
    line: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f", line {self.line}"
        if self.column:
            where += f", column {self.column!r}"
        return f"{where}: {self.message}"


class ContractError(ValueError):
    """The dataset does not follow the analysis data contract."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        shown = "\n".join(f"- {p}" for p in self.problems[:50])
        more = len(self.problems) - 50
        if more > 0:
            shown += f"\n- … and {more} more"
        super().__init__(f"The dataset has {len(self.problems)} problem(s):\n{shown}")


@dataclass(frozen=True)
class OutcomeSpec:
    """One ``[[outcome]]`` table of the plan: what to analyse and how."""

    name: str
    type: str
    measure: str = ""  # the `outcome` value in measurements.csv; defaults to name
    timepoint: str | None = None
    baseline: str | None = None
    repeated: tuple[str, ...] = ()
    event: str | None = None
    label: str = ""
    # Service evaluation (pre/post) extras.
    direction: str = "lower_is_better"
    reliability: float | None = None
    clinical_cutoff: float | None = None
    maintenance: tuple[str, ...] = ()
    window_days: int = 365

    @property
    def source(self) -> str:
        return self.measure or self.name

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()


@dataclass(frozen=True)
class MissingSpec:
    method: str = "complete_case"
    m: int = 20
    seed: int = 20260101
    iterations: int = 10


@dataclass(frozen=True)
class Plan:
    """The analysis plan: arms (first is the reference), covariates, outcomes, missing data."""

    arms: tuple[str, ...]
    covariates: tuple[str, ...] = ()
    subgroups: tuple[str, ...] = ()
    outcomes: tuple[OutcomeSpec, ...] = ()
    missing: MissingSpec = field(default_factory=MissingSpec)
    mst_targets: bool = False
    title: str = ""

    @property
    def is_trial(self) -> bool:
        return len(self.arms) > 1

    @property
    def service_arm(self) -> str:
        """The arm whose before/after change is described (the last arm: MST in a trial)."""
        return self.arms[-1]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, eq=False)
class Dataset:
    """A validated dataset: tidy frames and the plan."""

    participants: pd.DataFrame
    measurements: pd.DataFrame
    events: pd.DataFrame
    plan: Plan

    def sha256(self) -> str:
        """Return the SHA-256 of the canonical form of the data and the plan."""
        return canonical_sha256(self)


# --- plan -------------------------------------------------------------------------------------


def _tuple_of_str(value: Any, key: str, problems: list[Problem], where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(Problem(PLAN, f"{where}{key} must be a list of strings."))
        return ()
    return tuple(value)


_NEEDS: dict[str, tuple[str, ...]] = {
    "binary": ("timepoint",),
    "count": ("event",),
    "time_to_event": ("event",),
}


def _outcome_spec(  # noqa: C901 - a flat checklist of the table's keys
    raw: Mapping[str, Any], index: int, problems: list[Problem]
) -> OutcomeSpec | None:
    where = f"[[outcome]] #{index + 1}: "
    name = raw.get("name")
    kind = raw.get("type")
    if not isinstance(name, str) or not name:
        problems.append(Problem(PLAN, f"{where}needs a name."))
        return None
    where = f"[[outcome]] {name!r}: "
    if kind not in OUTCOME_TYPES:
        problems.append(Problem(PLAN, f"{where}type must be one of {', '.join(OUTCOME_TYPES)}."))
        return None
    known = set(OutcomeSpec.__dataclass_fields__) - {"maintenance", "repeated"}
    unknown = set(raw) - known - {"maintenance", "repeated"}
    if unknown:
        problems.append(Problem(PLAN, f"{where}unknown key(s) {', '.join(sorted(unknown))}."))
    for key in _NEEDS.get(kind, ()):
        if not raw.get(key):
            problems.append(Problem(PLAN, f"{where}a {kind} outcome needs {key}."))
    repeated = _tuple_of_str(raw.get("repeated"), "repeated", problems, where)
    if kind == "continuous":
        if not raw.get("baseline"):
            problems.append(Problem(PLAN, f"{where}a continuous outcome needs baseline."))
        if bool(raw.get("timepoint")) == bool(repeated):
            problems.append(
                Problem(PLAN, f"{where}a continuous outcome needs timepoint or repeated (one).")
            )
    direction = raw.get("direction", "lower_is_better")
    if direction not in DIRECTIONS:
        problems.append(Problem(PLAN, f"{where}direction must be one of {', '.join(DIRECTIONS)}."))
    reliability = raw.get("reliability")
    if reliability is not None and not (
        isinstance(reliability, int | float) and 0 < reliability < 1
    ):
        problems.append(Problem(PLAN, f"{where}reliability must be a number between 0 and 1."))
    window = raw.get("window_days", 365)
    if not isinstance(window, int) or window <= 0:
        problems.append(Problem(PLAN, f"{where}window_days must be a positive whole number."))
    maintenance = _tuple_of_str(raw.get("maintenance"), "maintenance", problems, where)
    if maintenance and len(maintenance) != 2:
        problems.append(Problem(PLAN, f"{where}maintenance must name two timepoints."))
    try:
        return OutcomeSpec(
            name=name,
            type=kind,
            measure=str(raw.get("measure", "")),
            timepoint=raw.get("timepoint"),
            baseline=raw.get("baseline"),
            repeated=repeated,
            event=raw.get("event"),
            label=str(raw.get("label", "")),
            direction=direction,
            reliability=float(reliability) if reliability is not None else None,
            clinical_cutoff=(
                float(raw["clinical_cutoff"]) if raw.get("clinical_cutoff") is not None else None
            ),
            maintenance=maintenance,
            window_days=int(window) if isinstance(window, int) else 365,
        )
    except (TypeError, ValueError) as error:
        problems.append(Problem(PLAN, f"{where}{error}"))
        return None


def parse_plan(text: str) -> Plan:
    """Parse and check the text of a plan.toml."""
    problems: list[Problem] = []
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ContractError([Problem(PLAN, f"is not valid TOML: {error}")]) from error
    arms = _tuple_of_str(raw.get("arms"), "arms", problems, "")
    if not arms:
        problems.append(
            Problem(PLAN, "arms must list at least one arm (the first is the reference).")
        )
    if len(set(arms)) != len(arms):
        problems.append(Problem(PLAN, "arms must not repeat."))
    missing_raw = raw.get("missing", {})
    method = missing_raw.get("method", "complete_case")
    if method not in MISSING_METHODS:
        problems.append(
            Problem(PLAN, f"[missing] method must be one of {', '.join(MISSING_METHODS)}.")
        )
    m = missing_raw.get("m", 20)
    if not isinstance(m, int) or m < 2:
        problems.append(Problem(PLAN, "[missing] m must be a whole number of at least 2."))
    seed = missing_raw.get("seed", 20260101)
    if not isinstance(seed, int) or seed < 0:
        problems.append(Problem(PLAN, "[missing] seed must be a non-negative whole number."))
    iterations = missing_raw.get("iterations", 10)
    if not isinstance(iterations, int) or iterations < 1:
        problems.append(Problem(PLAN, "[missing] iterations must be a positive whole number."))
    outcomes_raw = raw.get("outcome", [])
    if not isinstance(outcomes_raw, list) or not outcomes_raw:
        problems.append(Problem(PLAN, "the plan needs at least one [[outcome]] table."))
        outcomes_raw = []
    outcomes = [_outcome_spec(o, i, problems) for i, o in enumerate(outcomes_raw)]
    names = [o.name for o in outcomes if o is not None]
    for duplicate in sorted({n for n in names if names.count(n) > 1}):
        problems.append(Problem(PLAN, f"outcome name {duplicate!r} is used more than once."))
    if problems:
        raise ContractError(problems)
    return Plan(
        arms=arms,
        covariates=_tuple_of_str(raw.get("covariates"), "covariates", problems, ""),
        subgroups=_tuple_of_str(raw.get("subgroups"), "subgroups", problems, ""),
        outcomes=tuple(o for o in outcomes if o is not None),
        missing=MissingSpec(method=method, m=m, seed=seed, iterations=iterations),
        mst_targets=bool(raw.get("mst_targets", False)),
        title=str(raw.get("title", "")),
    )


# --- CSV files --------------------------------------------------------------------------------


def _read_csv(path: Path, required: Sequence[str], problems: list[Problem]) -> pd.DataFrame | None:
    name = path.name
    if not path.exists():
        problems.append(Problem(name, "is missing from the dataset directory."))
        return None
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        problems.append(Problem(name, f"cannot be read as UTF-8 CSV: {error}"))
        return None
    frame.columns = [str(c).strip() for c in frame.columns]
    absent = [c for c in required if c not in frame.columns]
    for column in absent:
        problems.append(Problem(name, "required column is missing from the header.", 1, column))
    if absent:
        return None
    return frame.apply(lambda s: s.str.strip())


def _line(index: int) -> int:
    # Row 0 of the frame is line 2 of the file (line 1 is the header).
    return int(index) + 2


def _parse_dates(
    frame: pd.DataFrame, column: str, file: str, problems: list[Problem], *, required: bool
) -> pd.Series:
    parsed = pd.to_datetime(frame[column], format="%Y-%m-%d", errors="coerce")
    bad = parsed.isna() & ((frame[column] != "") | required)
    for index in frame.index[bad][:20]:
        value = frame.at[index, column]
        message = f"{value!r} is not an ISO date (YYYY-MM-DD)." if value else "is empty."
        problems.append(Problem(file, message, _line(index), column))
    return parsed


def _check_ids(frame: pd.DataFrame, known: set[str], file: str, problems: list[Problem]) -> None:
    unknown = ~frame["participant_id"].isin(known)
    for index in frame.index[unknown][:20]:
        problems.append(
            Problem(
                file,
                f"participant {frame.at[index, 'participant_id']!r} is not in participants.csv.",
                _line(index),
                "participant_id",
            )
        )


def _validate_participants(  # noqa: C901 - a flat checklist of columns
    frame: pd.DataFrame, plan: Plan, problems: list[Problem]
) -> pd.DataFrame:
    file = PARTICIPANTS
    for index in frame.index[frame["participant_id"] == ""][:20]:
        problems.append(Problem(file, "is empty.", _line(index), "participant_id"))
    duplicated = frame["participant_id"].duplicated() & (frame["participant_id"] != "")
    for index in frame.index[duplicated][:20]:
        problems.append(
            Problem(
                file,
                f"participant {frame.at[index, 'participant_id']!r} appears more than once.",
                _line(index),
                "participant_id",
            )
        )
    bad_arm = ~frame["arm"].isin(plan.arms)
    for index in frame.index[bad_arm][:20]:
        problems.append(
            Problem(
                file,
                f"arm {frame.at[index, 'arm']!r} is not one of the plan's arms "
                f"({', '.join(plan.arms)}).",
                _line(index),
                "arm",
            )
        )
    for index in frame.index[frame["site"] == ""][:20]:
        problems.append(Problem(file, "is empty.", _line(index), "site"))
    needs_followup = any(o.type in ("count", "time_to_event") for o in plan.outcomes)
    out = frame.copy()
    out["randomised_on"] = _parse_dates(frame, "randomised_on", file, problems, required=True)
    out["followup_end"] = _parse_dates(
        frame, "followup_end", file, problems, required=needs_followup
    )
    before = out["followup_end"] < out["randomised_on"]
    for index in frame.index[before][:20]:
        problems.append(Problem(file, "is before randomised_on.", _line(index), "followup_end"))
    if "discharged_on" in frame.columns:
        out["discharged_on"] = _parse_dates(frame, "discharged_on", file, problems, required=False)
    for column in (*plan.covariates, *plan.subgroups):
        if column in ("arm",):
            problems.append(Problem(PLAN, f"{column!r} cannot be a covariate or subgroup."))
        elif column not in frame.columns:
            problems.append(
                Problem(file, "is named in the plan but missing from the header.", 1, column)
            )
        elif column in plan.covariates:
            for index in frame.index[frame[column] == ""][:20]:
                problems.append(
                    Problem(file, "adjustment covariates must not be empty.", _line(index), column)
                )
    for column in plan.covariates:
        if column in frame.columns and column not in PARTICIPANT_COLUMNS:
            numeric = pd.to_numeric(frame[column], errors="coerce")
            if numeric.notna().all():
                out[column] = numeric
    return out


def _validate_measurements(
    frame: pd.DataFrame, known: set[str], problems: list[Problem]
) -> pd.DataFrame:
    file = MEASUREMENTS
    _check_ids(frame, known, file, problems)
    for column in ("outcome", "timepoint"):
        for index in frame.index[frame[column] == ""][:20]:
            problems.append(Problem(file, "is empty.", _line(index), column))
    values = pd.to_numeric(frame["value"], errors="coerce")
    bad = values.isna() & (frame["value"] != "")
    for index in frame.index[bad][:20]:
        problems.append(
            Problem(file, f"{frame.at[index, 'value']!r} is not a number.", _line(index), "value")
        )
    infinite = values.apply(lambda v: isinstance(v, float) and math.isinf(v))
    for index in frame.index[infinite][:20]:
        problems.append(Problem(file, "must be finite.", _line(index), "value"))
    keys = ["participant_id", "outcome", "timepoint"]
    duplicated = frame.duplicated(keys)
    for index in frame.index[duplicated][:20]:
        problems.append(
            Problem(
                file,
                "the same participant, outcome and timepoint appear more than once.",
                _line(index),
                "timepoint",
            )
        )
    out = frame[list(MEASUREMENT_COLUMNS)].copy()
    out["value"] = values.astype(float)
    for flag in MEASUREMENT_FLAGS:
        if flag not in frame.columns:
            continue
        for index in frame.index[~frame[flag].isin(["", "0", "1"])][:20]:
            problems.append(
                Problem(
                    file, f"{frame.at[index, flag]!r} must be 1, 0 or empty.", _line(index), flag
                )
            )
        out[flag] = frame[flag] == "1"
    return out


def _validate_events(frame: pd.DataFrame, known: set[str], problems: list[Problem]) -> pd.DataFrame:
    file = EVENTS
    _check_ids(frame, known, file, problems)
    for index in frame.index[frame["event"] == ""][:20]:
        problems.append(Problem(file, "is empty.", _line(index), "event"))
    out = frame[list(EVENT_COLUMNS)].copy()
    out["date"] = _parse_dates(frame, "date", file, problems, required=True)
    return out


def _check_plan_against_data(
    plan: Plan, measurements: pd.DataFrame, events: pd.DataFrame, problems: list[Problem]
) -> None:
    have = set(zip(measurements["outcome"], measurements["timepoint"], strict=True))
    event_names = set(events["event"])
    for spec in plan.outcomes:
        if spec.type in ("continuous", "binary"):
            points = [spec.timepoint, spec.baseline, *spec.repeated, *spec.maintenance]
            for point in [p for p in points if p]:
                if (spec.source, point) not in have:
                    problems.append(
                        Problem(
                            MEASUREMENTS,
                            f"outcome {spec.name!r} needs measurements of {spec.source!r} at "
                            f"{point!r}, and there are none.",
                        )
                    )
        elif spec.event not in event_names:
            problems.append(
                Problem(EVENTS, f"outcome {spec.name!r} counts {spec.event!r}, which never occurs.")
            )


def load_dataset(directory: str | Path) -> Dataset:
    """Load and validate a dataset directory.

    Parameters
    ----------
    directory
        A directory holding participants.csv, measurements.csv, events.csv and plan.toml.

    Returns
    -------
    Dataset
        Frames with parsed dates and numbers, and the plan.

    Raises
    ------
    ContractError
        Listing every problem found, each naming its file, line and column.
    """
    root = Path(directory)
    if not root.is_dir():
        raise ContractError([Problem(str(root), "is not a directory.")])
    plan_path = root / PLAN
    if not plan_path.exists():
        raise ContractError([Problem(PLAN, "is missing from the dataset directory.")])
    plan = parse_plan(plan_path.read_text(encoding="utf-8"))
    problems: list[Problem] = []
    participants = _read_csv(root / PARTICIPANTS, PARTICIPANT_COLUMNS, problems)
    measurements = _read_csv(root / MEASUREMENTS, MEASUREMENT_COLUMNS, problems)
    events = _read_csv(root / EVENTS, EVENT_COLUMNS, problems)
    if participants is None or measurements is None or events is None:
        raise ContractError(problems)
    return build_dataset(participants, measurements, events, plan, problems=problems)


def build_dataset(
    participants: pd.DataFrame,
    measurements: pd.DataFrame,
    events: pd.DataFrame,
    plan: Plan,
    *,
    problems: list[Problem] | None = None,
) -> Dataset:
    """Validate frames of strings (as read from the CSV files) into a Dataset."""
    problems = [] if problems is None else problems
    people = _validate_participants(participants, plan, problems)
    known = set(participants["participant_id"])
    measured = _validate_measurements(measurements, known, problems)
    happened = _validate_events(events, known, problems)
    if not problems:
        _check_plan_against_data(plan, measured, happened, problems)
    if problems:
        raise ContractError(problems)
    return Dataset(
        participants=people.reset_index(drop=True),
        measurements=measured.reset_index(drop=True),
        events=happened.reset_index(drop=True),
        plan=plan,
    )


# --- canonical form and hash -----------------------------------------------------------------


def _canonical_csv(frame: pd.DataFrame, keys: Sequence[str]) -> str:
    ordered = frame.sort_values(list(keys), kind="mergesort")
    ordered = ordered[sorted(ordered.columns, key=lambda c: (c not in keys, c))]
    text = io.StringIO()
    formatted = ordered.copy()
    for column in formatted.columns:
        series = formatted[column]
        if pd.api.types.is_datetime64_any_dtype(series):
            formatted[column] = series.dt.strftime("%Y-%m-%d").fillna("")
        elif pd.api.types.is_float_dtype(series):
            formatted[column] = series.map(lambda v: "" if pd.isna(v) else repr(float(v)))
        else:
            formatted[column] = series.astype(str).replace({"nan": "", "NaT": ""})
    formatted.to_csv(text, index=False, lineterminator="\n")
    return text.getvalue()


def canonical_sha256(dataset: Dataset) -> str:
    """Return the SHA-256 of the dataset in canonical form (sorted rows and columns, ISO dates)."""
    digest = hashlib.sha256()
    for name, frame, keys in (
        (PARTICIPANTS, dataset.participants, ["participant_id"]),
        (MEASUREMENTS, dataset.measurements, ["participant_id", "outcome", "timepoint"]),
        (EVENTS, dataset.events, ["participant_id", "event", "date"]),
    ):
        digest.update(name.encode())
        digest.update(_canonical_csv(frame, keys).encode())
    digest.update(PLAN.encode())
    digest.update(json.dumps(dataset.plan.as_dict(), sort_keys=True, default=str).encode())
    return digest.hexdigest()


def follow_up_years(start: pd.Series, end: pd.Series) -> pd.Series:
    """Return follow-up in years (days / 365.25)."""
    return (end - start).dt.days / DAYS_PER_YEAR


def iso(value: dt.date | pd.Timestamp | None) -> str:
    return "" if value is None or pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")
