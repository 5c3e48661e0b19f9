"""A programme manager opens the cost report, reads the headline and changes a unit cost."""

import pytest
from playwright.sync_api import expect

from mstoutcomes.costs.models import UnitCost
from mstoutcomes.costs.tests.conftest import costed_site, loaded, pam  # noqa: F401
from tests.browser.test_accessibility import violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_programme_manager_reads_the_cost_report_and_changes_a_unit_cost(
    live_server,
    page,
    costed_site,  # noqa: F811
    pam,  # noqa: F811
):
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Username").fill("pam")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Costs", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Costs and savings")
    expect(page.get_by_text("MST cost per family")).to_be_visible()
    expect(page.get_by_text("£5,700").first).to_be_visible()
    expect(
        page.get_by_role("heading", name="Savings by budget holder: MST against MAU", exact=False)
    ).to_be_visible()
    expect(page.locator(".mst-chart svg").first).to_be_visible()
    expect(page.get_by_text("regression to the mean", exact=False)).to_be_visible()
    assert violations(page) == []

    page.get_by_role("link", name="Change Teacher or education welfare officer hour").click()
    page.get_by_label("Value", exact=True).fill("45")
    page.get_by_label("Highest plausible value").fill("60")
    page.get_by_label("Lowest plausible value").fill("30")
    page.get_by_role("button", name="Save unit cost").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Costs and savings")
    assert UnitCost.objects.get(site=costed_site, code="teacher_hour").is_local
