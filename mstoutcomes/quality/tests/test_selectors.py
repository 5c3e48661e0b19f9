"""Who sees which queries: by site, by role, and blind to the arm."""

import pytest

from mstoutcomes.accounts.models import Role
from mstoutcomes.accounts.tests.factories import member
from mstoutcomes.cases.tests.factories import YoungPersonFactory
from mstoutcomes.quality.models import QueryState
from mstoutcomes.quality.selectors import (
    QueryFilter,
    open_queries_block_lock,
    open_query_counts,
    queries_visible_to,
    query_timeline,
)
from mstoutcomes.quality.services import query_answer, query_close, query_open

pytestmark = pytest.mark.django_db


def _open(site, by, role=Role.RESEARCH_WORKER, **kwargs):
    return query_open(by=by, site=site, message="Check this.", assigned_role=role, **kwargs)


@pytest.fixture
def tom(site_b):
    """Trial manager at site B."""
    return member(Role.TRIAL_MANAGER, site_b, username="tom")


def test_a_research_worker_sees_only_the_queries_assigned_to_research_workers(tina, bob, site_a):
    mine = _open(site_a, tina)
    _open(site_a, tina, role=Role.PROGRAMME_MANAGER)
    assert list(queries_visible_to(user=bob)) == [mine]


def test_the_trial_manager_sees_every_query_at_their_site_and_none_elsewhere(
    tina, tom, site_a, site_b
):
    here = {_open(site_a, tina), _open(site_a, tina, role=Role.THERAPIST)}
    there = _open(site_b, tom)
    assert set(queries_visible_to(user=tina)) == here
    assert list(queries_visible_to(user=tom)) == [there]


def test_staff_at_another_site_see_none_of_a_sites_queries(tina, carol, site_a):
    _open(site_a, tina, role=Role.THERAPIST)
    assert list(queries_visible_to(user=carol)) == []


def test_a_query_about_treatment_is_hidden_from_the_blinded_research_worker(tina, bob, site_a):
    neutral = _open(site_a, tina)
    _open(site_a, tina, reveals_arm=True)
    assert list(queries_visible_to(user=bob)) == [neutral]
    assert len(queries_visible_to(user=tina)) == 2


def test_a_role_without_query_access_sees_nothing(tina, site_a):
    statistician = member(Role.STATISTICIAN, site_a)
    _open(site_a, tina)
    assert list(queries_visible_to(user=statistician)) == []


def test_queries_filter_by_state_rule_and_site(tina, bob, site_a):
    first = _open(site_a, tina)
    second = _open(site_a, tina)
    query_answer(by=bob, query=second, answer="Fixed.")
    assert list(queries_visible_to(user=tina, filters=QueryFilter(state="open"))) == [first]
    assert list(queries_visible_to(user=tina, filters=QueryFilter(rule="missing_baseline"))) == []
    assert len(queries_visible_to(user=tina, filters=QueryFilter(site_id=site_a.pk))) == 2


def test_open_query_counts_give_every_trial_site_the_user_sees_zeros_included(
    tina, bob, site_a, trial
):
    person = YoungPersonFactory(site=site_a)
    first = _open(site_a, tina, young_person=person, trial=trial)
    _open(site_a, tina, trial=trial)
    query_answer(by=bob, query=first, answer="Done.")
    _open(site_a, tina)  # not about the trial
    [row] = open_query_counts(user=tina, trial=trial)
    assert (row.site, row.open, row.answered, row.live) == (site_a, 1, 1, 2)
    query_close(by=tina, query=first)
    assert open_query_counts(user=tina, trial=trial)[0].live == 1


def test_open_query_counts_are_blind_for_a_blinded_user(tina, bob, site_a, trial):
    _open(site_a, tina, trial=trial, reveals_arm=True)
    assert open_query_counts(user=bob, trial=trial)[0].live == 0
    assert open_query_counts(user=tina, trial=trial)[0].live == 1


def test_the_lock_waits_for_every_open_query_blind_or_not(tina, bob, site_a, trial):
    assert open_queries_block_lock(trial) == []
    first = _open(site_a, tina, trial=trial, reveals_arm=True)
    _open(site_a, tina, trial=trial)
    assert open_queries_block_lock(trial) == [
        "2 data queries are still open at Site A: answer and close them before the lock."
    ]
    query_close(by=tina, query=first, note="Not a problem.")
    assert open_queries_block_lock(trial) == [
        "1 data query is still open at Site A: answer and close them before the lock."
    ]


def test_the_timeline_tells_the_querys_story_and_hides_names_from_the_blinded(tina, bob, site_a):
    query = _open(site_a, tina)
    query_answer(by=bob, query=query, answer="Corrected.")
    query_close(by=tina, query=query)
    entries = query_timeline(query)
    assert [(e.who, e.what, e.text) for e in entries] == [
        ("Tina T", "Opened", "Check this."),
        ("Bob Brown", "Answered", "Corrected."),
        ("Tina T", "Closed", ""),
    ]
    assert {e.who for e in query_timeline(query, blinded=True)} == {"A member of staff"}


def test_the_list_reads_in_a_fixed_number_of_queries(tina, site_a, django_assert_max_num_queries):
    for _ in range(30):
        _open(site_a, tina, young_person=YoungPersonFactory(site=site_a))
    tina = type(tina).objects.get(pk=tina.pk)
    with django_assert_max_num_queries(3):
        rows = list(queries_visible_to(user=tina))
        assert {r.young_person.study_id for r in rows} and {r.site.name for r in rows}
    assert all(r.state == QueryState.OPEN for r in rows)
