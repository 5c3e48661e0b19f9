"""Enrolment dates and list identities: CONSORT counts people by the day they were assessed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from mstoutcomes.cases.tests.factories import YoungPersonFactory
from mstoutcomes.trial.blocks import arm_at
from mstoutcomes.trial.config import parse_trial_config
from mstoutcomes.trial.selectors import consort_dispositions
from mstoutcomes.trial.services import allocation_key, participant_enrol, trial_create
from mstoutcomes.trial.tests.conftest import CONFIG, make_trial

pytestmark = pytest.mark.django_db


def test_consort_counts_a_backdated_enrolment_from_its_date_not_its_row(site_a, trial):
    today = timezone.localdate()
    earlier = today - dt.timedelta(days=200)
    backdated = participant_enrol(
        by=None, trial=trial, young_person=YoungPersonFactory(site=site_a), on=earlier
    )
    recent = participant_enrol(by=None, trial=trial, young_person=YoungPersonFactory(site=site_a))
    assert backdated.enrolled_on == earlier
    assert recent.enrolled_on == today

    def assessed(cut_off: dt.date) -> set[str]:
        return {d.participant_id for d in consort_dispositions(trial=trial, cut_off=cut_off)}

    assert assessed(earlier - dt.timedelta(days=1)) == set()
    assert assessed(earlier) == {backdated.young_person.study_id}
    assert assessed(today) == {backdated.young_person.study_id, recent.young_person.study_id}


def test_an_enrolment_in_the_future_is_refused_and_nothing_is_written(site_a, trial):
    person = YoungPersonFactory(site=site_a)
    with pytest.raises(ValidationError, match="cannot be enrolled in the future"):
        participant_enrol(
            by=None,
            trial=trial,
            young_person=person,
            on=timezone.localdate() + dt.timedelta(days=1),
        )
    assert not trial.participants.unscoped().exists()


def test_a_given_list_identity_is_kept_and_otherwise_one_is_drawn(site_a):
    spec = parse_trial_config({**CONFIG, "method": "blocks"})
    given = trial_create(by=None, spec=spec, sites=[site_a], list_id="demo0000seed1")
    drawn = make_trial(site_a, method="blocks", code="START-3")
    assert given.list_id == "demo0000seed1"
    assert len(drawn.list_id) == 32 and drawn.list_id != given.list_id

    def arms(trial) -> list[str]:
        return [
            arm_at(
                trial.spec,
                key=allocation_key(),
                list_id=trial.list_id,
                stratum="AAA|male",
                sequence=n,
            )
            for n in range(1, 41)
        ]

    # The slots follow from the identity: the given one reproduces what it named.
    assert arms(given) == [
        arm_at(spec, key=allocation_key(), list_id="demo0000seed1", stratum="AAA|male", sequence=n)
        for n in range(1, 41)
    ]
    assert sorted(set(arms(given))) == ["MAU", "MST"]


@pytest.mark.parametrize("bad", ["short", "has space in it", "x" * 65, "semi;colon00"])
def test_a_malformed_list_identity_is_refused(site_a, bad):
    spec = parse_trial_config({**CONFIG, "method": "blocks"})
    with pytest.raises(ValidationError, match="8 to 64 letters or digits"):
        trial_create(by=None, spec=spec, sites=[site_a], list_id=bad)
