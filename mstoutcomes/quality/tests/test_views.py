"""The query pages over HTTP: list, one query, raising one; refusals; the trial dashboard."""

import pytest
from django.urls import reverse

from mstoutcomes.accounts.models import Role
from mstoutcomes.accounts.tests.factories import member
from mstoutcomes.cases.tests.factories import YoungPersonFactory
from mstoutcomes.quality.models import Query, QueryState
from mstoutcomes.quality.services import query_answer, query_open

pytestmark = pytest.mark.django_db
LIST = reverse("quality:list")


def _open(site, by, role=Role.RESEARCH_WORKER, **kwargs):
    kwargs.setdefault("message", "Check the SDQ date.")
    return query_open(by=by, site=site, assigned_role=role, **kwargs)


def _detail(query):
    return reverse("quality:detail", args=[query.pk])


def test_the_research_worker_lists_their_queries(client, tina, bob, site_a):
    query = _open(site_a, tina, young_person=YoungPersonFactory(site=site_a))
    client.force_login(bob)
    response = client.get(LIST)
    assert response.status_code == 200
    assert query.young_person.study_id in response.text
    assert "Check the SDQ date." in response.text
    assert 'href="/quality/"' in response.text  # the navigation link


def test_the_list_says_plainly_when_there_are_no_queries(client, bob):
    client.force_login(bob)
    response = client.get(LIST)
    assert 'id="no-queries"' in response.text
    assert "There are no data queries for you." in response.text


def test_roles_without_query_access_get_403_and_no_menu_link(client, site_a):
    statistician = member(Role.STATISTICIAN, site_a)
    client.force_login(statistician)
    assert client.get(LIST).status_code == 403
    assert 'href="/quality/"' not in client.get(reverse("home")).text


def test_the_list_filters_by_state_and_pages_by_25(client, tina, bob, site_a):
    for _ in range(26):
        _open(site_a, tina)
    query_answer(by=bob, query=Query.objects.unscoped().order_by("pk").first(), answer="Done.")
    client.force_login(tina)
    first = client.get(LIST)
    assert "26 queries" in first.text and "page 1 of 2" in first.text
    assert client.get(LIST, {"page": 2}).context["page"].object_list.__len__() == 1
    answered = client.get(LIST, {"state": "answered"})
    assert "1 query match these filters" in answered.text
    assert "No queries match these filters." in client.get(LIST, {"state": "closed"}).text


def test_a_query_of_another_role_or_site_is_not_found(client, tina, alice, carol, site_a):
    query = _open(site_a, tina)
    for user in (alice, carol):
        client.force_login(user)
        assert client.get(_detail(query)).status_code == 404


def test_a_treatment_query_is_not_found_for_the_blinded_research_worker(client, tina, bob, site_a):
    query = _open(site_a, tina, reveals_arm=True)
    client.force_login(bob)
    assert client.get(_detail(query)).status_code == 404
    assert "Check the SDQ date." not in client.get(LIST).text


def test_the_research_worker_answers_a_query_from_its_page(client, tina, bob, site_a):
    query = _open(site_a, tina)
    client.force_login(bob)
    page = client.get(_detail(query))
    assert "Answer this query" in page.text and "Close this query" not in page.text
    response = client.post(_detail(query), {"action": "answer", "answer-answer": "Corrected."})
    assert response.status_code == 302
    query.refresh_from_db()
    assert (query.state, query.answer) == (QueryState.ANSWERED, "Corrected.")
    assert "Corrected." in client.get(_detail(query)).text


def test_an_empty_answer_is_shown_as_an_error_and_nothing_is_saved(client, tina, bob, site_a):
    query = _open(site_a, tina)
    client.force_login(bob)
    response = client.post(_detail(query), {"action": "answer", "answer-answer": ""})
    assert response.status_code == 400
    assert "Enter your answer" in response.text
    query.refresh_from_db()
    assert query.state == QueryState.OPEN


def test_answering_twice_is_refused_with_a_plain_message(client, tina, bob, site_a):
    query = query_answer(by=bob, query=_open(site_a, tina), answer="Done.")
    client.force_login(bob)
    response = client.post(_detail(query), {"action": "answer", "answer-answer": "Again"})
    assert response.status_code == 400
    assert "This query has already been answered." in response.text


def test_the_research_worker_cannot_close_a_query(client, tina, bob, site_a):
    query = _open(site_a, tina)
    client.force_login(bob)
    response = client.post(_detail(query), {"action": "close", "close-note": "Done"})
    assert response.status_code == 403
    query.refresh_from_db()
    assert query.state == QueryState.OPEN


def test_the_trial_manager_closes_and_reopens_a_query(client, tina, site_a):
    query = _open(site_a, tina)
    client.force_login(tina)
    refused = client.post(_detail(query), {"action": "close", "close-note": ""})
    assert refused.status_code == 400
    assert "Say why you are closing a query that has no answer." in refused.text
    client.post(_detail(query), {"action": "close", "close-note": "Raised in error."})
    query.refresh_from_db()
    assert query.state == QueryState.CLOSED
    page = client.get(_detail(query))
    assert "Reopen this query" in page.text and "Raised in error." in page.text
    client.post(_detail(query), {"action": "reopen", "reopen-reason": "Still wrong."})
    query.refresh_from_db()
    assert query.state == QueryState.OPEN
    assert "Reopened" in client.get(_detail(query)).text


def test_the_trial_manager_raises_a_query_about_a_young_person(client, tina, site_a):
    person = YoungPersonFactory(site=site_a)
    client.force_login(tina)
    assert client.get(reverse("quality:new")).status_code == 200
    response = client.post(
        reverse("quality:new"),
        {
            "site": site_a.pk,
            "study_id": person.study_id,
            "assigned_role": Role.RESEARCH_WORKER,
            "message": "The 6-month SRD looks duplicated.",
        },
    )
    query = Query.objects.unscoped().get()
    assert response.status_code == 302 and response.url == _detail(query)
    assert (query.young_person, query.opened_by, query.rule) == (person, tina, "manual")


def test_raising_a_query_names_the_field_that_is_wrong(client, tina, site_a):
    client.force_login(tina)
    response = client.post(
        reverse("quality:new"),
        {"site": site_a.pk, "study_id": "NOPE-1", "assigned_role": "", "message": ""},
    )
    assert response.status_code == 400
    assert "No young person you can see has this study ID." in response.text
    assert "Select who should answer the query" in response.text
    assert "Enter what needs checking" in response.text
    assert not Query.objects.unscoped().exists()


def test_only_query_managers_may_raise_a_query(client, bob, site_a):
    client.force_login(bob)
    assert client.get(reverse("quality:new")).status_code == 403
    response = client.post(
        reverse("quality:new"),
        {"site": site_a.pk, "assigned_role": Role.RESEARCH_WORKER, "message": "x"},
    )
    assert response.status_code == 403
    assert not Query.objects.unscoped().exists()


def test_the_trial_dashboard_shows_open_queries_per_site(client, tina, site_a, trial):
    _open(site_a, tina, trial=trial)
    client.force_login(tina)
    response = client.get(reverse("trial:recruitment", args=[trial.code]))
    assert response.status_code == 200
    assert "Open queries per site" in response.text
    assert 'id="open-queries"' in response.text
    assert "1 query in this trial still to be answered or closed" in response.text
