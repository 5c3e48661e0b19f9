"""The longitudinal view: one timeline of episode, measures, goals and administrative events."""

import datetime as dt

from mstoutcomes.cases import services as case_services
from mstoutcomes.cases.tests.factories import EpisodeFactory, YoungPersonFactory
from mstoutcomes.measures import services
from mstoutcomes.measures.progress import charts_for_person, timeline
from mstoutcomes.outcomes.models import Offence
from mstoutcomes.outcomes.services import administrative_record_save

TODAY = dt.date.today()


def test_timeline_and_charts_bring_every_kind_of_event_together(site_a, alice, carol):
    person = YoungPersonFactory(site=site_a, study_id="AAA-0001")
    EpisodeFactory(young_person=person, therapist=alice, start_date=TODAY - dt.timedelta(days=9))
    services.assessment_record(
        by=alice,
        young_person=person,
        instrument="sdq-p",
        respondent="parent",
        completed_on=TODAY - dt.timedelta(days=8),
        mode="paper",
        entered={"emotion": 5, "conduct": 7, "hyper": 8, "peer": 4, "prosocial": 4},
    )
    case_services.overarching_goal_save(
        by=alice,
        young_person=person,
        fields={"number": 1, "description": "School", "agreed_on": TODAY - dt.timedelta(days=5)},
    )
    administrative_record_save(
        by=alice,
        young_person=person,
        model=Offence,
        fields={
            "offence_date": TODAY - dt.timedelta(days=2),
            "category": "theft",
            "gravity": 2,
            "outcome": "youth_caution",
        },
    )
    events = timeline(user=alice, person=person)
    assert [e.kind for e in events] == ["justice", "goal", "measure", "episode"]
    assert events[0].detail == "gravity 2, youth caution"
    (chart,) = charts_for_person(user=alice, person=person)
    assert chart.svg.startswith("<svg")
    assert [s.code for s in chart.table_scales][:2] == ["emotion", "conduct"]
    assert chart.rows[0]["cells"][:5] == [5, 7, 8, 4, 4]
    assert "UK 3-band" in chart.band_source
