"""Allocations, consents, withdrawals and deviations are scoped like every table about people.

An unscoped query of them refuses to run; ``.visible_to(user)`` shows only the rows about young
people the user may see (their site's, or for a referrer their agency's); a deviation about no
one participant is shown to the staff who see every young person at its site.
"""

import datetime as dt

import pytest
from django.utils import timezone

from mstoutcomes.accounts.models import Role
from mstoutcomes.accounts.tests.factories import AgencyFactory, member
from mstoutcomes.cases.tests.factories import YoungPersonFactory
from mstoutcomes.core.scoping import UnscopedQueryError
from mstoutcomes.trial.models import (
    Allocation,
    ConsentKind,
    ConsentRecord,
    DeviationCategory,
    DeviationSeverity,
    Participant,
    ProtocolDeviation,
    Withdrawal,
    WithdrawalLevel,
)
from mstoutcomes.trial.tests.conftest import make_trial

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()


def _participant(trial, site, **person):
    young_person = YoungPersonFactory(site=site, **person)
    return Participant.objects.create(trial=trial, young_person=young_person, site=site, levels={})


def _allocation(participant, by, sequence):
    return Allocation.objects.create(
        trial=participant.trial,
        participant=participant,
        arm="MST",
        method="minimisation",
        stratum="*",
        sequence=sequence,
        allocated_at=timezone.now() - dt.timedelta(days=1),
        allocated_by=by,
    )


def _consent(participant, by, sequence):
    return ConsentRecord.objects.create(
        participant=participant,
        kind=ConsentKind.CARER_CONSENT,
        form_version="v1.0",
        given=True,
        recorded_on=TODAY,
        taken_by=by,
    )


def _withdrawal(participant, by, sequence):
    return Withdrawal.objects.create(
        participant=participant,
        level=WithdrawalLevel.TREATMENT,
        withdrawn_on=TODAY,
        recorded_by=by,
    )


def _deviation(participant, by, sequence, *, site=None):
    return ProtocolDeviation.objects.create(
        trial=participant.trial if participant else site.trials.get(),
        participant=participant,
        site=participant.site if participant else site,
        occurred_on=TODAY,
        identified_on=TODAY,
        category=DeviationCategory.OTHER,
        severity=DeviationSeverity.MINOR,
        description=f"Deviation {sequence}",
        recorded_by=by,
    )


TABLES = {
    "allocations": (Allocation, _allocation),
    "consents": (ConsentRecord, _consent),
    "withdrawals": (Withdrawal, _withdrawal),
    "deviations": (ProtocolDeviation, _deviation),
}


@pytest.fixture
def yos():
    return AgencyFactory(name="Trafford YOS")


@pytest.fixture
def two_sites(site_a, site_b, yos):
    """A trial at each site, and one participant at each (site A's referred by the YOS)."""
    at_a = _participant(make_trial(site_a, code="SCOPE-A"), site_a, referring_agency=yos)
    at_b = _participant(make_trial(site_b, code="SCOPE-B"), site_b)
    return at_a, at_b


@pytest.mark.parametrize(("model", "make"), TABLES.values(), ids=TABLES)
def test_an_unscoped_query_of_the_table_refuses_to_run(two_sites, alice, model, make):
    at_a, _ = two_sites
    make(at_a, alice, 1)
    with pytest.raises(UnscopedQueryError, match=f"{model.__name__} was queried without"):
        list(model.objects.all())
    with pytest.raises(UnscopedQueryError):
        model.objects.filter(participant=at_a).exists()


@pytest.mark.parametrize(("model", "make"), TABLES.values(), ids=TABLES)
def test_a_query_scoped_to_a_user_shows_only_their_sites_rows(two_sites, alice, carol, model, make):
    at_a, at_b = two_sites
    row_a = make(at_a, alice, 1)
    row_b = make(at_b, carol, 1)

    assert list(model.objects.visible_to(alice)) == [row_a]
    assert list(model.objects.visible_to(carol)) == [row_b]
    assert model.objects.unscoped().count() == 2


@pytest.mark.parametrize(("model", "make"), TABLES.values(), ids=TABLES)
def test_a_referrer_sees_the_rows_about_their_agencys_young_people_only(
    two_sites, site_a, yos, alice, model, make
):
    at_a, _ = two_sites
    other_at_a = _participant(at_a.trial, site_a)
    own = make(at_a, alice, 1)
    make(other_at_a, alice, 2)
    referrer = member(Role.REFERRER, site_a, agency=yos, username="rita")

    assert list(model.objects.visible_to(referrer)) == [own]


def test_a_deviation_about_no_participant_is_shown_to_the_staff_of_its_site(
    two_sites, site_a, yos, alice, carol
):
    whole_site = _deviation(None, alice, 1, site=site_a)
    referrer = member(Role.REFERRER, site_a, agency=yos, username="rita")

    assert list(ProtocolDeviation.objects.visible_to(alice)) == [whole_site]
    assert list(ProtocolDeviation.objects.visible_to(carol)) == []
    assert list(ProtocolDeviation.objects.visible_to(referrer)) == []
