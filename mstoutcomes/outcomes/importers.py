"""Import administrative records from CSV or Excel: validate every row, all or nothing.

A dry run does the whole import inside a transaction and rolls it back, so what it reports
(rows to add, rows already present) is exactly what the real import would do. Rows are matched
to young people at one site by a local identifier or by name and date of birth. Re-importing a
file adds nothing: each record's natural key is hashed into ``row_key``, unique per table.
Rows go in with PostgreSQL's COPY (psycopg 3) or, on other databases, bulk_create.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.db import connection, models, transaction
from django.utils import timezone

from mstoutcomes.accounts.models import Site, User
from mstoutcomes.accounts.permissions import Perm, user_has_perm
from mstoutcomes.accounts.services import audit_record
from mstoutcomes.cases.models import YoungPerson
from mstoutcomes.core.services import require
from mstoutcomes.outcomes import models as m
from mstoutcomes.outcomes.columns import Kind, build_kinds, check_header, row_key, row_parser

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


class _DryRun(Exception):
    """Raised to roll a dry run back."""


@dataclass
class ImportReport:
    kind: str
    file_name: str
    dry_run: bool
    rows_read: int = 0
    rows_valid: int = 0
    rows_added: int = 0
    rows_already_present: int = 0
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

    def error(self, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(message)

    def not_matched(self, message: str) -> None:
        self.unmatched_count += 1
        if len(self.unmatched) < MAX_ERRORS_KEPT:
            self.unmatched.append(message)


def read_table(stream: IO[bytes], file_name: str) -> Iterator[list[str]]:
    """Yield the rows of a CSV (UTF-8, with or without BOM) or Excel (.xlsx) file as text."""
    if file_name.lower().endswith((".xlsx", ".xlsm")):
        from openpyxl import load_workbook

        book = load_workbook(stream, read_only=True, data_only=True)
        for values in book.worksheets[0].iter_rows(values_only=True):
            yield [_cell_text(v) for v in values]
        book.close()
        return
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    yield from csv.reader(text)


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

    def find(self, match: tuple[Any, ...]) -> int | None:
        local_id, given, family, born = match
        if local_id:
            return self.by_id.get(str(local_id).upper())
        return self.by_name.get((given.lower(), family.lower(), born))


def _describe(match: tuple[Any, ...]) -> str:
    local_id = match[0]
    if local_id:
        return f"local_id {local_id!r}"
    # Name and date of birth are not repeated into the report: the row number identifies it.
    return "the name and date of birth given"


def _validated_rows(
    kind: Kind,
    rows: Iterator[list[str]],
    matcher: Matcher,
    report: ImportReport,
    progress: Progress | None,
) -> Iterator[tuple[int, str, dict[str, Any]]]:
    try:
        header = next(rows)
    except StopIteration:
        report.error("The file is empty.")
        return
    for problem in check_header(kind, header):
        report.error(f"Header: {problem}")
    if report.error_count:
        return
    parse = row_parser(kind, header)
    seen: set[str] = set()
    for number, cells in enumerate(rows, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        report.rows_read += 1
        if progress is not None and report.rows_read % 10_000 == 0:
            progress(report.rows_read)
        parsed = parse(number, cells)
        if parsed.errors:
            for message in parsed.errors:
                report.error(f"Row {number}: {message}")
            continue
        person = matcher.find(parsed.match)
        if person is None:
            report.not_matched(
                f"Row {number}: no single young person matches {_describe(parsed.match)}"
            )
            continue
        key = row_key(kind, person, parsed.values)
        if key in seen:
            report.rows_repeated_in_file += 1
            continue
        seen.add(key)
        report.rows_valid += 1
        yield person, key, parsed.values


def _insert_columns(model: type[models.Model], kind: Kind) -> list[str]:
    names = ["young_person_id", "provenance", "source_system", "extracted_on", "import_batch_id"]
    names += ["row_key", "entered_by_id", "created_at", "updated_at"]
    names += [c.name for c in kind.columns if c.name != "source_system"]
    return names


def _copy_rows(
    model: type[models.Model], columns: list[str], rows: Iterable[tuple[Any, ...]]
) -> int:
    """Load rows with COPY into a staging table, then add those not already there."""
    table = model._meta.db_table
    column_list = ", ".join(columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE import_stage ON COMMIT DROP AS "
            f"SELECT {column_list} FROM {table} WITH NO DATA"
        )
        raw = cursor.cursor  # psycopg 3 cursor under Django's wrapper
        with raw.copy(f"COPY import_stage ({column_list}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} ({column_list}) SELECT {column_list} FROM import_stage "
            f"ON CONFLICT (row_key) WHERE NOT (row_key = '') DO NOTHING"
        )
        added = cursor.rowcount
        cursor.execute("DROP TABLE import_stage")
    return int(added)


def _bulk_create_rows(
    model: type[models.Model], columns: list[str], rows: Iterable[tuple[Any, ...]]
) -> int:
    """Add the rows whose key is not there yet, in batches; any other failure raises."""
    added = 0
    key_index = columns.index("row_key")
    manager = model.objects.unscoped()  # type: ignore[attr-defined]

    def flush(batch: list[tuple[Any, ...]]) -> int:
        keys = [row[key_index] for row in batch]
        present = set(manager.filter(row_key__in=keys).values_list("row_key", flat=True))
        new = [
            model(**dict(zip(columns, row, strict=True)))
            for row in batch
            if row[key_index] not in present
        ]
        manager.bulk_create(new)
        return len(new)

    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= 500:
            added += flush(batch)
            batch = []
    if batch:
        added += flush(batch)
    return added


def _default(model: type[models.Model], name: str) -> Any:
    field = model._meta.get_field(name)
    return None if field.null else field.get_default()  # type: ignore[union-attr]


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
    digest = hashlib.sha256()
    if file_name.lower().endswith((".xlsx", ".xlsm")):
        data = stream.read()  # a workbook is a zip file: it must be read whole
        digest.update(data)
        source: IO[bytes] = io.BytesIO(data)
    else:
        source = io.BufferedReader(_HashingReader(stream, digest), buffer_size=1 << 20)
    try:
        with transaction.atomic():
            batch = m.ImportBatch.objects.create(
                kind=kind,
                file_name=file_name[:255],
                file_sha256="",
                source_system=source_system,
                extracted_on=extracted_on,
                rows_read=0,
                rows_added=0,
                rows_already_present=0,
                imported_by=by,
            )
            now = timezone.now()
            columns = _insert_columns(model, spec)
            kind_columns = [c.name for c in spec.columns if c.name != "source_system"]
            # An empty optional cell takes the field's default (0 absences), or stays empty.
            defaults = [_default(model, name) for name in kind_columns]
            provenance = m.Provenance.IMPORTED
            by_id = by.pk if by is not None else None

            # Read everything the rows need before COPY starts: the connection is busy then.
            matcher = Matcher(site)

            def rows() -> Iterator[tuple[Any, ...]]:
                for person, key, values in _validated_rows(
                    spec, read_table(source, file_name), matcher, report, progress
                ):
                    system = values.get("source_system") or source_system
                    yield (
                        person,
                        provenance,
                        system,
                        extracted_on,
                        batch.pk,
                        key,
                        by_id,
                        now,
                        now,
                        *(
                            default if values[name] is None else values[name]
                            for name, default in zip(kind_columns, defaults, strict=True)
                        ),
                    )

            write = _copy_rows if connection.vendor == "postgresql" else _bulk_create_rows
            report.rows_added = write(model, columns, rows())
            report.rows_already_present = report.rows_valid - report.rows_added
            if not report.ok:
                report.rows_added = report.rows_already_present = 0
                raise _DryRun
            batch.file_sha256 = digest.hexdigest()
            batch.rows_read = report.rows_read
            batch.rows_added = report.rows_added
            batch.rows_already_present = report.rows_already_present
            batch.save()
            audit_record(
                actor=by,
                action="outcomes.import.completed",
                obj=batch,
                site=site,
                data={
                    "kind": kind,
                    "file_sha256": batch.file_sha256,
                    "rows_read": report.rows_read,
                    "rows_added": report.rows_added,
                    "rows_already_present": report.rows_already_present,
                    "rows_unmatched_skipped": report.unmatched_count,
                },
            )
            report.batch_id = batch.pk
            if dry_run:
                raise _DryRun
    except _DryRun:
        report.batch_id = None
    if progress is not None:
        progress(report.rows_read)
    return report


class _HashingReader(io.RawIOBase):
    """Pass a binary stream through while hashing it (the batch records the file's hash)."""

    def __init__(self, stream: IO[bytes], digest: Any) -> None:
        self.stream, self.digest = stream, digest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.stream.read(len(buffer))
        self.digest.update(data)
        buffer[: len(data)] = data
        return len(data)

    def seekable(self) -> bool:
        return False


def template_rows(kind: str) -> list[list[str]]:
    """Return a template's header and one example row."""
    spec = KINDS[kind]
    from mstoutcomes.outcomes.columns import MATCH_COLUMNS

    columns = [*MATCH_COLUMNS, *spec.columns]
    return [[c.name for c in columns], [c.example for c in columns]]


def open_path(path: Path) -> IO[bytes]:
    return path.open("rb")
