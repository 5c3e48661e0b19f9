"""The measures, goals, contacts and records pages pass axe-core's WCAG 2.2 AA rules."""

import datetime as dt

import pytest

from mstoutcomes.accounts.models import Role
from mstoutcomes.accounts.tests.factories import member
from mstoutcomes.cases.tests.factories import EpisodeFactory, YoungPersonFactory
from mstoutcomes.measures import services
from tests.browser.test_accessibility import violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_measures_pages_have_no_accessibility_violations(live_server, page, site_a, alice):
    person = YoungPersonFactory(site=site_a, study_id="AAA-0001")
    EpisodeFactory(
        young_person=person, therapist=alice, start_date=dt.date.today() - dt.timedelta(days=3)
    )
    services.assessment_record(
        by=alice,
        young_person=person,
        instrument="sdq-p",
        respondent="parent",
        completed_on=dt.date.today(),
        mode="paper",
        responses={str(n): 1 for n in range(1, 26)},
    )
    member(Role.PROGRAMME_MANAGER, site_a, username="morgan")
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    for path in (
        "/measures/",
        "/measures/completeness/",
        "/measures/AAA-0001/",
        "/measures/AAA-0001/enter/sdq-p/parent/",
        "/measures/AAA-0001/enter/sdq-p/parent/?entry=scores",
        "/young-people/AAA-0001/goals/",
        "/young-people/AAA-0001/goals/new/",
        "/young-people/AAA-0001/contacts/",
        "/young-people/AAA-0001/meetings/new/",
        "/outcomes/AAA-0001/",
        "/outcomes/AAA-0001/offences/new/",
    ):
        page.goto(f"{live_server.url}{path}")
        assert violations(page) == [], path
