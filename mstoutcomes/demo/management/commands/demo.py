"""`mstoutcomes demo`: load the synthetic site into an empty database and print its sign-ins."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import IO, Any, cast

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mstoutcomes.core.dates import today
from mstoutcomes.demo.builder import Step, build_demo, database_has_data, demo_sign_ins


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-03-31.") from None


class Command(BaseCommand):
    help = (
        "Load a synthetic MST site (young people, families, agencies, episodes and one user per "
        "role) into an empty database, and print the sign-ins."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--seed", type=int, default=1, help="Random seed; the same seed gives the same site."
        )
        parser.add_argument(
            "--as-of",
            type=_date,
            default=None,
            metavar="YYYY-MM-DD",
            help="The date the demo is built as of (default: today). Referrals fall in the two "
            "years before it.",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Load only when the database is empty; otherwise keep it and print the sign-ins.",
        )

    def handle(
        self, *args: Any, seed: int, as_of: dt.date | None, if_empty: bool, **options: Any
    ) -> None:
        # Rich writes to the stream under Django's wrapper (which would add a newline per write).
        stream = cast("IO[str]", self.stdout._out)
        is_terminal = bool(getattr(stream, "isatty", lambda: False)())
        # Off a terminal rich assumes 80 columns; widen so the sign-in table never wraps.
        console = Console(
            file=stream, width=None if is_terminal else 160, no_color=options.get("no_color", False)
        )
        if database_has_data():
            if not if_empty:
                raise CommandError(
                    "The database already has data; the demo loads only into an empty database. "
                    "Run `mstoutcomes demo --if-empty` to keep the data and see the demo "
                    "sign-ins, or start from a fresh database."
                )
            console.print("Demo data already present; keeping it.")
            self._print_sign_ins(console)
            return
        as_of = as_of or today()
        if as_of > today():
            raise CommandError(
                f"--as-of {as_of.isoformat()} is in the future; use today or earlier."
            )

        done = "✓" if console.encoding.lower().startswith("utf") else "*"

        def on_step(step: Step, summary: str | None) -> None:
            console.print(
                f"[green]{done}[/green] {step.name}" + (f": {summary}" if summary else "")
            )

        console.print(f"Building the demo site as of {as_of:%d %B %Y} (seed {seed}).")
        progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        )
        with progress:
            build_demo(seed=seed, as_of=as_of, progress=progress, on_step=on_step)
        self._print_sign_ins(console)

    def _print_sign_ins(self, console: Console) -> None:
        rows = demo_sign_ins()
        if not rows:
            console.print("No demo users found in this database.")
            return
        table = Table(title="Demo sign-ins")
        # On a narrow terminal the long columns wrap; the two things people type never do.
        table.add_column("Username", no_wrap=True)
        table.add_column("Password", no_wrap=True)
        table.add_column("Role", min_width=len("Administrator"))
        table.add_column("Site")
        table.add_column("Agency")
        for row in rows:
            table.add_row(row.username, row.password, row.roles, row.sites, row.agency)
        console.print(table)
