"""The column format of each import kind, and row parsing. No Django, no database.

Each kind lists its columns (name, type, required, help). ``parse_row`` turns one row of text
into typed values or a list of messages naming the columns; matching to young people and writing
are the importer's (``outcomes/importers.py``). docs/imports.md is generated from the same specs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

Parser = Callable[[str], Any]


class CellError(ValueError):
    """A cell that cannot be read; the message says what to put there."""


def parse_date(text: str) -> dt.date:
    """Read 2026-03-27 or 27/03/2026 (UK order)."""
    text = text.strip()
    try:
        if "/" in text:
            day, month, year = text.split("/")
            return dt.date(int(year), int(month), int(day))
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise CellError("must be a date like 2026-03-27 or 27/03/2026") from None


def parse_count(text: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise CellError("must be a whole number") from None
    if value < 0:
        raise CellError("must be 0 or more")
    return value


def parse_decimal(text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise CellError("must be a number such as 2.5") from None
    if not value.is_finite() or value < 0:
        raise CellError("must be 0 or more")
    return value


def parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in {"yes", "y", "true", "1"}:
        return True
    if value in {"no", "n", "false", "0"}:
        return False
    raise CellError("must be yes or no")


def parse_text(limit: int) -> Parser:
    def parse(text: str) -> str:
        value = text.strip()
        if len(value) > limit:
            raise CellError(f"must be at most {limit} characters")
        return value

    parse.is_text = True  # type: ignore[attr-defined]
    return parse


def parse_choice(choices: Sequence[tuple[str, str]]) -> Parser:
    by_code = {code: code for code, _ in choices}
    by_label = {label.lower(): code for code, label in choices}

    def parse(text: str) -> str:
        value = text.strip()
        found = by_code.get(value.lower()) or by_label.get(value.lower())
        if found is None:
            raise CellError(f"must be one of {', '.join(by_code)}")
        return found

    parse.choices = choices  # type: ignore[attr-defined]
    return parse


def parse_gravity(text: str) -> int:
    value = parse_count(text)
    if not 1 <= value <= 8:
        raise CellError("must be a YJB gravity score from 1 to 8")
    return value


@dataclass(frozen=True)
class Column:
    name: str
    parse: Parser
    required: bool
    help: str
    example: str


@dataclass(frozen=True)
class Kind:
    """One import kind: its columns, natural key and the checks across columns."""

    code: str
    label: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # columns that identify a record (with the young person)
    check: Callable[[dict[str, Any]], list[str]] | None = None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


# Columns that find the young person: a local identifier, or names and date of birth.
MATCH_COLUMNS = (
    Column(
        "local_id",
        parse_text(50),
        False,
        "Study ID, UPN, YOS ID or social care ID. Leave empty to match by name and date of birth.",
        "AAA-0001",
    ),
    Column("given_name", parse_text(100), False, "First name (when there is no local_id).", ""),
    Column("family_name", parse_text(100), False, "Last name (when there is no local_id).", ""),
    Column("date_of_birth", parse_date, False, "Date of birth (when there is no local_id).", ""),
)


class ParsedRow(NamedTuple):
    """One row read (a named tuple: made a million times in a large import)."""

    number: int  # the spreadsheet row (the header is row 1)
    match: tuple[Any, ...]  # local_id, given_name, family_name, date_of_birth
    values: dict[str, Any]
    errors: tuple[str, ...]


def check_header(kind: Kind, header: Sequence[str]) -> list[str]:
    """Return problems with a file's header row: unknown, repeated or missing columns."""
    names = [h.strip() for h in header]
    known = {c.name for c in MATCH_COLUMNS} | set(kind.column_names)
    problems = [
        f"Column {n!r} is not one of the {kind.code} columns" for n in names if n not in known
    ]
    problems += [f"Column {n!r} appears twice" for n in sorted(set(names)) if names.count(n) > 1]
    problems += [
        f"Column {c.name!r} is required but missing"
        for c in kind.columns
        if c.required and c.name not in names
    ]
    if "local_id" not in names and not {"given_name", "family_name", "date_of_birth"} <= set(names):
        problems.append("Give a local_id column, or given_name, family_name and date_of_birth")
    return problems


RowParser = Callable[[int, Sequence[str]], ParsedRow]


def row_parser(kind: Kind, header: Sequence[str]) -> RowParser:
    """Return a fast parser for rows laid out as in the header (checked with check_header)."""
    position = {name.strip(): index for index, name in enumerate(header)}
    plan = [
        (c.name, position.get(c.name), c.parse, c.required, getattr(c.parse, "is_text", False))
        for c in kind.columns
    ]
    match_plan = [(c.parse, position.get(c.name)) for c in MATCH_COLUMNS]
    check = kind.check
    width = len(header)

    def parse(number: int, cells: Sequence[str]) -> ParsedRow:
        if len(cells) < width:
            cells = [*cells, *([""] * (width - len(cells)))]
        errors: list[str] = []
        values: dict[str, Any] = {}
        for name, index, parser, required, is_text in plan:
            text = cells[index].strip() if index is not None else ""
            if not text:
                if required:
                    errors.append(f"{name}: is required")
                values[name] = "" if is_text else None
                continue
            try:
                values[name] = parser(text)
            except CellError as error:
                errors.append(f"{name}: {error} (found {text[:30]!r})")
        match: list[Any] = []
        for (parser, index), column in zip(match_plan, MATCH_COLUMNS, strict=True):
            text = cells[index].strip() if index is not None else ""
            try:
                match.append(parser(text) if text else None)
            except CellError as error:
                errors.append(f"{column.name}: {error} (found {text[:30]!r})")
                match.append(None)
        if not match[0] and not (match[1] and match[2] and match[3]):
            errors.append("local_id: give a local_id, or given_name, family_name and date_of_birth")
        if not errors and check is not None:
            errors.extend(check(values))
        return ParsedRow(number, tuple(match), values, tuple(errors))

    return parse


def row_key(kind: Kind, young_person_id: int, values: Mapping[str, Any]) -> str:
    """Return the hash of a record's natural key: the same rows give the same keys."""
    parts = [kind.code, str(young_person_id)]
    parts += [str(values.get(name) if values.get(name) is not None else "") for name in kind.key]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _attendance_check(values: dict[str, Any]) -> list[str]:
    errors = []
    if values["period_end"] < values["period_start"]:
        errors.append("period_end: must be on or after period_start")
    absences = (values.get("authorised_absence") or 0) + (values.get("unauthorised_absence") or 0)
    if values["sessions_attended"] + absences > values["sessions_possible"]:
        errors.append("sessions_attended: attended and absent sessions exceed sessions_possible")
    return errors


def _ends_after_start(values: dict[str, Any]) -> list[str]:
    end = values.get("end_date")
    if end is not None and end < values["start_date"]:
        return ["end_date: must be on or after start_date"]
    return []


def _exclusion_check(values: dict[str, Any]) -> list[str]:
    if values["kind"] == "suspension":
        days = values.get("days")
        if days is None:
            return ["days: is required for a suspension"]
        if not Decimal("0.5") <= days <= 45:
            return ["days: a suspension lasts from 0.5 to 45 school days"]
    return []


def _hours_check(values: dict[str, Any]) -> list[str]:
    errors = _ends_after_start(values)
    if not Decimal("0.5") <= values["hours_per_week"] <= 60:
        errors.append("hours_per_week: must be from 0.5 to 60")
    return errors


def build_kinds(choices: Mapping[str, Sequence[tuple[str, str]]]) -> dict[str, Kind]:
    """Return the import kinds, given the choice lists (from the models)."""

    def col(name: str, parse: Parser, required: bool, help: str, example: str) -> Column:
        return Column(name, parse, required, help, example)

    source = col("source_system", parse_text(100), False, "Overrides the import's source.", "")
    kinds = [
        Kind(
            "attendance",
            "School attendance",
            (
                col("period_start", parse_date, True, "First day of the period.", "2026-09-01"),
                col("period_end", parse_date, True, "Last day of the period.", "2026-10-31"),
                col("school", parse_text(200), False, "School or setting.", "Hillside Academy"),
                col("sessions_possible", parse_count, True, "Possible sessions.", "78"),
                col("sessions_attended", parse_count, True, "Sessions attended.", "61"),
                col("authorised_absence", parse_count, False, "Authorised absences.", "5"),
                col("unauthorised_absence", parse_count, False, "Unauthorised.", "12"),
            ),
            key=("period_start", "period_end", "school"),
            check=_attendance_check,
        ),
        Kind(
            "exclusions",
            "Exclusions",
            (
                col("kind", parse_choice(choices["exclusion"]), True, "Type.", "suspension"),
                col("start_date", parse_date, True, "First day.", "2026-10-02"),
                col("days", parse_decimal, False, "School days (suspensions).", "2.5"),
                col("reason", parse_text(200), False, "Reason given.", "Persistent disruption"),
            ),
            key=("kind", "start_date"),
            check=_exclusion_check,
        ),
        Kind(
            "offences",
            "Offences",
            (
                col("offence_date", parse_date, True, "Date of offence.", "2026-06-14"),
                col(
                    "category",
                    parse_choice(choices["offence"]),
                    True,
                    "Home Office group.",
                    "theft",
                ),
                col("gravity", parse_gravity, True, "YJB gravity score 1–8.", "2"),
                col(
                    "outcome",
                    parse_choice(choices["outcome"]),
                    True,
                    "Outcome or disposal.",
                    "youth_caution",
                ),
                col("outcome_date", parse_date, False, "Date of the outcome.", "2026-07-01"),
                col("description", parse_text(200), False, "Short description.", "Shop theft"),
            ),
            key=("offence_date", "category", "description"),
        ),
        Kind(
            "police_contacts",
            "Police contacts and arrests",
            (
                col("date", parse_date, True, "Date.", "2026-05-03"),
                col("kind", parse_choice(choices["police"]), True, "Type of contact.", "arrest"),
                col(
                    "outcome",
                    parse_text(200),
                    False,
                    "What happened.",
                    "Released under investigation",
                ),
            ),
            key=("date", "kind"),
        ),
        Kind(
            "placements",
            "Out-of-home placements",
            (
                col("kind", parse_choice(choices["placement"]), True, "Type.", "foster"),
                col("start_date", parse_date, True, "Start.", "2026-02-01"),
                col("end_date", parse_date, False, "End (empty if ongoing).", ""),
            ),
            key=("kind", "start_date"),
            check=_ends_after_start,
        ),
        Kind(
            "custody",
            "Custody",
            (
                col(
                    "kind", parse_choice(choices["custody"]), True, "Remand or sentence.", "remand"
                ),
                col(
                    "establishment",
                    parse_choice(choices["establishment"]),
                    True,
                    "Youth secure estate.",
                    "yoi",
                ),
                col("start_date", parse_date, True, "Start.", "2026-03-10"),
                col("end_date", parse_date, False, "End (empty if ongoing).", "2026-04-20"),
            ),
            key=("kind", "start_date"),
            check=_ends_after_start,
        ),
        Kind(
            "missing",
            "Missing episodes",
            (
                col("start_date", parse_date, True, "Reported missing.", "2026-01-05"),
                col("end_date", parse_date, False, "Found or returned.", "2026-01-06"),
                col("reported_to_police", parse_bool, False, "yes or no.", "yes"),
            ),
            key=("start_date",),
            check=_ends_after_start,
        ),
        Kind(
            "prosocial",
            "Pro-social activities",
            (
                col("kind", parse_choice(choices["activity"]), True, "Type.", "sport"),
                col("hours_per_week", parse_decimal, True, "Hours a week.", "3"),
                col("start_date", parse_date, True, "Start.", "2026-04-01"),
                col("end_date", parse_date, False, "End (empty if ongoing).", ""),
            ),
            key=("kind", "start_date"),
            check=_hours_check,
        ),
    ]
    return {
        kind.code: Kind(kind.code, kind.label, (*kind.columns, source), kind.key, kind.check)
        for kind in kinds
    }
