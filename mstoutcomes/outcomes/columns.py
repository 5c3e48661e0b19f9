"""The column format of each import kind, and column-wise parsing. No Django, no database.

Each kind lists its columns (name, type, required, help). ``parse_column`` reads one column of a
file: every distinct cell is parsed once (a million-row file has few distinct dates, counts or
codes) and the results are spread back to the rows by index, so a cell's value and its message are
exactly those of the cell parsers below. A kind's checks across columns work on whole columns and
return row masks. Matching to young people and writing are the importer's
(``outcomes/importers.py``). docs/imports.md describes the same specs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import numpy as np

Parser = Callable[[str], Any]
MAX_COUNT = 2_147_483_647  # the database's integer


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
    if value > MAX_COUNT:
        raise CellError(f"must be at most {MAX_COUNT}")
    return value


def parse_decimal(text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise CellError("must be a number such as 2.5") from None
    if not value.is_finite() or value < 0:
        raise CellError("must be 0 or more")
    return value


def parse_decimal_stored(max_digits: int, places: int) -> Parser:
    """Return a parser of decimals stored with ``places`` decimal places in ``max_digits``.

    The value is rounded as the database stores it (half away from zero, as PostgreSQL's
    numeric does), so a re-import compares the number it stored with the same number, not with
    the finer one in the file; a value too large for the column is a cell problem.
    """
    step = Decimal(1).scaleb(-places)
    limit = Decimal(10) ** (max_digits - places)

    def parse(text: str) -> Decimal:
        value = parse_decimal(text).quantize(step, rounding=ROUND_HALF_UP)
        if value >= limit:
            raise CellError(f"must be less than {limit}")
        return value

    parse.decimal = (max_digits, places)  # type: ignore[attr-defined]
    return parse


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
    # Checks across columns: row masks and their messages, for rows whose cells all read.
    check: Callable[[Mapping[str, Any]], list[tuple[Any, str]]] | None = None

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


def storage(column: Column) -> str:
    """How the importer sends a column to PostgreSQL: "date", "int" or "value" (by lookup)."""
    if column.parse is parse_date:
        return "date"
    if column.parse in (parse_count, parse_gravity):
        return "int"
    return "value"


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


@dataclass(frozen=True)
class ParsedColumn:
    """One column read: each row's index into the distinct cells, and each distinct cell's value
    and message (None when it reads cleanly)."""

    name: str
    codes: np.ndarray  # per row: index into values and errors
    values: list[Any]  # per distinct cell: the typed value (None when empty or unreadable)
    errors: list[str | None]  # per distinct cell: the message, without the row number

    def per_row(self, per_value: Sequence[Any], dtype: Any = object) -> np.ndarray:
        """Spread one result per distinct cell to the rows."""
        return np.asarray(per_value, dtype=dtype)[self.codes]

    def flag(self, test: Callable[[Any], bool]) -> np.ndarray:
        """Return, per row, whether the value passes ``test`` (run once per distinct cell)."""
        return self.per_row([test(v) for v in self.values], dtype=bool)

    def error_mask(self) -> np.ndarray:
        """Return, per row, whether the cell has a problem."""
        return self.per_row([e is not None for e in self.errors], dtype=bool)

    def dates(self) -> np.ndarray:
        """The values as datetime64 (NaT when empty or unreadable)."""
        return self.per_row(
            [np.datetime64(v, "D") if v is not None else np.datetime64("NaT") for v in self.values],
            dtype="datetime64[D]",
        )

    def numbers(self) -> np.ndarray:
        """The values as floats (NaN when empty or unreadable); counts are exact as floats."""
        return self.per_row([float(v) if v is not None else np.nan for v in self.values], float)


def parse_column(column: Column, codes: np.ndarray, cells: Sequence[str]) -> ParsedColumn:
    """Parse the distinct ``cells`` of one column (``codes`` index them per row, -1 for a
    missing cell) with the column's parser and the messages a cell-by-cell read gives."""
    is_text = getattr(column.parse, "is_text", False)
    values: list[Any] = []
    errors: list[str | None] = []
    for cell in [*cells, ""]:  # the last stands for missing cells
        text = cell.strip()
        if not text:
            values.append("" if is_text else None)
            errors.append(f"{column.name}: is required" if column.required else None)
            continue
        try:
            values.append(column.parse(text))
            errors.append(None)
        except CellError as error:
            values.append(None)
            errors.append(f"{column.name}: {error} (found {text[:30]!r})")
    codes = np.where(codes < 0, len(cells), codes).astype(np.int64, copy=False)
    return ParsedColumn(column.name, codes, values, errors)


Check = Callable[[Mapping[str, ParsedColumn]], list[tuple[np.ndarray, str]]]


def _attendance_check(columns: Mapping[str, ParsedColumn]) -> list[tuple[np.ndarray, str]]:
    start, end = columns["period_start"].dates(), columns["period_end"].dates()
    absences = np.zeros(len(start))
    for name in ("authorised_absence", "unauthorised_absence"):
        if name in columns:
            absences += np.nan_to_num(columns[name].numbers())
    attended = columns["sessions_attended"].numbers() + absences
    return [
        (end < start, "period_end: must be on or after period_start"),
        (
            attended > columns["sessions_possible"].numbers(),
            "sessions_attended: attended and absent sessions exceed sessions_possible",
        ),
    ]


def _ends_after_start(columns: Mapping[str, ParsedColumn]) -> list[tuple[np.ndarray, str]]:
    if "end_date" not in columns:
        return []
    ends_before = columns["end_date"].dates() < columns["start_date"].dates()  # NaT: False
    return [(ends_before, "end_date: must be on or after start_date")]


def _exclusion_check(columns: Mapping[str, ParsedColumn]) -> list[tuple[np.ndarray, str]]:
    suspension = columns["kind"].flag(lambda v: v == "suspension")
    days = columns.get("days")
    if days is None:
        return [(suspension, "days: is required for a suspension")]
    return [
        (suspension & days.flag(lambda v: v is None), "days: is required for a suspension"),
        (
            suspension & days.flag(lambda v: v is not None and not Decimal("0.5") <= v <= 45),
            "days: a suspension lasts from 0.5 to 45 school days",
        ),
    ]


def _hours_check(columns: Mapping[str, ParsedColumn]) -> list[tuple[np.ndarray, str]]:
    hours = columns["hours_per_week"].flag(
        lambda v: v is not None and not Decimal("0.5") <= v <= 60
    )
    return [*_ends_after_start(columns), (hours, "hours_per_week: must be from 0.5 to 60")]


def row_key(kind: Kind, young_person_id: int, values: Mapping[str, Any]) -> str:
    """Return the hash of a record's natural key: the same rows give the same keys."""
    parts = [kind.code, str(young_person_id)]
    parts += [str(values.get(name) if values.get(name) is not None else "") for name in kind.key]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def row_keys(kind: Kind, people: Sequence[int], values: Mapping[str, Sequence[str]]) -> list[str]:
    """Return ``row_key`` for many rows at once, given each key column's values as the text
    ``row_key`` would make of them (``key_text``)."""
    sha256 = hashlib.sha256
    texts = [[str(p) for p in people], *(values[name] for name in kind.key)]
    return [
        sha256("\x1f".join((kind.code, *parts)).encode()).hexdigest()
        for parts in zip(*texts, strict=True)
    ]


def key_text(value: Any) -> str:
    """The text of one natural-key value in ``row_key``."""
    return "" if value is None else str(value)


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
                col("days", parse_decimal_stored(4, 1), False, "School days (suspensions).", "2.5"),
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
                col("hours_per_week", parse_decimal_stored(4, 1), True, "Hours a week.", "3"),
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
