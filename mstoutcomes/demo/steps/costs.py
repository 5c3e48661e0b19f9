"""Demo step: each site's unit costs, its MST team's staffing and illustrative local figures.

The shipped national figures are loaded as they are. Where the research found no national figure
(teacher, police and YOS officer hours, court appearances, YOT orders, suspension days), the demo
enters illustrative local figures, labelled as such, so that the report shows every agency's
share. Service use itself comes from the outcomes and measures steps.
"""

from __future__ import annotations

from decimal import Decimal

from django.apps import apps

from mstoutcomes.costs.models import UnitCost
from mstoutcomes.costs.services import (
    cost_settings_update,
    defaults_load,
    programme_running_cost_add,
    programme_staff_add,
    unit_cost_update,
)
from mstoutcomes.demo.builder import DemoContext, register_step

DEMO_SOURCE = "Demo: an illustrative local figure, not a published cost"
# code: (value, low, high)
LOCAL_FIGURES = {
    "teacher_hour": (45, 35, 60),
    "police_officer_hour": (50, 40, 70),
    "yos_officer_hour": (40, 30, 55),
    "yot_order": (2_500, 1_500, 4_000),
    "court_appearance": (1_000, 600, 1_800),
    "suspension_day": (60, 30, 120),
}
# (role, FTE, salary, budget holder): a team of four therapists and a supervisor, funded jointly.
STAFF = (
    ("MST therapist (children's services)", "2", "42000", "la_childrens_services"),
    ("MST therapist (CAMHS)", "1", "42000", "nhs"),
    ("MST therapist (youth justice)", "1", "42000", "youth_justice"),
    ("MST supervisor", "1", "52000", "la_childrens_services"),
)
RUNNING = (
    ("MST licence, consultation and quarterly boosters", "25000", "nhs"),
    ("Training and travel", "8000", "education"),
)


def _outcomes_available() -> bool:
    return apps.is_installed("mstoutcomes.outcomes") and all(
        _has_model("outcomes", name) for name in ("Placement", "CustodyEpisode", "Offence")
    )


def _has_model(app: str, name: str) -> bool:
    try:
        apps.get_model(app, name)
    except LookupError:
        return False
    return True


@register_step("costs", order=600)
def costs(ctx: DemoContext) -> str:
    """Load unit costs, set each site's MST team costs and the demo's local figures."""
    per_family = []
    for site in ctx.track(list(ctx.sites.values()), "Unit costs and team costs"):
        defaults_load(by=None, site=site)
        for code, (value, low, high) in LOCAL_FIGURES.items():
            unit_cost_update(
                by=None,
                unit_cost=UnitCost.objects.get(site=site, code=code),
                fields={
                    "value": Decimal(value),
                    "low": Decimal(low),
                    "high": Decimal(high),
                    "price_year": "2023-24",
                    "source_title": DEMO_SOURCE,
                    "source_url": "",
                    "tag": "U",
                },
            )
        for role, fte, salary, holder in STAFF:
            programme_staff_add(
                by=None,
                site=site,
                role=role,
                fte=Decimal(fte),
                salary=Decimal(salary),
                on_cost_rate=Decimal("0.30"),
                budget_holder=holder,
            )
        for label, amount, holder in RUNNING:
            programme_running_cost_add(
                by=None, site=site, label=label, annual_amount=Decimal(amount), budget_holder=holder
            )
        # Four therapists with about five families each, two cohorts a year.
        settings = cost_settings_update(
            by=None,
            site=site,
            fields={
                "families_per_year": Decimal("40"),
                "overhead_rate": Decimal("0.15"),
                "programme_price_year": "2023-24",
            },
        )
        staffing = sum(Decimal(f) * Decimal(s) * Decimal("1.30") for _, f, s, _ in STAFF)
        running = sum(Decimal(a) for _, a, _ in RUNNING)
        total = staffing * (1 + settings.overhead_rate) + running
        per_family.append(f"{site.code} £{total / settings.families_per_year:,.0f}")
    summary = f"unit costs and MST team costs for {len(ctx.sites)} sites; per family: "
    summary += ", ".join(per_family)
    if not _outcomes_available():
        summary += " (outcomes records not available yet: the report has no service use to cost)"
    return summary
