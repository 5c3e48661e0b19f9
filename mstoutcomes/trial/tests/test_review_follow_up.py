"""CONSORT follow-up at boundary dates: window edges, the cut-off day, same-day withdrawals."""

import datetime as dt

import pytest
import time_machine

from mstoutcomes.cases.tests.factories import YoungPersonFactory
from mstoutcomes.measures.models import AssessmentStatus
from mstoutcomes.trial.selectors import (
    LOST_NOT_COLLECTED,
    LOST_WITHDREW,
    consort_dispositions,
)
from mstoutcomes.trial.services import participant_enrol, participant_randomise, withdrawal_record
from mstoutcomes.trial.tests.conftest import ready
from mstoutcomes.trial.tests.test_follow_up import at, completed, not_done

pytestmark = pytest.mark.django_db

# Randomised 15 January 2025: t6 is due 15 July 2025, its window 15 June to 14 August.
RANDOMISED = dt.datetime(2025, 1, 15, 10, 0, tzinfo=dt.UTC)


def randomised(trial, site, by, when=RANDOMISED):
    with time_machine.travel(when, tick=False):
        person = YoungPersonFactory(site=site)
        participant = ready(participant_enrol(by=None, trial=trial, young_person=person), by)
        participant_randomise(by=by, participant=participant)
    return participant


def t6(participant, cut_off):
    (found,) = [
        d
        for d in consort_dispositions(trial=participant.trial, cut_off=cut_off)
        if d.participant_id == participant.young_person.study_id
    ]
    return found.follow_up["t6"], found.lost_reasons.get("t6")


@pytest.mark.parametrize(
    ("cut_off", "state"),
    [
        (dt.date(2025, 6, 14), "not_yet_due"),
        (dt.date(2025, 6, 15), "due"),  # the day the window opens
        (dt.date(2025, 8, 14), "due"),  # the last day of the window
        (dt.date(2025, 8, 15), "lost"),
    ],
)
def test_the_window_edges_count_as_inside_the_window(trial, site_a, trial_manager, cut_off, state):
    participant = randomised(trial, site_a, trial_manager)
    assert t6(participant, cut_off)[0] == state


def test_an_assessment_completed_on_the_cut_off_day_counts(trial, site_a, trial_manager):
    participant = randomised(trial, site_a, trial_manager)
    completed(participant.young_person, dt.date(2025, 8, 14))
    assert t6(participant, dt.date(2025, 8, 13)) == ("due", None)
    assert t6(participant, dt.date(2025, 8, 14)) == ("followed_up", None)


def test_a_withdrawal_on_the_day_of_the_assessment_keeps_it(trial, site_a, trial_manager):
    participant = randomised(trial, site_a, trial_manager)
    completed(participant.young_person, dt.date(2025, 7, 20))
    with at(dt.date(2025, 7, 20)):
        withdrawal_record(
            by=trial_manager, participant=participant, level="further_data", on=dt.date(2025, 7, 20)
        )
    assert t6(participant, dt.date(2025, 7, 20)) == ("followed_up", None)


def test_a_withdrawal_after_the_window_closed_is_not_why_the_timepoint_was_lost(
    trial, site_a, trial_manager
):
    silent = randomised(trial, site_a, trial_manager)
    missed = randomised(trial, site_a, trial_manager)
    not_done(missed.young_person, dt.date(2025, 8, 1), AssessmentStatus.MISSED, "Moved away")
    for participant in (silent, missed):
        with at(dt.date(2025, 9, 1)):
            withdrawal_record(
                by=trial_manager,
                participant=participant,
                level="further_data",
                on=dt.date(2025, 9, 1),
            )
    assert t6(silent, dt.date(2025, 9, 2)) == ("lost", LOST_NOT_COLLECTED)
    assert t6(missed, dt.date(2025, 9, 2)) == ("lost", "Missed: Moved away")
    # Within the window, withdrawing is the reason.
    late = randomised(trial, site_a, trial_manager)
    with at(dt.date(2025, 8, 14)):
        withdrawal_record(
            by=trial_manager, participant=late, level="further_data", on=dt.date(2025, 8, 14)
        )
    assert t6(late, dt.date(2025, 8, 14)) == ("lost", LOST_WITHDREW)


def test_randomisation_is_dated_on_the_local_calendar_day(trial, site_a, trial_manager):
    with time_machine.travel(dt.datetime(2025, 7, 1, 9, tzinfo=dt.UTC), tick=False):
        person = YoungPersonFactory(site=site_a)
        participant = ready(
            participant_enrol(by=None, trial=trial, young_person=person), trial_manager
        )
    # 23:30 UTC on 1 July is 00:30 on 2 July in London (summer time).
    with time_machine.travel(dt.datetime(2025, 7, 1, 23, 30, tzinfo=dt.UTC), tick=False):
        participant_randomise(by=trial_manager, participant=participant)
    (on_first,) = consort_dispositions(trial=participant.trial, cut_off=dt.date(2025, 7, 1))
    assert on_first.arm is None
    (on_second,) = consort_dispositions(trial=participant.trial, cut_off=dt.date(2025, 7, 2))
    assert on_second.arm == participant.allocation.arm
