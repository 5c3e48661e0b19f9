"""Score a completed instrument from its definition: plain Python, no Django, no database.

Arithmetic is exact (``fractions.Fraction``) and rounding is half up, as the SDQ's official
syntax does (Stata ``round()``), never Python's round-half-to-even.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from mstoutcomes.measures.definitions import Instrument, Item, Scale

Number = int | float


class ScoringInputError(ValueError):
    """Responses that cannot be scored; ``errors`` maps each item or scale to what is wrong."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{key}: {message}" for key, message in self.errors.items()))


@dataclass(frozen=True)
class ScaleScore:
    code: str
    value: Number | None
    answered: int = 0
    of: int = 0
    prorated: bool = False
    entered: bool = False
    bands: Mapping[str, str] = field(default_factory=dict)  # band set code → band label


@dataclass(frozen=True)
class ScoringResult:
    instrument: str
    version: str
    scoring_version: str
    respondent: str
    scores: Mapping[str, ScaleScore]

    def value(self, code: str) -> Number | None:
        return self.scores[code].value

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready summary for storing beside the responses."""
        return {
            "scoring_version": self.scoring_version,
            "scales": {
                code: {
                    "value": score.value,
                    "answered": score.answered,
                    "of": score.of,
                    "prorated": score.prorated,
                    "entered": score.entered,
                    "bands": dict(score.bands),
                }
                for code, score in self.scores.items()
            },
        }


def round_half_up(value: Fraction, decimals: int = 0) -> Fraction:
    """Round exactly, halves away from zero for positives (2.5 → 3, 6.666… → 7)."""
    scale = Fraction(10) ** decimals
    return Fraction(math.floor(value * scale + Fraction(1, 2))) / scale


def _as_number(value: Fraction, decimals: int) -> Number:
    rounded = round_half_up(value, decimals)
    return int(rounded) if decimals == 0 else float(rounded)


def _check_item(item: Item, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "must be a number"
    if item.options:
        if value not in item.valid_values:
            allowed = ", ".join(str(v) for v in item.valid_values)
            return f"must be one of {allowed}"
    elif not (item.low <= value <= item.high):
        return f"must be between {item.minimum:g} and {item.maximum:g}"
    return None


def validate_responses(
    instrument: Instrument, respondent: str, responses: Mapping[str, Any]
) -> dict[str, Number]:
    """Return the answered items, or raise ScoringInputError naming every bad one."""
    if respondent not in instrument.respondents:
        raise ScoringInputError({"respondent": f"{instrument.code} has no {respondent} version"})
    allowed = {item.id: item for item in instrument.items_for(respondent)}
    errors: dict[str, str] = {}
    answered: dict[str, Number] = {}
    for item_id, value in responses.items():
        key = str(item_id)
        if value is None or value == "":
            continue
        if key not in allowed:
            errors[key] = f"is not an item of the {respondent} version"
            continue
        problem = _check_item(allowed[key], value)
        if problem:
            errors[key] = f"item {allowed[key].number} {problem}"
        else:
            answered[key] = value
    if errors:
        raise ScoringInputError(errors)
    return answered


def validate_entered(
    instrument: Instrument, respondent: str, entered: Mapping[str, Any]
) -> dict[str, Fraction]:
    """Return directly entered scale scores, or raise ScoringInputError naming every bad one."""
    allowed = {s.code: s for s in instrument.scales_for(respondent) if s.enterable}
    errors: dict[str, str] = {}
    values: dict[str, Fraction] = {}
    for code, value in entered.items():
        if value is None or value == "":
            continue
        scale = allowed.get(code)
        if scale is None:
            errors[code] = "cannot be entered directly"
            continue
        if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
            errors[code] = "must be a number"
            continue
        try:
            exact = Fraction(str(value))
        except ValueError:
            errors[code] = "must be a number"
            continue
        if not scale.minimum <= exact <= scale.maximum:
            errors[code] = f"must be between {scale.minimum:g} and {scale.maximum:g}"
        elif round_half_up(exact, scale.decimals) != exact:
            places = f"{scale.decimals} decimal places" if scale.decimals else "a whole number"
            errors[code] = f"must be {places}"
        else:
            values[code] = exact
    if errors:
        raise ScoringInputError(errors)
    return values


def item_score(item: Item, value: Number, scale: Scale) -> Fraction:
    """Return an item's contribution to a scale: reversed, recoded and capped as defined."""
    exact = Fraction(str(value))
    if item.reverse:
        exact = Fraction(str(item.low)) + Fraction(str(item.high)) - exact
    if scale.recode:
        exact = Fraction(scale.recode[int(exact)])
    if scale.cap is not None:
        exact = min(exact, Fraction(scale.cap))
    return exact


def _item_scale(
    instrument: Instrument, scale: Scale, answered: Mapping[str, Number]
) -> tuple[Fraction | None, int, bool]:
    scores = [
        item_score(instrument.item(item_id), answered[item_id], scale)
        for item_id in scale.items
        if item_id in answered
    ]
    count = len(scores)
    if count < scale.min_answered:
        return None, count, False
    if scale.method == "count_positive":
        return Fraction(sum(1 for s in scores if s > 0)), count, False
    if scale.method == "mean":
        return sum(scores, Fraction(0)) / count, count, False
    total = sum(scores, Fraction(0))
    if scale.missing == "prorate" and count < len(scale.items):
        return total / count * len(scale.items), count, True
    return total, count, False


def _band_labels(instrument: Instrument, respondent: str, scale: Scale, value: Number) -> dict:
    labels = {}
    for band_set in instrument.band_sets_for(respondent):
        for band in band_set.scales.get(scale.code, ()):
            if band.minimum <= value <= band.maximum:
                labels[band_set.code] = band.label
                break
    return labels


def score(
    instrument: Instrument,
    respondent: str,
    responses: Mapping[str, Any] | None = None,
    entered: Mapping[str, Any] | None = None,
) -> ScoringResult:
    """Score item responses, or scale scores entered from a scored paper form, or both.

    Missing items follow each scale's rule; a scale that cannot be scored is None, and so is any
    scale built from it. An entered scale score is used as given (and overrides the items).
    """
    answered = validate_responses(instrument, respondent, responses or {})
    direct = validate_entered(instrument, respondent, entered or {})
    values: dict[str, Fraction | None] = {}
    results: dict[str, ScaleScore] = {}
    for scale in instrument.scales_for(respondent):
        exact: Fraction | None
        count, prorated, was_entered = 0, False, False
        if scale.code in direct:
            exact, was_entered = direct[scale.code], True
        elif scale.method in {"sum_of_scales", "count_of_scales"}:
            parts = [values.get(code) for code in scale.scales]
            count = sum(1 for p in parts if p is not None)
            if count < len(parts):
                exact = None
            elif scale.method == "count_of_scales":
                exact = Fraction(sum(1 for p in parts if p is not None and p > 0))
            else:
                exact = sum((p for p in parts if p is not None), Fraction(0))
        elif scale.method == "entered":
            exact = None
        else:
            exact, count, prorated = _item_scale(instrument, scale, answered)
        if any(answered.get(item_id) == code for item_id, code in scale.zero_if.items()):
            exact, prorated = Fraction(0), False
        if exact is None:
            values[scale.code] = None
            results[scale.code] = ScaleScore(scale.code, None, count, len(scale.items))
            continue
        value = _as_number(exact, scale.decimals)
        values[scale.code] = round_half_up(exact, scale.decimals)
        results[scale.code] = ScaleScore(
            code=scale.code,
            value=value,
            answered=count,
            of=len(scale.items) or len(scale.scales),
            prorated=prorated,
            entered=was_entered,
            bands=_band_labels(instrument, respondent, scale, value),
        )
    return ScoringResult(
        instrument=instrument.code,
        version=instrument.version,
        scoring_version=instrument.scoring_version,
        respondent=respondent,
        scores=results,
    )


@dataclass(frozen=True)
class ReliableChange:
    index: float
    reliable: bool
    direction: str  # "improved", "deteriorated" or "no reliable change"


def reliable_change(scale: Scale, before: Number, after: Number) -> ReliableChange | None:
    """Return the Jacobson–Truax reliable change index, or None without SD and reliability."""
    if scale.sd is None or scale.reliability is None:
        return None
    standard_error_of_difference = scale.sd * math.sqrt(2) * math.sqrt(1 - scale.reliability)
    index = (after - before) / standard_error_of_difference
    reliable = abs(index) >= 1.96
    better = index < 0 if scale.direction == "higher_is_worse" else index > 0
    if not reliable:
        return ReliableChange(index, False, "no reliable change")
    return ReliableChange(index, True, "improved" if better else "deteriorated")
