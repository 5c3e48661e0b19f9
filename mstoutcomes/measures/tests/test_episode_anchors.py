"""Measures hear of an episode's dates moving through cases.events (cases imports no measures)."""

import datetime as dt

import pytest

from mstoutcomes.accounts.models import AuditEvent, Role
from mstoutcomes.accounts.tests.factories import member
from mstoutcomes.cases import events
from mstoutcomes.cases import services as case_services
from mstoutcomes.cases.tests.factories import EpisodeFactory, YoungPersonFactory

TODAY = dt.date.today()


@pytest.fixture
def episode(site_a, alice):
    person = YoungPersonFactory(site=site_a, study_id="AAA-0001")
    return EpisodeFactory(
        young_person=person, therapist=alice, start_date=TODAY - dt.timedelta(days=5)
    )


def test_measures_subscribed_to_episode_anchors_at_start_up():
    assert "measures.schedule" in events._anchor_listeners


def test_moving_an_episode_start_records_how_the_measures_due_dates_moved(site_a, episode):
    supervisor = member(Role.SUPERVISOR, site_a)
    new_start = episode.start_date - dt.timedelta(days=10)

    case_services.episode_update(by=supervisor, episode=episode, fields={"start_date": new_start})

    event = AuditEvent.objects.get(action="measures.schedule.recomputed")
    assert event.actor == supervisor
    assert event.changes["mst-service:baseline"][1] == new_start.isoformat()


def test_a_reallocation_that_moves_no_date_records_no_schedule_change(site_a, episode):
    supervisor = member(Role.SUPERVISOR, site_a)
    other = member(Role.THERAPIST, site_a)

    case_services.episode_update(by=supervisor, episode=episode, fields={"therapist": other})

    assert AuditEvent.objects.filter(action="cases.episode.updated").exists()
    assert not AuditEvent.objects.filter(action="measures.schedule.recomputed").exists()


def test_every_listener_is_told_with_the_state_it_captured(site_a, episode, monkeypatch):
    heard = []
    monkeypatch.setattr(events, "_anchor_listeners", {})
    events.subscribe_episode_anchors_changed(
        name="spy",
        before=lambda person: person.episodes.get().start_date,
        after=lambda *, by, young_person, before, request=None: heard.append(
            (before, young_person.episodes.get().start_date)
        ),
    )
    new_start = episode.start_date - dt.timedelta(days=3)

    case_services.episode_update(
        by=member(Role.SUPERVISOR, site_a), episode=episode, fields={"start_date": new_start}
    )

    assert heard == [(TODAY - dt.timedelta(days=5), new_start)]
