from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import Progress

from mstoutcomes.accounts.models import Site
from mstoutcomes.quality.services import quality_run


class Command(BaseCommand):
    help = (
        "Run the data-quality rules (nightly): open a query for each new problem, and close "
        "automatically the queries whose problem is no longer in the data."
    )

    def add_arguments(self, parser):
        parser.add_argument("--site", help="Only this site's young people (its code).")

    def handle(self, *args, **options):
        site = None
        if options["site"]:
            site = Site.objects.filter(code=options["site"].strip().upper()).first()
            if site is None:
                raise CommandError(f"No site has the code {options['site']!r}.")
        console = Console(file=self.stdout, force_terminal=False)
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("Checking the data", total=None)

            def advance(total: int) -> None:
                if total:
                    progress.update(task, total=total)
                else:
                    progress.advance(task)

            result = quality_run(site=site, progress=advance)
        where = f" at {site.name}" if site else ""
        console.print(f"Data-quality rules run{where}.")
        console.print(f"Opened: {result.opened}")
        console.print(f"Still open: {result.still_open}")
        console.print(f"Reopened (found again): {result.reopened}")
        console.print(f"Closed (resolved in the data): {result.closed}")
