import datetime as dt

import pytest
from django.utils import timezone

from mstoutcomes.accounts.models import Role
from mstoutcomes.accounts.tests.factories import member
from mstoutcomes.cases.tests.factories import YoungPersonFactory
from mstoutcomes.measures.tests.factories import AssessmentFactory
from mstoutcomes.trial.models import Allocation, Participant
from mstoutcomes.trial.tests.conftest import make_trial

RANDOMISED_ON = dt.date.today() - dt.timedelta(days=40)


@pytest.fixture
def tina(site_a):
    """Trial manager at site A: manages queries."""
    return member(Role.TRIAL_MANAGER, site_a, username="tina", first_name="Tina", last_name="T")


@pytest.fixture
def paula(site_a):
    """Programme manager at site A: answers duplicate and impossible-date queries."""
    return member(Role.PROGRAMME_MANAGER, site_a, username="paula", first_name="Paula")


@pytest.fixture
def trial(site_a):
    return make_trial(site_a)


def randomised(trial, site, *, on=RANDOMISED_ON, arm="MST", **person):
    """A participant randomised on a date (the allocation written directly, as history)."""
    young_person = YoungPersonFactory(site=site, **person)
    participant = Participant.objects.create(
        trial=trial,
        young_person=young_person,
        site=site,
        enrolled_on=on - dt.timedelta(days=20),
    )
    Allocation.objects.create(
        trial=trial,
        participant=participant,
        arm=arm,
        method=trial.method,
        stratum="*",
        sequence=Allocation.objects.unscoped().filter(trial=trial).count() + 1,
        allocated_at=timezone.make_aware(dt.datetime.combine(on, dt.time(12))),
        allocated_by=member(Role.TRIAL_MANAGER, site),
    )
    return participant


def baseline(young_person, on=RANDOMISED_ON, **changes):
    return AssessmentFactory(
        young_person=young_person,
        instrument="sdq-s",
        respondent="young_person",
        schedule="trial",
        timepoint="t0",
        completed_on=on,
        **changes,
    )
