"""Import administrative records from CSV or Excel: validate every row, all or nothing.

The file is read column by column: every distinct cell of a column is parsed once and the
results are spread back to the rows (``columns.parse_column``), the checks across columns work
on whole columns, and rows are matched to young people at one site (by a local identifier, or by
name and date of birth) through dictionaries of the distinct identifiers. Problems are reported
per spreadsheet row, in row order, exactly as a cell-by-cell read would word them.

Each record's natural key is hashed into ``row_key``, unique per table, so re-importing a file
adds nothing; a record whose key is there but whose values differ is updated (its provenance then
names this import), and one that is the same is left alone. On PostgreSQL the checked rows go in
with one binary COPY into a temporary staging table (fixed-width values and codes, built with
numpy), and the rest is set-based SQL: the key is hashed in the database, one UPDATE for changed
records and one INSERT ... SELECT ... ON CONFLICT DO NOTHING (in key order) for new ones. A dry
run stops after counting what would be added, updated or left unchanged: it writes nothing but
temporary tables. On other databases the same checked rows are compared and written with the ORM
in batches.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
from django.db import connection, models, transaction
from django.utils import timezone

from mstoutcomes.accounts.models import Site, User
from mstoutcomes.accounts.permissions import Perm, user_has_perm
from mstoutcomes.accounts.services import audit_record
from mstoutcomes.cases.models import YoungPerson
from mstoutcomes.cases.protocol import Check, ProtocolRefused, protocol_check, refusal_for
from mstoutcomes.core.services import require
from mstoutcomes.outcomes import models as m
from mstoutcomes.outcomes.columns import (
    MATCH_COLUMNS,
    Column,
    Kind,
    ParsedColumn,
    build_kinds,
    check_header,
    key_text,
    parse_column,
    row_keys,
    storage,
)

KINDS: dict[str, Kind] = build_kinds(
    {
        "exclusion": m.ExclusionKind.choices,
        "offence": m.OffenceCategory.choices,
        "outcome": m.OffenceOutcome.choices,
        "police": m.PoliceContactKind.choices,
        "placement": m.PlacementKind.choices,
        "custody": m.CustodyKind.choices,
        "establishment": m.Establishment.choices,
        "activity": m.ActivityKind.choices,
    }
)
MODELS: dict[str, type[m.AdministrativeRecord]] = {
    "attendance": m.AttendancePeriod,
    "exclusions": m.Exclusion,
    "offences": m.Offence,
    "police_contacts": m.PoliceContact,
    "placements": m.Placement,
    "custody": m.CustodyEpisode,
    "missing": m.MissingEpisode,
    "prosocial": m.ProsocialActivity,
}
MAX_ERRORS_KEPT = 500
Progress = Callable[[int], None]
NO_DATE = -(2**31)  # PostgreSQL's binary -infinity date: stands for an empty date in staging
PG_EPOCH = dt.date(2000, 1, 1)  # binary COPY dates count days from here


class ImportFileError(Exception):
    """A file that cannot be read as a table at all."""


@dataclass
class ImportReport:
    kind: str
    file_name: str
    dry_run: bool
    rows_read: int = 0
    rows_valid: int = 0
    rows_added: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    rows_repeated_in_file: int = 0
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    unmatched: list[str] = field(default_factory=list)
    unmatched_count: int = 0
    batch_id: int | None = None
    skip_unmatched: bool = False

    @property
    def ok(self) -> bool:
        """Whether the file imports (or, in a dry run, would import)."""
        return self.error_count == 0 and (self.unmatched_count == 0 or self.skip_unmatched)

    @property
    def rows_already_present(self) -> int:
        """Rows whose record was already there (updated or unchanged)."""
        return self.rows_updated + self.rows_unchanged

    def error(self, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(message)


@dataclass
class Table:
    """A file's header and its columns, each as codes per row into the distinct cells."""

    header: list[str]
    codes: list[np.ndarray]  # per column: per row, index into cells (-1: no cell)
    cells: list[list[str]]  # per column: the distinct cells
    blank: np.ndarray  # per row: every cell empty (skipped, but the row keeps its number)


def _table_from_rows(rows: list[list[str]]) -> Table:
    header, body = rows[0], rows[1:]
    codes, cells = [], []
    for index in range(len(header)):
        column = np.array([r[index] if index < len(r) else "" for r in body], dtype=object)
        found, distinct = pd.factorize(column)
        codes.append(found.astype(np.int64))
        cells.append([str(c) for c in distinct])
    blank = np.array([not any(c.strip() for c in r) for r in body], dtype=bool)
    return Table(list(header), codes, cells, blank)


def _read_csv(data: bytes) -> Table:
    """Read CSV with pandas' C parser (each column as categories: codes and distinct cells), or,
    for a file it refuses (a row longer than the header), with the csv module."""
    try:
        frame = pd.read_csv(
            io.BytesIO(data),
            header=None,
            dtype="category",
            na_filter=False,
            skip_blank_lines=False,
            encoding="utf-8-sig",
        )
    except pd.errors.EmptyDataError:
        return Table([], [], [], np.zeros(0, dtype=bool))
    except pd.errors.ParserError:
        text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
        return _table_from_rows([*csv.reader(text)])
    header: list[str] = []
    codes, cells = [], []
    blank = np.ones(len(frame) - 1, dtype=bool)
    for name in frame.columns:
        categorical = frame[name].cat
        found = categorical.codes.to_numpy().astype(np.int64)
        distinct = [str(c) for c in categorical.categories]
        header.append(distinct[found[0]] if found[0] >= 0 else "")
        codes.append(found[1:])
        cells.append(distinct)
        empty = np.array([not c.strip() for c in distinct] + [True], dtype=bool)
        blank &= empty[found[1:]]  # -1 (no cell) takes the last, True
    return Table(header, codes, cells, blank)


def read_table(data: bytes, file_name: str) -> Table:
    """Read a CSV (UTF-8, with or without BOM) or Excel (.xlsx, first sheet) file as text."""
    if file_name.lower().endswith((".xlsx", ".xlsm")):
        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            rows = [
                [_cell_text(v) for v in values]
                for values in book.worksheets[0].iter_rows(values_only=True)
            ]
            book.close()
        except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
            # A damaged or renamed file: openpyxl fails in many ways, none of them the user's fix.
            raise ImportFileError(
                "The file cannot be read as an Excel workbook. Save it again from Excel as "
                ".xlsx, or as CSV UTF-8."
            ) from None
        return _table_from_rows(rows) if rows else Table([], [], [], np.zeros(0, dtype=bool))
    try:
        return _read_csv(data)
    except UnicodeDecodeError:
        raise ImportFileError(
            "The file is not UTF-8 text. Save it as CSV UTF-8 (or as an Excel workbook)."
        ) from None
    except csv.Error as error:
        raise ImportFileError(f"The file cannot be read as CSV: {error}.") from None


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class Matcher:
    """Find young people at one site by local identifier or by name and date of birth."""

    def __init__(self, site: Site) -> None:
        self.by_id: dict[str, int | None] = {}
        self.by_name: dict[tuple[str, str, dt.date], int | None] = {}
        rows = (
            YoungPerson.objects.unscoped()
            .filter(site=site)
            .values_list(
                "pk",
                "study_id",
                "upn",
                "yos_id",
                "social_care_id",
                "given_name",
                "family_name",
                "date_of_birth",
            )
        )
        for pk, *identifiers, given, family, born in rows:
            for identifier in identifiers:
                if identifier:
                    key = identifier.strip().upper()
                    # The same identifier on two people matches neither.
                    self.by_id[key] = pk if self.by_id.get(key, pk) == pk else None
            name_key = (given.strip().lower(), family.strip().lower(), born)
            self.by_name[name_key] = pk if self.by_name.get(name_key, pk) == pk else None

    def people(self, match: dict[str, ParsedColumn], rows: np.ndarray) -> np.ndarray:
        """Return, per row, the young person's id (-1: nobody, or more than one)."""
        local = match["local_id"]
        by_id = [self.by_id.get(v.upper()) if v else None for v in local.values]
        person = local.per_row([-1 if p is None else p for p in by_id], dtype=np.int64)
        by_name = rows & ~local.flag(bool)
        if by_name.any():
            parts = [match[n] for n in ("given_name", "family_name", "date_of_birth")]
            keys = np.stack([c.codes[by_name] for c in parts], axis=1)
            combos, inverse = np.unique(keys, axis=0, return_inverse=True)
            found = []
            for given, family, born in combos.tolist():
                name = (parts[0].values[given], parts[1].values[family], parts[2].values[born])
                pk = self.by_name.get((name[0].lower(), name[1].lower(), name[2]))
                found.append(-1 if pk is None else pk)
            person[by_name] = np.asarray(found, dtype=np.int64)[inverse.reshape(-1)]
        return np.where(rows, person, -1)


@dataclass
class Checked:
    """The rows of a file that will be imported, column by column."""

    columns: dict[str, ParsedColumn]  # every column of the kind, present in the file or not
    person: np.ndarray  # per file row: young person id (-1 when not imported)
    rows: np.ndarray  # indexes of the file rows to import, in file order


def _problems(
    kind: Kind,
    columns: dict[str, ParsedColumn],
    match: dict[str, ParsedColumn],
    live: np.ndarray,
    report: ImportReport,
) -> np.ndarray:
    """Report every problem by row, in the order a row lists them (cells, identity, then the
    checks across columns, made only on rows whose cells read); return the rows with one."""
    sources: list[tuple[np.ndarray, ParsedColumn | str]] = [
        (c.error_mask() & live, c) for c in [*columns.values(), *match.values()]
    ]
    named = match["given_name"].flag(bool) & match["family_name"].flag(bool)
    named &= match["date_of_birth"].flag(lambda v: v is not None)
    sources.append(
        (
            live & ~match["local_id"].flag(bool) & ~named,
            "local_id: give a local_id, or given_name, family_name and date_of_birth",
        )
    )
    cell_problem = np.logical_or.reduce([mask for mask, _ in sources])
    if kind.check is not None:
        sources += [(mask & live & ~cell_problem, text) for mask, text in kind.check(columns)]
    problem = np.logical_or.reduce([mask for mask, _ in sources])
    if problem.any():
        hits = [np.flatnonzero(mask) for mask, _ in sources]
        rows = np.concatenate(hits)
        which = np.concatenate([np.full(len(h), number) for number, h in enumerate(hits)])
        order = np.lexsort((which, rows))
        for row, number in zip(
            rows[order][:MAX_ERRORS_KEPT].tolist(),
            which[order][:MAX_ERRORS_KEPT].tolist(),
            strict=True,
        ):
            source = sources[number][1]
            message = source if isinstance(source, str) else source.errors[source.codes[row]]
            report.errors.append(f"Row {row + 2}: {message}")
        report.error_count += len(rows)
    return problem


def _report_unmatched(local: ParsedColumn, unmatched: np.ndarray, report: ImportReport) -> None:
    report.unmatched_count = len(unmatched)
    for row in unmatched[:MAX_ERRORS_KEPT].tolist():
        local_id = local.values[local.codes[row]]
        # Name and date of birth are not repeated into the report: the row number identifies it.
        who = f"local_id {local_id!r}" if local_id else "the name and date of birth given"
        report.unmatched.append(f"Row {row + 2}: no single young person matches {who}")


def _repeated(
    kind: Kind, columns: dict[str, ParsedColumn], person: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    """Return, for ``rows``, whether an earlier one has the same natural key."""
    keys = {"": person[rows]}
    for name in kind.key:
        column = columns[name]
        canonical: dict[Any, int] = {}
        value_codes = [canonical.setdefault(v, len(canonical)) for v in column.values]
        keys[name] = np.asarray(value_codes, dtype=np.int64)[column.codes[rows]]
    return pd.DataFrame(keys).duplicated(keep="first").to_numpy()


def _check(kind: Kind, table: Table, matcher: Matcher, report: ImportReport) -> Checked | None:
    """Validate every row and match it; count what is read, wrong, unmatched and repeated."""
    if not table.header:
        report.error("The file is empty.")
        return None
    for problem in check_header(kind, table.header):
        report.error(f"Header: {problem}")
    if report.error_count:
        return None
    position = {name.strip(): index for index, name in enumerate(table.header)}
    count = len(table.blank)

    def read(column: Column) -> ParsedColumn:
        index = position.get(column.name)
        if index is None:
            return parse_column(column, np.full(count, -1, dtype=np.int64), [])
        return parse_column(column, table.codes[index], table.cells[index])

    columns = {c.name: read(c) for c in kind.columns}
    match = {c.name: read(c) for c in MATCH_COLUMNS}
    live = ~table.blank
    report.rows_read = int(live.sum())
    fine = live & ~_problems(kind, columns, match, live, report)
    person = matcher.people(match, fine)
    _report_unmatched(match["local_id"], np.flatnonzero(fine & (person < 0)), report)
    # A row repeating an earlier row's natural key (the same young person) is counted, not added.
    kept = np.flatnonzero(fine & (person >= 0))
    repeated = _repeated(kind, columns, person, kept)
    report.rows_repeated_in_file = int(repeated.sum())
    report.rows_valid = len(kept) - report.rows_repeated_in_file
    return Checked(columns, person, kept[~repeated])


def _default(model: type[models.Model], name: str) -> Any:
    field = model._meta.get_field(name)
    return None if field.null else field.get_default()  # type: ignore[union-attr]


def _stored(model: type[models.Model], column: ParsedColumn, source_system: str) -> list[Any]:
    """The values to store per distinct cell: an empty optional cell takes the field's default
    (0 absences) or stays empty; an empty source_system cell takes the import's."""
    if column.name == "source_system":
        return [v or source_system for v in column.values]
    default = _default(model, column.name)
    return [default if v is None else v for v in column.values]


@dataclass(frozen=True)
class Write:
    """What a real import writes besides the values."""

    batch_id: int
    extracted_on: dt.date
    entered_by_id: int | None
    now: dt.datetime


def _value_names(kind: Kind) -> list[str]:
    return [c.name for c in kind.columns if c.name != "source_system"]


def _keys(kind: Kind, checked: Checked) -> list[str]:
    """Hash the natural key of every row to import (as ``columns.row_key`` does for one)."""
    rows = checked.rows
    texts = {}
    for name in kind.key:
        column = checked.columns[name]
        per_cell = np.asarray([key_text(v) for v in column.values], dtype=object)
        texts[name] = per_cell[column.codes[rows]].tolist()
    return row_keys(kind, checked.person[rows].tolist(), texts)


def _postgres(
    kind: Kind,
    model: type[m.AdministrativeRecord],
    checked: Checked,
    source_system: str,
    write: Write | None,
) -> tuple[int, int]:
    """Stage the rows with one binary COPY, then count (dry run) or write them in set-based
    SQL; return (added, updated)."""
    table = model._meta.db_table
    rows = checked.rows
    # Binary COPY rows of fixed width: a numpy record per row, written in one piece. Dates and
    # whole numbers go as themselves (an empty one as -infinity or -1); any other value as its
    # index into a small lookup table of the column's distinct values.
    layout: list[tuple[str, str]] = [("fields", ">i2"), ("l_person", ">i4"), ("person", ">i8")]
    layout += [("l_key", ">i4"), ("key", "S64")]
    stage_columns = ["young_person_id int8", "row_key text"]
    lookups: list[tuple[str, str, list[Any]]] = []
    selects = ["s.young_person_id", "s.row_key"]
    joins = []
    staged: dict[str, np.ndarray] = {}
    for number, column in enumerate(kind.columns):
        parsed = checked.columns[column.name]
        stored = _stored(model, parsed, source_system)
        how = storage(column)
        layout += [(f"l{number}", ">i4"), (f"c{number}", ">i4")]
        if how == "date":
            per_cell = [NO_DATE if v is None else (v - PG_EPOCH).days for v in stored]
            stage_columns.append(f"c{number} date")
            value = f"NULLIF(s.c{number}, '-infinity'::date)"
        elif how == "int":
            per_cell = [-1 if v is None else v for v in stored]
            stage_columns.append(f"c{number} int4")
            value = f"NULLIF(s.c{number}, -1)"
        else:
            per_cell = list(range(len(stored)))
            stage_columns.append(f"c{number} int4")
            db_field = model._meta.get_field(column.name)
            assert isinstance(db_field, models.Field)
            db_type = db_field.db_type(connection) or "text"
            lookups.append((f"import_u{number}", db_type, stored))
            joins.append(f"JOIN import_u{number} u{number} ON u{number}.code = s.c{number}")
            value = f"u{number}.value"
        selects.append(f"{value} AS {column.name}")
        staged[f"c{number}"] = np.asarray(per_cell, dtype=np.int64)[parsed.codes[rows]]
    record = np.empty(len(rows), dtype=np.dtype(layout))
    record["fields"] = 2 + len(kind.columns)
    record["l_person"], record["person"] = 8, checked.person[rows]
    record["l_key"], record["key"] = 64, np.asarray(_keys(kind, checked), dtype="S64")
    for number in range(len(kind.columns)):
        record[f"l{number}"], record[f"c{number}"] = 4, staged[f"c{number}"]

    values = _value_names(kind)
    rows_sql = f"(SELECT {', '.join(selects)} FROM import_stage s {' '.join(joins)}) t"
    differs = (
        f"({', '.join(f'r.{n}' for n in values)}) IS DISTINCT FROM "
        f"({', '.join(f't.{n}' for n in values)})"
    )
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg 3 under Django's wrapper
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(f"CREATE TEMP TABLE import_stage ({', '.join(stage_columns)})")
        with raw.copy("COPY import_stage FROM STDIN (FORMAT binary)") as copy:
            copy.write(b"PGCOPY\n\xff\r\n\x00" + bytes(8))
            copy.write(record.tobytes())
            copy.write(b"\xff\xff")
        for name, db_type, stored in lookups:
            cursor.execute(f"CREATE TEMP TABLE {name} (code int4 PRIMARY KEY, value {db_type})")
            with raw.copy(f"COPY {name} (code, value) FROM STDIN") as copy:
                for code, value in enumerate(stored):
                    copy.write_row((code, value))
        # One join of the rows with the table finds each row's record (if any) and whether
        # its values differ; the dry run counts, a real import updates and adds from it.
        found = (
            f"found AS MATERIALIZED (SELECT t.*, r.id AS record_id, "
            f"(r.id IS NOT NULL AND {differs}) AS changed FROM {rows_sql} "
            f"LEFT JOIN {table} r ON r.row_key = t.row_key AND NOT (r.row_key = ''))"
        )
        if write is None:
            cursor.execute(
                f"WITH {found} SELECT count(*) FILTER (WHERE record_id IS NULL), "
                f"count(*) FILTER (WHERE changed) FROM found"
            )
        else:
            columns = ["young_person_id", *values, "source_system", "row_key"]
            cursor.execute(
                f"WITH {found}, updated AS (UPDATE {table} r SET "
                f"{', '.join(f'{n} = f.{n}' for n in [*values, 'source_system'])}, "
                f"extracted_on = %(extracted)s, import_batch_id = %(batch)s, "
                f"updated_at = %(now)s FROM found f WHERE f.changed AND r.id = f.record_id "
                f"RETURNING 1), "
                # In key order, so the unique index on row_key grows at one end.
                f"added AS (INSERT INTO {table} ({', '.join(columns)}, provenance, "
                f"extracted_on, import_batch_id, entered_by_id, created_at, updated_at) "
                f"SELECT {', '.join(f'f.{n}' for n in columns)}, %(provenance)s, "
                f"%(extracted)s, %(batch)s, %(by)s, %(now)s, %(now)s FROM found f "
                f"WHERE f.record_id IS NULL ORDER BY f.row_key "
                f"ON CONFLICT (row_key) WHERE NOT (row_key = '') DO NOTHING RETURNING 1) "
                f"SELECT (SELECT count(*) FROM added), (SELECT count(*) FROM updated)",
                {
                    "provenance": m.Provenance.IMPORTED,
                    "extracted": write.extracted_on,
                    "batch": write.batch_id,
                    "by": write.entered_by_id,
                    "now": write.now,
                },
            )
        added, updated = cursor.fetchone()
        dropped = ["import_stage", *(name for name, _, _ in lookups)]
        cursor.execute(f"DROP TABLE {', '.join(dropped)}")
    return int(added), int(updated)


def _orm(
    kind: Kind,
    model: type[m.AdministrativeRecord],
    checked: Checked,
    source_system: str,
    write: Write | None,
) -> tuple[int, int]:
    """Compare and write the rows with the ORM in batches; return (added, updated)."""
    rows = checked.rows
    names = [c.name for c in kind.columns]
    values = _value_names(kind)
    stored = {
        n: np.asarray(_stored(model, checked.columns[n], source_system), dtype=object)[
            checked.columns[n].codes[rows]
        ].tolist()
        for n in names
    }
    every_key = _keys(kind, checked)
    people = checked.person[rows].tolist()
    manager = model.objects.unscoped()  # type: ignore[attr-defined]
    added = updated = 0
    for start in range(0, len(rows), 500):
        batch = range(start, min(start + 500, len(rows)))
        keys = every_key[start : start + 500]
        present = {r.row_key: r for r in manager.filter(row_key__in=keys)}
        new, changed = [], []
        for i, key in zip(batch, keys, strict=True):
            fields = {n: stored[n][i] for n in names}
            record = present.get(key)
            if record is None:
                new.append(model(young_person_id=people[i], row_key=key, **fields))
            elif any(getattr(record, n) != fields[n] for n in values):
                for name, value in fields.items():
                    setattr(record, name, value)
                changed.append(record)
        added, updated = added + len(new), updated + len(changed)
        if write is None:
            continue
        for record in new:
            record.provenance = m.Provenance.IMPORTED
            record.entered_by_id = write.entered_by_id
            record.created_at = write.now
        for record in [*new, *changed]:
            record.extracted_on = write.extracted_on
            record.import_batch_id = write.batch_id
            record.updated_at = write.now
        manager.bulk_create(new)
        provenance = ["source_system", "extracted_on", "import_batch", "updated_at"]
        manager.bulk_update(changed, [*values, *provenance])
    return added, updated


def _refuse_read_only(
    by: User | None, kind: str, checked: Checked, report: ImportReport, *, dry_run: bool
) -> None:
    """Report every row for a young person whose data are read-only (a locked trial).

    One such row refuses the whole file, like any other problem. A real import records each
    refused young person in the audit trail (``cases.protocol.refused``); a dry run only says.
    """
    matched = checked.person[checked.rows]
    if not len(matched):
        return
    ids = np.unique(matched).tolist()
    people = YoungPerson.objects.unscoped().select_related("site").in_bulk(ids)
    refused: dict[int, str] = {}
    for pk in ids:
        person = people[pk]
        if dry_run:
            refusal = refusal_for(person, Check.DATA)
            if refusal is not None:
                refused[pk] = refusal.message
            continue
        try:
            protocol_check(
                by=by, young_person=person, action=f"outcomes.import.{kind}", check=Check.DATA
            )
        except ProtocolRefused as error:
            refused[pk] = error.refusal.message
    if not refused:
        return
    for row, pk in zip(checked.rows.tolist(), matched.tolist(), strict=True):
        if pk in refused:
            report.error(f"Row {row + 2}: {people[pk].study_id}: {refused[pk]}")


def import_records(
    *,
    by: User | None,
    kind: str,
    site: Site,
    stream: IO[bytes],
    file_name: str,
    source_system: str,
    extracted_on: dt.date,
    dry_run: bool,
    skip_unmatched: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import one file of one kind at one site, or check it (dry run); all or nothing."""
    require(
        by is None or user_has_perm(by, Perm.IMPORT_DATA, site=site),
        "You cannot import records at this site.",
    )
    spec, model = KINDS[kind], MODELS[kind]
    report = ImportReport(
        kind=kind, file_name=file_name, dry_run=dry_run, skip_unmatched=skip_unmatched
    )
    blocks = []
    while block := stream.read(1 << 23):
        blocks.append(block)
        if progress is not None:
            progress(0)  # the command's bar follows the bytes read
    data = b"".join(blocks)
    del blocks
    digest = hashlib.sha256(data).hexdigest()
    try:
        table = read_table(data, file_name)
    except ImportFileError as error:
        report.error(str(error))
        return report
    del data
    checked = _check(spec, table, Matcher(site), report)
    if progress is not None:
        progress(report.rows_read)
    if checked is not None:
        _refuse_read_only(by, kind, checked, report, dry_run=dry_run)
    if checked is None or not report.ok:
        return report
    store = _postgres if connection.vendor == "postgresql" else _orm
    with transaction.atomic():
        write = None
        if not dry_run:
            batch = m.ImportBatch.objects.create(
                kind=kind,
                file_name=file_name[:255],
                file_sha256=digest,
                source_system=source_system,
                extracted_on=extracted_on,
                rows_read=0,
                rows_added=0,
                rows_already_present=0,
                imported_by=by,
            )
            write = Write(batch.pk, extracted_on, by.pk if by is not None else None, timezone.now())
        report.rows_added, report.rows_updated = store(spec, model, checked, source_system, write)
        report.rows_unchanged = report.rows_valid - report.rows_added - report.rows_updated
        if not dry_run:
            batch.rows_read = report.rows_read
            batch.rows_added = report.rows_added
            batch.rows_already_present = report.rows_already_present
            batch.save(update_fields=["rows_read", "rows_added", "rows_already_present"])
            audit_record(
                actor=by,
                action="outcomes.import.completed",
                obj=batch,
                site=site,
                data={
                    "kind": kind,
                    "file_sha256": digest,
                    "rows_read": report.rows_read,
                    "rows_added": report.rows_added,
                    "rows_updated": report.rows_updated,
                    "rows_unchanged": report.rows_unchanged,
                    "rows_already_present": report.rows_already_present,
                    "rows_repeated_in_file": report.rows_repeated_in_file,
                    "rows_unmatched_skipped": report.unmatched_count,
                },
            )
            report.batch_id = batch.pk
    if progress is not None:
        progress(report.rows_read)
    return report


def template_rows(kind: str) -> list[list[str]]:
    """Return a template's header and one example row."""
    spec = KINDS[kind]
    columns = [*MATCH_COLUMNS, *spec.columns]
    return [[c.name for c in columns], [c.example for c in columns]]


def open_path(path: Path) -> IO[bytes]:
    return path.open("rb")
