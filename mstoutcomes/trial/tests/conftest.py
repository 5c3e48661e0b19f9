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


def ready(participant, by, *, eligible=True, consents=("carer_consent", "young_person_assent")):
    """Confirm eligibility and record the consents randomisation needs."""
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
