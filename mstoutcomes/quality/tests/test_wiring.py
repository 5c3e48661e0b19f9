"""Quality is wired to the floors below through their published hooks: on save, lock, dashboard."""

import pytest
from django.core.exceptions import ValidationError

from mstoutcomes.cases.events import person_data_changed
from mstoutcomes.quality.models import LIVE_STATES, Query, QueryState
from mstoutcomes.quality.services import query_close, query_open
from mstoutcomes.quality.tests.conftest import randomised
from mstoutcomes.trial.lock import trial_lock

pytestmark = pytest.mark.django_db


def test_a_change_to_a_persons_data_runs_the_rules_for_them_once_it_commits(
    trial, site_a, django_capture_on_commit_callbacks
):
    participant = randomised(trial, site_a)  # randomised with no baseline: a query is due
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        person_data_changed(participant.young_person)
    assert callbacks
    live = Query.objects.unscoped().filter(young_person=participant.young_person)
    assert live.filter(state__in=LIVE_STATES, rule="missing_baseline").count() == 1


def test_an_open_query_holds_back_the_trial_lock_until_it_is_closed(trial, site_a, tina):
    query = query_open(
        by=tina, site=site_a, assigned_role="research_worker", message="Check it.", trial=trial
    )
    with pytest.raises(ValidationError) as refused:
        trial_lock(by=tina, trial=trial)
    assert "data query is still open at Site A" in str(refused.value)
    query_close(by=tina, query=query, note="Checked with the family.")
    assert Query.objects.unscoped().get(pk=query.pk).state == QueryState.CLOSED
    trial_lock(by=tina, trial=trial)
    trial.refresh_from_db()
    assert trial.is_locked


def test_treatment_recorded_before_randomisation_opens_a_query_the_blinded_cannot_see(
    trial, site_a, tina, bob
):
    from mstoutcomes.cases.tests.factories import EpisodeFactory, YoungPersonFactory
    from mstoutcomes.quality.selectors import queries_visible_to
    from mstoutcomes.quality.services import quality_run
    from mstoutcomes.trial.models import Participant

    # An episode recorded for a participant not yet randomised (imported, or from before the
    # order was enforced): written directly, as the services would refuse it.
    person = YoungPersonFactory(site=site_a)
    Participant.objects.create(trial=trial, young_person=person, site=site_a, is_eligible=True)
    EpisodeFactory(young_person=person)

    quality_run(site=site_a)

    query = Query.objects.unscoped().get(rule="treatment_before_randomisation")
    assert (
        query.young_person == person
        and query.reveals_arm
        and query.assigned_role == ("trial_manager")
    )
    assert "not randomised" in query.message
    assert query in queries_visible_to(user=tina)
    assert query not in queries_visible_to(user=bob)  # the blinded research worker
