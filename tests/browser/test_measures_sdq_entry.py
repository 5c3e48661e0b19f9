"""A therapist enters an SDQ from paper with the keyboard and sees it on the chart, in Chromium."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from mstoutcomes.cases.tests.factories import EpisodeFactory, YoungPersonFactory
from mstoutcomes.measures.models import Assessment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Answers from a paper parent SDQ, by item number; item 24 was left blank.
PAPER = {
    1: 1,
    2: 2,
    3: 1,
    4: 0,
    5: 2,
    6: 1,
    7: 0,
    8: 1,
    9: 1,
    10: 2,
    11: 1,
    12: 2,
    13: 0,
    14: 1,
    15: 2,
    16: 1,
    17: 1,
    18: 2,
    19: 0,
    20: 1,
    21: 0,
    22: 1,
    23: 1,
    25: 0,
}


def test_therapist_enters_an_sdq_from_paper_and_sees_it_charted(live_server, page, site_a, alice):
    person = YoungPersonFactory(site=site_a, study_id="AAA-0042", given_name="Rowan")
    EpisodeFactory(
        young_person=person, therapist=alice, start_date=dt.date.today() - dt.timedelta(days=4)
    )
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()

    page.goto(f"{live_server.url}/measures/")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("Measures due"))
    page.get_by_role("link", name=re.compile(r"SDQ parent or carer.*AAA-0042")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Strengths and Difficulties")

    today = dt.date.today()
    page.get_by_label("Day").fill(str(today.day))
    page.get_by_label("Month").fill(str(today.month))
    page.get_by_label("Year").fill(str(today.year))
    page.get_by_label("Paper form").check()
    for item, answer in PAPER.items():
        # Radios by keyboard: focus the group's first option, Space, arrow to the answer.
        group = page.locator(f"input[name='item_{item}']")
        group.nth(0).focus()
        page.keyboard.press("Space")
        for _ in range(answer):
            page.keyboard.press("ArrowRight")
        expect(group.nth(answer)).to_be_checked()
    page.locator("input[name='item_ebddiff'][value='2']").check()
    page.locator("input[name='item_distres'][value='3']").check()
    page.locator("input[name='item_imphome'][value='2']").check()
    page.get_by_role("button", name="Save and score").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Strengths and Difficulties")
    emotional = page.get_by_role("row", name=re.compile("Emotional symptoms"))
    # Items 3, 8, 13, 16 answered (1 + 1 + 0 + 1 = 3), 24 blank: 3 / 4 × 5 = 3.75 → 4
    expect(emotional).to_contain_text("4")
    expect(emotional).to_contain_text("4 of 5 (prorated)")
    saved = Assessment.objects.unscoped().get(young_person=person)
    # conduct 9 (item 7 reversed), hyperactivity 10 (21, 25 reversed), peer 4 (11, 14 reversed)
    assert saved.scores["scales"]["total"]["value"] == 4 + 9 + 10 + 4
    assert saved.timepoint == "baseline"

    page.get_by_role("link", name="Measures and progress").click()
    chart = page.locator("figure.mst-chart").first
    expect(chart.locator("svg")).to_be_visible()
    table = chart.get_by_role("table")
    expect(table).to_contain_text("Total difficulties")
    expect(table.get_by_role("row").nth(1)).to_contain_text("27")
    expect(page.get_by_role("cell", name="Completed in window").first).to_be_visible()
