from django.core.management.base import BaseCommand, CommandError

from mstoutcomes.accounts.services import audit_verify


class Command(BaseCommand):
    help = (
        "Recompute every link of the audit trail's hash chain. Exits non-zero, naming the first "
        "event that does not match, if any event was changed or removed."
    )

    def handle(self, *args: object, **options: object) -> None:
        result = audit_verify()
        if not result.ok:
            where = (
                "events were removed from the end of the trail"
                if result.first_broken_id == -1
                else f"event {result.first_broken_id} does not match its link"
            )
            raise CommandError(
                f"Audit trail broken after checking {result.events_checked} events: {where}."
            )
        self.stdout.write(f"Audit trail intact: {result.events_checked} events checked.")
