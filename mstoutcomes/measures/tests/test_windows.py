"""Schedules: due dates, windows and states from anchors (no database)."""

import datetime as dt
from pathlib import Path

import pytest
import yaml

from mstoutcomes.measures.definitions import DefinitionError
from mstoutcomes.measures.windows import (
    Record,
    State,
    add_months,
    due_tasks,
    load_schedules,
    match_timepoint,
    nearest_task,
    parse_schedule,
    task_state,
    window_changes,
    window_text,
)

HERE = Path(__file__).resolve().parents[1]
SCHEDULES = load_schedules(HERE / "schedules")
SERVICE = SCHEDULES["mst-service"]
START = dt.date(2026, 1, 31)


def tasks_at(anchors, timepoint, instrument="sdq-p"):
    return [
        t
        for t in due_tasks(SERVICE, anchors)
        if t.timepoint == timepoint and t.instrument == instrument
    ]


def test_baseline_window_is_fourteen_days_either_side_of_episode_start():
    (baseline,) = tasks_at({"episode_start": START}, "baseline")
    assert (baseline.opens, baseline.due, baseline.closes) == (
        dt.date(2026, 1, 17),
        START,
        dt.date(2026, 2, 14),
    )
    assert baseline.collected_by == "therapist"


def test_monthly_timepoints_clamp_to_month_end_and_stop_at_discharge():
    open_episode = [
        t for t in due_tasks(SERVICE, {"episode_start": START}) if t.instrument == "tam-r"
    ]
    assert [t.timepoint for t in open_episode] == [f"month_{n}" for n in range(1, 6)]
    assert open_episode[0].due == dt.date(2026, 2, 28)
    assert open_episode[0].label == "Month 1"
    discharged = {"episode_start": START, "episode_end": dt.date(2026, 4, 15)}
    months = [t.timepoint for t in due_tasks(SERVICE, discharged) if t.instrument == "tam-r"]
    assert months == ["month_1", "month_2"]


def test_discharge_and_follow_up_appear_only_once_discharge_is_known():
    assert tasks_at({"episode_start": START}, "discharge") == []
    anchors = {"episode_start": START, "episode_end": dt.date(2026, 5, 20)}
    (follow_up,) = tasks_at(anchors, "followup_6m")
    assert follow_up.due == dt.date(2026, 11, 20)
    assert follow_up.collected_by == "research"


def test_trial_timepoints_wait_for_consent_and_randomisation():
    trial = SCHEDULES["trial"]
    assert due_tasks(trial, {"episode_start": START}) == []
    due = {t.timepoint: t.due for t in due_tasks(trial, {"randomisation": START})}
    assert "t0" not in due  # baseline hangs on consent
    due = {t.timepoint: t.due for t in due_tasks(trial, {"consent": START, "randomisation": START})}
    assert due == {
        "t0": START,
        "t6": dt.date(2026, 7, 31),
        "t12": dt.date(2027, 1, 31),
        "t18": dt.date(2027, 7, 31),
    }


def test_moving_the_anchor_moves_the_windows():
    before = due_tasks(SERVICE, {"episode_start": START})
    after = due_tasks(SERVICE, {"episode_start": START + dt.timedelta(days=7)})
    changes = window_changes(before, after)
    assert changes["mst-service:baseline"] == ["2026-01-31", "2026-02-07"]
    assert window_changes(before, before) == {}


@pytest.mark.parametrize(
    ("today", "state"),
    [
        (dt.date(2026, 1, 16), State.NOT_YET_DUE),
        (dt.date(2026, 1, 17), State.DUE),
        (dt.date(2026, 2, 14), State.DUE),
        (dt.date(2026, 2, 15), State.OVERDUE),
    ],
)
def test_states_follow_the_window(today, state):
    (baseline,) = tasks_at({"episode_start": START}, "baseline")
    assert task_state(baseline, [], today) == state


def test_completion_states():
    (baseline,) = tasks_at({"episode_start": START}, "baseline")
    later = dt.date(2026, 6, 1)
    assert task_state(baseline, [Record("completed", dt.date(2026, 2, 14))], later) == (
        State.COMPLETED_IN_WINDOW
    )
    assert task_state(baseline, [Record("completed", dt.date(2026, 2, 15))], later) == (
        State.COMPLETED_OUT_OF_WINDOW
    )
    assert task_state(baseline, [Record("missed", reason="moved")], later) == State.MISSED
    assert task_state(baseline, [Record("refused")], later) == State.REFUSED
    both = [Record("refused"), Record("completed", dt.date(2026, 2, 1))]
    assert task_state(baseline, both, later) == State.COMPLETED_IN_WINDOW


def test_a_withdrawal_from_further_data_stops_what_was_not_yet_collected():
    trial = SCHEDULES["trial"]
    t6 = next(t for t in due_tasks(trial, {"randomisation": START}) if t.timepoint == "t6")
    later = dt.date(2027, 6, 1)

    def state(stopped, records=(), today=later):
        return task_state(t6, list(records), today, data_stopped_on=stopped)

    # Withdrew before the window opened, or while it was open: never due again.
    assert state(t6.opens - dt.timedelta(days=30)) == State.WITHDRAWN
    assert state(t6.due) == State.WITHDRAWN
    assert state(t6.closes) == State.WITHDRAWN
    # Withdrew after the window had closed: the follow-up was already overdue (lost, not withdrawn).
    assert state(t6.closes + dt.timedelta(days=1)) == State.OVERDUE
    # What was collected before withdrawing stays collected; a recorded refusal stays a refusal.
    assert state(t6.due, [Record("completed", t6.due - dt.timedelta(days=3))]) == (
        State.COMPLETED_IN_WINDOW
    )
    assert state(t6.due, [Record("refused")]) == State.REFUSED
    # A withdrawal dated after "today" (a future-dated entry) does not stop anything yet.
    assert state(t6.due, today=t6.due - dt.timedelta(days=1)) == State.DUE
    assert not State.WITHDRAWN.is_open


def test_a_completion_is_matched_to_the_window_it_falls_in_and_never_to_the_nearest():
    tasks = due_tasks(SERVICE, {"episode_start": START, "episode_end": dt.date(2026, 6, 30)})
    found = match_timepoint(tasks, instrument="sdq-p", respondent="parent", on=dt.date(2026, 2, 3))
    assert found.timepoint == "baseline"
    outside = dt.date(2026, 5, 1)
    assert match_timepoint(tasks, instrument="sdq-p", respondent="parent", on=outside) is None
    nearest = nearest_task(tasks, instrument="sdq-p", respondent="parent", on=outside)
    assert nearest.timepoint == "discharge"
    assert window_text(nearest, outside) == (
        "Discharge is open 2026-06-16 to 2026-07-14; this entry is dated 2026-05-01"
    )
    assert match_timepoint(tasks, instrument="icu", respondent="parent", on=START) is None


def test_the_trial_baseline_opens_at_consent_and_closes_by_randomisation_plus_14_days():
    trial = SCHEDULES["trial"]
    consent = dt.date(2026, 3, 2)
    unrandomised = due_tasks(trial, {"consent": consent})
    assert {t.timepoint for t in unrandomised} == {"t0"}
    assert {(t.opens, t.closes) for t in unrandomised} == {(consent, dt.date(2026, 3, 30))}
    early = due_tasks(trial, {"consent": consent, "randomisation": dt.date(2026, 3, 6)})
    t0 = next(t for t in early if t.timepoint == "t0")
    assert (t0.opens, t0.closes) == (consent, dt.date(2026, 3, 20))
    t6 = next(t for t in early if t.timepoint == "t6")
    assert (t6.opens, t6.closes) == (dt.date(2026, 8, 7), dt.date(2026, 10, 6))


def test_add_months_clamps_to_the_last_day():
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2026, 11, 30), 3) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2027, 12, 15), 1) == dt.date(2028, 1, 15)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["timepoints"][0].update(anchor="birthday"), "timepoints[0].anchor: must be"),
        (lambda d: d["timepoints"][0].update(window=[5, 5]), "timepoints[0].window: must be"),
        (lambda d: d["timepoints"][0]["tasks"][0].update(respondent="cat"), "tasks[0].respondent"),
        (lambda d: d["timepoints"].append(dict(d["timepoints"][0])), "repeats timepoint"),
    ],
)
def test_bad_schedule_files_name_file_and_field(change, message):
    data = yaml.safe_load((HERE / "schedules" / "mst-service.yaml").read_text())
    change(data)
    with pytest.raises(DefinitionError) as error:
        parse_schedule(data, source="ours.yaml")
    assert error.value.args[0].startswith("ours.yaml: ")
    assert message in str(error.value)
