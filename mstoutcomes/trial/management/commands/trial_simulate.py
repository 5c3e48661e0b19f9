from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from mstoutcomes.trial.config import TrialConfigError, load_trial_config
from mstoutcomes.trial.simulate import simulate


class Command(BaseCommand):
    help = (
        "Simulate a trial configuration many times before go-live and report balance (overall "
        "and within factor levels) and how often a recruiter could guess the next arm."
    )

    def add_arguments(self, parser):
        parser.add_argument("config", type=Path, help="Trial configuration file (TOML).")
        parser.add_argument("--trials", type=int, default=1000)
        parser.add_argument("--participants", type=int, default=200)
        parser.add_argument("--seed", default="simulation")
        parser.add_argument(
            "--method", choices=["blocks", "minimisation"], help="Override the file's method."
        )

    def handle(self, *args, **options):
        try:
            spec = load_trial_config(options["config"])
        except TrialConfigError as exc:
            raise CommandError(str(exc)) from exc
        if options["method"]:
            from dataclasses import replace

            spec = replace(spec, method=options["method"])
        if options["trials"] < 1 or options["participants"] < 1:
            raise CommandError("--trials and --participants must be at least 1.")
        console = Console(file=self.stdout, force_terminal=False)
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("Simulating", total=options["trials"])
            result = simulate(
                spec,
                trials=options["trials"],
                participants=options["participants"],
                seed=options["seed"],
                progress=lambda: progress.advance(task),
            )
        table = Table(
            title=f"{spec.code}: {spec.method}, {result.trials} trials of "
            f"{result.participants} participants"
        )
        for column in ("measure", "mean", "median", "95th centile", "max"):
            table.add_column(column, justify="left" if column == "measure" else "right")
        for measure, row in result.summary.iterrows():
            table.add_row(
                str(measure), *(f"{row[c]:.3f}" for c in ("mean", "median", "p95", "max"))
            )
        console.print(table)
        console.print(
            f"A guess rate of {1 / len(spec.arms):.2f} means the next arm is unguessable."
        )
