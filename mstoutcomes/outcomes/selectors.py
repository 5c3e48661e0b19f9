"""Reads of administrative records, scoped by the user."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mstoutcomes.cases.models import YoungPerson
from mstoutcomes.outcomes import models as m

KIND_MODELS: dict[str, type[m.AdministrativeRecord]] = {
    "attendance": m.AttendancePeriod,
    "exclusions": m.Exclusion,
    "offences": m.Offence,
    "police_contacts": m.PoliceContact,
    "placements": m.Placement,
    "custody": m.CustodyEpisode,
    "missing": m.MissingEpisode,
    "prosocial": m.ProsocialActivity,
}


@dataclass(frozen=True)
class RecordSection:
    kind: str
    label: str
    records: list[Any]


LABELS = {
    "attendance": "School attendance",
    "exclusions": "Exclusions",
    "offences": "Offences",
    "police_contacts": "Police contacts and arrests",
    "placements": "Out-of-home placements",
    "custody": "Custody",
    "missing": "Missing episodes",
    "prosocial": "Pro-social activities",
}


def records_for_person(*, user: Any, person: YoungPerson) -> list[RecordSection]:
    """Return every kind of administrative record for a young person (one query per kind)."""
    return [
        RecordSection(
            kind,
            LABELS[kind],
            list(
                model.objects.visible_to(user)
                .filter(young_person=person)
                .select_related("import_batch")
            ),
        )
        for kind, model in KIND_MODELS.items()
    ]


def record_get_visible(*, user: Any, person: YoungPerson, kind: str, pk: int) -> Any:
    from django.shortcuts import get_object_or_404

    model = KIND_MODELS[kind]
    return get_object_or_404(model.objects.visible_to(user).filter(young_person=person), pk=pk)
