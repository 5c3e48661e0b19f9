"""A referrer refers; a supervisor screens, runs the panel, accepts and allocates; then reads
capacity and case mix; the referrer sees the decision. In Chromium, against the live server."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from mstoutcomes.accounts.models import AuditEvent, Role
from mstoutcomes.accounts.tests.factories import AgencyFactory, member
from mstoutcomes.referrals.models import Referral
from mstoutcomes.referrals.services import panel_meeting_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery"


def sign_in(page, base, username):
    page.goto(f"{base}/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def sign_out(page):
    page.get_by_role("button", name=re.compile("Sign out")).click()


def test_referral_from_intake_to_allocation(live_server, page, site_a, alice):
    agency = AgencyFactory(name="Browser YOS")
    member(
        Role.REFERRER, site_a, agency=agency, username="yos", first_name="Yara", last_name="Officer"
    )
    sam = member(Role.SUPERVISOR, site_a, username="sam", first_name="Sam", last_name="Super")
    broken = []
    page.on("response", lambda r: broken.append(r.url) if r.status >= 500 else None)

    # The referrer fills in the pages (each saves the draft) and sends the referral.
    sign_in(page, live_server.url, "yos")
    page.get_by_role("link", name="Referrals", exact=True).click()
    page.get_by_role("button", name="Refer a young person").click()
    page.get_by_role("button", name="Start the referral").click()
    dob = dt.date.today() - dt.timedelta(days=15 * 365)
    page.get_by_label("First name").fill("Kai")
    page.get_by_label("Last name").fill("Browsertest")
    page.get_by_label("Day").fill(str(dob.day))
    page.get_by_label("Month").fill(str(dob.month))
    page.get_by_label("Year").fill(str(dob.year))
    page.get_by_label("Male", exact=True).check()
    page.get_by_label("Postcode district").fill("M33")
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_label("Main carer's first name").fill("Donna")
    page.get_by_label("Main carer's last name").fill("Browsertest")
    page.get_by_label("Main carer's relationship to the young person").select_option("mother")
    page.get_by_role("button", name="Save and continue").click()
    for label in (
        "Physical aggression at home",
        "Physical aggression at school",
        "Running away or going missing",
        "Custody",
    ):
        page.get_by_label(label).check()
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_label("Offences and warnings in the last 12 months").fill("2")
    page.get_by_role("button", name="Save and continue").click()
    page.locator("#id_consent_referral_1").check()
    page.locator("#id_consent_share_1").check()
    page.locator("#id_assent_1").check()
    page.get_by_role("button", name="Save and continue").click()
    expect(
        page.get_by_role("heading", name="Check your referral before sending it")
    ).to_be_visible()
    page.get_by_role("button", name="Send the referral").click()
    expect(page.locator("#referral-status")).to_have_text("Submitted")
    sign_out(page)

    # The supervisor screens it, sends it to the panel, records the panel's acceptance.
    panel_meeting_create(by=sam, site=site_a, held_on=dt.date.today(), agencies=[agency])
    referral = Referral.objects.unscoped().get(family_name="Browsertest")
    sign_in(page, live_server.url, "sam")
    page.goto(f"{live_server.url}/referrals/{referral.pk}/")
    page.get_by_role("button", name="Start screening").click()
    expect(page.locator("#eligibility")).to_contain_text("Meets 3 of 7 severity criteria")
    page.get_by_role("button", name="Send to panel").click()
    expect(page.locator("#referral-status")).to_have_text("Ready for panel")
    page.get_by_role("link", name="Record the panel's decision").click()
    page.get_by_label("Accepted").check()
    page.get_by_label("Panel meeting").select_option(index=1)
    page.get_by_role("button", name="Record the decision").click()
    expect(page.locator("#referral-status")).to_have_text("Accepted")
    page.get_by_role("link", name="Allocate to a therapist").click()
    page.get_by_label("Therapist", exact=True).select_option(label="Alice Adams")
    page.get_by_role("button", name="Allocate and start MST").click()
    expect(page.locator("#referral-status")).to_have_text("Started MST")
    expect(page.locator("#decision")).to_contain_text("with Alice Adams")

    page.goto(f"{live_server.url}/referrals/capacity/")
    expect(page.locator("#therapists")).to_contain_text("Alice Adams")
    expect(page.locator("#free-now")).to_have_text("4")
    page.goto(f"{live_server.url}/referrals/case-mix/")
    expect(page.locator("#mix")).to_contain_text("Accepted")
    sign_out(page)

    # The referrer sees the outcome on their list.
    sign_in(page, live_server.url, "yos")
    page.goto(f"{live_server.url}/referrals/")
    expect(page.locator("#notifications")).to_contain_text("has started MST")
    assert broken == [], broken
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "referrals.referral.submitted",
        "referrals.referral.screening_started",
        "referrals.referral.ready_for_panel",
        "referrals.referral.accepted",
        "referrals.referral.allocated",
    } <= actions
