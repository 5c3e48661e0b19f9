"""A trial manager enrols, records consent, randomises and opens the CONSORT diagram."""

import pytest
from playwright.sync_api import expect

from mstoutcomes.accounts.models import Role
from mstoutcomes.accounts.tests.factories import member
from mstoutcomes.cases.tests.factories import YoungPersonFactory
from mstoutcomes.trial.models import Allocation
from mstoutcomes.trial.tests.conftest import make_trial

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fill_date(page, prefix, value):
    page.locator(f"#id_{prefix}_0").fill(str(value.day))
    page.locator(f"#id_{prefix}_1").fill(str(value.month))
    page.locator(f"#id_{prefix}_2").fill(str(value.year))


def test_trial_manager_consents_randomises_and_sees_consort(live_server, page, site_a):
    import datetime as dt

    make_trial(site_a, code="START-B")
    member(Role.TRIAL_MANAGER, site_a, username="tina")
    YoungPersonFactory(site=site_a, study_id="AAA-0042")
    today = dt.date.today()

    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Username").fill("tina")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server.url}/trial/START-B/")
    page.get_by_label("Young person (study ID)").select_option("AAA-0042")
    page.get_by_role("button", name="Enrol").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Participant AAA-0042")

    page.get_by_label("Yes, eligible").check()
    fill_date(page, "eligibility-on", today)
    page.get_by_role("button", name="Save eligibility").click()
    for kind in ("Carer consent to take part", "Young person's assent"):
        page.get_by_label(f"{kind}, version v1.0").check()
        page.get_by_label("Yes, given").check()
        fill_date(page, "consent-recorded_on", today)
        page.get_by_role("button", name="Save consent").click()
        expect(page.get_by_text("Saved.")).to_be_visible()

    # Baseline comes first: the page lists what is missing; a reason waives it (a deviation).
    expect(page.locator("#baseline-missing")).to_contain_text("APQ-9 (parent)")
    page.get_by_label("Reason to randomise without the complete baseline (optional)").fill(
        "Baseline visit cancelled twice; the family asked not to wait."
    )
    page.get_by_role("button", name="Randomise").click()
    expect(page.get_by_text("Randomised to")).to_be_visible()
    assert Allocation.objects.unscoped().count() == 1

    page.goto(f"{live_server.url}/trial/START-B/consort/")
    diagram = page.locator("#consort-diagram svg")
    expect(diagram).to_contain_text("Assessed for eligibility (n=1)")
    expect(diagram).to_contain_text("Randomised (n=1)")
    page.locator("#consort-diagram a").first.click()
    expect(page.get_by_role("link", name="AAA-0042")).to_be_visible()
