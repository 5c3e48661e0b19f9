"""The trial's reporting pages and an analysis run's progress, as people use them in Chromium."""

import pytest
from playwright.sync_api import expect

from mstoutcomes.accounts.models import Role
from mstoutcomes.accounts.tests.factories import MembershipFactory, member
from mstoutcomes.analysis.services import analysis_run_start
from mstoutcomes.cases.tests.factories import YoungPersonFactory
from mstoutcomes.trial.services import participant_enrol, participant_randomise
from mstoutcomes.trial.tests.conftest import make_trial, ready
from tests.browser.test_accessibility import violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def small_trial(site_a):
    """Four young people randomised and one whose assessment is not finished."""
    trial = make_trial(site_a, code="START-S")
    tina = member(Role.TRIAL_MANAGER, site_a, username="tina")
    for n in range(4):
        person = YoungPersonFactory(site=site_a, study_id=f"AAA-{n + 1:04d}")
        participant = ready(participant_enrol(by=tina, trial=trial, young_person=person), tina)
        participant_randomise(by=tina, participant=participant)
    participant_enrol(by=tina, trial=trial, young_person=YoungPersonFactory(site=site_a))
    return trial


def test_trial_manager_finds_recruitment_and_consort_from_the_menu(live_server, page, small_trial):
    sign_in(page, live_server, "tina")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Trial").click()
    assert violations(page) == []
    page.get_by_role("link", name="Recruitment in START-S").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Recruitment and follow-up")
    expect(page.locator("#cumulative-chart svg")).to_be_visible()
    expect(page.locator("#site-chart svg")).to_be_visible()
    assert violations(page) == []

    page.goto(f"{live_server.url}/trial/START-S/consort/")
    diagram = page.locator("#consort-diagram svg")
    expect(diagram).to_be_visible()
    text = diagram.text_content()
    assert "Randomised (n=4)" in text and "Follow-up: " in text
    assert "Assessment not finished (n=1)" in text and "Excluded (n=0)" in text
    assert "…" not in text  # long reasons wrap; nothing is cut off
    assert violations(page) == []


def test_the_deviations_link_shows_only_where_the_log_may_be_opened(
    live_server, page, site_a, site_b
):
    make_trial(site_a, code="START-S")
    # Sees the trial through the dashboards at A; may read deviations only at B, not in the trial.
    sam = member(Role.SUPERVISOR, site_a, username="sam")
    MembershipFactory(user=sam, site=site_b, role=Role.PROGRAMME_MANAGER)
    sign_in(page, live_server, "sam")
    page.goto(f"{live_server.url}/trial/")
    expect(page.get_by_text("START-S", exact=False)).to_be_visible()
    expect(page.get_by_role("link", name="Protocol deviations in START-S")).to_have_count(0)
    assert page.goto(f"{live_server.url}/trial/START-S/deviations/").status == 403


def test_progress_is_swapped_inside_one_live_region(live_server, page, site_a):
    stella = member(Role.STATISTICIAN, site_a, username="stella")
    run = analysis_run_start(by=stella, site=site_a)  # no worker runs here: it stays queued
    sign_in(page, live_server, "stella")
    page.goto(f"{live_server.url}/analysis/runs/{run.pk}/")
    region = page.locator("#run-progress")
    expect(region).to_have_attribute("role", "status")
    expect(region).to_contain_text("Waiting for a worker")
    page.evaluate(
        "() => { const r = document.getElementById('run-progress'); r.dataset.kept = 'yes';"
        " r.querySelector('.mst-progress-poller').dataset.old = 'yes'; }"
    )
    # After a poll the inside is new but the live region is the same element.
    page.wait_for_function(
        "() => !document.querySelector('#run-progress .mst-progress-poller[data-old]')"
        " && document.querySelector('#run-progress .mst-progress-poller')",
        timeout=10_000,
    )
    assert page.evaluate("() => document.getElementById('run-progress').dataset.kept") == "yes"
    assert page.locator("[aria-live]").count() == 1
    assert violations(page) == []
