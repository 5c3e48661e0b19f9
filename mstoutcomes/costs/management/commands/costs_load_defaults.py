from django.core.management.base import BaseCommand, CommandError

from mstoutcomes.accounts.models import Site
from mstoutcomes.costs.services import defaults_load


class Command(BaseCommand):
    help = (
        "Load the shipped unit costs and price index for each active site (or the sites named). "
        "Adds what a site lacks; never changes a site's figures, but lists where the shipped "
        "figure differs so someone can decide."
    )

    def add_arguments(self, parser):
        parser.add_argument("--site", action="append", default=[], help="Site code (repeat).")

    def handle(self, *args, **options):
        codes = options["site"]
        sites = Site.objects.filter(is_active=True)
        if codes:
            sites = Site.objects.filter(code__in=codes)
            missing = sorted(set(codes) - {s.code for s in sites})
            if missing:
                raise CommandError(f"Unknown site code(s): {', '.join(missing)}. Nothing loaded.")
        for site in sites:
            report = defaults_load(by=None, site=site)
            self.stdout.write(report.summary)
            for line in report.differs:
                self.stdout.write(f"  kept {line}")
