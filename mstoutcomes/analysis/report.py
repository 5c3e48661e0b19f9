"""Write results: results.json, CSV tables and a self-contained HTML report with charts.

Charts are Vega-Lite specifications made with altair and rendered to inline SVG with
vl-convert, so the report needs no JavaScript or network; every chart's numbers are also in a
table beside it.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import vl_convert

from mstoutcomes.analysis.contract import Dataset
from mstoutcomes.analysis.runner import NOT_CAUSAL, AnalysisResults, concat

RESULTS_JSON = "results.json"
REPORT_HTML = "report.html"


def results_json(results: AnalysisResults) -> str:
    """Return results as canonical JSON: the same numbers always give the same bytes."""
    return json.dumps(results.as_dict(), indent=2, sort_keys=True, allow_nan=False)


def write_outputs(
    results: AnalysisResults, out: str | Path, dataset: Dataset | None = None
) -> list[Path]:
    """Write results.json, one CSV per table and report.html into a directory."""
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    written = [root / RESULTS_JSON]
    written[0].write_text(results_json(results) + "\n", encoding="utf-8")
    for name, table in results.tables().items():
        path = root / f"{name}.csv"
        table.to_csv(path, index=False, lineterminator="\n")
        written.append(path)
    path = root / REPORT_HTML
    path.write_text(render_html(results, dataset), encoding="utf-8")
    written.append(path)
    return written


# --- charts ----------------------------------------------------------------------------------


def svg(chart: alt.TopLevelMixin) -> str:
    """Render a chart to SVG markup."""
    return vl_convert.vegalite_to_svg(chart.to_dict())


def forest_chart(results: AnalysisResults) -> alt.Chart | None:
    """Plot every trial effect with its interval, one panel per kind of measure."""
    rows = [
        {
            "label": f"{o.spec.title} ({'MI' if r.missing == 'multiple_imputation' else 'CC'})",
            "measure": r.effect.measure,
            "estimate": r.effect.estimate,
            "low": r.effect.ci_low,
            "high": r.effect.ci_high,
        }
        for o in results.outcomes
        for r in o.results
    ]
    if not rows:
        return None
    frame = pd.DataFrame(rows)
    base = alt.Chart(frame).encode(
        # Long outcome names are shown whole rather than cut off with an ellipsis.
        y=alt.Y("label:N", title=None, sort=None, axis=alt.Axis(labelLimit=360))
    )
    bars = base.mark_rule().encode(x=alt.X("low:Q", title="Estimate and 95% CI"), x2="high:Q")
    points = base.mark_point(filled=True, size=60).encode(
        x="estimate:Q", tooltip=list(frame.columns)
    )
    return (
        (bars + points)
        .properties(width=420, height=alt.Step(22))
        .facet(row=alt.Row("measure:N", title=None))
        .resolve_scale(x="independent", y="independent")
    )


def trajectory_chart(frame: pd.DataFrame, title: str) -> alt.Chart:
    """Plot the mean and 95% CI of an outcome by timepoint and arm."""
    order = list(dict.fromkeys(frame["timepoint"]))
    base = alt.Chart(frame).encode(
        x=alt.X("timepoint:N", sort=order, title="Timepoint"), color=alt.Color("arm:N", title="Arm")
    )
    return (
        base.mark_line(point=True).encode(y=alt.Y("mean:Q", title=title))
        + base.mark_errorbar().encode(y="ci_low:Q", y2="ci_high:Q")
    ).properties(width=420, height=240)


def km_chart(km: pd.DataFrame, title: str) -> alt.Chart:
    """Plot Kaplan–Meier curves by arm."""
    return (
        alt.Chart(km)
        .mark_line(interpolate="step-after")
        .encode(
            x=alt.X("day:Q", title="Days since randomisation"),
            y=alt.Y("survival:Q", title=f"Without {title.lower()}", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("arm:N", title="Arm"),
        )
        .properties(width=420, height=240)
    )


def spaghetti_chart(long: pd.DataFrame, title: str, order: list[str]) -> alt.Chart:
    """Plot each young person's scores over time."""
    return (
        alt.Chart(long)
        .mark_line(opacity=0.35, point=True)
        .encode(
            x=alt.X("timepoint:N", sort=order, title="Timepoint"),
            y=alt.Y("value:Q", title=title),
            detail="participant_id:N",
        )
        .properties(width=420, height=240)
    )


def reliable_change_chart(per_person: pd.DataFrame, before: str, after: str) -> alt.Chart:
    """Plot score after against score before, coloured by reliable change category."""
    frame = per_person.reset_index(drop=True)
    lo = float(min(frame["before"].min(), frame["after"].min()))
    hi = float(max(frame["before"].max(), frame["after"].max()))
    diagonal = (
        alt.Chart(pd.DataFrame({"x": [lo, hi], "y": [lo, hi]}))
        .mark_line(color="#505a5f", strokeDash=[4, 4])
        .encode(x="x:Q", y="y:Q")
    )
    points = (
        alt.Chart(frame)
        .mark_point(filled=True)
        .encode(
            x=alt.X("before:Q", title=f"Score at {before}"),
            y=alt.Y("after:Q", title=f"Score at {after}"),
            color=alt.Color("category:N", title="Reliable change"),
        )
    )
    return (diagonal + points).properties(width=320, height=320)


# --- HTML ------------------------------------------------------------------------------------


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        if math.isinf(value):
            return "∞"
        if value != 0 and abs(value) < 0.001:
            return f"{value:.1e}"
        return f"{value:.{digits}f}"
    return html.escape(str(value))


# Column headings in words for the page and the PDF (the CSV downloads keep the field names).
_HEADINGS = {
    "ci_low": "95% CI from",
    "ci_high": "95% CI to",
    "p_value": "p",
    "sd": "SD",
    "std_error": "Standard error",
    "coef": "Coefficient",
    "df": "Degrees of freedom",
    "missing": "Missing data",
    "rate_per_year": "Rate per year",
    "person_years": "Person-years",
}
# Counts are whole numbers even when a frame holds them as floats.
_WHOLE = {"n", "events", "df"}


def _heading(column: Any) -> str:
    name = str(column)
    return _HEADINGS.get(name, name.replace("_", " ").capitalize())


def _cell(column: Any, value: Any) -> str:
    if str(column) in _WHOLE and isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _fmt(value)


def table_html(frame: pd.DataFrame, caption: str = "") -> str:
    """Return a GOV.UK-styled table of a frame, with headings in words."""
    head = "".join(
        f'<th scope="col" class="govuk-table__header">{html.escape(_heading(c))}</th>'
        for c in frame.columns
    )
    body = "".join(
        '<tr class="govuk-table__row">'
        + "".join(
            f'<td class="govuk-table__cell">{_cell(c, v)}</td>'
            for c, v in zip(frame.columns, row, strict=True)
        )
        + "</tr>"
        for row in frame.itertuples(index=False)
    )
    cap = (
        f'<caption class="govuk-table__caption govuk-table__caption--s">{html.escape(caption)}</caption>'  # noqa: E501 - HTML markup
        if caption
        else ""
    )
    return f'<table class="govuk-table">{cap}<thead class="govuk-table__head"><tr class="govuk-table__row">{head}</tr></thead><tbody class="govuk-table__body">{body}</tbody></table>'  # noqa: E501 - HTML markup


def _figure(chart: alt.TopLevelMixin | None, caption: str) -> str:
    if chart is None:
        return ""
    return f'<figure class="mst-chart" aria-label="{html.escape(caption)}">{svg(chart)}<figcaption class="govuk-body-s">{html.escape(caption)}</figcaption></figure>'  # noqa: E501 - HTML markup


def report_sections(
    results: AnalysisResults, dataset: Dataset | None = None
) -> list[tuple[str, str]]:
    """Return the report as (heading, HTML) sections; the app's results page shows the same."""
    sections: list[tuple[str, str]] = []
    plan = results.plan
    arms = ", ".join(f"{a}: {n}" for a, n in results.n_by_arm.items())
    intro = (
        f'<p class="govuk-body">Participants by arm — {html.escape(arms)}.</p>'
        f'<p class="govuk-body-s">Dataset SHA-256 <code>{results.dataset_sha256}</code>; '
        f"seed {plan.missing.seed}; {html.escape(results.code_version)}.</p>"
    )
    sections.append(("About this analysis", intro))
    if plan.is_trial:
        summaries = [r.summary.reset_index() for o in results.outcomes for r in o.results]
        effects = concat(summaries) if summaries else pd.DataFrame()
        body = (
            '<p class="govuk-body">Intention-to-treat comparisons of '
            f"{html.escape(plan.arms[1])} with {html.escape(plan.arms[0])}, adjusted for "
            f"{html.escape(', '.join(plan.covariates) or 'nothing')}. Complete-case (CC) and "
            "multiple imputation (MI) results are shown side by side.</p>"
            + _figure(
                forest_chart(results), "Forest plot of all effects with 95% confidence intervals"
            )
        )
        if not effects.empty:
            body += table_html(
                effects[
                    ["outcome", "measure", "missing", "estimate", "ci_low", "ci_high", "p_value"]
                ],
                "Effects",
            )
        sections.append(("Trial comparison", body))
    for outcome in results.outcomes:
        sections.append((outcome.spec.title, _outcome_html(outcome, results, dataset)))
    if results.targets is not None:
        targets = results.targets.reset_index()[
            ["label", "numerator", "denominator", "value", "ci_low", "ci_high", "target", "met"]
        ]
        sections.append(
            ("MST discharge targets", table_html(targets, "Discharges against MST's targets"))
        )
    return sections


def _outcome_html(  # noqa: C901 - one block per kind of result
    outcome: Any, results: AnalysisResults, dataset: Dataset | None
) -> str:
    spec = outcome.spec
    parts: list[str] = []
    for result in outcome.results:
        parts.append(
            f'<h3 class="govuk-heading-s">{html.escape(result.model)} — '
            f"{'multiple imputation' if result.missing == 'multiple_imputation' else 'complete case'}</h3>"  # noqa: E501
        )
        parts.append(
            table_html(
                result.summary.reset_index()[
                    ["measure", "estimate", "ci_low", "ci_high", "p_value"]
                ]
            )
        )
        n = ", ".join(f"{a}: {k}" for a, k in result.n_by_arm.items())
        parts.append(f'<p class="govuk-body-s">Analysed — {html.escape(n)}.</p>')
        km = result.extras.get("kaplan_meier")
        if isinstance(km, pd.DataFrame) and not km.empty and result.missing == "complete_case":
            parts.append(_figure(km_chart(km, spec.title), f"Kaplan–Meier curves: {spec.title}"))
            parts.append(
                f'<p class="govuk-body-s">Log-rank test: χ² = {_fmt(result.extras["logrank_chisq"])}, '  # noqa: E501
                f"p = {_fmt(result.extras['logrank_p'])}.</p>"
            )
    summary = outcome.arm_summary
    if "timepoint" in summary and spec.type == "continuous" and not summary.empty:
        parts.append(
            _figure(trajectory_chart(summary, spec.title), f"Mean and 95% CI by arm: {spec.title}")
        )
    if not summary.empty:
        parts.append(table_html(summary, "Summary by arm"))
    for subgroup in outcome.subgroups:
        levels = pd.DataFrame(subgroup["levels"])
        parts.append(
            table_html(
                levels,
                f"Subgroup {subgroup['subgroup']}: interaction p = {_fmt(subgroup['interaction_p'])}",  # noqa: E501
            )
        )
    if outcome.service:
        parts.append('<div class="govuk-inset-text">' + html.escape(NOT_CAUSAL) + "</div>")
    for served in outcome.service:
        parts.append(
            f'<h3 class="govuk-heading-s">{html.escape(served.outcome)} ({html.escape(results.plan.service_arm)})</h3>'  # noqa: E501
        )
        parts.append(table_html(served.summary.reset_index()))
        if getattr(served, "categories", None):
            parts.append(
                table_html(pd.DataFrame([served.categories]), "Reliable change (Jacobson–Truax)")
            )
            if "category" in served.per_person:
                parts.append(
                    _figure(
                        reliable_change_chart(served.per_person, served.before, served.after),
                        f"Reliable change: {served.outcome}",
                    )
                )
    if dataset is not None and spec.type == "continuous":
        parts.append(_spaghetti(spec, results, dataset))
    for note in outcome.notes:
        parts.append(f'<p class="govuk-body-s">{html.escape(note)}</p>')
    return "".join(parts)


def _spaghetti(spec: Any, results: AnalysisResults, dataset: Dataset) -> str:
    order = list(
        dict.fromkeys(
            p for p in (spec.baseline, *spec.maintenance, spec.timepoint, *spec.repeated) if p
        )
    )
    m = dataset.measurements
    arm = dataset.participants.set_index("participant_id")["arm"]
    long = m[(m["outcome"] == spec.source) & m["timepoint"].isin(order)].dropna(subset=["value"])
    long = long[long["participant_id"].map(arm) == results.plan.service_arm]
    if long.empty or long["participant_id"].nunique() > 500:
        return ""  # a few hundred lines is the most a spaghetti plot can show
    return _figure(
        spaghetti_chart(long[["participant_id", "timepoint", "value"]], spec.title, order),
        f"Each young person's scores ({results.plan.service_arm}): {spec.title}",
    )


def render_html(results: AnalysisResults, dataset: Dataset | None = None) -> str:
    """Return the standalone HTML report."""
    title = html.escape(results.plan.title or "Analysis results")
    body = "".join(
        f'<section><h2 class="govuk-heading-m">{html.escape(h)}</h2>{content}</section>'
        for h, content in report_sections(results, dataset)
    )
    return f"""<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8"><title>{title}</title>
<style>
body{{font-family:Arial,sans-serif;margin:2rem auto;max-width:60rem;color:#0b0c0c;line-height:1.4}}
table{{border-collapse:collapse;margin:0 0 1.5rem;width:100%;font-size:.9rem}}
th,td{{border-bottom:1px solid #b1b4b6;padding:.35rem .5rem;text-align:left}}
caption{{text-align:left;font-weight:bold;padding:.5rem 0}}
.govuk-inset-text{{border-left:10px solid #b1b4b6;padding:.75rem 1rem;margin:1rem 0}}
.govuk-body-s{{font-size:.85rem;color:#505a5f}} figure{{margin:1rem 0}} code{{font-size:.8rem}}
</style></head><body>
<h1>{title}</h1>
<p><strong>{html.escape(NOT_CAUSAL)}</strong></p>
{body}
</body></html>
"""
