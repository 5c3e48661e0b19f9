"""A trial participant who withdraws from further data collection drops off research worklists."""

from __future__ import annotations

import datetime as dt

import pytest

from mstoutcomes.accounts.models import Role
from mstoutcomes.accounts.tests.factories import member
from mstoutcomes.cases.tests.factories import YoungPersonFactory
from mstoutcomes.core.dates import today
from mstoutcomes.measures import selectors
from mstoutcomes.measures.windows import State
from mstoutcomes.trial.services import participant_enrol, participant_randomise, withdrawal_record
from mstoutcomes.trial.tests.conftest import make_trial, ready

pytestmark = pytest.mark.django_db


@pytest.fixture
def randomised(site_a):
    manager = member(Role.TRIAL_MANAGER, site_a, username="tamsin")
    trial = make_trial(site_a)
    people = []
    for n in range(2):
        person = YoungPersonFactory(site=site_a, study_id=f"AAA-{300 + n:04d}")
        # Baseline still due after randomisation: randomised with a waiver (a deviation).
        participant = ready(
            participant_enrol(by=None, trial=trial, young_person=person), manager, baseline=False
        )
        participant_randomise(
            by=manager, participant=participant, baseline_waiver_reason="Carer unreachable"
        )
        people.append((person, participant))
    return manager, people


def _research_study_ids(bob) -> set[str]:
    rows = selectors.worklist(user=bob, today=today(), collected_by="research")
    return {r.study_id for r in rows if r.task.schedule == "trial"}


def test_withdrawal_from_further_data_removes_the_trial_baseline_from_the_worklist(bob, randomised):
    manager, [(stays, _), (leaves, participant)] = randomised
    assert _research_study_ids(bob) == {stays.study_id, leaves.study_id}

    withdrawal_record(by=manager, participant=participant, level="further_data", on=today())

    assert _research_study_ids(bob) == {stays.study_id}
    rows = selectors.schedule_for_person(user=manager, person=leaves, today=today())
    trial_rows = [r for r in rows if r.task.schedule == "trial"]
    assert trial_rows and {r.state for r in trial_rows} == {State.WITHDRAWN}
    counted = selectors.completeness(user=manager, today=today() + dt.timedelta(days=1))
    baseline = next(c for c in counted if c.schedule == "trial" and c.timepoint == "t0")
    stayer_tasks = [
        r
        for r in selectors.schedule_for_person(user=manager, person=stays, today=today())
        if r.task.schedule == "trial" and r.task.timepoint == "t0"
    ]
    # Only the one who stays is expected; a withdrawal is not "outstanding".
    assert baseline.expected == baseline.outstanding == len(stayer_tasks) > 0


def test_withdrawal_from_treatment_only_keeps_the_follow_up_due(bob, randomised):
    manager, [_, (person, participant)] = randomised
    withdrawal_record(by=manager, participant=participant, level="treatment", on=today())
    assert person.study_id in _research_study_ids(bob)
