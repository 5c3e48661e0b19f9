"""Cost resource use: unit costs, price years, periods around MST and the MST programme cost.

Pure Python (no Django), so it runs on a researcher's own files as well as on our database.

How a cost is made: every record of resource use is turned into *units of its unit cost's
unit* (a placement of 73 nights costed by a per-year figure is 73 / 365 = 0.2 years), and
cost = units x rate. Keeping units and rates apart makes every figure traceable, and makes
sensitivity analysis a matter of changing rates (see ``costs.economics``).

Conventions (stated in docs/costs.md):

- a year is 365 days and a week 7 days; "night" and "day" are the same unit for spells;
- a spell (placement, custody) runs from its start date up to, not including, its end date:
  a child placed on 1 March and home on 4 March was away 3 nights; an open spell runs to the
  end of observation;
- periods are half-open ``[start, end)`` and never overlap, so costs split across them add up to
  the whole; a spell crossing a boundary is split by the nights on each side.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

import pandas as pd

DAYS_PER_YEAR = 365
DAYS_PER_WEEK = 7


class Unit(StrEnum):
    HOUR = "hour"
    DAY = "day"
    NIGHT = "night"
    WEEK = "week"
    YEAR = "year"
    EVENT = "event"


# Length of each time unit in days; hours and events are not lengths of stay.
_DAYS_IN: dict[Unit, float] = {
    Unit.DAY: 1,
    Unit.NIGHT: 1,
    Unit.WEEK: DAYS_PER_WEEK,
    Unit.YEAR: DAYS_PER_YEAR,
}


class BudgetHolder(StrEnum):
    LA_CHILDRENS = "la_childrens_services"
    EDUCATION = "education"
    YOUTH_JUSTICE = "youth_justice"
    POLICE = "police"
    NHS = "nhs"
    COURTS = "courts"


BUDGET_HOLDER_LABELS: dict[str, str] = {
    BudgetHolder.LA_CHILDRENS: "Local authority children's services",
    BudgetHolder.EDUCATION: "Education",
    BudgetHolder.YOUTH_JUSTICE: "Youth justice",
    BudgetHolder.POLICE: "Police",
    BudgetHolder.NHS: "NHS / CAMHS",
    BudgetHolder.COURTS: "Courts",
}


class ValueType(StrEnum):
    """Whether a saving could come back as money, as time, or only to society."""

    CASHABLE = "cashable"
    NON_CASHABLE = "non_cashable"
    ECONOMIC = "economic"


VALUE_TYPE_LABELS: dict[str, str] = {
    ValueType.CASHABLE: "Fiscal, cashable",
    ValueType.NON_CASHABLE: "Fiscal, not cashable (staff time released)",
    ValueType.ECONOMIC: "Economic / social",
}


class Evidence(StrEnum):
    """The domain file's tags: verified, recalled, uncertain."""

    VERIFIED = "V"
    RECALLED = "R"
    UNCERTAIN = "U"


class CostingError(ValueError):
    """A figure cannot be costed as asked; the message names the item or record."""


@dataclass(frozen=True)
class UnitCost:
    """One unit cost: a value per unit, in a price year, with its source.

    ``low`` and ``high`` are the plausible range used by sensitivity analysis; they default to
    the value itself.
    """

    code: str
    label: str
    value: float
    unit: Unit
    price_year: str
    budget_holder: BudgetHolder
    value_type: ValueType = ValueType.CASHABLE
    tag: Evidence = Evidence.VERIFIED
    source_title: str = ""
    source_url: str = ""
    low: float | None = None
    high: float | None = None

    def __post_init__(self) -> None:
        if not self.value >= 0:
            raise CostingError(f"{self.code}: the value must be zero or more, not {self.value}.")
        low, high = self.range
        if not low <= self.value <= high:
            raise CostingError(f"{self.code}: the range {low}–{high} must contain {self.value}.")

    @property
    def range(self) -> tuple[float, float]:
        low = self.value if self.low is None else self.low
        high = self.value if self.high is None else self.high
        return low, high

    def rate_per(self, unit: Unit) -> float:
        """Return the value per another unit of time (per year to per night: / 365)."""
        return self.value * units_between(unit, self.unit, code=self.code)

    def scaled(self, factor: float, price_year: str) -> UnitCost:
        low, high = self.range
        return replace(
            self,
            value=self.value * factor,
            low=low * factor,
            high=high * factor,
            price_year=price_year,
        )


def units_between(quantity_unit: Unit, cost_unit: Unit, *, code: str = "") -> float:
    """Return how many cost units one quantity unit is (one night is 1/365 of a year)."""
    if quantity_unit == cost_unit:
        return 1.0
    if quantity_unit in _DAYS_IN and cost_unit in _DAYS_IN:
        return _DAYS_IN[quantity_unit] / _DAYS_IN[cost_unit]
    raise CostingError(
        f"{code or 'A unit cost'} is per {cost_unit}; a quantity in {quantity_unit}s cannot be "
        "costed with it."
    )


# --- price years -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PriceIndex:
    """An index by price year ("2022-23"), such as the HM Treasury GDP deflator."""

    name: str
    values: Mapping[str, float]
    source_title: str = ""
    source_url: str = ""

    def factor(self, from_year: str, to_year: str) -> float:
        """Return the multiplier that restates a from_year figure in to_year prices."""
        missing = [y for y in (from_year, to_year) if y not in self.values]
        if missing:
            raise CostingError(
                f"The index {self.name!r} has no value for {', '.join(missing)}; "
                "add it before restating figures from or to that year."
            )
        return self.values[to_year] / self.values[from_year]

    def restate(self, cost: UnitCost, to_year: str) -> UnitCost:
        """Return the unit cost in to_year prices."""
        return cost.scaled(self.factor(cost.price_year, to_year), to_year)


@dataclass(frozen=True)
class Catalogue:
    """Unit costs by code, all in one price year."""

    costs: Mapping[str, UnitCost]
    price_year: str
    index_name: str = ""

    def __getitem__(self, code: str) -> UnitCost:
        try:
            return self.costs[code]
        except KeyError:
            raise CostingError(f"There is no unit cost {code!r} in the catalogue.") from None

    def __contains__(self, code: object) -> bool:
        return code in self.costs

    def rates(self) -> dict[str, float]:
        return {code: c.value for code, c in self.costs.items()}

    def frame(self) -> pd.DataFrame:
        """Return the unit costs used, one row each, for the report and downloads."""
        rows = [
            {
                "code": c.code,
                "item": c.label,
                "value": c.value,
                "unit": str(c.unit),
                "low": c.range[0],
                "high": c.range[1],
                "price_year": c.price_year,
                "budget_holder": BUDGET_HOLDER_LABELS[c.budget_holder],
                "value_type": VALUE_TYPE_LABELS[c.value_type],
                "evidence": str(c.tag),
                "source": c.source_title,
                "source_url": c.source_url,
            }
            for c in sorted(self.costs.values(), key=lambda c: (c.budget_holder, c.code))
        ]
        return pd.DataFrame(rows)


def build_catalogue(costs: Iterable[UnitCost], *, index: PriceIndex, price_year: str) -> Catalogue:
    """Return every unit cost restated in one price year by the index (never mixing years)."""
    restated: dict[str, UnitCost] = {}
    for cost in costs:
        if cost.code in restated:
            raise CostingError(f"The unit cost {cost.code!r} appears twice.")
        restated[cost.code] = index.restate(cost, price_year)
    return Catalogue(restated, price_year, index.name)


# --- periods -----------------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    """Return the same day of the month months later (or earlier), clipped to the month's end."""
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


@dataclass(frozen=True)
class Period:
    """A named, half-open span of dates ``[start, end)``."""

    name: str
    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise CostingError(f"The period {self.name!r} ends before it starts.")

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def contains(self, day: dt.date) -> bool:
        return self.start <= day < self.end

    def overlap_days(self, start: dt.date, end: dt.date) -> int:
        """Return the nights of a spell ``[start, end)`` that fall in this period."""
        return max(0, (min(end, self.end) - max(start, self.start)).days)


# The five non-overlapping windows around an MST episode, in report order.
PERIOD_LABELS: dict[str, str] = {
    "before_7_12": "7–12 months before MST",
    "before_0_6": "6 months before MST",
    "during": "During MST",
    "after_0_6": "6 months after MST",
    "after_7_12": "7–12 months after MST",
}
# Windows that add up to the 12 months before and the 12 months after.
BEFORE_12 = ("before_7_12", "before_0_6")
AFTER_12 = ("after_0_6", "after_7_12")


def mst_periods(start: dt.date, end: dt.date) -> tuple[Period, ...]:
    """Return the 12 months before MST (as two halves), MST itself and the 12 months after.

    ``end`` is the last day of MST (the discharge date): it belongs to "during", and the
    "after" windows start the next day.
    """
    after = end + dt.timedelta(days=1)
    return (
        Period("before_7_12", add_months(start, -12), add_months(start, -6)),
        Period("before_0_6", add_months(start, -6), start),
        Period("during", start, after),
        Period("after_0_6", after, add_months(after, 6)),
        Period("after_7_12", add_months(after, 6), add_months(after, 12)),
    )


def trial_periods(randomised_on: dt.date, *, follow_up_months: int = 12) -> tuple[Period, ...]:
    """Return the 12 months before randomisation and the follow-up after it, for both arms."""
    return (
        Period("baseline", add_months(randomised_on, -12), randomised_on),
        Period("follow_up", randomised_on, add_months(randomised_on, follow_up_months)),
    )


# --- resource use ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spell:
    """A stay costed by length: a placement or custody, ``[start, end)``; end None = still there."""

    person: str
    item: str
    start: dt.date
    end: dt.date | None = None
    source: str = ""


@dataclass(frozen=True)
class Event:
    """Something on a day: an offence, a court appearance, hours of a professional's time.

    ``quantity`` is in ``unit``: 1.5 hours, 3 suspension days, 1 event.
    """

    person: str
    item: str
    on: dt.date
    quantity: float = 1.0
    unit: Unit = Unit.EVENT
    source: str = ""


Use = Spell | Event

USE_COLUMNS = [
    "person",
    "period",
    "item",
    "budget_holder",
    "value_type",
    "quantity",
    "quantity_unit",
    "units",
    "rate",
    "cost",
]


def _use_rows(
    use: Use, periods: Sequence[Period], catalogue: Catalogue, observed_to: dt.date
) -> list[dict[str, object]]:
    cost = catalogue[use.item]
    rows: list[dict[str, object]] = []
    if isinstance(use, Spell):
        end = use.end if use.end is not None else observed_to
        if end < use.start:
            raise CostingError(f"{use.item} for {use.person}: the spell ends before it starts.")
        per_night = units_between(Unit.NIGHT, cost.unit, code=cost.code)
        for period in periods:
            nights = period.overlap_days(use.start, end)
            if nights:
                rows.append(_row(use.person, period.name, cost, nights, Unit.NIGHT, per_night))
        return rows
    if not use.quantity >= 0 or math.isinf(use.quantity):
        raise CostingError(f"{use.item} for {use.person}: the quantity must be zero or more.")
    factor = units_between(use.unit, cost.unit, code=cost.code)
    for period in periods:
        if period.contains(use.on):
            rows.append(_row(use.person, period.name, cost, use.quantity, use.unit, factor))
            break
    return rows


def _row(
    person: str, period: str, cost: UnitCost, quantity: float, unit: Unit, factor: float
) -> dict[str, object]:
    units = quantity * factor
    return {
        "person": person,
        "period": period,
        "item": cost.code,
        "budget_holder": str(cost.budget_holder),
        "value_type": str(cost.value_type),
        "quantity": float(quantity),
        "quantity_unit": str(unit),
        "units": units,
        "rate": cost.value,
        "cost": units * cost.value,
    }


def cost_uses(
    uses: Iterable[Use],
    *,
    periods: Mapping[str, Sequence[Period]],
    catalogue: Catalogue,
    observed_to: dt.date,
) -> pd.DataFrame:
    """Return one row per use and period it falls in: quantity, units of the cost's unit, cost.

    ``periods`` maps each person to their windows; uses of people without windows, and uses
    outside every window, are left out. Open spells run to ``observed_to``.
    """
    rows: list[dict[str, object]] = []
    for use in uses:
        windows = periods.get(use.person)
        if windows:
            rows.extend(_use_rows(use, windows, catalogue, observed_to))
    frame = pd.DataFrame(rows, columns=USE_COLUMNS)
    return frame.astype({"quantity": float, "units": float, "rate": float, "cost": float})


def cost_by_person(
    costed: pd.DataFrame, *, people: Sequence[str], by: str = "budget_holder"
) -> pd.DataFrame:
    """Return a people x ``by`` table of cost, with a zero row for people who used nothing."""
    table = costed.pivot_table(index="person", columns=by, values="cost", aggfunc="sum")
    table = table.reindex(index=list(people)).fillna(0.0)
    table.columns = [str(c) for c in table.columns]
    return table


def units_by_person(costed: pd.DataFrame, *, people: Sequence[str]) -> pd.DataFrame:
    """Return a people x item table of units (of each item's own unit)."""
    table = costed.pivot_table(index="person", columns="item", values="units", aggfunc="sum")
    return table.reindex(index=list(people)).fillna(0.0)


# --- the MST programme ------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffPost:
    """A post in the MST team: whole-time equivalents, salary and on-costs (NI, pension)."""

    role: str
    fte: float
    salary: float
    on_cost_rate: float = 0.0
    budget_holder: BudgetHolder = BudgetHolder.LA_CHILDRENS

    @property
    def annual_cost(self) -> float:
        return self.fte * self.salary * (1 + self.on_cost_rate)


@dataclass(frozen=True)
class RunningCost:
    """A yearly running cost: supervision, consultation, licence fees, travel, overheads."""

    label: str
    annual_amount: float
    budget_holder: BudgetHolder = BudgetHolder.LA_CHILDRENS


@dataclass(frozen=True)
class ProgrammeCost:
    """What the MST team costs a year and how many families it serves, in one price year.

    Either staffing and running costs with ``families_per_year`` (the cost per family is their
    total divided by families), or only ``per_family`` when that is all a site has.
    ``overhead_rate`` is applied to staffing (management, accommodation, IT) when overheads are
    not listed.
    """

    price_year: str
    staff: tuple[StaffPost, ...] = ()
    running: tuple[RunningCost, ...] = ()
    families_per_year: float = 0.0
    overhead_rate: float = 0.0
    per_family: float | None = None
    per_family_budget_holder: BudgetHolder = BudgetHolder.LA_CHILDRENS
    source: str = ""

    def __post_init__(self) -> None:
        if self.per_family is None and not (self.staff or self.running):
            raise CostingError("Give the team's staffing and running costs, or a cost per family.")
        if self.per_family is None and not self.families_per_year > 0:
            raise CostingError("Give the number of families served a year (more than 0).")

    @property
    def staffing(self) -> float:
        return sum(p.annual_cost for p in self.staff)

    @property
    def overheads(self) -> float:
        return self.staffing * self.overhead_rate

    @property
    def annual_total(self) -> float:
        if self.per_family is not None and not (self.staff or self.running):
            return self.per_family * self.families_per_year
        return self.staffing + self.overheads + sum(r.annual_amount for r in self.running)

    @property
    def cost_per_family(self) -> float:
        if self.per_family is not None:
            return self.per_family
        return self.annual_total / self.families_per_year

    def shares(self) -> dict[str, float]:
        """Return the share of the cost each budget holder bears (summing to 1)."""
        if self.per_family is not None:
            return {str(self.per_family_budget_holder): 1.0}
        amounts: dict[str, float] = {}
        for post in self.staff:
            key = str(post.budget_holder)
            amounts[key] = amounts.get(key, 0.0) + post.annual_cost * (1 + self.overhead_rate)
        for line in self.running:
            key = str(line.budget_holder)
            amounts[key] = amounts.get(key, 0.0) + line.annual_amount
        total = sum(amounts.values())
        return {k: v / total for k, v in amounts.items()} if total else {}

    def per_family_by_holder(self) -> dict[str, float]:
        return {k: share * self.cost_per_family for k, share in self.shares().items()}

    def restated(self, index: PriceIndex, price_year: str) -> ProgrammeCost:
        """Return the programme cost in another price year."""
        f = index.factor(self.price_year, price_year)
        return replace(
            self,
            price_year=price_year,
            staff=tuple(replace(p, salary=p.salary * f) for p in self.staff),
            running=tuple(replace(r, annual_amount=r.annual_amount * f) for r in self.running),
            per_family=None if self.per_family is None else self.per_family * f,
        )

    def frame(self) -> pd.DataFrame:
        """Return the lines that make up the annual cost, for the report."""
        rows = [
            {
                "line": f"{p.role} ({p.fte:g} FTE, on-costs {p.on_cost_rate:.0%})",
                "budget_holder": BUDGET_HOLDER_LABELS[p.budget_holder],
                "annual_cost": p.annual_cost,
            }
            for p in self.staff
        ]
        if self.overhead_rate:
            rows.append(
                {
                    "line": f"Overheads ({self.overhead_rate:.0%} of staffing)",
                    "budget_holder": "As staffing",
                    "annual_cost": self.overheads,
                }
            )
        rows += [
            {
                "line": r.label,
                "budget_holder": BUDGET_HOLDER_LABELS[r.budget_holder],
                "annual_cost": r.annual_amount,
            }
            for r in self.running
        ]
        return pd.DataFrame(rows, columns=["line", "budget_holder", "annual_cost"])
