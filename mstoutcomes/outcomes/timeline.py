"""Administrative records on a young person's timeline (``cases.timeline``).

Imported by OutcomesConfig.ready(), which registers the source: measures' progress page shows the
timeline without importing outcomes (the two are independent floors on cases).
"""

from __future__ import annotations

from typing import Any

from mstoutcomes.cases.models import YoungPerson
from mstoutcomes.cases.timeline import Event, timeline_source
from mstoutcomes.outcomes.selectors import records_for_person


@timeline_source
def _administrative_events(user: Any, person: YoungPerson) -> list[Event]:
    kinds = {
        "attendance": "school",
        "exclusions": "school",
        "offences": "justice",
        "police_contacts": "justice",
        "custody": "justice",
        "placements": "placement",
        "missing": "placement",
        "prosocial": "activity",
    }
    events = []
    for section in records_for_person(user=user, person=person):
        for record in section.records:
            on = next(
                getattr(record, name)
                for name in ("period_end", "start_date", "offence_date", "date")
                if hasattr(record, name)
            )
            detail = ""
            if section.kind == "attendance":
                detail = f"{record.attendance_rate}% of sessions attended"
            elif section.kind == "offences":
                detail = f"gravity {record.gravity}, {record.get_outcome_display().lower()}"
            events.append(Event(on, kinds[section.kind], str(record), detail))
    return events
