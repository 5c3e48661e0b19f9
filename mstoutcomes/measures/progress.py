"""One longitudinal view of a young person: timeline, schedule and charts of each scale.

The timeline's registry is ``cases.timeline``: this module adds episodes, assessments and goals;
outcomes adds its administrative records (``outcomes.timeline``), as measures may not import it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from mstoutcomes.cases.models import YoungPerson
from mstoutcomes.cases.timeline import Event, timeline, timeline_source
from mstoutcomes.measures import registry, selectors
from mstoutcomes.measures.charts import Point, instrument_svg
from mstoutcomes.measures.definitions import RESPONDENTS


@timeline_source
def _episode_events(user: Any, person: YoungPerson) -> list[Event]:
    events = []
    for episode in person.episodes.all():
        events.append(Event(episode.start_date, "episode", "MST started", f"{episode.therapist}"))
        if episode.end_date:
            events.append(
                Event(
                    episode.end_date, "episode", "MST ended", episode.get_discharge_reason_display()
                )
            )
    return events


@timeline_source
def _measure_events(user: Any, person: YoungPerson) -> list[Event]:
    from django.urls import reverse

    instruments = registry.instruments()
    events = []
    for assessment in selectors.assessments_for_person(user=user, person=person):
        if assessment.completed_on is None:
            continue
        definition = instruments.get(assessment.instrument)
        name = definition.short_name if definition else assessment.instrument
        events.append(
            Event(
                assessment.completed_on,
                "measure",
                f"{name} ({assessment.get_respondent_display()})",
                assessment.timepoint.replace("_", " "),
                reverse("measures:assessment", args=[person.study_id, assessment.pk]),
            )
        )
    return events


@dataclass
class ChartBlock:
    instrument: str
    respondent: str
    title: str
    svg: str
    table_scales: list[Any]
    rows: list[dict[str, Any]]
    band_source: str


def charts_for_person(*, user: Any, person: YoungPerson) -> list[ChartBlock]:
    """Return a chart (SVG) and a table of the numbers per instrument and respondent."""
    instruments = registry.instruments()
    grouped: dict[tuple[str, str], dict[str, list[Point]]] = defaultdict(lambda: defaultdict(list))
    table: dict[tuple[str, str], dict[int, dict[str, Any]]] = defaultdict(dict)
    for row in selectors.scale_series(user=user, person=person):
        key = (row["assessment__instrument"], row["assessment__respondent"])
        point = Point(
            row["assessment__completed_on"],
            float(row["value"]),
            row["assessment__timepoint"],
            row["prorated"],
        )
        grouped[key][row["scale"]].append(point)
        entry = table[key].setdefault(
            row["assessment_id"],
            {"on": point.on, "timepoint": point.timepoint.replace("_", " "), "values": {}},
        )
        entry["values"][row["scale"]] = row["value"]
    if not grouped:
        return []
    all_dates = [p.on for series in grouped.values() for s in series.values() for p in s]
    start = min(all_dates) - dt.timedelta(days=14)
    end = max(all_dates) + dt.timedelta(days=14)
    blocks = []
    for (code, respondent), series in sorted(grouped.items()):
        definition = instruments.get(code)
        if definition is None:
            continue
        scales = [s for s in definition.scales_for(respondent) if series.get(s.code)]
        band_sets = definition.band_sets_for(respondent)
        rows = sorted(table[(code, respondent)].values(), key=lambda r: r["on"])
        for row in rows:
            row["cells"] = [row["values"].get(s.code) for s in scales]
        blocks.append(
            ChartBlock(
                instrument=code,
                respondent=respondent,
                title=f"{definition.short_name}: {RESPONDENTS[respondent].lower()}",
                svg=instrument_svg(definition, respondent, series, start=start, end=end),
                table_scales=scales,
                rows=rows,
                band_source=(
                    f"{band_sets[0].label}, version {band_sets[0].version} ({band_sets[0].tag})"
                    if band_sets
                    else ""
                ),
            )
        )
    return blocks


def progress_for_person(*, user: Any, person: YoungPerson, today: dt.date) -> dict[str, Any]:
    """Return the schedule, timeline and charts for a young person's progress page."""
    return {
        "schedule": selectors.schedule_for_person(user=user, person=person, today=today),
        "timeline": timeline(user=user, person=person),
        "charts": charts_for_person(user=user, person=person),
        "assessments": list(selectors.assessments_for_person(user=user, person=person)),
    }


@timeline_source
def _goal_events(user: Any, person: YoungPerson) -> list[Event]:
    from mstoutcomes.cases.models import OverarchingGoal

    return [
        Event(goal.agreed_on, "goal", f"Goal {goal.number} agreed", goal.get_status_display())
        for goal in OverarchingGoal.objects.visible_to(user).filter(young_person=person)
    ]
