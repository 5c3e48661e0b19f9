import pytest
from django.urls import reverse

from mstoutcomes.accounts.models import Role
from mstoutcomes.accounts.tests.factories import member
from mstoutcomes.cases.tests.factories import EpisodeFactory, YoungPersonFactory

URL = reverse("cases:list")


@pytest.fixture
def people(site_a, site_b, alice):
    jay = YoungPersonFactory(site=site_a, given_name="Jay", family_name="Khan", study_id="AAA-0001")
    EpisodeFactory(young_person=jay, therapist=alice)
    mia = YoungPersonFactory(site=site_a, given_name="Mia", family_name="Lowe", study_id="AAA-0002")
    zed = YoungPersonFactory(site=site_b, given_name="Zed", family_name="Ross", study_id="BBB-0001")
    return jay, mia, zed


def test_sign_in_is_required(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert reverse("accounts:sign_in") in response["Location"]


def test_therapist_sees_own_sites_young_people_only(client, alice, people):
    client.force_login(alice)
    response = client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Jay Khan" in html and "Mia Lowe" in html
    assert "Zed Ross" not in html and "BBB-0001" not in html


def test_read_only_research_worker_sees_list_without_add_button(client, bob, people):
    client.force_login(bob)
    html = client.get(URL).content.decode()
    assert "Jay Khan" in html
    assert reverse("cases:create") not in html


def test_other_sites_therapist_sees_none_of_site_a(client, carol, people):
    client.force_login(carol)
    html = client.get(URL).content.decode()
    assert "Jay Khan" not in html and "AAA-0001" not in html
    assert "Zed Ross" in html


def test_search_by_name_and_by_study_id(client, alice, people):
    client.force_login(alice)
    by_name = client.get(URL, {"q": "khan"}).content.decode()
    assert "Jay Khan" in by_name and "Mia Lowe" not in by_name
    by_id = client.get(URL, {"q": "AAA-0002"}).content.decode()
    assert "Mia Lowe" in by_id and "Jay Khan" not in by_id


def test_filter_by_status_and_therapist(client, alice, people):
    client.force_login(alice)
    treating = client.get(URL, {"status": "in_treatment"}).content.decode()
    assert "Jay Khan" in treating and "Mia Lowe" not in treating
    referred = client.get(URL, {"status": "referred"}).content.decode()
    assert "Mia Lowe" in referred and "Jay Khan" not in referred
    mine = client.get(URL, {"therapist": alice.pk}).content.decode()
    assert "Jay Khan" in mine and "Mia Lowe" not in mine


def test_empty_search_says_nothing_matches(client, alice, people):
    client.force_login(alice)
    html = client.get(URL, {"q": "nobody-by-this-name"}).content.decode()
    assert "No young people match" in html


def test_statistician_sees_study_ids_but_never_names_and_cannot_search_names(
    client, site_a, people
):
    statistician = member(Role.STATISTICIAN, site_a)
    client.force_login(statistician)
    html = client.get(URL).content.decode()
    assert "AAA-0001" in html
    assert "Jay" not in html and "Khan" not in html
    searched = client.get(URL, {"q": "Khan"}).content.decode()
    assert "AAA-0001" not in searched


def test_statistician_cannot_sort_by_name(client, site_a, people):
    statistician = member(Role.STATISTICIAN, site_a)
    client.force_login(statistician)
    html = client.get(URL, {"sort": "name"}).content.decode()
    assert html.index("AAA-0001") < html.index("AAA-0002")
    assert 'value="name"' not in html


def test_list_is_paginated_and_keeps_filters_in_page_links(client, alice, site_a, settings):
    for n in range(30):
        YoungPersonFactory(site=site_a, study_id=f"AAA-{n + 10:04d}", family_name=f"Zz{n:02d}")
    client.force_login(alice)
    response = client.get(URL, {"q": "Zz", "sort": "study_id"})
    html = response.content.decode()
    assert "Showing 1 to 25 of 30 young people" in html
    assert "q=Zz&amp;sort=study_id&amp;page=2" in html
    second = client.get(URL, {"q": "Zz", "sort": "study_id", "page": 2}).content.decode()
    assert "Showing 26 to 30 of 30" in second


def test_htmx_request_returns_only_the_results(client, alice, people):
    client.force_login(alice)
    response = client.get(
        URL, {"q": "khan"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="caseload-results"
    )
    html = response.content.decode()
    assert "Jay Khan" in html
    assert "<html" not in html


def test_list_runs_a_fixed_number_of_queries_however_many_rows(
    client, alice, site_a, django_assert_max_num_queries
):
    for n in range(25):
        person = YoungPersonFactory(site=site_a, study_id=f"AAA-{n + 100:04d}")
        EpisodeFactory(young_person=person, therapist=alice)
    client.force_login(alice)
    with django_assert_max_num_queries(12):
        response = client.get(URL)
    assert response.status_code == 200
