"""Each main page passes axe-core's WCAG 2.2 A and AA rules in Chromium."""

from pathlib import Path

import pytest

from mstoutcomes.cases.tests.factories import (
    AgencyInvolvementFactory,
    EpisodeFactory,
    FamilyMemberFactory,
    YoungPersonFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = (Path(__file__).parent / "vendor" / "axe-core-4.14.1.min.js").read_text()
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def violations(page):
    page.add_script_tag(content=AXE)
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS
    )
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])}× e.g. {v['nodes'][0]['target']})"
        for v in result["violations"]
    ]


def test_main_pages_have_no_accessibility_violations(live_server, page, site_a, alice):
    person = YoungPersonFactory(site=site_a, study_id="AAA-0001", given_name="Jay")
    FamilyMemberFactory(young_person=person, is_primary_carer=True)
    AgencyInvolvementFactory(young_person=person)
    EpisodeFactory(young_person=person, therapist=alice)
    page.goto(f"{live_server.url}/sign-in/")
    assert violations(page) == []
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    for path in (
        "/",
        "/young-people/",
        "/young-people/AAA-0001/",
        "/young-people/new/",
        "/young-people/AAA-0001/family/new/",
    ):
        page.goto(f"{live_server.url}{path}")
        assert violations(page) == [], path
    # A form with errors: the error summary and messages must be accessible too.
    page.goto(f"{live_server.url}/young-people/new/")
    page.get_by_role("button", name="Save details").click()
    assert violations(page) == []


def test_the_accessibility_check_catches_a_known_failure(page):
    page.set_content("<html lang='en'><body><main><img src='x.png'></main></body></html>")
    assert any(v.startswith("image-alt") for v in violations(page))
