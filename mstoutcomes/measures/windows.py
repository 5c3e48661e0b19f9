"""Assessment schedules: due dates, windows and states computed from anchors. No Django.

A schedule file names its timepoints, each anchored on an event (episode start, discharge…) with
an offset and a window, and the instruments each respondent completes there. Nothing is stored:
windows are computed from the anchors every time, so moving an anchor moves its windows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from mstoutcomes.measures.definitions import RESPONDENTS, DefinitionError, _Reader

ANCHORS = {
    "referral": "Date referred",
    "episode_start": "MST episode start",
    "episode_end": "Discharge from MST",
    "randomisation": "Randomisation",
    "consent": "Consent to the trial",
}
COLLECTORS = {"therapist", "research"}


class State(StrEnum):
    NOT_YET_DUE = "not_yet_due"
    DUE = "due"
    OVERDUE = "overdue"
    COMPLETED_IN_WINDOW = "completed_in_window"
    COMPLETED_OUT_OF_WINDOW = "completed_out_of_window"
    MISSED = "missed"
    REFUSED = "refused"
    # A trial participant withdrew from further data collection before the window closed.
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]

    @property
    def is_open(self) -> bool:
        return self in (State.DUE, State.OVERDUE)


STATE_LABELS = {
    State.NOT_YET_DUE: "Not yet due",
    State.DUE: "Due",
    State.OVERDUE: "Overdue",
    State.COMPLETED_IN_WINDOW: "Completed in window",
    State.COMPLETED_OUT_OF_WINDOW: "Completed out of window",
    State.MISSED: "Missed",
    State.REFUSED: "Refused",
    State.WITHDRAWN: "Not collected: withdrew from further data collection",
}


@dataclass(frozen=True)
class Task:
    instrument: str
    respondent: str


@dataclass(frozen=True)
class Timepoint:
    code: str
    label: str
    anchor: str
    offset_days: int = 0
    offset_months: int = 0
    window_before: int = 0
    window_after: int = 0
    collected_by: str = "therapist"
    tasks: tuple[Task, ...] = ()
    repeat_every_months: int = 0  # monthly timepoints: 1
    repeat_count: int = 0
    repeat_until: str = ""  # anchor that ends the repeats when it is known (episode_end)
    # The window closes no later than this many days after another anchor, when it is known
    # (the trial baseline: 28 days after consent, but at most 14 days after randomisation).
    closes_by_anchor: str = ""
    closes_by_days: int = 0


@dataclass(frozen=True)
class Schedule:
    code: str
    name: str
    description: str
    timepoints: tuple[Timepoint, ...]
    source_file: str = ""


@dataclass(frozen=True)
class DueTask:
    """One instrument one respondent should complete at one timepoint, with its window."""

    schedule: str
    timepoint: str
    label: str
    instrument: str
    respondent: str
    due: dt.date
    opens: dt.date
    closes: dt.date
    collected_by: str

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.schedule, self.timepoint, self.instrument, self.respondent)

    def contains(self, day: dt.date) -> bool:
        return self.opens <= day <= self.closes


@dataclass(frozen=True)
class Record:
    """What was recorded against a task: completed on a day, or missed or refused."""

    status: str  # "completed", "missed" or "refused"
    completed_on: dt.date | None = None
    reason: str = ""


def _closes_by(reader: _Reader) -> tuple[str, int]:
    """Read ``closes_by: {anchor: randomisation, days: 14}``: the latest the window may close."""
    if not reader.has("closes_by"):
        return "", 0
    closes_by = reader.child("closes_by", reader.raw("closes_by", kind=dict))
    closes_by.unknown_keys({"anchor", "days"})
    anchor = closes_by.text("anchor")
    days = closes_by.raw("days", kind=int)
    if anchor not in ANCHORS:
        closes_by.fail("anchor", f"must be one of {', '.join(ANCHORS)}")
    if days < 0:
        closes_by.fail("days", "must be 0 or more")
    return anchor, days


def _timepoint(reader: _Reader, known_codes: set[str]) -> Timepoint:
    reader.unknown_keys(
        {"code", "label", "anchor", "offset_days", "offset_months", "window", "collected_by"}
        | {"tasks", "repeat", "closes_by"}
    )
    code = reader.text("code")
    if code in known_codes:
        reader.fail("code", f"repeats timepoint {code!r}")
    anchor = reader.text("anchor")
    if anchor not in ANCHORS:
        reader.fail("anchor", f"must be one of {', '.join(ANCHORS)}")
    window = reader.items_list("window")
    if len(window) != 2 or not all(isinstance(w, int) for w in window) or window[0] > 0:
        reader.fail("window", "must be [days before (0 or less), days after (0 or more)]")
    if window[1] < 0:
        reader.fail("window", "days after must be 0 or more")
    collected_by = reader.text("collected_by", "therapist")
    if collected_by not in COLLECTORS:
        reader.fail("collected_by", f"must be one of {', '.join(sorted(COLLECTORS))}")
    tasks = []
    for index, raw in enumerate(reader.items_list("tasks")):
        task = reader.child(f"tasks[{index}]", raw)
        task.unknown_keys({"instrument", "respondent"})
        respondent = task.text("respondent")
        if respondent not in RESPONDENTS:
            task.fail("respondent", f"names unknown respondent {respondent!r}")
        tasks.append(Task(task.text("instrument"), respondent))
    repeat_every = repeat_count = 0
    repeat_until = ""
    if reader.has("repeat"):
        repeat = reader.child("repeat", reader.raw("repeat", kind=dict))
        repeat.unknown_keys({"every_months", "count", "until"})
        repeat_every = repeat.raw("every_months", kind=int)
        repeat_count = repeat.raw("count", kind=int)
        repeat_until = repeat.text("until", "")
        if repeat_every < 1 or repeat_count < 1:
            repeat.fail("", "every_months and count must be 1 or more")
        if repeat_until and repeat_until not in ANCHORS:
            repeat.fail("until", f"must be one of {', '.join(ANCHORS)}")
    closes_by_anchor, closes_by_days = _closes_by(reader)
    return Timepoint(
        code=code,
        label=reader.text("label"),
        anchor=anchor,
        offset_days=reader.raw("offset_days", 0, kind=int),
        offset_months=reader.raw("offset_months", 0, kind=int),
        window_before=-window[0],
        window_after=window[1],
        collected_by=collected_by,
        tasks=tuple(tasks),
        repeat_every_months=repeat_every,
        repeat_count=repeat_count,
        repeat_until=repeat_until,
        closes_by_anchor=closes_by_anchor,
        closes_by_days=closes_by_days,
    )


def parse_schedule(data: Any, *, source: str) -> Schedule:
    """Return the schedule a parsed YAML document defines, or raise DefinitionError."""
    reader = _Reader(source, data)
    reader.unknown_keys({"code", "name", "description", "timepoints"})
    timepoints: list[Timepoint] = []
    for index, raw in enumerate(reader.items_list("timepoints")):
        timepoints.append(
            _timepoint(reader.child(f"timepoints[{index}]", raw), {t.code for t in timepoints})
        )
    if not timepoints:
        reader.fail("timepoints", "must list at least one timepoint")
    return Schedule(
        code=reader.text("code"),
        name=reader.text("name"),
        description=reader.text("description", ""),
        timepoints=tuple(timepoints),
        source_file=source,
    )


def load_schedules(*folders: Path) -> dict[str, Schedule]:
    """Read every schedule file in the folders."""
    found: dict[str, Schedule] = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.yaml")):
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
            except yaml.YAMLError as error:
                raise DefinitionError(f"{path.name}: is not valid YAML: {error}") from error
            schedule = parse_schedule(data, source=path.name)
            if schedule.code in found:
                raise DefinitionError(f"{path.name}: code: {schedule.code!r} is defined twice")
            found[schedule.code] = schedule
    return found


def add_months(date: dt.date, months: int) -> dt.date:
    """Return the same day `months` later, clamped to the month's last day (31 Jan + 1 → 28 Feb)."""
    index = date.month - 1 + months
    year, month = date.year + index // 12, index % 12 + 1
    next_month = dt.date(year + (month == 12), month % 12 + 1, 1)
    return dt.date(year, month, min(date.day, (next_month - dt.timedelta(days=1)).day))


def _due(anchor: dt.date, timepoint: Timepoint, months: int) -> dt.date:
    return add_months(anchor, timepoint.offset_months + months) + dt.timedelta(
        days=timepoint.offset_days
    )


def due_tasks(
    schedule: Schedule, anchors: Mapping[str, dt.date | None], *, collected_by: str = ""
) -> list[DueTask]:
    """Return every task of the schedule whose anchor is known, in due-date order.

    collected_by: only the timepoints that therapists (or research workers) collect.
    """
    tasks: list[DueTask] = []
    for timepoint in schedule.timepoints:
        anchor = anchors.get(timepoint.anchor)
        if anchor is None or (collected_by and timepoint.collected_by != collected_by):
            continue
        occurrences: list[tuple[str, str, int]] = [(timepoint.code, timepoint.label, 0)]
        if timepoint.repeat_every_months:
            occurrences = [
                (
                    f"{timepoint.code}_{n}",
                    timepoint.label.format(n=n),
                    (n - 1) * timepoint.repeat_every_months,
                )
                for n in range(1, timepoint.repeat_count + 1)
            ]
        stop = anchors.get(timepoint.repeat_until) if timepoint.repeat_until else None
        limit = anchors.get(timepoint.closes_by_anchor) if timepoint.closes_by_anchor else None
        for code, label, months in occurrences:
            due = _due(anchor, timepoint, months)
            if stop is not None and due > stop:
                break
            opens = due - dt.timedelta(days=timepoint.window_before)
            closes = due + dt.timedelta(days=timepoint.window_after)
            if limit is not None:
                closes = max(
                    opens, min(closes, limit + dt.timedelta(days=timepoint.closes_by_days))
                )
            for task in timepoint.tasks:
                tasks.append(
                    DueTask(
                        schedule=schedule.code,
                        timepoint=code,
                        label=label,
                        instrument=task.instrument,
                        respondent=task.respondent,
                        due=due,
                        opens=opens,
                        closes=closes,
                        collected_by=timepoint.collected_by,
                    )
                )
    return sorted(tasks, key=lambda t: (t.due, t.timepoint, t.instrument, t.respondent))


def task_state(
    task: DueTask,
    records: Sequence[Record],
    today: dt.date,
    *,
    data_stopped_on: dt.date | None = None,
) -> State:
    """Return a task's state on a day from what was recorded against it.

    ``data_stopped_on``: the day the young person withdrew from further data collection. A
    task not completed by then whose window was still open (or not yet open) is never due again.
    """
    completed = [r for r in records if r.status == "completed" and r.completed_on is not None]
    if completed:
        if any(task.contains(r.completed_on) for r in completed if r.completed_on):
            return State.COMPLETED_IN_WINDOW
        return State.COMPLETED_OUT_OF_WINDOW
    if any(r.status == "refused" for r in records):
        return State.REFUSED
    if any(r.status == "missed" for r in records):
        return State.MISSED
    if data_stopped_on is not None and data_stopped_on <= today and task.closes >= data_stopped_on:
        return State.WITHDRAWN
    if today < task.opens:
        return State.NOT_YET_DUE
    if today <= task.closes:
        return State.DUE
    return State.OVERDUE


def match_timepoint(
    tasks: Iterable[DueTask], *, instrument: str, respondent: str, on: dt.date
) -> DueTask | None:
    """Return the task whose window a completion on a day falls in (the nearest due, if two).

    Returns None when no window of the instrument and respondent holds the day: an entry is
    never filed under the nearest timepoint silently (see ``nearest_task``).
    """
    inside = [
        t
        for t in tasks
        if t.instrument == instrument and t.respondent == respondent and t.contains(on)
    ]
    return min(inside, key=lambda t: (abs((t.due - on).days), t.due)) if inside else None


def nearest_task(
    tasks: Iterable[DueTask], *, instrument: str, respondent: str, on: dt.date
) -> DueTask | None:
    """Return the instrument's task whose window is nearest a day, to name it in a refusal."""
    candidates = [t for t in tasks if t.instrument == instrument and t.respondent == respondent]

    def distance(t: DueTask) -> int:
        return 0 if t.contains(on) else min(abs((t.opens - on).days), abs((t.closes - on).days))

    return min(candidates, key=lambda t: (distance(t), t.due)) if candidates else None


def window_text(task: DueTask, on: dt.date) -> str:
    """Return "Trial 6 months is open 2027-05-01 to 2027-06-30; this entry is dated …"."""
    return (
        f"{task.label} is open {task.opens.isoformat()} to {task.closes.isoformat()}; "
        f"this entry is dated {on.isoformat()}"
    )


def window_changes(before: Sequence[DueTask], after: Sequence[DueTask]) -> dict[str, list[str]]:
    """Return {timepoint: [old due, new due]} for timepoints whose due date moved, came or went."""
    old = {(t.schedule, t.timepoint): t.due.isoformat() for t in before}
    new = {(t.schedule, t.timepoint): t.due.isoformat() for t in after}
    changes = {}
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            changes[f"{key[0]}:{key[1]}"] = [old.get(key, ""), new.get(key, "")]
    return changes
