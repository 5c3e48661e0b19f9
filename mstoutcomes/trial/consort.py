"""CONSORT 2010 flow: counts from participants' dispositions, and the diagram as SVG.

Pure Python: `consort_counts` takes one `Disposition` per person assessed for eligibility and
returns the numbers for every box; `consort_svg` draws the standard four-stage diagram
(enrolment, allocation, follow-up, analysis) with optional links on each box.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape

# A randomised participant's state at each follow-up timepoint, at the cut-off date.
FOLLOW_UP_STATES = {
    "followed_up": "Followed up",
    # Collected with a reason outside the timepoint's window: counted apart, never as in window.
    "followed_up_out_of_window": "Followed up (out of window)",
    "lost": "Lost to follow-up",
    "due": "In window, not yet collected",
    "not_yet_due": "Not yet due",
}

EXCLUSION_REASONS = {
    "not_meeting_criteria": "Not meeting inclusion criteria",
    "declined": "Declined to participate",
    "other": "Other reasons",
}


@dataclass(frozen=True)
class Disposition:
    """Where one person assessed for eligibility ended up."""

    participant_id: str
    # One of EXCLUSION_REASONS when excluded; None and no arm: assessment not finished yet.
    excluded_reason: str | None = None
    arm: str | None = None
    received_allocated: bool | None = None
    not_received_reason: str = ""
    # timepoint -> one of FOLLOW_UP_STATES; lost_reasons: timepoint -> why lost
    follow_up: Mapping[str, str] = field(default_factory=dict)
    lost_reasons: Mapping[str, str] = field(default_factory=dict)
    # Discontinued the intervention (withdrew from treatment); still followed up if they allow.
    discontinued: bool = False
    discontinued_reason: str = ""
    analysed: bool | None = None
    not_analysed_reason: str = ""


@dataclass(frozen=True)
class ArmFlow:
    arm: str
    allocated: int
    received: int
    not_received: int
    not_received_reasons: dict[str, int]
    follow_up: dict[str, dict[str, int]]  # timepoint -> {state: n} (FOLLOW_UP_STATES)
    lost_reasons: dict[str, dict[str, int]]
    discontinued: int
    discontinued_reasons: dict[str, int]
    analysed: int
    not_analysed: int
    not_analysed_reasons: dict[str, int]


@dataclass(frozen=True)
class ConsortCounts:
    assessed: int
    excluded: int
    excluded_by_reason: dict[str, int]
    randomised: int
    arms: tuple[ArmFlow, ...]
    timepoints: tuple[str, ...]
    awaiting: int = 0
    timepoint_labels: Mapping[str, str] = field(default_factory=dict)

    def label(self, timepoint: str) -> str:
        return self.timepoint_labels.get(timepoint, timepoint)

    def rows(self) -> list[tuple[str, str, int]]:
        """Return (stage, box, count) rows, for the table and the CSV download."""
        out = [
            ("Enrolment", "Assessed for eligibility", self.assessed),
            ("Enrolment", "Excluded", self.excluded),
        ]
        out += [
            ("Enrolment", f"Excluded: {EXCLUSION_REASONS.get(k, k)}", v)
            for k, v in self.excluded_by_reason.items()
        ]
        out.append(("Enrolment", "Assessment not finished", self.awaiting))
        out.append(("Enrolment", "Randomised", self.randomised))
        for flow in self.arms:
            out += [
                ("Allocation", f"{flow.arm}: allocated", flow.allocated),
                ("Allocation", f"{flow.arm}: received allocated intervention", flow.received),
                ("Allocation", f"{flow.arm}: did not receive it", flow.not_received),
            ]
            out += [
                ("Allocation", f"{flow.arm}: did not receive it: {reason}", n)
                for reason, n in flow.not_received_reasons.items()
            ]
            out.append(("Follow-up", f"{flow.arm}: discontinued intervention", flow.discontinued))
            out += [
                ("Follow-up", f"{flow.arm}: discontinued intervention: {reason}", n)
                for reason, n in flow.discontinued_reasons.items()
            ]
            for timepoint in self.timepoints:
                stage = f"Follow-up {self.label(timepoint)}"
                counts = flow.follow_up.get(timepoint, {})
                for state, label in FOLLOW_UP_STATES.items():
                    out.append((stage, f"{flow.arm}: {label.lower()}", counts.get(state, 0)))
                    if state == "lost":
                        out += [
                            (stage, f"{flow.arm}: lost to follow-up: {reason}", n)
                            for reason, n in flow.lost_reasons.get(timepoint, {}).items()
                        ]
            out += [
                ("Analysis", f"{flow.arm}: analysed", flow.analysed),
                ("Analysis", f"{flow.arm}: excluded from analysis", flow.not_analysed),
            ]
            out += [
                ("Analysis", f"{flow.arm}: excluded from analysis: {reason}", n)
                for reason, n in flow.not_analysed_reasons.items()
            ]
        return out


def consort_counts(
    dispositions: Iterable[Disposition],
    *,
    arms: Sequence[str],
    timepoints: Sequence[str],
    timepoint_labels: Mapping[str, str] | None = None,
) -> ConsortCounts:
    """Count every CONSORT box from the dispositions."""
    people = list(dispositions)
    seen = Counter(p.participant_id for p in people)
    repeated = [pid for pid, n in seen.items() if n > 1]
    if repeated:
        raise ValueError(f"Participants appear more than once: {', '.join(sorted(repeated))}.")
    unknown_arms = {p.arm for p in people if p.arm is not None} - set(arms)
    if unknown_arms:
        raise ValueError(f"Unknown arms: {', '.join(sorted(unknown_arms))}.")
    randomised = [p for p in people if p.arm is not None]
    excluded = [p for p in people if p.arm is None and p.excluded_reason is not None]
    awaiting = [p for p in people if p.arm is None and p.excluded_reason is None]
    flows = []
    for arm in arms:
        group = [p for p in randomised if p.arm == arm]
        follow_up = {
            t: dict(Counter(p.follow_up[t] for p in group if t in p.follow_up)) for t in timepoints
        }
        lost = {
            t: dict(Counter(p.lost_reasons[t] for p in group if t in p.lost_reasons))
            for t in timepoints
        }
        flows.append(
            ArmFlow(
                arm=arm,
                allocated=len(group),
                received=sum(p.received_allocated is True for p in group),
                not_received=sum(p.received_allocated is False for p in group),
                not_received_reasons=dict(
                    Counter(
                        p.not_received_reason or "Not recorded"
                        for p in group
                        if p.received_allocated is False
                    )
                ),
                follow_up=follow_up,
                lost_reasons=lost,
                discontinued=sum(p.discontinued for p in group),
                discontinued_reasons=dict(
                    Counter(
                        p.discontinued_reason or "Not recorded" for p in group if p.discontinued
                    )
                ),
                analysed=sum(p.analysed is True for p in group),
                not_analysed=sum(p.analysed is False for p in group),
                not_analysed_reasons=dict(
                    Counter(
                        p.not_analysed_reason or "Not recorded"
                        for p in group
                        if p.analysed is False
                    )
                ),
            )
        )
    return ConsortCounts(
        assessed=len(people),
        excluded=len(excluded),
        excluded_by_reason=dict(Counter(p.excluded_reason or "other" for p in excluded)),
        randomised=len(randomised),
        arms=tuple(flows),
        timepoints=tuple(timepoints),
        awaiting=len(awaiting),
        timepoint_labels=dict(timepoint_labels or {}),
    )


# Drawing

_W, _BOX_W, _LINE = 760, 300, 16
# Average width of a character of 13px Arial, generous so that wrapped lines never overflow.
_CHAR_W = 6.6
_SUB = "   "  # lines that start with this are reasons under the bullet above them


def _layout(lines: Sequence[str], w: float) -> list[tuple[float, str]]:
    """Return (indent, text) for each line drawn in a box of width w, long lines wrapped.

    Bullets ("• ") and reasons (indented) keep their wrapped continuation lines aligned with
    their text, so a long free-text reason is shown whole instead of cut short.
    """
    out: list[tuple[float, str]] = []
    for line in lines:
        if line.startswith(_SUB):
            indent, first, text = 14.0, "– ", line.strip()
        elif line.startswith("• "):
            indent, first, text = 0.0, "• ", line[2:]
        else:
            indent, first, text = 0.0, "", line
        hang = indent + (10.0 if first else 0.0)
        limit = max(10, int((w - 16 - hang) / _CHAR_W))
        pieces = textwrap.wrap(text, limit, break_on_hyphens=False) or [""]
        out.append((indent, first + pieces[0]))
        out += [(hang, piece) for piece in pieces[1:]]
    return out


def _height(lines: Sequence[str], w: float = _BOX_W) -> int:
    return 12 + _LINE * len(_layout(lines, w))


def _box(
    x: float,
    y: float,
    lines: Sequence[str],
    href: str | None,
    w: float = _BOX_W,
    height: float | None = None,
) -> str:
    laid = _layout(lines, w)
    height = height or 12 + _LINE * len(laid)
    text = "".join(
        f'<tspan x="{x + 8 + indent}" y="{y + 18 + _LINE * i}">{escape(piece)}</tspan>'
        for i, (indent, piece) in enumerate(laid)
    )
    body = (
        f'<rect x="{x}" y="{y}" width="{w}" height="{height}" fill="#fff" stroke="#0b0c0c"/>'
        f'<text x="{x + 8}" y="{y}" font-family="Arial, sans-serif" font-size="13">{text}</text>'
    )
    if href:
        body = f'<a href="{escape(href)}">{body}</a>'
    return body


def _arrow(x1: float, y1: float, x2: float, y2: float) -> str:
    return (
        f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#0b0c0c" marker-end="url(#arrow)"/>'
    )


def _arm_stages(
    counts: ConsortCounts, flow: ArmFlow, label: str
) -> list[tuple[str | None, list[str]]]:
    """Return an arm's boxes top to bottom: (link key or None, lines)."""
    allocated = [
        f"Allocated to {label} (n={flow.allocated})",
        f"• Received allocated intervention (n={flow.received})",
        f"• Did not receive it (n={flow.not_received})",
    ] + [f"{_SUB}{reason} (n={n})" for reason, n in flow.not_received_reasons.items()]
    stages: list[tuple[str | None, list[str]]] = [(f"allocated:{flow.arm}", allocated)]
    for index, timepoint in enumerate(counts.timepoints):
        status = flow.follow_up.get(timepoint, {})
        lines = [
            f"Follow-up: {counts.label(timepoint)}",
            f"• Followed up (n={status.get('followed_up', 0)})",
            f"• Followed up out of window (n={status.get('followed_up_out_of_window', 0)})",
            f"• Lost to follow-up (n={status.get('lost', 0)})",
        ] + [f"{_SUB}{r} (n={n})" for r, n in flow.lost_reasons.get(timepoint, {}).items()]
        if status.get("due"):
            lines.append(f"• In window, not yet collected (n={status['due']})")
        if status.get("not_yet_due"):
            lines.append(f"• Not yet due (n={status['not_yet_due']})")
        if index == 0:
            # Discontinuing the intervention is not a follow-up state: shown once per arm.
            lines.append(f"• Discontinued intervention (n={flow.discontinued})")
            lines += [f"{_SUB}{r} (n={n})" for r, n in flow.discontinued_reasons.items()]
        stages.append((f"follow_up:{flow.arm}:{timepoint}", lines))
    if not counts.timepoints:
        lines = ["Follow-up", f"• Discontinued intervention (n={flow.discontinued})"]
        lines += [f"{_SUB}{r} (n={n})" for r, n in flow.discontinued_reasons.items()]
        stages.append((None, lines))
    analysed = [
        f"Analysed (n={flow.analysed})",
        f"• Excluded from analysis (n={flow.not_analysed})",
    ] + [f"{_SUB}{r} (n={n})" for r, n in flow.not_analysed_reasons.items()]
    stages.append((f"analysed:{flow.arm}", analysed))
    return stages


def consort_svg(
    counts: ConsortCounts,
    *,
    arm_names: Mapping[str, str] | None = None,
    links: Mapping[str, str] | None = None,
    title: str = "CONSORT 2010 flow diagram",
) -> str:
    """Return the flow diagram as an SVG document; `links` maps box keys to URLs.

    Box keys: "assessed", "excluded", "randomised", "allocated:<arm>",
    "follow_up:<arm>:<timepoint>", "analysed:<arm>". The arms' boxes for the same stage are
    drawn side by side at the same height, so the columns read across.
    """
    names = dict(arm_names or {})
    links = dict(links or {})
    parts: list[str] = []
    y = 40
    assessed = [f"Assessed for eligibility (n={counts.assessed})"]
    parts.append(_box(230, y, assessed, links.get("assessed")))
    excluded = [f"Excluded (n={counts.excluded})"] + [
        f"• {EXCLUSION_REASONS.get(k, k)} (n={v})" for k, v in counts.excluded_by_reason.items()
    ]
    ex_y = y + _height(assessed) + 20
    parts.append(_box(450, ex_y, excluded, links.get("excluded"), w=300))
    parts.append(_arrow(380, ex_y + 14, 450, ex_y + 14))
    side_bottom = ex_y + _height(excluded)
    if counts.awaiting:
        # Neither excluded nor randomised yet: a box of its own, not a reason for exclusion.
        awaiting = [
            f"Assessment not finished (n={counts.awaiting})",
            "• not yet excluded or randomised",
        ]
        aw_y = side_bottom + 12
        parts.append(_box(450, aw_y, awaiting, None, w=300))
        parts.append(_arrow(380, aw_y + 14, 450, aw_y + 14))
        side_bottom = aw_y + _height(awaiting)
    y = side_bottom + 20
    parts.append(_arrow(380, 40 + _height(assessed), 380, y))
    randomised = [f"Randomised (n={counts.randomised})"]
    parts.append(_box(230, y, randomised, links.get("randomised")))
    top = y + _height(randomised)
    columns = (
        [10.0, 450.0]
        if len(counts.arms) == 2
        else [10 + i * (_W - 20) / max(1, len(counts.arms)) for i in range(len(counts.arms))]
    )
    width = 300 if len(counts.arms) <= 2 else (_W - 40) / len(counts.arms)
    per_arm = [_arm_stages(counts, flow, names.get(flow.arm, flow.arm)) for flow in counts.arms]
    bottom = top
    yy = top + 40
    for stage in range(max((len(stages) for stages in per_arm), default=0)):
        boxes = [stages[stage] for stages in per_arm]
        height = max(_height(lines, width) for _, lines in boxes)
        for (key, lines), x in zip(boxes, columns, strict=False):
            if stage == 0:
                parts.append(_arrow(380, top, x + width / 2, yy))
            else:
                parts.append(_arrow(x + width / 2, yy - 30, x + width / 2, yy))
            parts.append(
                _box(x, yy, lines, links.get(key) if key else None, w=width, height=height)
            )
        bottom = yy + height
        yy += height + 30
    height = bottom + 20
    return (
        # A group, not an image: its boxes are links, and an image may not hold controls.
        f'<svg xmlns="http://www.w3.org/2000/svg" role="group" aria-labelledby="consort-title" '
        f'viewBox="0 0 {_W} {height}" width="{_W}" height="{height}">'
        f'<title id="consort-title">{escape(title)}</title>'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"/></marker>'
        "</defs>" + "".join(parts) + "</svg>"
    )


def consort_method_text(spec, *, reveal_block_sizes: bool) -> dict[str, str]:
    """Return the CONSORT 2010 items 8a, 8b, 9 and 10 describing how allocation was done.

    Block sizes are withheld (reveal_block_sizes=False) until the trial is unblinded, because
    knowing them lets recruiters predict the end of a block.
    """
    ratio = ":".join(str(arm.ratio) for arm in spec.arms)
    arms = " and ".join(arm.name for arm in spec.arms)
    factors = ", ".join(f.name.replace("_", " ") for f in spec.factors) or "none"
    if spec.method == "blocks":
        sizes = (
            f"of sizes {', '.join(str(s) for s in spec.block_sizes)}, chosen at random"
            if reveal_block_sizes
            else "of randomly varying sizes (withheld until the trial is unblinded)"
        )
        a8 = (
            "The allocation sequence was generated by the trial's data system from a secret key "
            "(HMAC-SHA256 deterministic random bit generator)."
        )
        b8 = (
            f"Stratified permuted-block randomisation in a {ratio} ratio to {arms}, stratified "
            f"by {factors}, with blocks {sizes}."
        )
    else:
        a8 = (
            "Allocation was by minimisation, computed by the trial's data system at the moment of "
            "randomisation, with random elements drawn from a secret key (HMAC-SHA256)."
        )
        b8 = (
            f"Pocock–Simon minimisation in a {ratio} ratio to {arms} on {factors} "
            f"({spec.imbalance} imbalance, factor weights "
            + ", ".join(f"{k} {v:g}" for k, v in spec.weights.items())
            + f"), allocating to the arm that minimises imbalance with probability "
            f"{spec.p_preferred:g}."
        )
    nine = (
        "Allocation was concealed by a central web-based system: no upcoming allocation was "
        "stored or visible to anyone enrolling participants; each was revealed only when a "
        "consented, eligible participant was randomised, and could not be changed afterwards."
    )
    ten = (
        "Referrers and clinicians identified young people; research staff confirmed eligibility "
        "and took consent; the trial manager randomised through the system, which assigned the "
        "arm. The sequence was generated and verified by the trial statistician."
    )
    return {"8a": a8, "8b": b8, "9": nine, "10": ten}
