"""Instrument definitions: read YAML files and refuse bad ones with the file and field named.

No Django here. ``load_instrument(path)`` returns a frozen ``Instrument``; ``load_directory``
reads every ``*.yaml`` in a folder, and wording packs (``*.wording.yaml``) licensed to a site
add item wording at deploy time. The file format is documented in docs/instruments.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml

RESPONDENTS = {
    "young_person": "Young person",
    "parent": "Parent or carer",
    "teacher": "Teacher",
    "therapist": "MST therapist",
}
SCALE_METHODS = {"sum", "mean", "count_positive", "sum_of_scales", "count_of_scales", "entered"}
MISSING_RULES = {"prorate", "as_zero", "skip"}
DIRECTIONS = {"higher_is_worse", "higher_is_better"}


class DefinitionError(ValueError):
    """An instrument or schedule file is malformed; the message names the file and the field."""


@dataclass(frozen=True)
class Option:
    value: int
    label: str


@dataclass(frozen=True)
class Item:
    id: str
    number: str
    name: str = ""
    text: str = ""
    options: tuple[Option, ...] = ()
    minimum: float | None = None  # numeric items (no options): the valid range
    maximum: float | None = None
    reverse: bool = False
    respondents: tuple[str, ...] = ()  # empty: every respondent of the instrument

    @property
    def valid_values(self) -> tuple[int, ...]:
        return tuple(option.value for option in self.options)

    @property
    def low(self) -> float:
        return min(self.valid_values) if self.options else float(self.minimum or 0)

    @property
    def high(self) -> float:
        return max(self.valid_values) if self.options else float(self.maximum or 0)


@dataclass(frozen=True)
class Scale:
    code: str
    label: str
    method: str
    items: tuple[str, ...] = ()
    scales: tuple[str, ...] = ()
    min_answered: int = 1
    missing: str = "skip"  # prorate: mean × item count, rounded half up; as_zero; skip
    recode: Mapping[int, int] = field(default_factory=dict)
    cap: int | None = None  # per-item cap before summing (volume scores)
    zero_if: Mapping[str, int] = field(default_factory=dict)  # {item id: code} forces 0
    minimum: float = 0
    maximum: float = 0
    decimals: int = 0
    direction: str = "higher_is_worse"
    enterable: bool = False  # may be entered directly from a scored paper form
    sd: float | None = None  # for the reliable change index
    reliability: float | None = None
    respondents: tuple[str, ...] = ()
    chart: bool = True


@dataclass(frozen=True)
class Band:
    label: str
    minimum: float
    maximum: float


@dataclass(frozen=True)
class BandSet:
    code: str
    label: str
    version: str
    source: str
    tag: str
    scales: Mapping[str, tuple[Band, ...]]
    respondents: tuple[str, ...] = ()


@dataclass(frozen=True)
class Licence:
    holder: str
    terms: str
    wording_on_screen: bool
    online_completion: bool
    attribution: str = ""
    url: str = ""


@dataclass(frozen=True)
class Instrument:
    code: str
    name: str
    short_name: str
    version: str
    scoring_version: str
    licence: Licence
    respondents: tuple[str, ...]
    items: tuple[Item, ...]
    scales: tuple[Scale, ...]
    bands: tuple[BandSet, ...] = ()
    age_range: tuple[int, int] | None = None
    description: str = ""
    source_file: str = ""
    item_entry: bool = True

    def item(self, item_id: str) -> Item:
        return self._items_by_id[item_id]

    def scale(self, code: str) -> Scale:
        return self._scales_by_code[code]

    @property
    def _items_by_id(self) -> dict[str, Item]:
        return {item.id: item for item in self.items}

    @property
    def _scales_by_code(self) -> dict[str, Scale]:
        return {scale.code: scale for scale in self.scales}

    def items_for(self, respondent: str) -> tuple[Item, ...]:
        return tuple(i for i in self.items if not i.respondents or respondent in i.respondents)

    def scales_for(self, respondent: str) -> tuple[Scale, ...]:
        return tuple(s for s in self.scales if not s.respondents or respondent in s.respondents)

    def band_sets_for(self, respondent: str) -> tuple[BandSet, ...]:
        return tuple(b for b in self.bands if not b.respondents or respondent in b.respondents)

    @property
    def shows_wording(self) -> bool:
        return self.licence.wording_on_screen and any(item.text for item in self.items)


class _Reader:
    """Read typed fields from a mapping, naming the file and the path of any bad field."""

    def __init__(self, source: str, data: Any, path: str = "") -> None:
        self.source, self.path = source, path
        if not isinstance(data, Mapping):
            self.fail("", f"must be a mapping, not {type(data).__name__}")
        self.data: Mapping[str, Any] = data

    def where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path and key else (self.path or key)

    def fail(self, key: str, message: str) -> None:
        where = self.where(key)
        raise DefinitionError(f"{self.source}: {where + ': ' if where else ''}{message}")

    def child(self, key: str, data: Any) -> _Reader:
        return _Reader(self.source, data, self.where(key))

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str, default: Any = ..., *, kind: type | tuple[type, ...] = object) -> Any:
        if key not in self.data:
            if default is ...:
                self.fail(key, "is required")
            return default
        value = self.data[key]
        if kind is float:
            kind = (int, float)
        if isinstance(value, bool) and kind in (int, (int, float)):
            self.fail(key, "must be a number, not true/false")
        if not isinstance(value, kind):
            names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
            self.fail(key, f"must be {names}, not {type(value).__name__} {value!r}")
        return value

    def text(self, key: str, default: Any = ...) -> str:
        value = self.raw(key, default, kind=(str, int, float))
        return default if value is default else str(value)

    def items_list(self, key: str, default: Any = ...) -> list[Any]:
        value = self.raw(key, default, kind=list)
        return list(value or [])

    def unknown_keys(self, allowed: Iterable[str]) -> None:
        extra = sorted(set(self.data) - set(allowed))
        if extra:
            self.fail(extra[0], f"is not a known field (allowed: {', '.join(sorted(allowed))})")


def _options(reader: _Reader, key: str, response_sets: Mapping[str, tuple[Option, ...]]) -> Any:
    value = reader.raw(key, None)
    if value is None:
        return ()
    if isinstance(value, str):
        if value not in response_sets:
            reader.fail(key, f"names no response set {value!r}")
        return response_sets[value]
    if not isinstance(value, list) or not value:
        reader.fail(key, "must name a response set or list options")
    options = []
    for index, entry in enumerate(value):
        option = reader.child(f"{key}[{index}]", entry)
        option.unknown_keys({"value", "label"})
        options.append(Option(option.raw("value", kind=int), option.text("label", "")))
    values = [o.value for o in options]
    if len(set(values)) != len(values):
        reader.fail(key, "has repeated option values")
    return tuple(options)


def _respondents(reader: _Reader, key: str, allowed: Iterable[str]) -> tuple[str, ...]:
    values = tuple(str(v) for v in reader.items_list(key, []))
    for value in values:
        if value not in allowed:
            reader.fail(key, f"names unknown respondent {value!r}")
    return values


ITEM_KEYS = {"id", "number", "name", "text", "options", "min", "max", "reverse", "respondents"}


def _item(reader: _Reader, response_sets: Mapping[str, Any], respondents: Sequence[str]) -> Item:
    reader.unknown_keys(ITEM_KEYS)
    item_id = reader.text("id")
    options = _options(reader, "options", response_sets)
    minimum = reader.raw("min", None, kind=float)
    maximum = reader.raw("max", None, kind=float)
    if not options and (minimum is None or maximum is None):
        reader.fail("options", "is required unless the item gives min and max")
    if minimum is not None and maximum is not None and minimum > maximum:
        reader.fail("max", "must not be below min")
    return Item(
        id=item_id,
        number=reader.text("number", item_id),
        name=reader.text("name", ""),
        text=reader.text("text", ""),
        options=options,
        minimum=minimum,
        maximum=maximum,
        reverse=reader.raw("reverse", False, kind=bool),
        respondents=_respondents(reader, "respondents", respondents),
    )


SCALE_KEYS = {
    "code",
    "label",
    "method",
    "items",
    "scales",
    "min_answered",
    "missing",
    "recode",
    "cap",
    "zero_if",
    "range",
    "decimals",
    "direction",
    "enterable",
    "sd",
    "reliability",
    "respondents",
    "chart",
}


def _range(reader: _Reader) -> list[Any]:
    bounds = reader.items_list("range")
    if len(bounds) != 2 or not all(isinstance(b, int | float) for b in bounds):
        reader.fail("range", "must be [minimum, maximum]")
    if bounds[0] > bounds[1]:
        reader.fail("range", "minimum must not exceed maximum")
    return bounds


def _recode(reader: _Reader) -> dict[int, int]:
    recode = {}
    for key, value in reader.raw("recode", {}, kind=dict).items():
        if not isinstance(key, int) or not isinstance(value, int):
            reader.fail("recode", "must map whole-number codes to whole-number scores")
        recode[key] = value
    return recode


def _zero_if(reader: _Reader, items: Mapping[str, Item]) -> dict[str, int]:
    zero_if = {str(k): v for k, v in reader.raw("zero_if", {}, kind=dict).items()}
    for item_id, value in zero_if.items():
        if item_id not in items:
            reader.fail("zero_if", f"names unknown item {item_id!r}")
        if not isinstance(value, int):
            reader.fail("zero_if", "must map an item to a response code")
    return zero_if


def _scale(reader: _Reader, items: Mapping[str, Item], respondents: Sequence[str]) -> Scale:
    reader.unknown_keys(SCALE_KEYS)
    method = reader.text("method")
    if method not in SCALE_METHODS:
        reader.fail("method", f"must be one of {', '.join(sorted(SCALE_METHODS))}")
    item_ids = tuple(str(i) for i in reader.items_list("items", []))
    for item_id in item_ids:
        if item_id not in items:
            reader.fail("items", f"names unknown item {item_id!r}")
    if method in {"sum", "mean", "count_positive"} and not item_ids:
        reader.fail("items", f"is required for method {method}")
    missing = reader.text("missing", "skip")
    if missing not in MISSING_RULES:
        reader.fail("missing", f"must be one of {', '.join(sorted(MISSING_RULES))}")
    bounds = _range(reader)
    direction = reader.text("direction", "higher_is_worse")
    if direction not in DIRECTIONS:
        reader.fail("direction", f"must be one of {', '.join(sorted(DIRECTIONS))}")
    min_answered = reader.raw("min_answered", 1, kind=int)
    if item_ids and not 1 <= min_answered <= len(item_ids):
        reader.fail("min_answered", f"must be between 1 and {len(item_ids)}")
    recode = _recode(reader)
    zero_if = _zero_if(reader, items)
    reliability = reader.raw("reliability", None, kind=float)
    if reliability is not None and not 0 <= reliability < 1:
        reader.fail("reliability", "must be at least 0 and below 1")
    sd = reader.raw("sd", None, kind=float)
    if sd is not None and sd <= 0:
        reader.fail("sd", "must be above 0")
    return Scale(
        code=reader.text("code"),
        label=reader.text("label"),
        method=method,
        items=item_ids,
        scales=tuple(str(s) for s in reader.items_list("scales", [])),
        min_answered=min_answered,
        missing=missing,
        recode=recode,
        cap=reader.raw("cap", None, kind=int),
        zero_if=zero_if,
        minimum=bounds[0],
        maximum=bounds[1],
        decimals=reader.raw("decimals", 0, kind=int),
        direction=direction,
        enterable=reader.raw("enterable", method == "entered", kind=bool),
        sd=sd,
        reliability=reliability,
        respondents=_respondents(reader, "respondents", respondents),
        chart=reader.raw("chart", True, kind=bool),
    )


def _band_set(reader: _Reader, scales: Mapping[str, Scale], respondents: Sequence[str]) -> BandSet:
    reader.unknown_keys({"code", "label", "version", "source", "tag", "scales", "respondents"})
    per_scale: dict[str, tuple[Band, ...]] = {}
    raw_scales = reader.raw("scales", kind=dict)
    for scale_code, rows in raw_scales.items():
        if scale_code not in scales:
            reader.fail(f"scales.{scale_code}", "names an unknown scale")
        if not isinstance(rows, list) or not rows:
            reader.fail(f"scales.{scale_code}", "must list bands")
        bands = []
        for index, row in enumerate(rows):
            band = reader.child(f"scales.{scale_code}[{index}]", row)
            band.unknown_keys({"label", "min", "max"})
            bands.append(
                Band(band.text("label"), band.raw("min", kind=float), band.raw("max", kind=float))
            )
        _check_bands_cover(reader, f"scales.{scale_code}", bands, scales[scale_code])
        # Kept in file order: from the expected band to the most concerning.
        per_scale[scale_code] = tuple(bands)
    return BandSet(
        code=reader.text("code"),
        label=reader.text("label"),
        version=reader.text("version"),
        source=reader.text("source"),
        tag=reader.text("tag"),
        scales=per_scale,
        respondents=_respondents(reader, "respondents", respondents),
    )


def _check_bands_cover(reader: _Reader, key: str, bands: list[Band], scale: Scale) -> None:
    ordered = sorted(bands, key=lambda b: b.minimum)
    step = 10 ** (-scale.decimals)
    if ordered[0].minimum != scale.minimum or ordered[-1].maximum != scale.maximum:
        reader.fail(key, f"bands must cover the scale's range {scale.minimum}–{scale.maximum}")
    for lower, upper in pairwise(ordered):
        if lower.maximum < lower.minimum:
            reader.fail(key, f"band {lower.label!r} ends before it starts")
        if round(upper.minimum - lower.maximum, 6) != round(step, 6):
            reader.fail(key, f"bands {lower.label!r} and {upper.label!r} overlap or leave a gap")


def _check_scale_references(reader: _Reader, scales: Sequence[Scale]) -> None:
    seen: set[str] = set()
    for index, scale in enumerate(scales):
        if scale.code in seen:
            reader.fail(f"scales[{index}].code", f"repeats scale {scale.code!r}")
        for part in scale.scales:
            if part not in seen:
                reader.fail(
                    f"scales[{index}].scales", f"names {part!r}, which is not an earlier scale"
                )
        if scale.method in {"sum_of_scales", "count_of_scales"} and not scale.scales:
            reader.fail(f"scales[{index}].scales", f"is required for method {scale.method}")
        seen.add(scale.code)


TOP_KEYS = {
    "code",
    "name",
    "short_name",
    "version",
    "scoring_version",
    "description",
    "licence",
    "respondents",
    "age_range",
    "response_sets",
    "items",
    "scales",
    "bands",
    "item_entry",
}


def parse_instrument(data: Any, *, source: str) -> Instrument:
    """Return the instrument a parsed YAML document defines, or raise DefinitionError."""
    reader = _Reader(source, data)
    reader.unknown_keys(TOP_KEYS)
    respondents = tuple(str(r) for r in reader.items_list("respondents"))
    if not respondents:
        reader.fail("respondents", "must list at least one respondent")
    for value in respondents:
        if value not in RESPONDENTS:
            reader.fail("respondents", f"names unknown respondent {value!r}")
    licence_reader = reader.child("licence", reader.raw("licence", kind=dict))
    licence_reader.unknown_keys(
        {"holder", "terms", "wording_on_screen", "online_completion", "attribution", "url"}
    )
    licence = Licence(
        holder=licence_reader.text("holder"),
        terms=licence_reader.text("terms"),
        wording_on_screen=licence_reader.raw("wording_on_screen", kind=bool),
        online_completion=licence_reader.raw("online_completion", False, kind=bool),
        attribution=licence_reader.text("attribution", ""),
        url=licence_reader.text("url", ""),
    )
    response_sets: dict[str, tuple[Option, ...]] = {}
    sets_reader = reader.child("response_sets", reader.raw("response_sets", {}, kind=dict))
    for name in sets_reader.data:
        response_sets[str(name)] = _options(sets_reader, str(name), {})
    items: dict[str, Item] = {}
    for index, raw_item in enumerate(reader.items_list("items", [])):
        item = _item(reader.child(f"items[{index}]", raw_item), response_sets, respondents)
        if item.id in items:
            reader.fail(f"items[{index}].id", f"repeats item {item.id!r}")
        if item.text and not licence.wording_on_screen:
            reader.fail(
                f"items[{index}].text",
                "wording is given but the licence does not allow it on screen; "
                "load wording from a licensed wording pack instead",
            )
        items[item.id] = item
    scales = [
        _scale(reader.child(f"scales[{index}]", raw), items, respondents)
        for index, raw in enumerate(reader.items_list("scales"))
    ]
    _check_scale_references(reader, scales)
    scales_by_code = {scale.code: scale for scale in scales}
    bands = tuple(
        _band_set(reader.child(f"bands[{index}]", raw), scales_by_code, respondents)
        for index, raw in enumerate(reader.items_list("bands", []))
    )
    age_range = reader.items_list("age_range", [])
    if age_range and (len(age_range) != 2 or not all(isinstance(a, int) for a in age_range)):
        reader.fail("age_range", "must be [youngest, oldest] in whole years")
    return Instrument(
        code=reader.text("code"),
        name=reader.text("name"),
        short_name=reader.text("short_name", reader.text("code")),
        version=reader.text("version"),
        scoring_version=reader.text("scoring_version"),
        licence=licence,
        respondents=respondents,
        items=tuple(items.values()),
        scales=tuple(scales),
        bands=bands,
        age_range=(age_range[0], age_range[1]) if age_range else None,
        description=reader.text("description", ""),
        source_file=source,
        item_entry=reader.raw("item_entry", bool(items), kind=bool),
    )


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise DefinitionError(f"{path.name}: is not valid YAML: {error}") from error


def load_instrument(path: Path) -> Instrument:
    """Read and validate one instrument file."""
    return parse_instrument(_read_yaml(path), source=path.name)


def apply_wording(instrument: Instrument, data: Any, *, source: str) -> Instrument:
    """Return the instrument with item wording from a licensed wording pack."""
    reader = _Reader(source, data)
    reader.unknown_keys({"instrument", "licence_reference", "items"})
    reader.text("licence_reference")
    wording = reader.raw("items", kind=dict)
    known = {item.id for item in instrument.items}
    for item_id in wording:
        if str(item_id) not in known:
            reader.fail(f"items.{item_id}", f"is not an item of {instrument.code}")
    items = tuple(replace(i, text=str(wording.get(i.id, i.text) or "")) for i in instrument.items)
    licence = replace(instrument.licence, wording_on_screen=True)
    return replace(instrument, items=items, licence=licence)


def load_directory(*folders: Path) -> dict[str, Instrument]:
    """Read every instrument in the folders (later folders may add, never replace) and packs."""
    instruments: dict[str, Instrument] = {}
    packs: list[Path] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.yaml")):
            if path.name.endswith(".wording.yaml"):
                packs.append(path)
                continue
            instrument = load_instrument(path)
            if instrument.code in instruments:
                raise DefinitionError(
                    f"{path.name}: code: {instrument.code!r} is already defined in "
                    f"{instruments[instrument.code].source_file}"
                )
            instruments[instrument.code] = instrument
    for path in packs:
        data = _read_yaml(path)
        code = str(data.get("instrument", "")) if isinstance(data, Mapping) else ""
        if code not in instruments:
            raise DefinitionError(f"{path.name}: instrument: no instrument {code!r} to apply to")
        instruments[code] = apply_wording(instruments[code], data, source=path.name)
    return instruments
