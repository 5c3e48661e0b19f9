"""Reads about blinding: how a user may see arms, who was unblinded, and the assessors' guesses.

Every page that shows a figure by arm asks ``arm_view_for`` (or ``arm_label_for``) first:

- NAMED: holders of UNBLIND or VIEW_CLOSED_REPORT; holders of VIEW_TREATMENT (service staff see
  each family's treatment, so they know the arms already); VIEW_ARMS_AFTER_LOCK after the lock;
- CODED: the blinded statistician (VIEW_CODED_ARMS) sees arms as "Arm A" / "Arm B";
- POOLED: everyone else sees figures for both arms together.

The A/B coding is stable per trial and derived from a keyed hash of the trial's list_id with the
allocation key (a setting), so it is stored nowhere a blinded user can read it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.conf import settings

from mstoutcomes.accounts.models import Site
from mstoutcomes.accounts.permissions import Perm, site_ids_with_perm, user_has_perm
from mstoutcomes.measures.models import Assessment
from mstoutcomes.trial.blinding_index import BangIndex, bang_indexes
from mstoutcomes.trial.models import (
    DONT_KNOW,
    Allocation,
    BlindingGuess,
    EmergencyUnblinding,
    Participant,
    Trial,
)


def _rows(model: Any) -> Any:
    """Return all rows of a trial table, opened explicitly if its manager is scoped."""
    manager = model.objects
    return manager.unscoped() if hasattr(manager, "unscoped") else manager.all()


class ArmView(StrEnum):
    NAMED = "named"
    CODED = "coded"
    POOLED = "pooled"


POOLED_LABEL = "Both arms"


def arm_view_for(user: Any, trial: Trial, *, site: Site | int | None = None) -> ArmView:
    """Return how the user may see this trial's arms (at a site, or at any of the trial's)."""
    if site is None:
        site_ids = set(trial.sites.values_list("pk", flat=True))
    else:
        site_ids = {site if isinstance(site, int) else site.pk}

    def holds(perm: Perm) -> bool:
        return bool(site_ids & site_ids_with_perm(user, perm))

    if holds(Perm.UNBLIND) or holds(Perm.VIEW_CLOSED_REPORT) or holds(Perm.VIEW_TREATMENT):
        return ArmView.NAMED
    if trial.is_locked and holds(Perm.VIEW_ARMS_AFTER_LOCK):
        return ArmView.NAMED
    if holds(Perm.VIEW_CODED_ARMS):
        return ArmView.CODED
    return ArmView.POOLED


def arm_codes(trial: Trial) -> dict[str, str]:
    """Return {arm code: "A", "B", ...}: a stable coding per trial that hides which arm is which."""
    key = str(settings.TRIAL_ALLOCATION_KEY).encode()

    def rank(arm: str) -> str:
        message = f"arm-coding:{trial.list_id}:{arm}".encode()
        return hmac.new(key, message, hashlib.sha256).hexdigest()

    arms = sorted((arm.code for arm in trial.spec.arms), key=rank)
    return {arm: chr(ord("A") + n) for n, arm in enumerate(arms)}


def arm_label_for(user: Any, trial: Trial, arm: str, *, site: Site | int | None = None) -> str:
    """Return what the user may read for an arm: its name, "Arm A"/"Arm B", or "Both arms"."""
    view = arm_view_for(user, trial, site=site)
    if view is ArmView.NAMED:
        return {a.code: a.name for a in trial.spec.arms}.get(arm, arm)
    if view is ArmView.CODED:
        return f"Arm {arm_codes(trial).get(arm, '?')}"
    return POOLED_LABEL


def arm_labels_for(user: Any, trial: Trial, *, site: Site | int | None = None) -> dict[str, str]:
    """Return {arm code: label} for every arm of the trial, as arm_label_for shows them."""
    return {arm.code: arm_label_for(user, trial, arm.code, site=site) for arm in trial.spec.arms}


def site_trial(site: Site | int) -> Trial | None:
    """Return the live (not test-mode) trial a site takes part in, if any."""
    site_id = site if isinstance(site, int) else site.pk
    return Trial.objects.filter(sites=site_id, is_test_mode=False).order_by("pk").first()


def arm_view_at(user: Any, site: Site | int) -> ArmView | None:
    """Return how the user may see the arms of the site's trial (None: no trial there)."""
    trial = site_trial(site)
    return None if trial is None else arm_view_for(user, trial, site=site)


def arm_view_sites(user: Any, site_ids: set[int]) -> dict[ArmView, set[int]]:
    """Return, among the given sites with a trial, the sites per way the user may see arms."""
    found: dict[ArmView, set[int]] = {view: set() for view in ArmView}
    for site_id in site_ids:
        view = arm_view_at(user, site_id)
        if view is not None:
            found[view].add(site_id)
    return found


# Emergency unblinding


def unblinded_assessor_ids(participant: Participant) -> dict[int, dt.date]:
    """Return {user id: date first unblinded} for everyone told this participant's arm."""
    first: dict[int, dt.date] = {}
    rows = (
        EmergencyUnblinding.objects.unscoped()
        .filter(participant=participant)
        .order_by("unblinded_at")
        .values_list("unblinded_person_id", "unblinded_at")
    )
    for user_id, at in rows:
        first.setdefault(user_id, at.date())
    return first


@dataclass(frozen=True)
class FlaggedAssessment:
    """An assessment entered by someone after they were told the participant's arm."""

    assessment_id: int
    instrument: str
    timepoint: str
    completed_on: dt.date | None
    entered_by_id: int
    unblinded_on: dt.date

    @property
    def flag(self) -> str:
        return f"Assessor unblinded on {self.unblinded_on:%-d %B %Y}"


def flagged_assessments(participant: Participant) -> list[FlaggedAssessment]:
    """Return the participant's trial assessments entered by an assessor after their unblinding."""
    unblinded = unblinded_assessor_ids(participant)
    if not unblinded:
        return []
    rows = (
        Assessment.objects.unscoped()
        .filter(young_person_id=participant.young_person_id, entered_by_id__in=unblinded)
        .order_by("completed_on", "pk")
        .values_list("pk", "instrument", "timepoint", "completed_on", "created_at", "entered_by_id")
    )
    flagged = []
    for pk, instrument, timepoint, completed_on, created_at, user_id in rows:
        since = unblinded[user_id]
        entered = completed_on or created_at.date()
        if entered >= since:
            flagged.append(
                FlaggedAssessment(pk, instrument, timepoint, completed_on, user_id, since)
            )
    return flagged


def unblindings_visible_to(*, user: Any, participant: Participant) -> list[EmergencyUnblinding]:
    """Return the participant's emergency unblindings, for holders of EMERGENCY_UNBLIND."""
    if not user_has_perm(user, Perm.EMERGENCY_UNBLIND, site=participant.site_id):
        return []
    return list(
        EmergencyUnblinding.objects.visible_to(user)
        .filter(participant=participant)
        .select_related("unblinded_person", "unblinded_by")
        .order_by("-unblinded_at")
    )


def unblinded_participants(*, user: Any, trial: Trial) -> dict[int, dt.date]:
    """Return {participant id: first unblinding date} at the sites where the user may unblind."""
    rows = (
        EmergencyUnblinding.objects.visible_to(user)
        .filter(
            participant__trial=trial,
            participant__site_id__in=site_ids_with_perm(user, Perm.EMERGENCY_UNBLIND),
        )
        .order_by("unblinded_at")
        .values_list("participant_id", "unblinded_at")
    )
    first: dict[int, dt.date] = {}
    for participant_id, at in rows:
        first.setdefault(participant_id, at.date())
    return first


# The assessors' guesses and Bang's blinding index


def guesses_for(participant: Participant) -> dict[str, BlindingGuess]:
    """Return {timepoint: guess} recorded for a participant (for its assessors' own page)."""
    rows = BlindingGuess.objects.unscoped().filter(participant=participant).order_by("timepoint")
    return {row.timepoint: row for row in rows}


@dataclass(frozen=True)
class BlindingRow:
    """One true arm: its name, the guesses (each arm in the trial's order, then don't know)."""

    name: str
    counts: list[int]
    index: BangIndex


@dataclass(frozen=True)
class SiteBlinding:
    """One site's 2x3 table of guesses by true arm and the index per arm."""

    site: Site
    table: dict[str, dict[str, int]]
    indexes: dict[str, BangIndex]
    rows: list[BlindingRow]

    @property
    def total(self) -> int:
        return sum(sum(row.values()) for row in self.table.values())


def blinding_report(*, user: Any, trial: Trial) -> list[SiteBlinding]:
    """Return the guess table and Bang's index per arm for each site the user may unblind at.

    Only arms with a guess recorded count; the index needs a two-arm trial.
    """
    arm_codes_ = tuple(arm.code for arm in trial.spec.arms)
    if len(arm_codes_) != 2:
        return []
    site_ids = site_ids_with_perm(user, Perm.UNBLIND)
    sites = trial.sites.filter(pk__in=site_ids).order_by("name")
    arms = dict(
        _rows(Allocation).filter(trial=trial, is_test=False).values_list("participant_id", "arm")
    )
    counts: dict[int, dict[str, dict[str, int]]] = defaultdict(
        lambda: {arm: {g: 0 for g in (*arm_codes_, DONT_KNOW)} for arm in arm_codes_}
    )
    guesses = (
        BlindingGuess.objects.visible_to(user)
        .filter(participant__trial=trial, participant__site_id__in=site_ids)
        .values_list("participant_id", "participant__site_id", "guess")
    )
    for participant_id, site_id, guess in guesses:
        arm = arms.get(participant_id)
        if arm in arm_codes_ and guess in counts[site_id][arm]:
            counts[site_id][arm][guess] += 1
    names = {arm.code: arm.name for arm in trial.spec.arms}
    report = []
    for site in sites:
        table = counts[site.pk]
        indexes = bang_indexes(table, arms=(arm_codes_[0], arm_codes_[1]))
        rows = [
            BlindingRow(names[arm], [table[arm][g] for g in (*arm_codes_, DONT_KNOW)], indexes[arm])
            for arm in arm_codes_
        ]
        report.append(SiteBlinding(site, table, indexes, rows))
    return report
