"""Families awaiting a trial's randomisation are their own line in demand, never MST starts."""

import datetime as dt

import pytest
from django.urls import reverse

from mstoutcomes.accounts.models import Role
from mstoutcomes.accounts.tests.factories import member
from mstoutcomes.cases.tests.factories import EpisodeFactory, YoungPersonFactory
from mstoutcomes.referrals import demand, forecast, selectors
from mstoutcomes.referrals.models import Referral
from mstoutcomes.referrals.tests.factories import submitted_referral

pytestmark = pytest.mark.django_db


@pytest.fixture
def share(monkeypatch):
    """A 1:1 trial's share, through the hook the trial fills at start-up."""
    monkeypatch.setattr(demand, "_provider", [])
    demand.set_mst_share_provider(lambda site_id: 0.5)


def waiting_for_trial(site, n):
    rows = []
    for _ in range(n):
        referral, _ = submitted_referral(site=site)
        Referral.objects.unscoped().filter(pk=referral.pk).update(
            state="awaiting_trial", decided_on=dt.date.today()
        )
        rows.append(referral)
    return rows


def test_the_awaiting_line_counts_families_and_expected_starts_from_the_share(site_a, share):
    waiting_for_trial(site_a, 3)
    awaiting = demand.awaiting_randomisation(site_a.pk)
    assert (awaiting.families, awaiting.expected_mst_starts) == (3, 1.5)
    assert awaiting.line.startswith("Awaiting randomisation: 3; expected MST starts: 1.5")


def test_without_a_trial_the_line_has_no_expected_starts(site_a, monkeypatch):
    monkeypatch.setattr(demand, "_provider", [])
    waiting_for_trial(site_a, 2)
    awaiting = demand.awaiting_randomisation(site_a.pk)
    assert awaiting.expected_mst_starts is None and awaiting.line == "Awaiting randomisation: 2"


def test_capacity_and_case_mix_show_them_apart_from_the_waiting_list(client, site_a, share):
    waiting_for_trial(site_a, 2)
    queued, _ = submitted_referral(site=site_a)
    Referral.objects.unscoped().filter(pk=queued.pk).update(
        state="waiting_list", waiting_since=dt.date.today()
    )
    client.force_login(member(Role.SUPERVISOR, site_a, username="sue"))
    capacity = client.get(reverse("referrals:capacity"))
    html = capacity.content.decode()
    assert "Awaiting randomisation: 2; expected MST starts: 1" in html
    # Only the family on the waiting list has a forecast start and a likely therapist.
    assert [row["referral"].pk for row in capacity.context["waiting_rows"]] == [queued.pk]
    mix = client.get(reverse("referrals:case_mix")).content.decode()
    assert "Awaiting randomisation: 2" in mix
    board = client.get(reverse("referrals:dashboard")).content.decode()
    assert "Awaiting randomisation: 2" in board


def test_next_place_is_today_when_a_therapist_has_room_else_the_earliest_end():
    today = dt.date(2026, 3, 2)
    ends = (today + dt.timedelta(days=20), today + dt.timedelta(days=40))
    room = forecast.TherapistLoad(1, "A", 3, ends)
    full = forecast.TherapistLoad(2, "B", 2, ends)
    assert forecast.next_place([room, full], today) == today
    assert forecast.next_place([full], today) == today + dt.timedelta(days=20)
    assert forecast.next_place([], today) is None


def test_a_family_randomised_now_joins_the_back_of_the_queue(site_a, alice):
    today = dt.date.today()
    for days in (30, 60, 90, 120, 150):
        EpisodeFactory(
            young_person=YoungPersonFactory(site=site_a),
            therapist=alice,
            start_date=today - dt.timedelta(days=10),
            expected_end_date=today + dt.timedelta(days=days),
        )
    pace = selectors.next_mst_start(site=site_a, as_of=today)
    assert pace.next_place_on == today + dt.timedelta(days=30)
    assert pace.families_ahead == 0 and pace.wait_days == 30
    assert pace.too_long(14) and not pace.too_long(30)
    queued, _ = submitted_referral(site=site_a)
    Referral.objects.unscoped().filter(pk=queued.pk).update(
        state="waiting_list", waiting_since=today
    )
    behind = selectors.next_mst_start(site=site_a, as_of=today)
    assert behind.families_ahead == 1 and behind.wait_days == 60
