"""The site's cost report: read through the selectors, cost with costing, judge with economics."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from mstoutcomes.accounts.models import Site
from mstoutcomes.core.dates import today
from mstoutcomes.costs import costing, economics
from mstoutcomes.costs.costing import AFTER_12, BEFORE_12, PERIOD_LABELS, ValueType
from mstoutcomes.costs.models import CostSettings
from mstoutcomes.costs.selectors import (
    ARMS_HIDDEN_NOTE,
    mst_spans_for,
    programme_for,
    resource_use_for,
    trial_arms_for,
    trial_arms_hidden_from,
    unit_costs_for,
)

FISCAL = (str(ValueType.CASHABLE), str(ValueType.NON_CASHABLE))
PLACEMENT_ITEMS = frozenset(
    {"residential_home", "foster_care", "supported_accommodation", "secure_welfare"}
)
OFFENCE_PREFIX = "police_"
BREAK_EVEN_ITEMS = {
    "residential_home": "week",
    "foster_care": "week",
    "custody_yoi": "night",
    "custody_sch": "night",
    "police_violence": "event",
    "police_burglary": "event",
}
STAFF_HOUR_ITEMS = {
    "social_worker_hour": "Social worker",
    "camhs_hour": "CAMHS clinician",
    "teacher_hour": "Teacher / education welfare",
    "police_officer_hour": "Police officer",
    "yos_officer_hour": "YOS officer",
}
MIN_PER_ARM = 2
MIN_BEFORE_AFTER = 5


@dataclass
class CostReport:
    """Everything the costs page and its downloads show, in one price year."""

    site: Site
    as_of: dt.date
    price_year: str
    index_name: str
    index_tag: str
    index_source: str
    catalogue: costing.Catalogue
    unit_costs: pd.DataFrame
    needs_local_value: list[str]
    programme: costing.ProgrammeCost | None
    missing_sources: list[str]
    seed: int
    n_boot: int
    trial: dict[str, Any] | None = None
    before_after: economics.BeforeAfter | None = None
    before_after_months: int = 12
    periods: pd.DataFrame = field(default_factory=pd.DataFrame)
    staff_time: pd.DataFrame = field(default_factory=pd.DataFrame)
    # The same per trial arm, in the 12 months before randomisation and the follow-up after.
    staff_time_by_arm: pd.DataFrame = field(default_factory=pd.DataFrame)
    break_even: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)

    @property
    def cost_per_family(self) -> float | None:
        return None if self.programme is None else self.programme.cost_per_family

    def tables(self) -> dict[str, pd.DataFrame]:
        """Return every table of the report by name, for the downloads."""
        out: dict[str, pd.DataFrame] = {"unit_costs": self.unit_costs}
        if self.programme is not None:
            out["mst_programme"] = self.programme.frame()
        if self.trial is not None:
            out["savings_by_arm"] = self.trial["comparison"].summary.reset_index(drop=True)
            out["effects_by_arm"] = self.trial["comparison"].effects.reset_index()
            for name, ce in self.trial["ce"].items():
                out[f"icer_{name}"] = ce.summary.reset_index()
                out[f"acceptability_{name}"] = ce.acceptability
            out["tornado"] = self.trial["tornado"].summary
            out["probabilistic"] = self.trial["psa"].summary
            if self.trial["economic"] is not None:
                out["economic_by_arm"] = self.trial["economic"].summary.reset_index(drop=True)
        if self.before_after is not None:
            out["before_after"] = self.before_after.summary.reset_index(drop=True)
        if not self.periods.empty:
            out["cost_by_period"] = self.periods
        if not self.staff_time.empty:
            out["staff_time"] = self.staff_time
        if not self.staff_time_by_arm.empty:
            out["staff_time_by_arm"] = self.staff_time_by_arm
        if not self.break_even.empty:
            out["break_even"] = self.break_even
        return out


def _catalogue(user: Any, site: Site, settings: CostSettings) -> tuple[costing.Catalogue, Any]:
    rows = list(unit_costs_for(user=user, site=site))
    index = settings.index.as_index()
    catalogue = costing.build_catalogue(
        [r.as_unit_cost() for r in rows], index=index, price_year=settings.price_year
    )
    return catalogue, rows


def build_report(
    *,
    user: Any,
    site: Site,
    as_of: dt.date | None = None,
    seed: int = economics.DEFAULT_SEED,
    n_boot: int = 1000,
) -> CostReport | None:
    """Return the site's cost report, or None if its unit costs have not been loaded."""
    settings = CostSettings.objects.filter(site=site).select_related("index").first()
    if settings is None:
        return None
    as_of = as_of or today()
    catalogue, rows = _catalogue(user, site, settings)
    index = settings.index.as_index()
    programme = programme_for(site, settings)
    if programme is not None:
        programme = programme.restated(index, settings.price_year)
    use = resource_use_for(user=user, site=site)
    report = CostReport(
        site=site,
        as_of=as_of,
        price_year=settings.price_year,
        index_name=settings.index.name,
        index_tag=settings.index.tag,
        index_source=settings.index.source_title,
        catalogue=catalogue,
        unit_costs=catalogue.frame(),
        needs_local_value=[r.label for r in rows if r.needs_local_value],
        programme=programme,
        missing_sources=use.missing,
        seed=seed,
        n_boot=n_boot,
    )
    uses = [u for u in use.uses if u.item in catalogue]
    _before_after(report, user, site, uses, use, as_of)
    _trial(report, user, site, uses, use, settings.follow_up_months, as_of)
    if programme is not None:
        report.break_even = economics.break_even(
            programme.cost_per_family, catalogue, BREAK_EVEN_ITEMS
        )
    return report


def _mst_windows(
    spans: list[Any], as_of: dt.date
) -> tuple[dict[str, tuple[costing.Period, ...]], dict[int, list[str]]]:
    """Return each person's windows observed to their end, and who has 6 and 12 months after."""
    periods: dict[str, tuple[costing.Period, ...]] = {}
    complete: dict[int, list[str]] = {12: [], 6: []}
    for span in spans:
        if span.start > as_of:
            continue
        windows = costing.mst_periods(span.start, max(span.end or as_of, span.start))
        if span.end is None:  # still in MST: only the windows before it are complete
            windows = windows[:2]
        # Only windows observed to their end, so a half-observed window never looks cheap.
        periods[span.person] = tuple(p for p in windows if p.end <= as_of)
        if span.end is not None:
            ends = {12: windows[4].end, 6: windows[3].end}
            for months, people_done in complete.items():
                if ends[months] <= as_of:
                    people_done.append(span.person)
    return periods, complete


def _before_after(
    report: CostReport,
    user: Any,
    site: Site,
    uses: list[costing.Use],
    use: Any,
    as_of: dt.date,
) -> None:
    periods, complete = _mst_windows(mst_spans_for(user=user, site=site), as_of)
    if not periods:
        return
    costed = costing.cost_uses(uses, periods=periods, catalogue=report.catalogue, observed_to=as_of)
    people = sorted(periods)
    fiscal = costed[costed["value_type"].isin(FISCAL)]
    # Mean cost per young person in each window and budget holder (people observed in it).
    rows = []
    for name, label in PERIOD_LABELS.items():
        observed = [p for p in people if any(w.name == name and w.days for w in periods[p])]
        if not observed:
            continue
        in_window = fiscal[fiscal["period"] == name]
        table = costing.cost_by_person(in_window, people=observed)
        for holder, mean in table.mean().items():
            rows.append(
                {
                    "period": label,
                    "budget_holder": costing.BUDGET_HOLDER_LABELS[holder],
                    "mean_cost": float(mean),
                    "young_people": len(observed),
                }
            )
        if table.empty or not len(table.columns):
            rows.append(
                {
                    "period": label,
                    "budget_holder": "None recorded",
                    "mean_cost": 0.0,
                    "young_people": len(observed),
                }
            )
    report.periods = pd.DataFrame(rows)
    report.staff_time = _staff_time(costed, periods, people, use)
    # 12 months each side when enough young people have been followed that long, else 6.
    months = 12 if len(complete[12]) >= MIN_BEFORE_AFTER else 6
    done = complete[months]
    if len(done) < MIN_PER_ARM:
        report.notes.append(
            "Too few young people have been followed for 6 months after MST for a "
            "before/after comparison."
        )
        return
    before_names, after_names = (
        (BEFORE_12, AFTER_12) if months == 12 else (("before_0_6",), ("after_0_6",))
    )
    sub = fiscal[fiscal["person"].isin(done)]
    before = costing.cost_by_person(sub[sub["period"].isin(before_names)], people=done)
    after = costing.cost_by_person(sub[sub["period"].isin(after_names)], people=done)
    report.before_after = economics.before_after(
        before, after, n_boot=report.n_boot, seed=report.seed
    )
    report.before_after_months = months


def _staff_time(
    costed: pd.DataFrame,
    periods: dict[str, tuple[costing.Period, ...]],
    people: list[str],
    use: Any,
    labels: dict[str, str] = PERIOD_LABELS,
) -> pd.DataFrame:
    """Return hours per young person by profession, and meetings per young person, by window."""
    rows = []
    hours = costed[costed["item"].isin(STAFF_HOUR_ITEMS)]
    for name, label in labels.items():
        observed = [p for p in people if any(w.name == name and w.days for w in periods[p])]
        if not observed:
            continue
        in_window = hours[hours["period"] == name]
        row: dict[str, Any] = {"period": label, "young_people": len(observed)}
        for item, profession in STAFF_HOUR_ITEMS.items():
            total = in_window.loc[in_window["item"] == item, "quantity"].sum()
            row[f"{profession} hours"] = float(total) / len(observed)
        window = {p: next((w for w in periods[p] if w.name == name), None) for p in observed}
        meetings = sum(
            1 for person, day in use.meetings if (w := window.get(person)) and w.contains(day)
        )
        mst = sum(
            h for person, day, h in use.mst_hours if (w := window.get(person)) and w.contains(day)
        )
        row["Professional meetings"] = meetings / len(observed)
        row["MST staff hours"] = mst / len(observed)
        rows.append(row)
    return pd.DataFrame(rows)


def _trial(
    report: CostReport,
    user: Any,
    site: Site,
    uses: list[costing.Use],
    use: Any,
    follow_up_months: int,
    as_of: dt.date,
) -> None:
    if trial_arms_hidden_from(user=user, site=site):
        report.notes.append(ARMS_HIDDEN_NOTE)
        return
    found = trial_arms_for(user=user, site=site)
    if found is None:
        report.notes.append("This site has no trial allocations, so there is no comparison by arm.")
        return
    treatment, control, arms = found
    # Only people followed for the whole window are compared, so the arms are observed alike.
    eligible = [a for a in arms if costing.add_months(a.randomised_on, follow_up_months) <= as_of]
    counts = {arm: sum(a.arm == arm for a in eligible) for arm in (treatment, control)}
    if min(counts.values()) < MIN_PER_ARM:
        report.notes.append(
            f"Too few young people have completed {follow_up_months} months of follow-up in each "
            f"arm ({counts}) to compare costs by arm."
        )
        return
    # Both windows are costed once: the comparison uses the follow-up, staff time both.
    periods = {
        a.person: costing.trial_periods(a.randomised_on, follow_up_months=follow_up_months)
        for a in eligible
    }
    people = [a.person for a in eligible]
    costed_both = costing.cost_uses(
        uses, periods=periods, catalogue=report.catalogue, observed_to=as_of
    )
    costed = costed_both[costed_both["period"] == "follow_up"]
    arm_of = pd.Series({a.person: a.arm for a in eligible})
    started = {s.person for s in mst_spans_for(user=user, site=site)}
    received = pd.Series({p: (arm_of[p] == treatment and p in started) for p in people})
    effects = pd.DataFrame(
        {
            "placed": [
                float(((costed["person"] == p) & costed["item"].isin(PLACEMENT_ITEMS)).any())
                for p in people
            ],
            "offences": [
                float(
                    costed.loc[
                        (costed["person"] == p) & costed["item"].str.startswith(OFFENCE_PREFIX),
                        "quantity",
                    ].sum()
                )
                for p in people
            ],
        },
        index=people,
    )
    fiscal_codes = [c for c, u in report.catalogue.costs.items() if str(u.value_type) in FISCAL]
    fiscal_catalogue = costing.Catalogue(
        {c: report.catalogue[c] for c in fiscal_codes}, report.price_year
    )
    fiscal_units = costing.units_by_person(costed[costed["item"].isin(fiscal_codes)], people=people)
    model = economics.CostModel.from_units(fiscal_units, fiscal_catalogue, people)
    if report.programme is not None:
        model = model.with_programme(report.programme, received)
    else:
        report.notes.append(
            "The MST team's costs are not set, so savings by arm leave out what MST costs."
        )
    comparison = economics.compare_arms(
        model,
        arm_of,
        treatment=treatment,
        control=control,
        effects=effects,
        n_boot=report.n_boot,
        seed=report.seed,
    )
    labels = {c: u.label for c, u in report.catalogue.costs.items()}
    labels |= {
        economics.PROGRAMME_PREFIX + h: f"MST programme ({costing.BUDGET_HOLDER_LABELS[h]})"
        for h in costing.BUDGET_HOLDER_LABELS
    }
    economic_codes = [c for c in report.catalogue.costs if c not in fiscal_codes]
    economic = None
    if economic_codes:
        econ_catalogue = costing.Catalogue(
            {c: report.catalogue[c] for c in economic_codes}, report.price_year
        )
        econ_units = costing.units_by_person(
            costed[costed["item"].isin(economic_codes)], people=people
        )
        if not econ_units.empty:
            economic = economics.compare_arms(
                economics.CostModel.from_units(econ_units, econ_catalogue, people),
                arm_of,
                treatment=treatment,
                control=control,
                n_boot=report.n_boot,
                seed=report.seed,
            )
    report.staff_time_by_arm = _staff_time_by_arm(
        costed_both, periods, use, eligible, (treatment, control), follow_up_months
    )
    report.trial = {
        "treatment": treatment,
        "control": control,
        "follow_up_months": follow_up_months,
        "comparison": comparison,
        "ce": {
            name: economics.cost_effectiveness(comparison, name) for name in ("placed", "offences")
        },
        "tornado": economics.one_way(comparison, labels=labels),
        "psa": economics.probabilistic(comparison, seed=report.seed),
        "economic": economic,
    }


def _staff_time_by_arm(
    costed: pd.DataFrame,
    periods: dict[str, tuple[costing.Period, ...]],
    use: Any,
    eligible: list[Any],
    arms: tuple[str, str],
    follow_up_months: int,
) -> pd.DataFrame:
    """Return staff time and meetings per young person by arm, before and after randomisation."""
    labels = {
        "baseline": "12 months before randomisation",
        "follow_up": f"{follow_up_months} months after randomisation",
    }
    frames = []
    for arm in arms:
        people = [a.person for a in eligible if a.arm == arm]
        frame = _staff_time(costed, periods, people, use, labels=labels)
        if not frame.empty:
            frames.append(frame.assign(arm=arm))
    if not frames:
        return pd.DataFrame()
    combined = pd.concat(frames, ignore_index=True)
    return combined[["arm", *[c for c in combined.columns if c != "arm"]]]
