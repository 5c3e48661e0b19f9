"""Every write to administrative records by hand, audited; imports are in importers.py."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from mstoutcomes.accounts.models import User
from mstoutcomes.accounts.permissions import Perm, user_has_perm
from mstoutcomes.accounts.services import audit_record
from mstoutcomes.cases.models import YoungPerson
from mstoutcomes.cases.protocol import Check, protocol_gate
from mstoutcomes.core.audit import diff, snapshot
from mstoutcomes.core.services import assign_fields, clean_and_save, require
from mstoutcomes.outcomes.models import AdministrativeRecord, Provenance

# Provenance fields a person may set by hand (the rest are set by the service or an import).
PROVENANCE_FIELDS = ("source_system", "extracted_on")


def editable_fields(model: type[AdministrativeRecord]) -> tuple[str, ...]:
    """Return the fields of a record kind entered by hand, in form order."""
    skipped = {"id", "young_person", "provenance", "import_batch", "row_key", "entered_by"}
    skipped |= {"created_at", "updated_at", *PROVENANCE_FIELDS}
    own = [f.name for f in model._meta.concrete_fields if f.name not in skipped]
    return (*own, *PROVENANCE_FIELDS)


@protocol_gate("outcomes.record.save", lambda kw: kw["young_person"], Check.DATA)
@transaction.atomic
def administrative_record_save(
    *,
    by: User | None,
    young_person: YoungPerson,
    model: type[AdministrativeRecord],
    fields: Mapping[str, Any],
    record: AdministrativeRecord | None = None,
    request: HttpRequest | None = None,
) -> AdministrativeRecord:
    """Enter an administrative record by hand, or correct one; provenance says so.

    Refused (and audited) when the young person's data are read-only: a locked trial database.
    """
    require(
        by is None or user_has_perm(by, Perm.EDIT_CASE, site=young_person.site_id),
        "You cannot change this young person's records.",
    )
    allowed = editable_fields(model)
    creating = record is None
    instance = record or model(young_person=young_person, provenance=Provenance.MANUAL)
    if instance.young_person_id != young_person.pk:
        raise ValueError("That record belongs to another young person.")
    before = {} if creating else snapshot(instance, allowed)
    assign_fields(instance, fields, allowed=allowed)
    if creating:
        instance.entered_by = by
    clean_and_save(instance)
    changes = diff(before, snapshot(instance, allowed))
    if creating or changes:
        audit_record(
            actor=by,
            action=f"outcomes.{model._meta.model_name}.{'added' if creating else 'updated'}",
            obj=instance,
            site=young_person.site,
            changes=changes,
            data={"young_person": young_person.study_id},
            request=request,
        )
    return instance
