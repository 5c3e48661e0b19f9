"""Reads for the costs report, scoped by the user, and the adapter from records to resource use.

The adapter turns the records other apps keep into ``costing.Spell`` and ``costing.Event``:

- placements and custody (outcomes) → nights, by placement type and establishment;
- offences (outcomes) → a police response per offence by category, a court appearance for
  outcomes that follow one, a YOT-supervised order for community orders;
- exclusions (outcomes) → suspension days, permanent exclusions;
- professional meetings (cases) → hours of each attending agency's staff.

The models are imported, not named in strings: costs sits above cases, outcomes and the trial,
and the dependency shows (import-linter keeps it pointing down). MST's own contacts are not
costed here: they are what the programme cost pays for. They are counted as MST staff hours.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Model, QuerySet

from mstoutcomes.accounts.models import Site
from mstoutcomes.accounts.permissions import Perm, site_ids_with_perm, user_has_perm
from mstoutcomes.cases.models import (
    Contact,
    Episode,
    MeetingAttendee,
    ProfessionalMeeting,
)
from mstoutcomes.costs import costing
from mstoutcomes.costs.defaults import (
    AGENCY_HOUR_ITEMS,
    COURT_OUTCOMES,
    CUSTODY_ITEMS,
    OFFENCE_ITEMS,
    PLACEMENT_ITEMS,
    YOT_ORDER_OUTCOMES,
)
from mstoutcomes.costs.models import (
    CostSettings,
    ProgrammeRunningCost,
    ProgrammeStaff,
    UnitCost,
)
from mstoutcomes.outcomes.models import CustodyEpisode, Exclusion, Offence, Placement
from mstoutcomes.trial.models import Allocation, Trial


def sites_for_costs(*, user: Any) -> QuerySet[Site]:
    """Return the sites whose cost report the user may read."""
    return Site.objects.filter(
        pk__in=site_ids_with_perm(user, Perm.VIEW_DASHBOARDS), is_active=True
    )


def unit_costs_for(*, user: Any, site: Site) -> QuerySet[UnitCost]:
    """Return a site's unit costs, if the user may read its report (else none)."""
    if not user_has_perm(user, Perm.VIEW_DASHBOARDS, site=site):
        return UnitCost.objects.none()
    return UnitCost.objects.filter(site=site).order_by("budget_holder", "code")


def programme_for(site: Site, settings: CostSettings) -> costing.ProgrammeCost | None:
    """Return the site's MST programme cost, or None if it has neither staffing nor a figure."""
    staff = tuple(
        costing.StaffPost(
            p.role,
            float(p.fte),
            float(p.salary),
            float(p.on_cost_rate),
            costing.BudgetHolder(p.budget_holder),
        )
        for p in ProgrammeStaff.objects.filter(site=site)
    )
    running = tuple(
        costing.RunningCost(r.label, float(r.annual_amount), costing.BudgetHolder(r.budget_holder))
        for r in ProgrammeRunningCost.objects.filter(site=site)
    )
    per_family = None if settings.per_family is None else float(settings.per_family)
    families = float(settings.families_per_year or 0)
    if not (staff or running) and per_family is None:
        return None
    if (staff or running) and families <= 0:
        return None
    return costing.ProgrammeCost(
        price_year=settings.programme_price_year,
        staff=staff,
        running=running,
        families_per_year=families,
        overhead_rate=float(settings.overhead_rate),
        per_family=per_family if not (staff or running) else None,
        source=settings.per_family_source,
    )


# --- the adapter ------------------------------------------------------------------------------


@dataclass
class ResourceUse:
    """Uses of every young person at a site, and which sources could be read."""

    uses: list[costing.Spell | costing.Event] = field(default_factory=list)
    sources: dict[str, bool] = field(default_factory=dict)
    meetings: list[tuple[str, dt.date]] = field(default_factory=list)
    mst_hours: list[tuple[str, dt.date, float]] = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        return [name for name, ok in self.sources.items() if not ok]


def _rows(model: type[Model], user: Any, site: Site, fields: Iterable[str]) -> list[dict]:
    manager: Any = model._default_manager
    path = getattr(model, "SCOPE_PATH", "young_person")
    return list(
        manager.visible_to(user)
        .filter(**{f"{path}__site": site})
        .values(f"{path}__study_id", *fields)
    )


def resource_use_for(*, user: Any, site: Site) -> ResourceUse:
    """Return the resource use of the young people at the site whom the user may see."""
    out = ResourceUse()
    out.sources["Placements"] = True
    for r in _rows(Placement, user, site, ("kind", "start_date", "end_date")):
        out.uses.append(
            costing.Spell(
                r["young_person__study_id"],
                PLACEMENT_ITEMS.get(r["kind"], "supported_accommodation"),
                r["start_date"],
                r["end_date"],
                "placement",
            )
        )
    out.sources["Custody"] = True
    for r in _rows(CustodyEpisode, user, site, ("establishment", "start_date", "end_date")):
        out.uses.append(
            costing.Spell(
                r["young_person__study_id"],
                CUSTODY_ITEMS.get(r["establishment"], "custody_yoi"),
                r["start_date"],
                r["end_date"],
                "custody",
            )
        )
    out.sources["Offences"] = True
    for r in _rows(Offence, user, site, ("category", "offence_date", "outcome", "outcome_date")):
        person, day = r["young_person__study_id"], r["offence_date"]
        out.uses.append(
            costing.Event(
                person, OFFENCE_ITEMS.get(r["category"], "police_other"), day, source="offence"
            )
        )
        later = r["outcome_date"] or day
        if r["outcome"] in COURT_OUTCOMES:
            out.uses.append(costing.Event(person, "court_appearance", later, source="court"))
        if r["outcome"] in YOT_ORDER_OUTCOMES:
            out.uses.append(costing.Event(person, "yot_order", later, source="yot"))
    out.sources["Exclusions"] = True
    for r in _rows(Exclusion, user, site, ("kind", "start_date", "days")):
        person = r["young_person__study_id"]
        if r["kind"] == "permanent":
            out.uses.append(
                costing.Event(person, "permanent_exclusion", r["start_date"], source="exclusion")
            )
        else:
            days = float(r["days"] or Decimal(0))
            out.uses.append(
                costing.Event(
                    person, "suspension_day", r["start_date"], days, costing.Unit.DAY, "exclusion"
                )
            )
    _meetings(out, user, site)
    out.sources["MST contacts"] = True
    for r in _rows(Contact, user, site, ("date", "duration_minutes")):
        out.mst_hours.append((r["young_person__study_id"], r["date"], r["duration_minutes"] / 60))
    return out


def _meetings(out: ResourceUse, user: Any, site: Site) -> None:
    out.sources["Professional meetings"] = True
    for r in _rows(ProfessionalMeeting, user, site, ("date",)):
        out.meetings.append((r["young_person__study_id"], r["date"]))
    for r in _rows(
        MeetingAttendee,
        user,
        site,
        ("meeting__date", "meeting__duration_minutes", "agency__kind", "people"),
    ):
        item = AGENCY_HOUR_ITEMS.get(r["agency__kind"])
        if item is None:
            continue  # voluntary sector and others: no unit cost (their time is not public money)
        hours = r["meeting__duration_minutes"] / 60 * r["people"]
        out.uses.append(
            costing.Event(
                r["meeting__young_person__study_id"],
                item,
                r["meeting__date"],
                hours,
                costing.Unit.HOUR,
                "meeting",
            )
        )


@dataclass(frozen=True)
class MstSpan:
    person: str
    start: dt.date
    end: dt.date | None


def mst_spans_for(*, user: Any, site: Site) -> list[MstSpan]:
    """Return each visible young person's first MST episode at the site."""
    rows = (
        Episode.objects.visible_to(user)
        .filter(young_person__site=site)
        .order_by("young_person_id", "start_date")
        .values("young_person__study_id", "start_date", "end_date")
    )
    seen: dict[str, MstSpan] = {}
    for r in rows:
        seen.setdefault(
            r["young_person__study_id"],
            MstSpan(r["young_person__study_id"], r["start_date"], r["end_date"]),
        )
    return list(seen.values())


@dataclass(frozen=True)
class TrialArm:
    person: str
    arm: str
    randomised_on: dt.date


ARMS_HIDDEN_NOTE = (
    "Costs by trial arm are hidden from your role: the trial's figures are shown pooled until "
    "the database is locked, so that you stay blind to allocation."
)


def trial_arms_hidden_from(*, user: Any, site: Site) -> bool:
    """Return whether the site's trial must not be shown to the user by arm.

    A cost comparison cannot be coded A/B (only one arm has MST programme costs), so everyone
    who may not see the arms by name (trial.blinding.arm_view_for) sees pooled figures only.
    """
    from mstoutcomes.trial.blinding import ArmView, arm_view_for

    trial = Trial.objects.filter(sites=site, is_test_mode=False).order_by("pk").first()
    return trial is not None and arm_view_for(user, trial, site=site) is not ArmView.NAMED


def trial_arms_for(*, user: Any, site: Site) -> tuple[str, str, list[TrialArm]] | None:
    """Return (treatment, control, people's arms) of the site's trial, or None if it has none."""
    trial = Trial.objects.filter(sites=site, is_test_mode=False).order_by("pk").first()
    if trial is None:
        return None
    spec = trial.spec
    control = spec.reference_arm.code
    others = [code for code in spec.arm_codes if code != control]
    if len(others) != 1:
        return None
    allocations = (
        Allocation.objects.visible_to(user)
        .filter(trial=trial, is_test=False, participant__site=site)
        .values("participant__young_person__study_id", "arm", "allocated_at")
        .order_by("participant__young_person__study_id")
    )
    return (
        others[0],
        control,
        [
            TrialArm(a["participant__young_person__study_id"], a["arm"], a["allocated_at"].date())
            for a in allocations
        ],
    )
