"""Turn a cost report into what the page shows: a headline and sections of chart + table."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from mstoutcomes.costs import charts
from mstoutcomes.costs.economics import BEFORE_AFTER_WARNING
from mstoutcomes.costs.report import CostReport

EFFECT_TITLES = {
    "placed": ("out-of-home placement avoided", "Placements avoided per young person"),
    "offences": ("offence avoided", "Offences avoided per young person"),
}


def money(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    sign = "−" if value < 0 else ""
    return f"{sign}£{abs(value):,.0f}"


def interval(low: float, high: float) -> str:
    return f"{money(low)} to {money(high)}"


@dataclass
class Section:
    title: str
    headers: list[str]
    rows: list[list[str]]
    svg: str = ""
    note: str = ""
    warning: str = ""
    slug: str = ""


@dataclass
class Page:
    headline: list[tuple[str, str, str]] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)


def page_for(report: CostReport) -> Page:
    """Return the headline figures and the sections of the report page."""
    page = Page()
    if report.programme is not None:
        page.headline.append(
            (
                "MST cost per family",
                money(report.programme.cost_per_family),
                f"{money(report.programme.annual_total)} a year",
            )
        )
    if report.trial is not None:
        total = report.trial["comparison"].total
        page.headline.append(
            (
                "Net saving per young person against management as usual",
                money(total["net_saving"]),
                f"95% CI {interval(total['ci_low'], total['ci_high'])}",
            )
        )
        _trial_sections(report, page)
    if report.before_after is not None:
        ba = report.before_after.summary.loc["total"]
        page.headline.append(
            (
                "Fall in cost per young person, before to after MST (uncontrolled)",
                money(ba["fall"]),
                f"95% CI {interval(ba['ci_low'], ba['ci_high'])}",
            )
        )
        rows = [
            [
                r["budget_holder"],
                money(r["mean_before"]),
                money(r["mean_after"]),
                money(r["fall"]),
                interval(r["ci_low"], r["ci_high"]),
            ]
            for _, r in report.before_after.summary.iterrows()
        ]
        page.sections.append(
            Section(
                f"Before and after MST: {report.before_after_months} months each "
                f"({report.before_after.n} young people)",
                ["Budget holder", "Before", "After", "Fall", "95% CI"],
                rows,
                warning=BEFORE_AFTER_WARNING,
                slug="before_after",
            )
        )
    if not report.periods.empty:
        table = report.periods.pivot_table(
            index="period", columns="budget_holder", values="mean_cost", sort=False
        ).fillna(0.0)
        page.sections.append(
            Section(
                "Mean cost per young person around MST, by budget holder",
                ["Window", *table.columns],
                [[str(i), *(money(v) for v in row)] for i, row in table.iterrows()],
                svg=charts.cost_by_period(report.periods, "Cost per young person around MST"),
                note="Fiscal costs only. Each window counts the young people observed in it.",
                slug="cost_by_period",
            )
        )
    if not report.staff_time.empty:
        cols = [c for c in report.staff_time.columns if c not in ("period", "young_people")]
        page.sections.append(
            Section(
                "Staff time and professional meetings per young person",
                ["Window", *cols],
                [
                    [r["period"], *(f"{r[c]:.1f}" for c in cols)]
                    for _, r in report.staff_time.iterrows()
                ],
                note="Hours of other agencies' staff at professional meetings, MST staff hours "
                "with the family, and the number of professional meetings.",
                slug="staff_time",
            )
        )
    by_arm = report.staff_time_by_arm
    if not by_arm.empty:
        cols = [c for c in by_arm.columns if c not in ("arm", "period", "young_people")]
        page.sections.append(
            Section(
                "Staff time and professional meetings per young person, by trial arm",
                ["Arm", "Window", "Young people", *cols],
                [
                    [r["arm"], r["period"], str(r["young_people"]), *(f"{r[c]:.1f}" for c in cols)]
                    for _, r in by_arm.iterrows()
                ],
                note="The randomised comparison: young people followed for the whole follow-up, "
                "in the arm they were allocated (intention to treat). MST staff hours are zero "
                "under management as usual by design.",
                slug="staff_time_by_arm",
            )
        )
    if not report.break_even.empty:
        page.sections.append(
            Section(
                "Break-even: what avoided use pays for one family's MST",
                ["Avoided", "Unit cost", "Needed to pay for one family"],
                [
                    [
                        r["label"],
                        f"{money(r['unit_cost'])} per {r['per']}",
                        f"{r['avoided_to_break_even']:,.1f} {r['per']}s",
                    ]
                    for _, r in report.break_even.iterrows()
                ],
                slug="break_even",
            )
        )
    return page


def _trial_sections(report: CostReport, page: Page) -> None:
    trial = report.trial
    assert trial is not None
    comparison = trial["comparison"]
    t, c = trial["treatment"], trial["control"]
    table = comparison.summary
    rows = [
        [
            r["budget_holder"],
            money(r[f"mean_{c}"]),
            money(r[f"mean_{t}_services"]),
            money(r[f"mean_{t}_mst"]),
            money(r["net_saving"]),
            interval(r["ci_low"], r["ci_high"]),
        ]
        for _, r in table.iterrows()
    ]
    n = ", ".join(f"{arm} {count}" for arm, count in comparison.n.items())
    page.sections.append(
        Section(
            f"Savings by budget holder: {t} against {c} ({trial['follow_up_months']} months "
            "after randomisation)",
            [
                "Budget holder",
                f"{c}: services",
                f"{t}: services",
                f"{t}: MST programme",
                "Net saving",
                "95% CI",
            ],
            rows,
            svg=charts.savings_by_holder(table, "Net saving per young person by budget holder"),
            note=f"The trial's unbiased estimate. Young people: {n}. Fiscal costs only; a "
            "positive saving means the MST arm cost less after paying for MST. Bootstrap of "
            f"{comparison.n_boot} resamples, seed {comparison.seed}.",
            slug="savings_by_arm",
        )
    )
    economic = trial["economic"]
    if economic is not None:
        total = economic.total
        page.sections.append(
            Section(
                "Economic and social costs (reported separately, not cashable)",
                ["Measure", "Saving per young person", "95% CI"],
                [
                    [
                        "Economic / social costs",
                        money(total["net_saving"]),
                        interval(total["ci_low"], total["ci_high"]),
                    ]
                ],
                slug="economic_by_arm",
            )
        )
    for name, ce in trial["ce"].items():
        what, axis = EFFECT_TITLES[name]
        effect = comparison.effects.loc[name]
        page.sections.append(
            Section(
                f"Cost-effectiveness: cost per {what}",
                ["Measure", "Value"],
                [
                    ["Incremental cost per young person", money(ce.incremental_cost)],
                    [
                        f"{axis}",
                        f"{effect['avoided']:.2f} (95% CI {effect['ci_low']:.2f} to "
                        f"{effect['ci_high']:.2f})",
                    ],
                    ["ICER", money(ce.icer) if ce.icer is not None else "Not meaningful"],
                    ["Verdict", ce.verdict],
                ],
                svg=charts.ce_plane(ce.plane, f"Cost-effectiveness plane: {what}", axis),
                slug=f"icer_{name}",
            )
        )
        page.sections.append(
            Section(
                f"Acceptability: {what}",
                ["Paid per event avoided", "Probability MST is worth it"],
                [
                    [money(r["threshold"]), f"{r['probability']:.0%}"]
                    for _, r in ce.acceptability.iloc[::5].iterrows()
                ],
                svg=charts.acceptability(
                    ce.acceptability, f"Acceptability curve: {what}", f"Paid per {what} (£)"
                ),
                slug=f"acceptability_{name}",
            )
        )
    tornado = trial["tornado"]
    page.sections.append(
        Section(
            "One-way sensitivity: each unit cost over its plausible range",
            ["Unit cost", "Range", "Saving at low", "Saving at high"],
            [
                [
                    r["label"],
                    interval(r["low_value"], r["high_value"]),
                    money(r["saving_at_low"]),
                    money(r["saving_at_high"]),
                ]
                for _, r in tornado.summary.head(10).iterrows()
            ],
            svg=charts.tornado(
                tornado.summary, tornado.base, "Tornado: net saving per young person"
            )
            if len(tornado.summary)
            else "",
            slug="tornado",
        )
    )
    psa = trial["psa"]
    low, high = psa.interval
    page.sections.append(
        Section(
            "Probabilistic sensitivity (Monte Carlo)",
            ["Measure", "Value"],
            [
                ["Mean net saving per young person", money(psa.mean)],
                ["95% interval", interval(low, high)],
                ["Probability MST saves money", f"{psa.probability_of_saving:.0%}"],
                ["Draws and seed", f"{len(psa.draws):,}, seed {psa.seed}"],
            ],
            note="Each draw pairs a bootstrap resample of young people with unit costs drawn "
            "from triangular distributions over their ranges.",
            slug="probabilistic",
        )
    )


def unit_cost_rows(report: CostReport) -> list[dict[str, Any]]:
    return list(report.unit_costs.to_dict(orient="records"))
