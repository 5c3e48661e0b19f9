"""`mstoutcomes import KIND FILE [--dry-run]`: import administrative records from CSV or Excel."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from mstoutcomes.accounts.models import Site
from mstoutcomes.outcomes.importers import KINDS, import_records


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as error:
        raise CommandError(f"--extracted must be a date like 2026-11-01, not {text!r}") from error


class Command(BaseCommand):
    help = "Import (or with --dry-run, check) a CSV or Excel file of administrative records."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=sorted(KINDS), help="What the file holds.")
        parser.add_argument("file", type=Path, help="A .csv or .xlsx file; see docs/imports.md.")
        parser.add_argument("--dry-run", action="store_true", help="Check every row, save nothing.")
        parser.add_argument("--site", help="Site code (needed when there is more than one site).")
        parser.add_argument("--source", default="", help="Source system (default: the file name).")
        parser.add_argument("--extracted", type=_date, help="Date extracted (default: today).")
        parser.add_argument(
            "--skip-unmatched", action="store_true", help="Skip and list rows matching nobody."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        sites = Site.objects.filter(code=options["site"]) if options["site"] else Site.objects.all()
        if sites.count() != 1:
            raise CommandError(
                "Name the site with --site CODE."
                if not options["site"]
                else f"No site with code {options['site']!r}."
            )
        console = Console(file=self.stdout._out, stderr=False)  # type: ignore[attr-defined]
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[rows]} rows"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as progress:
            size = path.stat().st_size
            task = progress.add_task(
                f"{'Checking' if options['dry_run'] else 'Importing'} {path.name}",
                total=size,
                rows=0,
            )
            with path.open("rb") as stream:

                def advance(rows: int) -> None:
                    position = stream.tell() if not stream.closed else size
                    progress.update(task, completed=min(position, size), rows=rows)

                report = import_records(
                    by=None,
                    kind=options["kind"],
                    site=sites.get(),
                    stream=stream,
                    file_name=path.name,
                    source_system=options["source"] or path.name,
                    extracted_on=options["extracted"] or dt.date.today(),
                    dry_run=options["dry_run"],
                    skip_unmatched=options["skip_unmatched"],
                    progress=advance,
                )
            progress.update(task, completed=size, rows=report.rows_read)
        for message in [*report.errors, *report.unmatched]:
            self.stdout.write(message)
        if not report.ok:
            raise CommandError(
                f"Nothing imported. {report.rows_read} rows read; {report.error_count} errors; "
                f"{report.unmatched_count} unmatched"
            )
        verb = "would add" if report.dry_run else "added"
        self.stdout.write(
            ("Check passed. " if report.dry_run else "Imported. ")
            + f"{report.rows_read} rows read; {verb} {report.rows_added}; "
            f"{'would update' if report.dry_run else 'updated'} {report.rows_updated}; "
            f"{report.rows_unchanged} unchanged; "
            f"{report.unmatched_count} unmatched rows skipped"
        )
