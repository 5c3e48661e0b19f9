"""The trial's protocol order, end to end in Chromium against the live server.

Referral → the panel accepts it at a trial site (it waits for the trial; no therapist can be
allocated) → the trial manager records eligibility and consent on a form version → a research
worker enters the baseline → randomisation is refused until the baseline is complete, then made →
(MST) the supervisor allocates a therapist and the episode opens, or (management as usual) there
is nothing to allocate → six months later a research worker enters the 6-month trial assessment,
and a therapist who tries the same trial instrument is refused with a plain message.
"""

import datetime as dt
import re

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from mstoutcomes.accounts.models import AuditEvent, Role
from mstoutcomes.accounts.tests.factories import SiteFactory, member
from mstoutcomes.cases.models import Episode
from mstoutcomes.cases.tests.factories import YoungPersonFactory
from mstoutcomes.measures.models import Assessment
from mstoutcomes.measures.services import assessment_record
from mstoutcomes.referrals import services as referrals
from mstoutcomes.referrals.tests.factories import submitted_referral
from mstoutcomes.trial.blocks import stratum_arms
from mstoutcomes.trial.models import Allocation, Participant
from mstoutcomes.trial.order import baseline_tasks
from mstoutcomes.trial.services import allocation_key, participant_enrol, participant_randomise
from mstoutcomes.trial.tests.conftest import make_trial, ready

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery"
CODE = "START-J"
FACTORS = [
    {"name": "site", "categories": ["TRF", "STK"]},
    {"name": "sex", "categories": ["female", "male", "not_known"]},
]
ARM_NAMES = {"MST": "MST", "MAU": "Management as usual"}
# APQ-9, parent, from paper: its nine items (by id) answered 1 (never) to 5 (always).
APQ9_ANSWERS = {
    "pp1": 4,
    "pp2": 5,
    "pp3": 4,
    "id1": 2,
    "id2": 3,
    "id3": 2,
    "ps1": 1,
    "ps2": 2,
    "ps3": 1,
}


def sign_in(page, base, username):
    page.goto(f"{base}/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name=re.compile("Sign out"))).to_be_visible()


def sign_out(page):
    page.get_by_role("button", name=re.compile("Sign out")).click()


def fill_date(page, prefix, value):
    page.locator(f"#id_{prefix}_0").fill(str(value.day))
    page.locator(f"#id_{prefix}_1").fill(str(value.month))
    page.locator(f"#id_{prefix}_2").fill(str(value.year))


def enter_apq9_parent(page, base, study_id, *, code, label):
    """Type a parent's APQ-9 from paper, filed at the named timepoint."""
    page.goto(f"{base}/measures/{study_id}/enter/apq9/parent/")
    fill_date(page, "completed_on", dt.date.today())
    page.get_by_label("Paper form").check()
    timepoint = page.get_by_label("Timepoint", exact=True)
    expect(timepoint.locator(f"option[value='{code}']")).to_contain_text(label)
    timepoint.select_option(code)
    for item, answer in APQ9_ANSWERS.items():
        page.locator(f"input[name='item_{item}'][value='{answer}']").check()
    page.get_by_role("button", name="Save and score").click()


def first_slot_of(trial, arm):
    """The number of earlier slots in the male TRF stratum before the first slot for ``arm``.

    The blocks method draws each stratum's list from the allocation key and the trial's list
    identity, so the test reads the list ahead (as a statistician can) instead of relying on luck.
    Every block holds both arms, so the answer is always below the largest block size (6).
    """
    stratum = trial.spec.stratum_of({"site": "TRF", "sex": "male"})
    arms = stratum_arms(
        trial.spec, key=allocation_key(), list_id=trial.list_id, stratum=stratum, length=6
    )
    return arms.index(arm)


def randomise_others(trial, trial_manager, count):
    """Randomise ``count`` other male TRF participants (services), to reach the arm wanted."""
    for _ in range(count):
        person = YoungPersonFactory(site=trial.sites.get(), sex="male")
        participant = participant_enrol(by=trial_manager, trial=trial, young_person=person)
        participant_randomise(by=trial_manager, participant=ready(participant, trial_manager))


@pytest.mark.parametrize("arm", ["MST", "MAU"])
def test_the_protocol_order_from_referral_to_the_six_month_follow_up(live_server, page, arm):
    base = live_server.url
    trafford = SiteFactory(code="TRF", name="MST Trafford")  # TRF's rules make it a trial site
    trial = make_trial(trafford, method="blocks", code=CODE, factors=FACTORS)
    sue = member(Role.SUPERVISOR, trafford, username="sue", first_name="Sue", last_name="Super")
    tina = member(Role.TRIAL_MANAGER, trafford, username="tina")
    rita = member(Role.RESEARCH_WORKER, trafford, username="rita")
    member(Role.THERAPIST, trafford, username="theo", first_name="Theo", last_name="Therapist")
    randomise_others(trial, tina, first_slot_of(trial, arm))
    broken = []
    page.on("response", lambda r: broken.append(r.url) if r.status >= 500 else None)

    # The referral form's pages are driven in test_referral_journey.py; here the referral is
    # made, screened and sent to panel by services, and every trial step is taken in the browser.
    referral, _ = submitted_referral(site=trafford, given_name="Kai", family_name="Journey")
    referrals.referral_screen(by=sue, referral=referral)
    referrals.referral_ready_for_panel(by=sue, referral=referral)
    referrals.panel_meeting_create(by=sue, site=trafford, held_on=dt.date.today())

    # The panel accepts: the family waits for the trial and no therapist can be allocated.
    sign_in(page, base, "sue")
    page.goto(f"{base}/referrals/{referral.pk}/")
    page.get_by_role("link", name="Record the panel's decision").click()
    page.get_by_label("Accepted").check()
    page.get_by_label("Panel meeting").select_option(index=1)
    page.get_by_role("button", name="Record the decision").click()
    status = page.locator("#referral-status")
    expect(status).to_have_text("Awaiting consent, baseline and randomisation")
    expect(page.get_by_role("link", name="Allocate to a therapist")).to_have_count(0)
    expect(page.locator("#allocation-refusal")).to_contain_text("has not been randomised")
    # Trying the allocate page's address directly: a plain refusal, no form.
    page.goto(f"{base}/referrals/{referral.pk}/allocate/")
    expect(page.locator("#refusal")).to_contain_text("has not been randomised")
    expect(page.get_by_role("button", name="Allocate and start MST")).to_have_count(0)
    assert not Episode.objects.unscoped().exists()
    sign_out(page)

    referral.refresh_from_db()
    person = referral.young_person
    participant = Participant.objects.unscoped().get(young_person=person)
    assert participant.levels == {"site": "TRF", "sex": "male"}  # the stratum read ahead
    participant_url = f"{base}/trial/{CODE}/participants/{participant.pk}/"

    # The trial manager confirms eligibility and records consent against the form versions.
    sign_in(page, base, "tina")
    page.goto(participant_url)
    page.get_by_label("Yes, eligible").check()
    fill_date(page, "eligibility-on", dt.date.today())
    page.get_by_role("button", name="Save eligibility").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    for kind in ("Carer consent to take part", "Young person's assent"):
        page.get_by_label(f"{kind}, version v1.0").check()
        page.get_by_label("Yes, given").check()
        fill_date(page, "consent-recorded_on", dt.date.today())
        page.get_by_role("button", name="Save consent").click()
        expect(page.get_by_text("Saved.")).to_be_visible()
    sign_out(page)

    # A research worker enters one baseline instrument in the browser.
    sign_in(page, base, "rita")
    enter_apq9_parent(page, base, person.study_id, code="t0", label="Trial baseline (open")
    expect(page.get_by_role("heading", level=1)).to_contain_text("APQ")
    sign_out(page)

    # Randomisation is refused while the baseline is incomplete, naming what is missing.
    sign_in(page, base, "tina")
    page.goto(participant_url)
    missing = page.locator("#baseline-missing")
    expect(missing).to_contain_text("SDQ")
    expect(missing).not_to_contain_text("APQ-9 (parent)")
    page.get_by_role("button", name="Randomise").click()
    banner = page.locator(".govuk-notification-banner")
    expect(banner).to_contain_text("baseline assessments are not complete")
    expect(banner).to_contain_text("Still missing: SDQ")
    expect(page.locator("#allocation")).to_have_text("Not randomised")
    assert not Allocation.objects.unscoped().filter(participant=participant).exists()
    assert AuditEvent.objects.filter(
        action="trial.randomisation.refused", actor=tina, data__reason="baseline_incomplete"
    ).exists()

    # The other six baseline instruments are entered by the research worker through the same
    # service the entry page calls (typing all seven in the browser is slow; one is enough).
    for instrument, respondent, _ in baseline_tasks():
        if (instrument, respondent) == ("apq9", "parent"):
            continue
        assessment_record(
            by=rita,
            young_person=person,
            instrument=instrument,
            respondent=respondent,
            completed_on=dt.date.today(),
            mode="paper",
            entered=_any_scores(instrument, respondent),
            timepoint="t0",
        )
    page.goto(participant_url)
    expect(page.locator("#baseline")).to_contain_text("baseline assessments are complete")
    page.get_by_role("button", name="Randomise").click()
    expect(page.get_by_text("Randomised to")).to_have_text(f"Randomised to {ARM_NAMES[arm]}.")
    assert Allocation.objects.unscoped().get(participant=participant).arm == arm
    sign_out(page)

    # The arm decides what the supervisor may do next.
    sign_in(page, base, "sue")
    page.goto(f"{base}/referrals/{referral.pk}/")
    if arm == "MST":
        expect(status).to_have_text("Accepted")
        page.get_by_role("link", name="Allocate to a therapist").click()
        page.get_by_label("Therapist", exact=True).select_option(label="Theo Therapist")
        page.get_by_role("button", name="Allocate and start MST").click()
        expect(status).to_have_text("Started MST")
        expect(page.locator("#decision")).to_contain_text("with Theo Therapist")
        assert Episode.objects.unscoped().filter(young_person=person).count() == 1
    else:
        expect(status).to_have_text("Management as usual (trial)")
        expect(page.get_by_role("link", name="Allocate to a therapist")).to_have_count(0)
        page.get_by_role("link", name=person.study_id).click()  # the young person's record
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        expect(page.get_by_role("link", name="Start an MST episode")).to_have_count(0)
        expect(page.locator("#treatment-refusal")).to_contain_text("management as usual")
        assert not Episode.objects.unscoped().filter(young_person=person).exists()
    sign_out(page)

    # Six months on, the 6-month window is open: the research worker enters the trial measure;
    # a therapist who tries the same trial instrument is refused with a plain message.
    later = timezone.now() + dt.timedelta(days=183)
    with time_machine.travel(later, tick=True):
        sign_in(page, base, "rita")
        enter_apq9_parent(page, base, person.study_id, code="t6", label="Trial 6 months (open")
        expect(page.get_by_role("heading", level=1)).to_contain_text("APQ")
        saved = Assessment.objects.unscoped().get(
            young_person=person, schedule="trial", timepoint="t6"
        )
        assert not saved.out_of_window
        sign_out(page)

        sign_in(page, base, "theo")
        page.goto(f"{base}/measures/{person.study_id}/enter/apq9/parent/")
        expect(page.locator("#refusal")).to_have_text(
            f"APQ-9 is one of the trial's outcome measures and {person.study_id} is a trial "
            "participant: only a research worker or the trial manager enters it."
        )
        expect(page.get_by_role("button", name="Save and score")).to_have_count(0)
        sign_out(page)

    assert Assessment.objects.unscoped().filter(young_person=person, timepoint="t6").count() == 1
    assert broken == [], broken


def _any_scores(instrument, respondent):
    """Scale scores within range for every enterable scale of an instrument (paper totals)."""
    from mstoutcomes.measures import registry

    return {
        scale.code: scale.minimum
        for scale in registry.instrument(instrument).scales_for(respondent)
        if scale.enterable
    }
