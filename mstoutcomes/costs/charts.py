"""The cost report's charts: Vega-Lite (altair) rendered to SVG on the server with vl-convert.

Each chart is a labelled picture; the numbers are in the table beside it on the page.
"""

from __future__ import annotations

import html

import altair as alt
import pandas as pd
import vl_convert

_WIDTH = 420
_POUNDS = alt.Axis(format=",.0f", labelExpr="'£' + format(datum.value, ',.0f')")


def _svg(chart: alt.Chart | alt.LayerChart, title: str, height: int = 240) -> str:
    spec = chart.properties(width=_WIDTH, height=height, title=title).to_dict()
    svg = str(vl_convert.vegalite_to_svg(spec))
    label = html.escape(title, quote=True)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)


def savings_by_holder(table: pd.DataFrame, title: str) -> str:
    """Net saving per young person by budget holder, with its 95% interval as a bar."""
    data = table[["budget_holder", "net_saving", "ci_low", "ci_high"]].copy()
    y = alt.Y("budget_holder:N", title=None, sort=None)
    bars = (
        alt.Chart(data)
        .mark_bar(color="#1d70b8")
        .encode(x=alt.X("net_saving:Q", title="Net saving per young person (£)", axis=_POUNDS), y=y)
    )
    whiskers = alt.Chart(data).mark_rule(color="#0b0c0c").encode(x="ci_low:Q", x2="ci_high:Q", y=y)
    zero = alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(color="#505a5f").encode(x="x:Q")
    return _svg(alt.layer(bars, whiskers, zero), title)


def cost_by_period(periods: pd.DataFrame, title: str) -> str:
    """Mean cost per young person in each window around MST, stacked by budget holder."""
    order = list(dict.fromkeys(periods["period"]))
    chart = (
        alt.Chart(periods)
        .mark_bar()
        .encode(
            x=alt.X("period:N", sort=order, title=None, axis=alt.Axis(labelAngle=-20)),
            y=alt.Y("sum(mean_cost):Q", title="Mean cost per young person (£)", axis=_POUNDS),
            color=alt.Color("budget_holder:N", title="Budget holder"),
        )
    )
    return _svg(chart, title)


def tornado(table: pd.DataFrame, base: float, title: str) -> str:
    """Net saving with each unit cost at the low and high end of its range."""
    top = table.head(10)
    data = pd.DataFrame(
        {
            "label": top["label"],
            "low": top[["saving_at_low", "saving_at_high"]].min(axis=1),
            "high": top[["saving_at_low", "saving_at_high"]].max(axis=1),
        }
    )
    y = alt.Y("label:N", sort=list(top["label"]), title=None)
    bars = (
        alt.Chart(data)
        .mark_bar(color="#f47738")
        .encode(
            x=alt.X("low:Q", title="Net saving per young person (£)", axis=_POUNDS),
            x2="high:Q",
            y=y,
        )
    )
    rule = alt.Chart(pd.DataFrame({"x": [base]})).mark_rule(color="#0b0c0c").encode(x="x:Q")
    return _svg(alt.layer(bars, rule), title, height=max(120, 24 * len(top)))


def ce_plane(plane: pd.DataFrame, title: str, effect_title: str) -> str:
    """Bootstrap replicates of effect avoided against incremental cost."""
    data = plane.sample(n=min(len(plane), 1000), random_state=0) if len(plane) else plane
    points = (
        alt.Chart(data)
        .mark_circle(size=12, opacity=0.4, color="#1d70b8")
        .encode(
            x=alt.X("effect_avoided:Q", title=effect_title),
            y=alt.Y(
                "incremental_cost:Q", title="Incremental cost per young person (£)", axis=_POUNDS
            ),
        )
    )
    axes = pd.DataFrame({"x": [0]})
    v = alt.Chart(axes).mark_rule(color="#505a5f").encode(x="x:Q")
    h = alt.Chart(axes.rename(columns={"x": "y"})).mark_rule(color="#505a5f").encode(y="y:Q")
    return _svg(alt.layer(points, v, h), title)


def acceptability(curve: pd.DataFrame, title: str, threshold_title: str) -> str:
    """Probability MST is worth it against what a commissioner would pay per event avoided."""
    chart = (
        alt.Chart(curve)
        .mark_line(color="#00703c")
        .encode(
            x=alt.X("threshold:Q", title=threshold_title, axis=_POUNDS),
            y=alt.Y(
                "probability:Q", title="Probability MST is worth it", scale=alt.Scale(domain=[0, 1])
            ),
        )
    )
    return _svg(chart, title)
