"""Dashboard charts: Vega-Lite specs built with altair, rendered to SVG on the server.

Server-side SVG (vl-convert) needs no JavaScript and no CDN, prints well, and the same spec can
be embedded with vega-embed later. Every chart is shown beside a table of the same numbers.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
import vl_convert

_WIDTH = 420
# Counts of families: whole-number ticks only.
_COUNT_AXIS = alt.Axis(tickMinStep=1, format="d")


def _svg(chart: alt.Chart, title: str) -> str:
    spec = chart.properties(width=_WIDTH, height=220, title=title).to_dict()
    svg = vl_convert.vegalite_to_svg(spec)
    # The table beside the chart carries the numbers; the SVG is a labelled picture of them.
    return svg.replace("<svg ", f'<svg role="img" aria-label="{title}" ', 1)


def bar(rows: list[dict[str, Any]], *, x: str, y: str, title: str, colour: str = "") -> str:
    if not rows:
        return ""
    frame = pd.DataFrame(rows)
    encoding: dict[str, Any] = {
        "x": alt.X(f"{x}:N", sort=None, title=None),
        "y": alt.Y(f"{y}:Q", title=y, axis=_COUNT_AXIS),
    }
    if colour:
        encoding["color"] = alt.Color(
            f"{colour}:N", title=colour, legend=alt.Legend(orient="bottom", columns=2)
        )
    return _svg(alt.Chart(frame).mark_bar().encode(**encoding), title)


def horizontal_bar(rows: list[dict[str, Any]], *, label: str, value: str, title: str) -> str:
    if not rows:
        return ""
    frame = pd.DataFrame(rows)
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y(f"{label}:N", sort=None, title=None),
            x=alt.X(f"{value}:Q", title=value, axis=_COUNT_AXIS),
        )
    )
    return _svg(chart, title)


def lines(rows: list[dict[str, Any]], *, x: str, y: str, series: str, title: str) -> str:
    if not rows:
        return ""
    frame = pd.DataFrame(rows)
    chart = (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X(f"{x}:N", title=None),
            y=alt.Y(f"{y}:Q", title=y, axis=_COUNT_AXIS),
            color=alt.Color(f"{series}:N", title=None, legend=alt.Legend(orient="bottom")),
        )
    )
    return _svg(chart, title)
