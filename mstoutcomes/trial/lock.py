"""Services of the trial's database lock: lock, ask to unlock, approve the unlock (all audited).

Locking needs ``Perm.LOCK_TRIAL`` at one of the trial's sites and is refused while anything in
``trial.lockchecks`` blocks it (follow-up windows still open, open data-quality queries). While
a trial is locked its participants' data are read-only: ``trial.protocol.lock_rule`` refuses
every data write at the seam. Unlocking takes two people: one holder of LOCK_TRIAL asks, with a
reason, and a different holder (or an administrator) approves. Every step is kept as a
``TrialLockEvent`` and in the audit trail; a refused lock is audited too.

(These are services in the sense of DESIGN.md: they live beside ``services.py`` to keep that
module under the size the house style allows.)
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from mstoutcomes.accounts.models import User
from mstoutcomes.accounts.permissions import Perm, user_has_perm
from mstoutcomes.accounts.services import audit_record
from mstoutcomes.core.dates import today
from mstoutcomes.core.services import require
from mstoutcomes.trial.lockchecks import lock_blockers
from mstoutcomes.trial.models import LockEventKind, Trial, TrialLockEvent


def may_lock(user: object, trial: Trial) -> bool:
    """Whether the user holds LOCK_TRIAL at one of the trial's sites."""
    return any(user_has_perm(user, Perm.LOCK_TRIAL, site=pk) for pk in _site_ids(trial))


def may_approve_unlock(user: object, trial: Trial) -> bool:
    """Whether the user may approve an unlock: LOCK_TRIAL, or an administrator at a trial site."""
    return may_lock(user, trial) or any(
        user_has_perm(user, Perm.USE_ADMIN, site=pk) for pk in _site_ids(trial)
    )


def _site_ids(trial: Trial) -> list[int]:
    return list(trial.sites.values_list("pk", flat=True))


def pending_unlock_request(trial: Trial) -> TrialLockEvent | None:
    """Return the unlock request waiting for a second person's approval, if any."""
    latest = (
        TrialLockEvent.objects.filter(trial=trial)
        .select_related("by")
        .order_by("-at", "-pk")
        .first()
    )
    if latest is not None and latest.kind == LockEventKind.UNLOCK_REQUESTED:
        return latest
    return None


def trial_lock(
    *, by: User, trial: Trial, reason: str = "", http_request: HttpRequest | None = None
) -> TrialLockEvent:
    """Lock the trial's database once every follow-up window has closed and nothing blocks it."""
    require(may_lock(by, trial), "Locking a trial's database needs the trial lock permission.")
    if trial.is_locked:
        raise ValidationError(f"Trial {trial.code}'s database is already locked.")
    blockers = lock_blockers(trial, on=today())
    if blockers:
        # Committed at once (no transaction is open here), so the refused attempt is kept.
        with transaction.atomic():
            audit_record(
                actor=by,
                action="trial.lock.refused",
                obj=trial,
                data={"reasons": blockers},
                request=http_request,
            )
        raise ValidationError([f"Trial {trial.code} cannot be locked yet.", *blockers])
    with transaction.atomic():
        locked = Trial.objects.select_for_update().get(pk=trial.pk)
        if locked.is_locked:
            raise ValidationError(f"Trial {trial.code}'s database is already locked.")
        locked.locked_at = timezone.now()
        locked.locked_by = by
        locked.save(update_fields=["locked_at", "locked_by", "updated_at"])
        event = TrialLockEvent.objects.create(
            trial=locked,
            kind=LockEventKind.LOCKED,
            at=locked.locked_at,
            by=by,
            reason=reason.strip(),
        )
        audit_record(
            actor=by,
            action="trial.lock.locked",
            obj=locked,
            data={"reason": reason.strip(), "locked_at": locked.locked_at.isoformat()},
            request=http_request,
        )
    trial.refresh_from_db()
    return event


def trial_unlock_request(
    *, by: User, trial: Trial, reason: str, http_request: HttpRequest | None = None
) -> TrialLockEvent:
    """Ask to unlock a locked trial, saying why; a second person must approve it."""
    require(may_lock(by, trial), "Asking to unlock a trial needs the trial lock permission.")
    if not reason.strip():
        raise ValidationError({"reason": "Enter why the database needs to be unlocked."})
    with transaction.atomic():
        locked = Trial.objects.select_for_update().get(pk=trial.pk)
        if not locked.is_locked:
            raise ValidationError(f"Trial {trial.code}'s database is not locked.")
        if pending_unlock_request(locked) is not None:
            raise ValidationError(
                "An unlock has already been asked for: it is waiting for a second person."
            )
        event = TrialLockEvent.objects.create(
            trial=locked, kind=LockEventKind.UNLOCK_REQUESTED, by=by, reason=reason.strip()
        )
        audit_record(
            actor=by,
            action="trial.lock.unlock_requested",
            obj=locked,
            data={"reason": reason.strip()},
            request=http_request,
        )
    return event


def trial_unlock_approve(
    *, by: User, request: TrialLockEvent, http_request: HttpRequest | None = None
) -> TrialLockEvent:
    """Approve someone else's unlock request: the trial's data can be changed again."""
    trial = request.trial
    require(
        may_approve_unlock(by, trial),
        "Approving an unlock needs the trial lock permission or an administrator.",
    )
    if request.by_id == by.pk:
        raise ValidationError("A second person must approve the unlock: you asked for it.")
    with transaction.atomic():
        locked = Trial.objects.select_for_update().get(pk=trial.pk)
        if pending_unlock_request(locked) != request:
            raise ValidationError("This unlock request is no longer waiting for approval.")
        locked_at = locked.locked_at
        locked.locked_at = None
        locked.locked_by = None
        locked.save(update_fields=["locked_at", "locked_by", "updated_at"])
        event = TrialLockEvent.objects.create(
            trial=locked,
            kind=LockEventKind.UNLOCKED,
            by=by,
            reason=request.reason,
            request=request,
        )
        audit_record(
            actor=by,
            action="trial.lock.unlocked",
            obj=locked,
            data={
                "reason": request.reason,
                "requested_by": request.by.username,
                "locked_at": locked_at.isoformat() if locked_at else "",
            },
            request=http_request,
        )
    trial.refresh_from_db()
    return event
