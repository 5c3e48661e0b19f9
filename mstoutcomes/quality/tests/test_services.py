"""Opening, answering, closing and reopening queries, and the rule engine's runs."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from mstoutcomes.accounts.models import AuditEvent, Role
from mstoutcomes.cases.tests.factories import YoungPersonFactory
from mstoutcomes.outcomes.models import Offence
from mstoutcomes.quality.models import Query, QueryState
from mstoutcomes.quality.services import (
    quality_check_person,
    quality_run,
    query_answer,
    query_close,
    query_open,
    query_reopen,
)
from mstoutcomes.quality.tests.conftest import baseline, randomised

pytestmark = pytest.mark.django_db


def _actions():
    return list(
        AuditEvent.objects.filter(action__startswith="quality.")
        .order_by("pk")
        .values_list("action", flat=True)
    )


def _manual(site, by, role=Role.RESEARCH_WORKER, **kwargs):
    return query_open(
        by=by, site=site, message="Please check the SDQ date.", assigned_role=role, **kwargs
    )


def test_the_rules_open_one_query_for_a_randomised_participant_without_a_baseline(trial, site_a):
    participant = randomised(trial, site_a)
    result = quality_run()
    assert (result.opened, result.still_open, result.closed) == (1, 0, 0)
    query = Query.objects.unscoped().get()
    assert query.state == QueryState.OPEN
    assert query.rule == "missing_baseline"
    assert query.assigned_role == Role.RESEARCH_WORKER
    assert query.young_person == participant.young_person
    assert query.trial == trial and query.site == site_a
    assert query.opened_by is None and query.history.get().history_user is None
    assert _actions() == ["quality.query.opened"]


def test_running_the_rules_again_never_opens_the_same_problem_twice(trial, site_a):
    randomised(trial, site_a)
    quality_run()
    again = quality_run()
    assert (again.opened, again.still_open, again.closed) == (0, 1, 0)
    assert Query.objects.unscoped().count() == 1


def test_a_query_closes_automatically_when_the_data_are_put_right(trial, site_a):
    participant = randomised(trial, site_a)
    quality_run()
    baseline(participant.young_person)
    result = quality_run()
    assert result.closed == 1
    query = Query.objects.unscoped().get()
    assert query.state == QueryState.RESOLVED
    assert query.get_state_display() == "Closed automatically: resolved in the data"
    assert query.closed_by is None and "Resolved in the data" in query.close_note
    assert _actions() == ["quality.query.opened", "quality.query.resolved"]


def test_a_problem_that_comes_back_reopens_its_resolved_query(trial, site_a):
    participant = randomised(trial, site_a)
    quality_run()
    assessment = baseline(participant.young_person)
    quality_run()
    assessment.delete()
    result = quality_run()
    assert result.reopened == 1
    assert Query.objects.unscoped().get().state == QueryState.OPEN


def test_a_query_a_person_closed_stays_closed_though_the_rule_still_finds_it(trial, site_a, tina):
    randomised(trial, site_a)
    quality_run()
    query = Query.objects.unscoped().get()
    query_close(by=tina, query=query, note="Baseline was not collected: family moved away.")
    result = quality_run()
    assert (result.opened, result.reopened, result.closed) == (0, 0, 0)
    assert Query.objects.unscoped().get().state == QueryState.CLOSED


def test_checking_one_person_leaves_other_peoples_queries_alone(trial, site_a):
    first = randomised(trial, site_a)
    second = randomised(trial, site_a)
    result = quality_check_person(first.young_person)
    assert result.opened == 1
    assert list(Query.objects.unscoped().values_list("young_person", flat=True)) == [
        first.young_person_id
    ]
    baseline(second.young_person)
    quality_run()
    baseline(first.young_person)
    assert quality_check_person(first.young_person).closed == 1


def test_an_offence_dated_before_birth_opens_a_query_for_the_programme_manager(site_a):
    person = YoungPersonFactory(site=site_a, date_of_birth=dt.date(2012, 1, 1))
    offence = Offence.objects.create(
        young_person=person,
        offence_date=dt.date(2011, 12, 1),
        category="theft",
        gravity=2,
        outcome="nfa",
    )
    assert quality_check_person(person).opened == 1
    query = Query.objects.unscoped().get()
    assert query.assigned_role == Role.PROGRAMME_MANAGER
    assert query.key == f"dated_before_birth:outcomes.offence:{offence.pk}"
    assert query.trial is None


def test_the_same_young_person_at_two_sites_opens_a_query_at_each(site_a, site_b):
    here = YoungPersonFactory(site=site_a, nhs_number="9434765919")
    there = YoungPersonFactory(site=site_b, nhs_number="9434765919")
    assert quality_check_person(here).opened == 2
    assert set(Query.objects.unscoped().values_list("site", "young_person")) == {
        (site_a.pk, here.pk),
        (site_b.pk, there.pk),
    }
    # Correcting one record's NHS number closes both sides when that record is checked.
    there.nhs_number = "9434765870"
    there.save()
    assert quality_check_person(there).closed == 2


def test_a_trial_manager_opens_a_query_by_hand_and_it_is_audited(site_a, tina):
    person = YoungPersonFactory(site=site_a)
    query = _manual(site_a, tina, young_person=person)
    assert query.rule == "manual" and query.opened_by == tina and query.state == QueryState.OPEN
    assert query.history.get().history_user == tina
    event = AuditEvent.objects.get(action="quality.query.opened")
    assert event.actor == tina and event.data["young_person"] == person.study_id
    assert "message" not in event.data


def test_a_query_raised_about_a_participant_belongs_to_their_trial(site_a, tina, trial):
    participant = randomised(trial, site_a)
    assert _manual(site_a, tina, young_person=participant.young_person).trial == trial


def test_only_query_managers_open_queries(site_a, bob):
    with pytest.raises(PermissionDenied, match="cannot open data queries"):
        _manual(site_a, bob)


def test_a_query_needs_a_message_and_a_role_that_can_see_it(site_a, tina):
    with pytest.raises(ValidationError) as error:
        query_open(by=tina, site=site_a, message=" ", assigned_role=Role.STATISTICIAN)
    assert set(error.value.message_dict) == {"message", "assigned_role"}
    assert error.value.message_dict["message"] == ["Enter what needs checking."]


def test_a_query_about_someone_at_another_site_is_refused(site_a, site_b, tina):
    person = YoungPersonFactory(site=site_b)
    with pytest.raises(ValidationError, match="another site"):
        _manual(site_a, tina, young_person=person)


def test_the_assigned_role_answers_a_query_and_the_answer_is_audited(site_a, tina, bob):
    query = query_answer(by=bob, query=_manual(site_a, tina), answer="Date corrected.")
    assert query.state == QueryState.ANSWERED
    assert (query.answer, query.answered_by) == ("Date corrected.", bob)
    assert _actions() == ["quality.query.opened", "quality.query.answered"]


def test_another_role_cannot_answer_a_query(site_a, tina, alice):
    with pytest.raises(PermissionDenied, match="cannot answer this query"):
        query_answer(by=alice, query=_manual(site_a, tina), answer="Not mine.")


def test_staff_at_another_site_cannot_answer_a_query(site_a, site_b, tina):
    from mstoutcomes.accounts.tests.factories import member

    other = member(Role.RESEARCH_WORKER, site_b)
    with pytest.raises(PermissionDenied):
        query_answer(by=other, query=_manual(site_a, tina), answer="Not my site.")


def test_a_blinded_research_worker_cannot_answer_a_query_about_treatment(site_a, tina, bob):
    query = _manual(site_a, tina, reveals_arm=True)
    with pytest.raises(PermissionDenied):
        query_answer(by=bob, query=query, answer="?")


def test_an_answered_or_closed_query_cannot_be_answered_again(site_a, tina, bob):
    query = query_answer(by=bob, query=_manual(site_a, tina), answer="Done.")
    with pytest.raises(ValidationError, match="already been answered"):
        query_answer(by=bob, query=query, answer="Again.")
    query = query_close(by=tina, query=query)
    with pytest.raises(ValidationError, match="closed: it can no longer be answered"):
        query_answer(by=bob, query=query, answer="Again.")


def test_an_empty_answer_is_refused(site_a, tina, bob):
    with pytest.raises(ValidationError) as error:
        query_answer(by=bob, query=_manual(site_a, tina), answer="  ")
    assert error.value.message_dict == {"answer": ["Enter your answer."]}


def test_only_the_trial_manager_closes_a_query(site_a, tina, bob):
    query = _manual(site_a, tina)
    with pytest.raises(PermissionDenied, match="cannot close"):
        query_close(by=bob, query=query, note="Done")


def test_closing_an_unanswered_query_needs_a_note(site_a, tina):
    query = _manual(site_a, tina)
    with pytest.raises(ValidationError) as error:
        query_close(by=tina, query=query)
    assert "note" in error.value.message_dict
    closed = query_close(by=tina, query=query, note="Raised in error.")
    assert (closed.state, closed.closed_by, closed.close_note) == (
        QueryState.CLOSED,
        tina,
        "Raised in error.",
    )
    with pytest.raises(ValidationError, match="already closed"):
        query_close(by=tina, query=closed, note="Again")


def test_a_closed_query_is_reopened_with_a_reason_and_needs_a_new_answer(site_a, tina, bob):
    query = query_answer(by=bob, query=_manual(site_a, tina), answer="Done.")
    query = query_close(by=tina, query=query)
    with pytest.raises(ValidationError) as error:
        query_reopen(by=tina, query=query, reason="")
    assert "reason" in error.value.message_dict
    with pytest.raises(PermissionDenied):
        query_reopen(by=bob, query=query, reason="I think it is wrong")
    query = query_reopen(by=tina, query=query, reason="The date is still wrong.")
    assert (query.state, query.answer, query.answered_by) == (QueryState.OPEN, "", None)
    assert _actions()[-1] == "quality.query.reopened"
    with pytest.raises(ValidationError, match="not closed"):
        query_reopen(by=tina, query=query, reason="Again")


def _people_with_data(trial, site, n):
    for _ in range(n):
        participant = randomised(trial, site)
        baseline(participant.young_person)
        Offence.objects.create(
            young_person=participant.young_person,
            offence_date=dt.date(2000, 1, 1),
            category="theft",
            gravity=2,
            outcome="nfa",
        )


def test_the_rules_read_the_data_in_a_fixed_number_of_queries(
    trial, site_a, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from mstoutcomes.quality.rules import fetch_facts

    _people_with_data(trial, site_a, 2)
    with CaptureQueriesContext(connection) as few:
        small = fetch_facts()
    _people_with_data(trial, site_a, 5)
    with django_assert_num_queries(len(few.captured_queries)):
        large = fetch_facts()
    assert (len(small.people), len(large.people)) == (2, 7)
    assert len(large.records) == 7
