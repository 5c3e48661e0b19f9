"""Follow-up in CONSORT: counts equal what was recorded against the trial schedule, by cut-off."""

import datetime as dt
from collections import Counter

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mstoutcomes.cases.tests.factories import YoungPersonFactory
from mstoutcomes.measures.models import AssessmentStatus
from mstoutcomes.measures.tests.factories import AssessmentFactory
from mstoutcomes.trial.consort import consort_counts
from mstoutcomes.trial.selectors import (
    LOST_NOT_COLLECTED,
    LOST_REFUSED,
    LOST_WITHDREW,
    consort_dispositions,
    follow_up_points,
)
from mstoutcomes.trial.services import participant_enrol, participant_randomise, withdrawal_record
from mstoutcomes.trial.tests.conftest import ready

pytestmark = pytest.mark.django_db

RANDOMISED = dt.datetime(2025, 1, 15, 10, 0, tzinfo=dt.UTC)
# t6 is due 15 July 2025, its window 15 June to 14 August.


def at(day):
    return time_machine.travel(dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC))


def completed(person, on, timepoint="t6"):
    with at(on):
        AssessmentFactory(
            young_person=person, schedule="trial", timepoint=timepoint, completed_on=on
        )


def not_done(person, on, status, reason=""):
    with at(on):
        AssessmentFactory(
            young_person=person,
            schedule="trial",
            timepoint="t6",
            status=status,
            completed_on=None,
            reason=reason,
        )


@pytest.fixture
def scenario(trial, site_a, trial_manager):
    """Seven participants randomised on 15 January 2025, each with a different follow-up story."""
    people = {}
    with time_machine.travel(RANDOMISED, tick=False):
        for name in ("in_window", "late", "missed", "refused", "withdrew", "silent", "stopped"):
            person = YoungPersonFactory(site=site_a)
            participant = ready(
                participant_enrol(by=None, trial=trial, young_person=person), trial_manager
            )
            participant_randomise(by=trial_manager, participant=participant)
            people[name] = participant
    yp = {name: p.young_person for name, p in people.items()}
    completed(yp["in_window"], dt.date(2025, 7, 20))
    completed(yp["late"], dt.date(2025, 9, 1))  # after the window closed: still followed up
    not_done(yp["missed"], dt.date(2025, 7, 30), AssessmentStatus.MISSED, "Could not contact")
    not_done(yp["refused"], dt.date(2025, 7, 10), AssessmentStatus.REFUSED)
    with at(dt.date(2025, 5, 1)):
        withdrawal_record(
            by=trial_manager,
            participant=people["withdrew"],
            level="further_data",
            on=dt.date(2025, 5, 1),
        )
    with at(dt.date(2025, 3, 1)):
        withdrawal_record(
            by=trial_manager,
            participant=people["stopped"],
            level="treatment",
            on=dt.date(2025, 3, 1),
            reason="Family declined further sessions",
        )
    completed(yp["stopped"], dt.date(2025, 7, 15))
    return people


EXPECTED_T6 = {
    # cut-off: {participant: (state, lost reason)}
    dt.date(2025, 6, 1): {
        "in_window": ("not_yet_due", None),
        "late": ("not_yet_due", None),
        "missed": ("not_yet_due", None),
        "refused": ("not_yet_due", None),
        "withdrew": ("lost", LOST_WITHDREW),
        "silent": ("not_yet_due", None),
        "stopped": ("not_yet_due", None),
    },
    dt.date(2025, 8, 1): {
        "in_window": ("followed_up", None),
        "late": ("due", None),
        "missed": ("lost", "Missed: Could not contact"),
        "refused": ("lost", LOST_REFUSED),
        "withdrew": ("lost", LOST_WITHDREW),
        "silent": ("due", None),
        "stopped": ("followed_up", None),
    },
    dt.date(2025, 9, 2): {
        "in_window": ("followed_up", None),
        "late": ("followed_up_out_of_window", None),
        "missed": ("lost", "Missed: Could not contact"),
        "refused": ("lost", LOST_REFUSED),
        "withdrew": ("lost", LOST_WITHDREW),
        "silent": ("lost", LOST_NOT_COLLECTED),
        "stopped": ("followed_up", None),
    },
}


def test_the_trial_follow_up_timepoints_come_from_the_measures_schedule():
    points = follow_up_points()
    assert [(p.code, p.offset_months) for p in points] == [("t6", 6), ("t12", 12), ("t18", 18)]
    assert points[0].window(dt.date(2025, 1, 15)) == (dt.date(2025, 6, 15), dt.date(2025, 8, 14))


@pytest.mark.parametrize("cut_off", list(EXPECTED_T6))
def test_each_disposition_matches_what_was_recorded_by_the_cut_off(scenario, cut_off):
    by_id = {
        d.participant_id: d
        for d in consort_dispositions(trial=scenario["in_window"].trial, cut_off=cut_off)
    }
    for name, (state, reason) in EXPECTED_T6[cut_off].items():
        disposition = by_id[scenario[name].young_person.study_id]
        assert disposition.follow_up["t6"] == state, name
        assert disposition.lost_reasons.get("t6") == reason, name
        assert disposition.discontinued == (name == "stopped"), name
    stopped = by_id[scenario["stopped"].young_person.study_id]
    assert stopped.discontinued_reason == "Family declined further sessions"
    # Later timepoints are not yet due for anyone except the person who stopped data collection.
    for name, participant in scenario.items():
        later = by_id[participant.young_person.study_id].follow_up
        expected = "lost" if name == "withdrew" else "not_yet_due"
        assert later["t12"] == later["t18"] == expected


@pytest.mark.parametrize("cut_off", list(EXPECTED_T6))
def test_consort_counts_equal_the_dispositions_per_arm(scenario, cut_off):
    trial = scenario["in_window"].trial
    counts = consort_counts(
        consort_dispositions(trial=trial, cut_off=cut_off),
        arms=trial.spec.arm_codes,
        timepoints=["t6", "t12", "t18"],
    )
    for flow in counts.arms:
        in_arm = [n for n, p in scenario.items() if p.allocation.arm == flow.arm]
        states = Counter(EXPECTED_T6[cut_off][n][0] for n in in_arm)
        reasons = Counter(EXPECTED_T6[cut_off][n][1] for n in in_arm if EXPECTED_T6[cut_off][n][1])
        assert flow.follow_up["t6"] == dict(states)
        assert flow.lost_reasons["t6"] == dict(reasons)
        assert sum(flow.follow_up["t6"].values()) == flow.allocated == len(in_arm)
        assert flow.discontinued == sum(n == "stopped" for n in in_arm)
        assert flow.analysed == len(in_arm)  # nobody withdrew use of their data
    rows = {(stage, box): n for stage, box, n in counts.rows()}
    total_lost = sum(
        rows[("Follow-up t6", f"{a}: lost to follow-up")] for a in trial.spec.arm_codes
    )
    assert total_lost == sum(s == "lost" for s, _ in EXPECTED_T6[cut_off].values())


def test_nobody_is_followed_up_before_randomisation(scenario):
    trial = scenario["in_window"].trial
    assert consort_dispositions(trial=trial, cut_off=dt.date(2025, 1, 14)) == []


def test_withdrawing_use_of_data_loses_and_excludes_from_analysis(scenario, trial_manager):
    participant = scenario["silent"]
    withdrawal_record(
        by=trial_manager, participant=participant, level="data_use", on=dt.date(2025, 8, 5)
    )
    (before,) = [
        d
        for d in consort_dispositions(trial=participant.trial, cut_off=dt.date(2025, 8, 1))
        if d.participant_id == participant.young_person.study_id
    ]
    (after,) = [
        d
        for d in consort_dispositions(trial=participant.trial, cut_off=dt.date(2025, 8, 10))
        if d.participant_id == participant.young_person.study_id
    ]
    assert (before.follow_up["t6"], before.analysed) == ("due", True)
    assert (after.follow_up["t6"], after.lost_reasons["t6"], after.analysed) == (
        "lost",
        LOST_WITHDREW,
        False,
    )


def test_dispositions_take_a_fixed_number_of_queries(scenario, site_a, trial_manager):
    trial = scenario["in_window"].trial
    cut_off = dt.date(2025, 9, 2)
    with CaptureQueriesContext(connection) as few:
        consort_dispositions(trial=trial, cut_off=cut_off)
    with time_machine.travel(RANDOMISED, tick=False):
        for _ in range(5):
            person = YoungPersonFactory(site=site_a)
            participant = ready(
                participant_enrol(by=None, trial=trial, young_person=person), trial_manager
            )
            participant_randomise(by=trial_manager, participant=participant)
            completed(person, dt.date(2025, 7, 1))
    with CaptureQueriesContext(connection) as many:
        assert len(consort_dispositions(trial=trial, cut_off=cut_off)) == 12
    # Received allocated intervention reads episodes, contacts and goals: one query each.
    assert len(many) == len(few) <= 8
