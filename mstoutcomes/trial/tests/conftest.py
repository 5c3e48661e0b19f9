import datetime as dt

import pytest

from mstoutcomes.accounts.models import Role
from mstoutcomes.accounts.tests.factories import member
from mstoutcomes.cases.tests.factories import YoungPersonFactory
from mstoutcomes.trial.config import parse_trial_config
from mstoutcomes.trial.models import ConsentFormVersion, ConsentKind
from mstoutcomes.trial.services import consent_record, eligibility_record, trial_create

CONFIG = {
    "code": "START-T",
    "title": "MST versus management as usual",
    "arms": [{"code": "MAU", "name": "Management as usual"}, {"code": "MST", "name": "MST"}],
    "factors": [
        {"name": "site", "categories": ["AAA", "BBB"]},
        {"name": "sex", "categories": ["female", "male", "not_known"]},
    ],
}


@pytest.fixture
def trial_manager(site_a):
    return member(Role.TRIAL_MANAGER, site_a, username="tina")


def make_trial(site, method="minimisation", *, forms=True, **changes):
    """Set up a trial at a site; with ``forms``, each consent form's version v1.0 is current."""
    trial = trial_create(
        by=None, spec=parse_trial_config({**CONFIG, "method": method, **changes}), sites=[site]
    )
    if forms:
        for kind in ConsentKind.values:
            consent_form(trial, kind)
    return trial


def consent_form(trial, kind, version="v1.0"):
    """Return the trial's current version of a form, adding it (without a file) if missing."""
    current = ConsentFormVersion.objects.filter(trial=trial, kind=kind, is_current=True).first()
    if current is not None and current.version == version:
        return current
    return ConsentFormVersion.objects.create(
        trial=trial,
        kind=kind,
        version=version,
        approved_on=dt.date(2020, 1, 6),
        approved_by="Test research ethics committee",
    )


@pytest.fixture
def trial(site_a):
    return make_trial(site_a)


@pytest.fixture
def blocks_trial(site_a):
    return make_trial(site_a, method="blocks", code="START-B")


def complete_baseline(participant, *, on=None, skip=()):
    """Record the trial's baseline assessments as completed (all but the (instrument, respondent)
    pairs in ``skip``), so that randomisation may go ahead."""
    from mstoutcomes.measures.tests.factories import AssessmentFactory
    from mstoutcomes.trial.order import baseline_tasks

    for instrument, respondent, _ in baseline_tasks():
        if (instrument, respondent) in skip:
            continue
        AssessmentFactory(
            young_person=participant.young_person,
            instrument=instrument,
            respondent=respondent,
            schedule="trial",
            timepoint="t0",
            completed_on=on or dt.date.today(),
        )
    return participant


def ready(
    participant,
    by,
    *,
    eligible=True,
    consents=("carer_consent", "young_person_assent"),
    baseline=True,
):
    """Confirm eligibility, record the consents randomisation needs and (unless baseline=False)
    complete the trial's baseline assessments."""
    if baseline:
        complete_baseline(participant)
    eligibility_record(by=by, participant=participant, eligible=eligible, on=dt.date.today())
    for kind in consents:
        consent_record(
            by=by,
            participant=participant,
            form=consent_form(participant.trial, kind),
            given=True,
            recorded_on=dt.date.today(),
        )
    return participant


@pytest.fixture
def young_person(site_a):
    return YoungPersonFactory(site=site_a)
