from django.core.management.base import BaseCommand, CommandError

from mstoutcomes.accounts.services import audit_record
from mstoutcomes.trial.blocks import arm_at
from mstoutcomes.trial.models import Allocation, Trial
from mstoutcomes.trial.services import allocation_key, trial_list_checksum


class Command(BaseCommand):
    help = (
        "Check a block-randomised trial's allocations against its list: every allocation must "
        "match the arm its slot holds when the list is regenerated from the allocation key. "
        "Prints the list checksum; reveals no upcoming slot."
    )

    def add_arguments(self, parser):
        parser.add_argument("trial", help="Trial code")

    def handle(self, *args, **options):
        trial = Trial.objects.filter(code=options["trial"]).first()
        if trial is None:
            raise CommandError(f"No trial {options['trial']!r}.")
        if trial.method != "blocks":
            raise CommandError("Only block-randomised trials have a list to verify.")
        mismatches = [
            a.pk
            for a in Allocation.objects.unscoped().filter(trial=trial)
            if arm_at(
                trial.spec,
                key=allocation_key(),
                list_id=trial.list_id,
                stratum=a.stratum,
                sequence=a.sequence,
            )
            != a.arm
        ]
        checksum = trial_list_checksum(trial)
        audit_record(
            actor=None,
            action="trial.list.verified",
            obj=trial,
            data={"checksum": checksum, "mismatches": mismatches},
        )
        if mismatches:
            raise CommandError(f"Allocations {mismatches} do not match the list.")
        count = Allocation.objects.unscoped().filter(trial=trial).count()
        self.stdout.write(f"All {count} allocations match the list. Checksum {checksum}")
