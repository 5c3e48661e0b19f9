"""Run the analysis plan of a dataset directory and write results, tables and a report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from mstoutcomes.analysis.contract import ContractError, load_dataset
from mstoutcomes.analysis.report import write_outputs
from mstoutcomes.analysis.runner import run_plan


class Command(BaseCommand):
    help = (
        "Analyse a dataset directory that follows the analysis data contract (participants.csv, "
        "measurements.csv, events.csv, plan.toml; see docs/analysis.md) and write results.json, "
        "CSV tables and report.html into --out. Reads no database. The same directory and plan "
        "always give the same numbers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--data", required=True, help="The dataset directory to read.")
        parser.add_argument("--out", required=True, help="The directory to write results into.")

    def handle(self, *args: Any, **options: Any) -> None:
        console = Console(file=self.stdout, stderr=False, highlight=False)  # type: ignore[arg-type]
        data, out = Path(options["data"]), Path(options["out"])
        try:
            dataset = load_dataset(data)
        except ContractError as error:
            raise CommandError(str(error)) from error
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=options.get("verbosity", 1) < 1,
        ) as progress:
            task = progress.add_task("Reading the dataset", total=None)

            def say(message: str) -> None:
                progress.update(task, description=message)

            results = run_plan(dataset, progress=say)
            say("Writing results and the report")
            written = write_outputs(results, out, dataset)
        console.print(f"Dataset SHA-256 {results.dataset_sha256}")
        for path in written:
            console.print(f"Wrote {path}")
