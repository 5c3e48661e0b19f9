"""Every write of the costs app: load the shipped defaults, edit unit costs, set the team's costs.

A new shipped default never overwrites a site's figure: ``defaults_load`` adds missing items and
reports every item whose shipped figure differs from the site's, for someone to decide.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from mstoutcomes.accounts.models import Site, User
from mstoutcomes.accounts.permissions import Perm, user_has_perm
from mstoutcomes.accounts.services import audit_record
from mstoutcomes.core.audit import diff, snapshot
from mstoutcomes.core.services import assign_fields, clean_and_save, require
from mstoutcomes.costs.costing import UnitCost as PureUnitCost
from mstoutcomes.costs.defaults import (
    DEFAULT_PRICE_YEAR,
    DEFAULT_UNIT_COSTS,
    GDP_DEFLATOR,
    DefaultIndex,
)
from mstoutcomes.costs.models import (
    CostSettings,
    PriceIndex,
    PriceIndexValue,
    ProgrammeRunningCost,
    ProgrammeStaff,
    UnitCost,
)

UNIT_COST_FIELDS = (
    "label",
    "value",
    "price_year",
    "low",
    "high",
    "source_title",
    "source_url",
    "tag",
    "value_type",
    "notes",
)
SETTINGS_FIELDS = (
    "price_year",
    "index",
    "follow_up_months",
    "programme_price_year",
    "families_per_year",
    "overhead_rate",
    "per_family",
    "per_family_source",
)


def _may(by: User | None, site: Site | int) -> bool:
    # by=None is the system (demo builder, the load command run by an operator).
    return by is None or user_has_perm(by, Perm.MANAGE_COSTS, site=site)


def _money(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(round(value, 2)))


@dataclass
class LoadReport:
    """What loading the shipped defaults did at one site."""

    site: str
    added: list[str] = field(default_factory=list)
    differs: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def summary(self) -> str:
        text = f"{self.site}: {len(self.added)} unit costs added, {self.unchanged} unchanged"
        if self.differs:
            text += f", {len(self.differs)} kept although the shipped figure differs"
        return text


@transaction.atomic
def price_index_load(*, by: User | None, default: DefaultIndex = GDP_DEFLATOR) -> PriceIndex:
    """Create the shipped index, or add the years it lacks; existing values are never changed."""
    index, created = PriceIndex.objects.get_or_create(
        name=default.name,
        defaults={
            "source_title": default.source_title,
            "source_url": default.source_url,
            "tag": str(default.tag),
        },
    )
    have = set(index.values.values_list("price_year", flat=True))
    added = [
        PriceIndexValue(index=index, price_year=year, value=Decimal(str(value)))
        for year, value in default.values.items()
        if year not in have
    ]
    for row in added:
        clean_and_save(row)
    if created or added:
        audit_record(
            actor=by,
            action="costs.price_index.loaded",
            obj=index,
            data={"years_added": [r.price_year for r in added]},
        )
    return index


def _row_from_default(site: Site, cost: PureUnitCost) -> UnitCost:
    low, high = cost.range
    return UnitCost(
        site=site,
        code=cost.code,
        label=cost.label,
        value=Decimal(str(round(cost.value, 2))),
        unit=str(cost.unit),
        price_year=cost.price_year,
        low=_money(low),
        high=_money(high),
        budget_holder=str(cost.budget_holder),
        value_type=str(cost.value_type),
        tag=str(cost.tag),
        source_title=cost.source_title,
        source_url=cost.source_url,
        default_value=_money(cost.value),
        default_price_year=cost.price_year,
    )


@transaction.atomic
def defaults_load(
    *, by: User | None, site: Site, defaults: tuple[PureUnitCost, ...] = DEFAULT_UNIT_COSTS
) -> LoadReport:
    """Add the shipped unit costs a site lacks and its settings; never overwrite its figures."""
    require(_may(by, site), "You cannot change this site's unit costs.")
    index = price_index_load(by=by)
    CostSettings.objects.get_or_create(
        site=site, defaults={"index": index, "price_year": DEFAULT_PRICE_YEAR}
    )
    report = LoadReport(site=site.code)
    existing = {u.code: u for u in UnitCost.objects.filter(site=site)}
    for cost in defaults:
        row = existing.get(cost.code)
        if row is None:
            row = _row_from_default(site, cost)
            clean_and_save(row)
            report.added.append(cost.code)
        elif (float(row.value), row.price_year) != (cost.value, cost.price_year):
            report.differs.append(
                f"{cost.code}: site £{row.value:,} ({row.price_year}); "
                f"shipped £{cost.value:,.2f} ({cost.price_year})"
            )
        else:
            report.unchanged += 1
    if report.added:
        audit_record(
            actor=by,
            action="costs.unit_costs.loaded",
            site=site,
            object_label=f"Unit costs for {site.code}",
            data={"added": report.added, "differs": report.differs},
        )
    return report


@transaction.atomic
def unit_cost_update(
    *,
    by: User | None,
    unit_cost: UnitCost,
    fields: Mapping[str, Any],
    request: HttpRequest | None = None,
) -> UnitCost:
    """Change a site's unit cost; its history and the audit event keep the old figure."""
    require(_may(by, unit_cost.site_id), "You cannot change this site's unit costs.")
    before = snapshot(unit_cost)
    assign_fields(unit_cost, fields, allowed=UNIT_COST_FIELDS)
    unit_cost.is_local = True
    unit_cost._history_user = by  # type: ignore[attr-defined]
    clean_and_save(unit_cost)
    changes = diff(before, snapshot(unit_cost))
    if changes:
        audit_record(
            actor=by,
            action="costs.unit_cost.updated",
            obj=unit_cost,
            site=unit_cost.site,
            changes=changes,
            request=request,
        )
    return unit_cost


@transaction.atomic
def cost_settings_update(
    *,
    by: User | None,
    site: Site,
    fields: Mapping[str, Any],
    request: HttpRequest | None = None,
) -> CostSettings:
    """Change the report's price year, index or follow-up, or the team's per-family figures."""
    require(_may(by, site), "You cannot change this site's cost settings.")
    settings = CostSettings.objects.filter(site=site).first()
    if settings is None:
        settings = CostSettings(site=site, index=price_index_load(by=by))
    before = snapshot(settings)
    assign_fields(settings, fields, allowed=SETTINGS_FIELDS)
    settings._history_user = by  # type: ignore[attr-defined]
    clean_and_save(settings)
    changes = diff(before, snapshot(settings))
    if changes:
        audit_record(
            actor=by,
            action="costs.settings.updated",
            obj=settings,
            site=site,
            changes=changes,
            request=request,
        )
    return settings


@transaction.atomic
def programme_staff_add(
    *,
    by: User | None,
    site: Site,
    role: str,
    fte: Decimal,
    salary: Decimal,
    on_cost_rate: Decimal,
    budget_holder: str,
) -> ProgrammeStaff:
    """Add a post to the site's MST team costs."""
    require(_may(by, site), "You cannot change this site's MST team costs.")
    post = ProgrammeStaff(
        site=site,
        role=role,
        fte=fte,
        salary=salary,
        on_cost_rate=on_cost_rate,
        budget_holder=budget_holder,
    )
    post._history_user = by  # type: ignore[attr-defined]
    clean_and_save(post)
    audit_record(
        actor=by, action="costs.programme_staff.added", obj=post, site=site, data=snapshot(post)
    )
    return post


@transaction.atomic
def programme_running_cost_add(
    *, by: User | None, site: Site, label: str, annual_amount: Decimal, budget_holder: str
) -> ProgrammeRunningCost:
    """Add a yearly running cost (licence, consultation, training) to the MST team's costs."""
    require(_may(by, site), "You cannot change this site's MST team costs.")
    line = ProgrammeRunningCost(
        site=site, label=label, annual_amount=annual_amount, budget_holder=budget_holder
    )
    line._history_user = by  # type: ignore[attr-defined]
    clean_and_save(line)
    audit_record(
        actor=by,
        action="costs.programme_running_cost.added",
        obj=line,
        site=site,
        data=snapshot(line),
    )
    return line
