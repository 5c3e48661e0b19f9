"""Recruitment charts: Vega-Lite specs built with altair, rendered to SVG on the server.

The house pattern (see referrals/charts.py): no JavaScript, no CDN, prints well; every chart is
shown beside a table of the same numbers. Counts only, never arms: these charts are shown to
everyone who may see the recruitment page.
"""

from __future__ import annotations

from html import escape
from typing import Any

import altair as alt
import pandas as pd
import vl_convert

_WIDTH = 420
_COUNT_AXIS = alt.Axis(tickMinStep=1, format="d")


def _svg(chart: alt.LayerChart | alt.Chart, title: str, height: int = 220) -> str:
    spec = (
        chart.properties(width=_WIDTH, height=height, title=title)
        # Labels large enough to read when the chart shrinks to its column.
        .configure_axis(labelFontSize=12, titleFontSize=12)
        .configure_legend(labelFontSize=12)
        .configure_title(fontSize=14)
        .to_dict()
    )
    svg = vl_convert.vegalite_to_svg(spec)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{escape(title)}" ', 1)


def cumulative_against_target(rows: list[dict[str, Any]], *, title: str) -> str:
    """Draw cumulative randomisations by month, with the target as a dashed line.

    rows: {"month": "2026-01", "Randomised so far": n, "Target so far": m}; no target: m = 0
    for every month, and the line is left out.
    """
    if not rows:
        return ""
    frame = pd.DataFrame(rows)
    has_target = bool(frame["Target so far"].sum())
    long = frame.melt(
        id_vars="month",
        value_vars=["Randomised so far", "Target so far"] if has_target else ["Randomised so far"],
        var_name="series",
        value_name="participants",
    )
    chart = (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("month:N", sort=None, title=None),
            y=alt.Y("participants:Q", title="participants", axis=_COUNT_AXIS),
            color=alt.Color("series:N", title=None, legend=alt.Legend(orient="bottom")),
            strokeDash=alt.StrokeDash(
                "series:N",
                legend=None,
                scale=alt.Scale(
                    domain=["Randomised so far", "Target so far"], range=[[1, 0], [6, 4]]
                ),
            ),
        )
    )
    return _svg(chart, title)


def site_bars(rows: list[dict[str, Any]], *, title: str) -> str:
    """Draw randomisations per site as bars, with each site's target so far as a tick."""
    if not rows:
        return ""
    frame = pd.DataFrame(rows)
    # One bar per site at a readable thickness, not one bar filling the whole chart.
    height = 40 * len(frame) + 20
    bars = (
        alt.Chart(frame)
        .mark_bar(size=28)
        .encode(
            y=alt.Y("site:N", sort=None, title=None),
            x=alt.X("randomised:Q", title="participants", axis=_COUNT_AXIS),
        )
    )
    if not frame["target"].sum():
        return _svg(bars, title, height)
    ticks = (
        alt.Chart(frame)
        .mark_tick(color="#d4351c", thickness=4, size=38)
        .encode(y=alt.Y("site:N", sort=None), x=alt.X("target:Q"))
    )
    return _svg(alt.layer(bars, ticks), title, height)
