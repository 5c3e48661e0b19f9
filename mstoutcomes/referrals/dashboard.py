"""The referrals dashboard: each section is a chart (SVG) and the table of the same numbers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from mstoutcomes.accounts.models import Site
from mstoutcomes.referrals import charts, codes, demand, selectors


@dataclass(frozen=True)
class Section:
    title: str
    svg: str
    headers: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    note: str = ""


def _month_by_agency(
    per_month: list[dict[str, Any]],
) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    """Return a month × agency table (one row a month) with a total column."""
    agencies = sorted({r["Agency"] for r in per_month})
    months = sorted({r["Month"] for r in per_month})
    cell = {(r["Month"], r["Agency"]): r["Referrals"] for r in per_month}
    rows = []
    for month in months:
        counts = [cell.get((month, agency), 0) for agency in agencies]
        rows.append((month, *counts, sum(counts)))
    return ("Month", *agencies, "Total"), rows


def build(*, site: Site, as_of: dt.date) -> dict[str, Any]:
    """Return the dashboard's sections for a site as of a date."""
    n = selectors.dashboard_numbers(site=site, as_of=as_of)
    per_month = [{"Month": m, "Agency": a, "Referrals": c} for (m, a), c in n["per_month"]]
    funnel = [{"Stage": k, "Families": v} for k, v in n["funnel"].items()]
    declines = [{"Reason": k, "Referrals": v} for k, v in n["declines"]]
    waits = [{"Wait": k, "Families": v} for k, v in n["waits"]]
    capacity = []
    for month, places, active in n["capacity"]:
        capacity += [
            {"Month": month, "Measure": "Places", "Families": places},
            {"Month": month, "Measure": "In treatment", "Families": active},
        ]
    mix = [{"Agency": a, "Band": codes.BANDS[b], "Referrals": c} for (a, b), c in n["mix"]]
    median = n["median_wait_days"]
    awaiting = demand.awaiting_randomisation(site.pk)
    sections = [
        Section(
            "Referrals received each month, by agency",
            charts.bar(per_month, x="Month", y="Referrals", title="Referrals", colour="Agency"),
            *_month_by_agency(per_month),
        ),
        Section(
            "From referral to starting MST",
            charts.horizontal_bar(funnel, label="Stage", value="Families", title="Funnel"),
            ("Stage", "Families"),
            [(r["Stage"], r["Families"]) for r in funnel],
            # Accepted trial families not yet randomised are not MST starts: their own line.
            note=f"{awaiting.line}." if awaiting.families else "",
        ),
        Section(
            "Why referrals were declined or signposted",
            charts.horizontal_bar(declines, label="Reason", value="Referrals", title="Reasons"),
            ("Reason", "Referrals"),
            [(r["Reason"], r["Referrals"]) for r in declines],
        ),
        Section(
            "Waiting time from referral to start (or to now, if still waiting)",
            charts.bar(waits, x="Wait", y="Families", title="Waiting times"),
            ("Wait", "Families"),
            [(r["Wait"], r["Families"]) for r in waits],
            note=f"Median wait: {median} days." if median is not None else "",
        ),
        Section(
            "Places and families in treatment, start of each month",
            charts.lines(capacity, x="Month", y="Families", series="Measure", title="Capacity"),
            ("Month", "Places", "In treatment"),
            list(n["capacity"]),
        ),
        Section(
            "Complexity of referrals in the last 12 months, by agency",
            charts.bar(mix, x="Agency", y="Referrals", title="Case mix", colour="Band"),
            ("Agency", "Band", "Referrals"),
            [(r["Agency"], r["Band"], r["Referrals"]) for r in mix],
        ),
    ]
    return {
        "sections": sections,
        "funnel": n["funnel"],
        "median_wait_days": median,
        "awaiting": awaiting,
    }
