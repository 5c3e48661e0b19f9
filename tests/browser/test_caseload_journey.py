"""A therapist signs in, searches the caseload and opens a young person's page, in Chromium."""

import re

import pytest
from playwright.sync_api import expect

from mstoutcomes.accounts.models import AuditEvent
from mstoutcomes.cases.tests.factories import EpisodeFactory, YoungPersonFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_therapist_signs_in_searches_and_opens_a_record(live_server, page, site_a, alice, carol):
    jay = YoungPersonFactory(site=site_a, given_name="Jay", family_name="Khan", study_id="AAA-0007")
    EpisodeFactory(young_person=jay, therapist=alice)
    for n in range(5):
        YoungPersonFactory(site=site_a, given_name=f"Other{n}", family_name="Person")

    broken = []
    page.on("response", lambda r: broken.append(r.url) if r.status >= 400 else None)
    page.goto(f"{live_server.url}/young-people/")
    expect(page).to_have_url(re.compile(r"/sign-in/\?next="))
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Young people")).to_be_visible()
    expect(page.locator("#result-count")).to_contain_text("of 6 young people")

    # Typing filters the results in place (htmx); the URL keeps the search for sharing.
    page.get_by_label("Search by name or study ID").fill("khan")
    expect(page.locator("#result-count")).to_contain_text("Showing 1 to 1 of 1")
    expect(page).to_have_url(re.compile(r"q=khan"))

    page.get_by_role("link", name="AAA-0007").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jay Khan")
    expect(page.get_by_text("Alice Adams").first).to_be_visible()
    assert broken == [], f"assets or pages failed to load: {broken}"
    assert page.evaluate("typeof htmx") == "object"
    assert AuditEvent.objects.filter(
        action="cases.young_person.viewed", actor=alice, object_id=str(jay.pk)
    ).exists()


def test_search_works_without_javascript(live_server, browser, site_a, alice):
    YoungPersonFactory(site=site_a, given_name="Jay", family_name="Khan", study_id="AAA-0008")
    YoungPersonFactory(site=site_a, given_name="Mia", family_name="Lowe", study_id="AAA-0009")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server.url}/young-people/")
    page.get_by_label("Search by name or study ID").fill("Lowe")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#result-count")).to_contain_text("Showing 1 to 1 of 1")
    expect(page.get_by_role("link", name="AAA-0009")).to_be_visible()
    context.close()


def test_another_sites_therapist_cannot_find_the_record(live_server, page, site_a, carol):
    YoungPersonFactory(site=site_a, given_name="Jay", family_name="Khan", study_id="AAA-0010")
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Username").fill("carol")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server.url}/young-people/?q=khan")
    expect(page.locator("#result-count")).to_contain_text("No young people match")
    response = page.goto(f"{live_server.url}/young-people/AAA-0010/")
    assert response is not None and response.status == 404
