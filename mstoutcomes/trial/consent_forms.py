"""Services for consent, assent and data-linkage consent form versions (audited).

A holder of ``Perm.MANAGE_CONSENT_FORMS`` at one of the trial's sites adds a version with its
approval (date, committee or person) and the PDF; it becomes the current version of its kind and
supersedes the last one. Consent is then taken only on the current version
(``services.consent_record``), and the people whose latest consent is on an older version are
listed as needing re-consent (``selectors.reconsent_needed``).

(Services in the sense of DESIGN.md, beside ``services.py`` to keep that module's size down.)
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import IO

from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import transaction
from django.http import HttpRequest

from mstoutcomes.accounts.models import User
from mstoutcomes.accounts.permissions import Perm, user_has_perm
from mstoutcomes.accounts.services import audit_record
from mstoutcomes.core.dates import today
from mstoutcomes.core.services import clean_and_save, require
from mstoutcomes.trial.models import ConsentFormVersion, ConsentKind, Trial

MAX_FORM_BYTES = 20 * 1024 * 1024


def may_manage_forms(user: object, trial: Trial) -> bool:
    """Whether the user holds MANAGE_CONSENT_FORMS at one of the trial's sites."""
    return any(
        user_has_perm(user, Perm.MANAGE_CONSENT_FORMS, site=pk)
        for pk in trial.sites.values_list("pk", flat=True)
    )


def may_see_forms(user: object, trial: Trial) -> bool:
    """Trial staff (who take consent, or manage the forms) at one of the trial's sites."""
    return may_manage_forms(user, trial) or any(
        user_has_perm(user, Perm.RANDOMISE, site=pk)
        for pk in trial.sites.values_list("pk", flat=True)
    )


def check_pdf(name: str, stream: IO[bytes], size: int | None = None) -> None:
    """Refuse a file that is not a PDF: by its name's extension and its first bytes."""
    if not name.lower().endswith(".pdf"):
        raise ValidationError({"file": "The form must be a PDF file (its name ends in .pdf)."})
    if size is not None and size > MAX_FORM_BYTES:
        raise ValidationError({"file": "The form must be smaller than 20 MB."})
    stream.seek(0)
    head = stream.read(5)
    stream.seek(0)
    if not head.startswith(b"%PDF"):
        raise ValidationError(
            {"file": "The file is not a PDF (it does not start as a PDF does). Save it as PDF."}
        )


@transaction.atomic
def consent_form_add(
    *,
    by: User,
    trial: Trial,
    kind: str,
    version: str,
    approved_on: dt.date,
    approved_by: str,
    file: File,
    request: HttpRequest | None = None,
) -> ConsentFormVersion:
    """Add an approved version of a form with its PDF; it becomes the current one of its kind."""
    require(may_manage_forms(by, trial), "Managing consent forms needs the permission to.")
    if kind not in ConsentKind.values:
        raise ValidationError({"kind": "Choose which form this is."})
    version = version.strip()
    if not version:
        raise ValidationError({"version": "Enter the version printed on the form."})
    if not approved_by.strip():
        raise ValidationError({"approved_by": "Enter who approved this version."})
    if file is None:
        raise ValidationError({"file": "Choose the form's PDF file."})
    check_pdf(file.name or "", file, getattr(file, "size", None))
    digest = hashlib.sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    previous = (
        ConsentFormVersion.objects.select_for_update()
        .filter(trial=trial, kind=kind, is_current=True)
        .first()
    )
    if previous is not None and previous.version == version:
        raise ValidationError({"version": f"Version {version} is already the current one."})
    form = ConsentFormVersion(
        trial=trial,
        kind=kind,
        version=version,
        approved_on=approved_on,
        approved_by=approved_by.strip(),
        is_current=True,
        uploaded_by=by,
    )
    form.full_clean(exclude=["file", "is_current"], validate_constraints=False)
    if ConsentFormVersion.objects.filter(trial=trial, kind=kind, version=version).exists():
        raise ValidationError({"version": f"Version {version} of this form is already recorded."})
    if previous is not None:
        previous.is_current = False
        previous.superseded_on = today()
        previous.save(update_fields=["is_current", "superseded_on", "updated_at"])
    form.file.save(f"{version}.pdf", file, save=False)
    clean_and_save(form)
    audit_record(
        actor=by,
        action="trial.consent_form.added",
        obj=form,
        data={
            "kind": kind,
            "version": version,
            "approved_on": approved_on.isoformat(),
            "approved_by": form.approved_by,
            "file_sha256": digest.hexdigest(),
            "supersedes": previous.version if previous else "",
        },
        request=request,
    )
    return form


def consent_form_download_record(
    *, by: User, form: ConsentFormVersion, request: HttpRequest | None = None
) -> None:
    """Record that someone downloaded a form's PDF."""
    require(may_see_forms(by, form.trial), "You cannot see this trial's consent forms.")
    with transaction.atomic():
        audit_record(
            actor=by,
            action="trial.consent_form.downloaded",
            obj=form,
            data={"kind": form.kind, "version": form.version},
            request=request,
        )
