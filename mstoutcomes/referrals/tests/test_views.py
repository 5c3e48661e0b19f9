"""Referral pages with the personas: the multi-page form, the panel, lists and query counts."""

import datetime as dt

import pytest
from django.urls import reverse

from mstoutcomes.accounts.models import Role
from mstoutcomes.accounts.tests.factories import member
from mstoutcomes.referrals.models import Referral
from mstoutcomes.referrals.tests.factories import referrer_at, submitted_referral
from mstoutcomes.referrals.workflow import State

pytestmark = pytest.mark.django_db


def test_a_referrer_fills_the_pages_and_submits(client, site_a):
    referrer, agency = referrer_at(site_a)
    client.force_login(referrer)
    response = client.post(reverse("referrals:start"), {"site": site_a.pk, "agency": agency.pk})
    referral = Referral.objects.visible_to(referrer).get()
    assert response.url == reverse("referrals:page", args=[referral.pk, "person"])

    dob = dt.date.today() - dt.timedelta(days=15 * 365)
    pages = {
        "person": {
            "given_name": "Kai",
            "family_name": "Pagetest",
            "date_of_birth_0": dob.day,
            "date_of_birth_1": dob.month,
            "date_of_birth_2": dob.year,
            "sex": "male",
            "postcode_district": "m41",
            "referrer_name": "Jade Worker",
        },
        "carers": {
            "carer1_given_name": "Donna",
            "carer1_family_name": "Pagetest",
            "carer1_relationship": "mother",
        },
        "reasons": {
            "behaviours": ["aggression_home", "offending", "running_away"],
            "risks": ["custody"],
        },
        "history": {"offences_12m": "2", "offences_18m": "4", "agencies_involved": [agency.pk]},
        "consent": {"consent_referral": "yes", "consent_share": "yes", "assent": "no"},
    }
    for page, data in pages.items():
        response = client.post(reverse("referrals:page", args=[referral.pk, page]), data)
        assert response.status_code == 302, (page, response.content.decode()[:2000])
    assert client.get(reverse("referrals:check", args=[referral.pk])).status_code == 200

    response = client.post(reverse("referrals:check", args=[referral.pk]))

    referral.refresh_from_db()
    assert response.url == reverse("referrals:detail", args=[referral.pk])
    assert referral.state == State.SUBMITTED and referral.postcode_district == "M41"
    assert referral.eligible
    page = client.get(response.url).content.decode()
    assert "Submitted" in page and "Meets 3 of 7 severity criteria" in page


def test_a_bad_page_shows_the_error_at_the_field_and_saves_nothing(client, site_a):
    referrer, agency = referrer_at(site_a)
    client.force_login(referrer)
    client.post(reverse("referrals:start"), {"site": site_a.pk, "agency": agency.pk})
    referral = Referral.objects.visible_to(referrer).get()

    response = client.post(
        reverse("referrals:page", args=[referral.pk, "history"]),
        {"offences_12m": "3", "offences_18m": "1"},
    )

    assert response.status_code == 400
    assert "cannot be fewer than in the last 12 months" in response.content.decode()
    referral.refresh_from_db()
    assert referral.offences_12m is None


def test_another_referrer_cannot_open_a_draft(client, site_a):
    referrer, agency = referrer_at(site_a)
    client.force_login(referrer)
    client.post(reverse("referrals:start"), {"site": site_a.pk, "agency": agency.pk})
    referral = Referral.objects.visible_to(referrer).get()
    colleague = member(Role.REFERRER, site_a, agency=agency)
    client.force_login(colleague)

    assert client.get(reverse("referrals:page", args=[referral.pk, "person"])).status_code == 404


def test_the_list_page_runs_a_fixed_number_of_queries(
    client, site_a, django_assert_max_num_queries
):
    supervisor = member(Role.SUPERVISOR, site_a)
    for _ in range(3):
        submitted_referral(site=site_a)
    client.force_login(supervisor)
    client.get(reverse("referrals:list"))
    for _ in range(5):
        submitted_referral(site=site_a)

    with django_assert_max_num_queries(12):
        response = client.get(reverse("referrals:list"))

    assert response.content.decode().count("REF-") == 8


def test_capacity_case_mix_and_dashboard_render_for_a_supervisor(client, site_a):
    supervisor = member(Role.SUPERVISOR, site_a)
    submitted_referral(site=site_a)
    client.force_login(supervisor)

    assert "places free now" in client.get(reverse("referrals:capacity")).content.decode()
    assert "Suggested order" in client.get(reverse("referrals:case_mix")).content.decode()
    dashboard = client.get(reverse("referrals:dashboard")).content.decode()
    assert "<svg" in dashboard and "From referral to starting MST" in dashboard
