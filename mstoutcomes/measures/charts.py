"""Charts of scales over time with their bands shaded: Vega-Lite (altair), rendered to SVG.

Rendered on the server with vl-convert, so the page needs no JavaScript and the same spec can go
into a PDF. Each chart has the numbers beside it in a table (see the template).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from mstoutcomes.measures.definitions import BandSet, Instrument, Scale

if TYPE_CHECKING:
    import pandas as pd

# From the expected band to the most concerning (up to four bands).
BAND_COLOURS = ("#e5f0e6", "#fff2c6", "#fbd9b4", "#f6b7b1")
LINE_COLOUR = "#1d70b8"


@dataclass(frozen=True)
class Point:
    on: dt.date
    value: float
    timepoint: str = ""
    prorated: bool = False


def _band_frame(band_set: BandSet | None, scale: Scale) -> pd.DataFrame:
    import pandas as pd

    if band_set is None or scale.code not in band_set.scales:
        return pd.DataFrame(columns=["band", "low", "high", "rank"])
    bands = band_set.scales[scale.code]
    return pd.DataFrame(
        {
            "band": [b.label for b in bands],
            # Shade whole-number bands to the half point, so 13 and 14 sit in different colours.
            "low": [
                max(scale.minimum, b.minimum - 0.5) if not scale.decimals else b.minimum
                for b in bands
            ],
            "high": [
                min(scale.maximum, b.maximum + 0.5) if not scale.decimals else b.maximum
                for b in bands
            ],
            "rank": list(range(len(bands))),
        }
    )


def scale_chart(
    scale: Scale, points: Sequence[Point], band_set: BandSet | None, *, start: dt.date, end: dt.date
) -> Any:
    """Return one scale's chart (altair): the bands as shaded areas and the scores as a line."""
    import altair as alt
    import pandas as pd

    bands = _band_frame(band_set, scale)
    data = pd.DataFrame(
        {
            "date": [p.on.isoformat() for p in points],
            "score": [p.value for p in points],
            "timepoint": [p.timepoint for p in points],
        }
    )
    y = alt.Y("score:Q", title=scale.label, scale=alt.Scale(domain=[scale.minimum, scale.maximum]))
    x = alt.X(
        "date:T",
        title=None,
        scale=alt.Scale(domain=[start.isoformat(), end.isoformat()]),
        axis=alt.Axis(format="%b %Y"),
    )
    line = alt.Chart(data).mark_line(point=True, color=LINE_COLOUR, strokeWidth=2).encode(x=x, y=y)
    layers: list[Any] = []
    if not bands.empty:
        colour = alt.Color(
            "band:N",
            title=band_set.label if band_set else "",
            sort=list(bands["band"]),
            scale=alt.Scale(domain=list(bands["band"]), range=list(BAND_COLOURS[: len(bands)])),
            legend=alt.Legend(orient="right"),
        )
        layers.append(
            alt.Chart(bands)
            .mark_rect(opacity=0.9)
            .encode(
                y=alt.Y("low:Q", scale=alt.Scale(domain=[scale.minimum, scale.maximum])),
                y2="high:Q",
                color=colour,
            )
        )
    layers.append(line)
    return alt.layer(*layers).properties(width=520, height=150, title=scale.label)


def instrument_svg(
    instrument: Instrument,
    respondent: str,
    series: dict[str, list[Point]],
    *,
    start: dt.date,
    end: dt.date,
) -> str:
    """Return one SVG with a chart per charted scale of an instrument, bands shaded."""
    import altair as alt

    band_sets = instrument.band_sets_for(respondent)
    preferred = band_sets[0] if band_sets else None
    charts = [
        scale_chart(scale, series[scale.code], preferred, start=start, end=end)
        for scale in instrument.scales_for(respondent)
        if scale.chart and series.get(scale.code)
    ]
    if not charts:
        return ""
    spec = alt.vconcat(*charts).resolve_scale(color="independent").configure_view(stroke=None)
    return _svg(spec.to_json())


@lru_cache(maxsize=512)
def _svg(spec_json: str) -> str:
    # Rendering takes a few hundred milliseconds; the same numbers give the same picture.
    import vl_convert

    return str(vl_convert.vegalite_to_svg(spec_json))
