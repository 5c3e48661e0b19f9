"""Recording, scoring and auditing assessments."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from mstoutcomes.accounts.models import AuditEvent
from mstoutcomes.cases.tests.factories import EpisodeFactory, YoungPersonFactory
from mstoutcomes.measures import services
from mstoutcomes.measures.models import Assessment, AssessmentStatus, ScaleScore

TODAY = dt.date.today()


@pytest.fixture
def person(site_a, alice):
    person = YoungPersonFactory(site=site_a, study_id="AAA-0001")
    EpisodeFactory(young_person=person, therapist=alice, start_date=TODAY - dt.timedelta(days=5))
    return person


def record(by, person, **kwargs):
    arguments = {
        "instrument": "sdq-p",
        "respondent": "parent",
        "completed_on": TODAY,
        "mode": "paper",
        "responses": {"3": 2, "8": 2, "13": 0, "ebddiff": 0, "distres": 3},
    }
    arguments.update(kwargs)
    return services.assessment_record(by=by, young_person=person, **arguments)


def test_a_partly_completed_form_is_scored_by_rule_and_stored_with_version(alice, person):
    assessment = record(alice, person)
    assert assessment.scores["scales"]["emotion"]["value"] == 7
    assert assessment.scores["scales"]["emotion"]["prorated"]
    assert assessment.scores["scales"]["total"]["value"] is None
    assert assessment.scores["scales"]["impact"]["value"] == 0
    assert assessment.scoring_version == "sdq-parent-2014.1"
    assert assessment.entered_by == alice
    stored = dict(
        ScaleScore.objects.unscoped().filter(assessment=assessment).values_list("scale", "value")
    )
    assert stored["emotion"] == 7 and stored["total"] is None


def test_recording_is_matched_to_the_timepoint_and_audited(alice, person):
    assessment = record(alice, person)
    assert (assessment.schedule, assessment.timepoint) == ("mst-service", "baseline")
    event = AuditEvent.objects.get(action="measures.assessment.recorded")
    assert event.data["young_person"] == "AAA-0001"
    assert event.data["scoring_version"] == "sdq-parent-2014.1"
    assert event.actor == alice


def test_out_of_range_answers_are_refused_naming_the_item_and_nothing_is_saved(alice, person):
    with pytest.raises(ValidationError) as error:
        record(alice, person, responses={"3": 5})
    assert "item_3" in error.value.error_dict
    assert not Assessment.objects.unscoped().exists()
    assert not AuditEvent.objects.filter(action__startswith="measures").exists()


def test_scores_from_a_scored_form_are_checked_and_derive_the_total(alice, person):
    assessment = record(
        alice,
        person,
        responses=None,
        entered={"emotion": 4, "conduct": 5, "hyper": 7, "peer": 3, "prosocial": 6},
    )
    assert assessment.entry == "scores"
    assert assessment.scores["scales"]["total"]["value"] == 19
    with pytest.raises(ValidationError) as error:
        record(alice, person, responses=None, entered={"emotion": 11})
    assert "scale_emotion" in error.value.error_dict


def test_an_empty_form_is_refused(alice, person):
    with pytest.raises(ValidationError):
        record(alice, person, responses={})


def test_read_only_and_other_site_users_cannot_record(bob, carol, person, site_a):
    from mstoutcomes.accounts.models import Role
    from mstoutcomes.accounts.tests.factories import member

    steering = member(Role.STEERING_GROUP, site_a)
    with pytest.raises(PermissionDenied):
        record(steering, person)
    with pytest.raises(PermissionDenied):
        record(carol, person)
    assert record(bob, person).entered_by == bob  # research workers collect measures


def test_missed_needs_a_reason_and_refused_does_not(alice, person):
    arguments = {
        "schedule": "mst-service",
        "timepoint": "baseline",
        "instrument": "sdq-t",
        "respondent": "teacher",
    }
    with pytest.raises(ValidationError):
        services.assessment_mark_not_done(
            by=alice, young_person=person, status="missed", reason=" ", **arguments
        )
    missed = services.assessment_mark_not_done(
        by=alice,
        young_person=person,
        status="missed",
        reason="School did not reply",
        **arguments,
    )
    assert missed.status == AssessmentStatus.MISSED
    assert AuditEvent.objects.filter(action="measures.assessment.missed").exists()


def test_not_done_must_be_a_scheduled_task(alice, person):
    with pytest.raises(ValidationError):
        services.assessment_mark_not_done(
            by=alice,
            young_person=person,
            schedule="mst-service",
            timepoint="baseline",
            instrument="icu",
            respondent="parent",
            status="refused",
            reason="",
        )


def test_moving_an_anchor_records_the_moved_due_dates(alice, person):
    episode = person.episodes.get()
    before = services.tasks_for(person, episode)
    episode.start_date -= dt.timedelta(days=10)
    episode.save()
    changes = services.schedule_recompute(by=alice, young_person=person, before=before)
    assert "mst-service:baseline" in changes
    event = AuditEvent.objects.get(action="measures.schedule.recomputed")
    assert event.changes["mst-service:baseline"][1] == episode.start_date.isoformat()
    assert (
        services.schedule_recompute(
            by=alice, young_person=person, before=services.tasks_for(person, episode)
        )
        == {}
    )


def test_a_recorded_assessment_tells_the_data_listeners_once_it_commits(
    alice, person, django_capture_on_commit_callbacks
):
    from mstoutcomes.cases.events import _data_listeners, subscribe_person_data_changed

    told = []
    saved = dict(_data_listeners)
    subscribe_person_data_changed(name="spy", listener=told.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            record(alice, person)
        assert told == [person]
    finally:
        _data_listeners.clear()
        _data_listeners.update(saved)
