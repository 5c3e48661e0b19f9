from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date

from mstoutcomes.accounts.models import Site
from mstoutcomes.accounts.services import audit_record
from mstoutcomes.analysis.datasets import export_frames, write_export


class Command(BaseCommand):
    help = (
        "Write the analysis data contract (participants.csv, measurements.csv, events.csv, "
        "plan.toml) for one or more sites, with keyed pseudonyms instead of study IDs, ready for "
        "`mstoutcomes analyse`. Refuses to write into a folder that is not empty. Audited."
    )

    def add_arguments(self, parser):
        parser.add_argument("--site", action="append", required=True, help="Site code (repeat).")
        parser.add_argument("--out", type=Path, required=True, help="An empty or new folder.")
        parser.add_argument("--as-of", help="Export records up to this date (YYYY-MM-DD).")

    def handle(self, *args, **options):
        codes = options["site"]
        sites = list(Site.objects.filter(code__in=codes))
        unknown = sorted(set(codes) - {s.code for s in sites})
        if unknown:
            raise CommandError(f"Unknown site code(s): {', '.join(unknown)}.")
        as_of = None
        if options["as_of"]:
            as_of = parse_date(options["as_of"])
            if as_of is None:
                raise CommandError(f"--as-of {options['as_of']!r} is not a date (YYYY-MM-DD).")
        out: Path = options["out"]
        if out.exists() and any(out.iterdir()):
            raise CommandError(f"{out} is not empty; nothing was written.")
        export = export_frames(site_ids=[s.pk for s in sites], as_of=as_of)
        write_export(out, export)
        audit_record(
            actor=None,
            action="analysis.dataset.exported",
            data={
                "sites": codes,
                "folder": str(out),
                "participants": len(export.participants),
                "measurements": len(export.measurements),
                "events": len(export.events),
                "design": "trial" if export.trial is not None else "service evaluation",
                "notes": list(export.notes),
            },
        )
        for note in export.notes:
            self.stdout.write(note)
        self.stdout.write(
            f"Wrote {len(export.participants)} participants, {len(export.measurements)} "
            f"measurements and {len(export.events)} events to {out}."
        )
