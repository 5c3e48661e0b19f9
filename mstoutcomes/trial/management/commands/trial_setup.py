from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from mstoutcomes.accounts.models import Site
from mstoutcomes.trial.config import TrialConfigError, load_trial_config
from mstoutcomes.trial.models import Trial
from mstoutcomes.trial.services import trial_create


class Command(BaseCommand):
    help = (
        "Set up a trial from its configuration file, for the sites named by code. Refuses a code "
        "that already exists: a running trial's configuration is never silently replaced."
    )

    def add_arguments(self, parser):
        parser.add_argument("config", type=Path)
        parser.add_argument("--site", action="append", default=[], help="Site code (repeat).")

    def handle(self, *args, **options):
        try:
            spec = load_trial_config(options["config"])
        except TrialConfigError as exc:
            raise CommandError(str(exc)) from exc
        if Trial.objects.filter(code=spec.code).exists():
            raise CommandError(f"Trial {spec.code} already exists; nothing was changed.")
        codes = options["site"]
        sites = list(Site.objects.filter(code__in=codes))
        missing = sorted(set(codes) - {s.code for s in sites})
        if missing or not codes:
            raise CommandError(f"Give existing site codes with --site (unknown: {missing}).")
        trial = trial_create(by=None, spec=spec, sites=sites)
        self.stdout.write(f"Trial {trial.code} set up ({trial.get_method_display()}).")
