"""Reads of the trial, scoped by the user."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from mstoutcomes.accounts.permissions import Perm, site_ids_with_perm
from mstoutcomes.cases.models import Episode, Sex
from mstoutcomes.trial.consort import Disposition
from mstoutcomes.trial.models import Participant, Trial, Withdrawal, WithdrawalLevel


def trials_visible_to(*, user: Any) -> QuerySet[Trial]:
    """Return the trials at sites where the user may see trial reports."""
    site_ids = site_ids_with_perm(user, Perm.RANDOMISE) | site_ids_with_perm(
        user, Perm.VIEW_DASHBOARDS
    )
    return Trial.objects.filter(sites__in=site_ids).distinct()


@dataclass(frozen=True)
class FollowUpPoint:
    """One follow-up timepoint of the trial's research schedule, anchored on randomisation."""

    schedule: str
    code: str
    label: str
    offset_months: int
    offset_days: int
    window_before: int
    window_after: int

    def window(self, randomised_on: dt.date) -> tuple[dt.date, dt.date]:
        """Return the dates the window opens and closes for someone randomised on a day."""
        from mstoutcomes.measures.windows import add_months

        due = add_months(randomised_on, self.offset_months) + dt.timedelta(days=self.offset_days)
        return (
            due - dt.timedelta(days=self.window_before),
            due + dt.timedelta(days=self.window_after),
        )


def follow_up_points() -> list[FollowUpPoint]:
    """Return the trial's follow-up timepoints: arm-neutral, after randomisation, in order."""
    from mstoutcomes.measures import blinding, registry

    neutral = blinding.arm_neutral_schedules()
    points: dict[str, FollowUpPoint] = {}
    for code, schedule in sorted(registry.schedules().items()):
        if code not in neutral:
            continue
        for tp in schedule.timepoints:
            if tp.anchor != "randomisation" or (tp.offset_months, tp.offset_days) <= (0, 0):
                continue
            points.setdefault(
                tp.code,
                FollowUpPoint(
                    code,
                    tp.code,
                    tp.label,
                    tp.offset_months,
                    tp.offset_days,
                    tp.window_before,
                    tp.window_after,
                ),
            )
    return sorted(points.values(), key=lambda p: (p.offset_months, p.offset_days, p.code))


LOST_WITHDREW = "Withdrew from further data collection"
LOST_REFUSED = "Refused"
LOST_NOT_COLLECTED = "Not collected in window"


@dataclass
class _Recorded:
    # Completion dates, each with whether it was flagged out of window when entered.
    completed: list[tuple[dt.date, bool]] = field(default_factory=list)
    refused: bool = False
    missed: list[str] = field(default_factory=list)


def _recorded_at_follow_up(
    trial: Trial, points: list[FollowUpPoint], cut_off: dt.date
) -> dict[tuple[int, str], _Recorded]:
    """Return what was recorded by the cut-off at each (young person, timepoint): one query."""
    from django.utils import timezone

    from mstoutcomes.measures.models import Assessment, AssessmentStatus

    found: dict[tuple[int, str], _Recorded] = {}
    if not points:
        return found
    by_schedule = {(p.schedule, p.code) for p in points}
    rows = (
        Assessment.objects.unscoped()
        .filter(
            young_person__trial_participations__trial=trial,
            schedule__in={p.schedule for p in points},
            timepoint__in={p.code for p in points},
        )
        .values_list(
            "young_person_id",
            "schedule",
            "timepoint",
            "status",
            "completed_on",
            "created_at",
            "reason",
            "out_of_window",
        )
    )
    for person, schedule, code, status, completed_on, created_at, reason, outside in rows:
        if (schedule, code) not in by_schedule:
            continue
        record = found.setdefault((person, code), _Recorded())
        if status == AssessmentStatus.COMPLETED:
            if completed_on is not None and completed_on <= cut_off:
                record.completed.append((completed_on, outside))
        elif timezone.localdate(created_at) <= cut_off:
            if status == AssessmentStatus.REFUSED:
                record.refused = True
            else:
                record.missed.append(reason.strip() or "no reason given")
    return found


def _follow_up(
    randomised_on: dt.date,
    *,
    person_id: int,
    points: list[FollowUpPoint],
    recorded: dict[tuple[int, str], _Recorded],
    withdrew_data_on: dt.date | None,
    cut_off: dt.date,
) -> tuple[dict[str, str], dict[str, str]]:
    """Return each timepoint's state at the cut-off, and why the person was lost where lost.

    A completed assessment counts as followed up: "followed_up" when one was collected in the
    window, "followed_up_out_of_window" when every one was outside it (flagged when entered, or
    dated outside the window, as data from before windows were enforced may be). Otherwise a
    withdrawal
    from further data collection, a refusal or a missed assessment loses them (withdrawal also
    at timepoints not yet due: they will not be seen); an open window is "due", a window not
    yet open "not yet due", and a window closed with nothing recorded lost. A withdrawal dated
    after a window closed is not why that timepoint was lost: its own reason is given.
    """
    states: dict[str, str] = {}
    lost: dict[str, str] = {}
    for point in points:
        record = recorded.get((person_id, point.code), _Recorded())
        opens, closes = point.window(randomised_on)
        if record.completed:
            in_window = any(
                opens <= on <= closes and not outside for on, outside in record.completed
            )
            states[point.code] = "followed_up" if in_window else "followed_up_out_of_window"
            continue
        if withdrew_data_on is not None and withdrew_data_on <= closes:
            reason = LOST_WITHDREW
        elif record.refused:
            reason = LOST_REFUSED
        elif record.missed:
            reason = f"Missed: {sorted(record.missed)[0]}"
        elif cut_off < opens:
            states[point.code] = "not_yet_due"
            continue
        elif cut_off <= closes:
            states[point.code] = "due"
            continue
        else:
            reason = LOST_NOT_COLLECTED
        states[point.code] = "lost"
        lost[point.code] = reason
    return states, lost


def data_collection_stops(
    young_person_ids: list[int], *, as_of: dt.date | None = None
) -> dict[int, dt.date]:
    """Return when each young person withdrew from further data collection (or use of their data).

    The earliest such withdrawal in a live trial, by young person: research timepoints stop
    there (measures) and the analysis export's follow-up ends there. None without a withdrawal.
    """
    rows = Withdrawal.objects.unscoped().filter(
        participant__young_person_id__in=young_person_ids,
        level__in=[WithdrawalLevel.FURTHER_DATA, WithdrawalLevel.DATA_USE],
        participant__trial__is_test_mode=False,
    )
    if as_of is not None:
        rows = rows.filter(withdrawn_on__lte=as_of)
    stops: dict[int, dt.date] = {}
    for person_id, withdrawn_on in rows.order_by("withdrawn_on").values_list(
        "participant__young_person_id", "withdrawn_on"
    ):
        stops.setdefault(person_id, withdrawn_on)
    return stops


RECEIVED_MST = "Received MST"


def _treatment_recorded(trial: Trial, cut_off: dt.date) -> tuple[set[int], set[int]]:
    """Return (young people with an MST episode started, with any MST treatment recorded) by the
    cut-off: episodes, contacts or goals. Three queries."""
    from mstoutcomes.cases.models import Contact, OverarchingGoal

    in_trial = {"young_person__trial_participations__trial": trial}
    started = set(
        Episode.objects.unscoped()
        .filter(**in_trial, start_date__lte=cut_off)
        .values_list("young_person_id", flat=True)
    )
    contacted = Contact.objects.unscoped().filter(**in_trial, date__lte=cut_off)
    goals = OverarchingGoal.objects.unscoped().filter(**in_trial, agreed_on__lte=cut_off)
    treated = started | set(contacted.values_list("young_person_id", flat=True))
    treated |= set(goals.values_list("young_person_id", flat=True))
    return started, treated


def consort_dispositions(
    *, trial: Trial, cut_off: dt.date, site_id: int | None = None
) -> list[Disposition]:
    """Return one disposition per person assessed for the trial by the cut-off date.

    Runs a fixed number of queries however many participants there are.
    """
    from django.utils import timezone

    participants = (
        Participant.objects.unscoped()
        .filter(trial=trial, enrolled_on__lte=cut_off)
        .select_related("young_person", "allocation")
        .prefetch_related("consents", "withdrawals")
    )
    if site_id is not None:
        participants = participants.filter(site_id=site_id)
    started, treated = _treatment_recorded(trial, cut_off)
    points = follow_up_points()
    recorded = _recorded_at_follow_up(trial, points, cut_off)
    reference = trial.spec.reference_arm.code
    data_levels = {WithdrawalLevel.FURTHER_DATA, WithdrawalLevel.DATA_USE}
    out = []
    for p in participants:
        allocation = getattr(p, "allocation", None)
        # The local calendar day, as everywhere else (23:30 UTC in summer is the next day).
        if allocation is not None and timezone.localdate(allocation.allocated_at) > cut_off:
            allocation = None
        by_cut_off = [w for w in p.withdrawals.all() if w.withdrawn_on <= cut_off]
        withdrawals = {w.level for w in by_cut_off}
        if allocation is None:
            declined = any(c.given is False for c in p.consents.all() if c.recorded_on <= cut_off)
            reason = (
                "not_meeting_criteria"
                if p.is_eligible is False
                else "declined"
                if declined
                else "other"
                if withdrawals
                else None
            )
            out.append(Disposition(p.young_person.study_id, excluded_reason=reason))
            continue
        # From the treatment actually recorded, never copied from the allocation.
        if allocation.arm == reference:
            received = p.young_person_id not in treated
            why_not = "" if received else RECEIVED_MST
        else:
            received = p.young_person_id in started
            why_not = (
                ""
                if received
                else (
                    "Withdrew from treatment"
                    if WithdrawalLevel.TREATMENT in withdrawals
                    else "Not started"
                )
            )
        follow_up, lost = _follow_up(
            timezone.localdate(allocation.allocated_at),
            person_id=p.young_person_id,
            points=points,
            recorded=recorded,
            withdrew_data_on=min(
                (w.withdrawn_on for w in by_cut_off if w.level in data_levels), default=None
            ),
            cut_off=cut_off,
        )
        stopped = [w for w in by_cut_off if w.level == WithdrawalLevel.TREATMENT]
        out.append(
            Disposition(
                p.young_person.study_id,
                arm=allocation.arm,
                received_allocated=received,
                not_received_reason=why_not,
                follow_up=follow_up,
                lost_reasons=lost,
                discontinued=bool(stopped),
                discontinued_reason=(stopped[0].reason.strip() or "Withdrew from treatment")
                if stopped
                else "",
                analysed=WithdrawalLevel.DATA_USE not in withdrawals,
                not_analysed_reason="Withdrew use of their data"
                if WithdrawalLevel.DATA_USE in withdrawals
                else "",
            )
        )
    return out


def participants_visible_to(*, user: Any, trial: Trial) -> QuerySet[Participant]:
    """Return the trial's participants whose young person the user may see."""
    return (
        Participant.objects.visible_to(user)
        .filter(trial=trial)
        .select_related("young_person", "site", "allocation")
        .order_by("-created_at")
    )


def enrolable_choices(*, user: Any, trial: Trial) -> list[tuple[str, str]]:
    """Return (study ID, label) for visible young people at the trial's sites not yet enrolled."""
    from mstoutcomes.cases.models import YoungPerson

    people = (
        YoungPerson.objects.visible_to(user)
        .filter(site__in=trial.sites.all())
        .exclude(trial_participations__trial=trial)
        .order_by("study_id")
        .values_list("study_id", flat=True)
    )
    return [(study_id, study_id) for study_id in people]


def box_members(
    *, user: Any, trial: Trial, box: str, cut_off: dt.date, site_id: int | None = None
) -> list[tuple[str, str]] | None:
    """Return (study ID, note) behind a CONSORT box that the user may see, or None if no such box.

    Boxes: "assessed", "excluded", "randomised", "allocated:<arm>", "analysed:<arm>" and
    "follow_up:<arm>:<timepoint>" (the note gives each person's state at that timepoint).
    """
    from mstoutcomes.trial.consort import EXCLUSION_REASONS, FOLLOW_UP_STATES

    visible = set(
        participants_visible_to(user=user, trial=trial).values_list(
            "young_person__study_id", flat=True
        )
    )
    dispositions = [
        d
        for d in consort_dispositions(trial=trial, cut_off=cut_off, site_id=site_id)
        if d.participant_id in visible
    ]
    kind, _, rest = box.partition(":")
    arm, _, timepoint = rest.partition(":")
    arms = trial.spec.arm_codes
    chosen: list[tuple[str, str]]
    if box == "assessed":
        chosen = [(d.participant_id, "") for d in dispositions]
    elif box == "excluded":
        chosen = [
            (d.participant_id, EXCLUSION_REASONS.get(d.excluded_reason or "", ""))
            for d in dispositions
            if d.arm is None and d.excluded_reason is not None
        ]
    elif box == "randomised":
        chosen = [(d.participant_id, "") for d in dispositions if d.arm is not None]
    elif kind == "allocated" and arm in arms and not timepoint:
        chosen = [
            (
                d.participant_id,
                "Received allocated intervention"
                if d.received_allocated
                else f"Did not receive it: {d.not_received_reason}",
            )
            for d in dispositions
            if d.arm == arm
        ]
    elif kind == "analysed" and arm in arms and not timepoint:
        chosen = [
            (d.participant_id, "Analysed" if d.analysed else d.not_analysed_reason)
            for d in dispositions
            if d.arm == arm
        ]
    elif kind == "follow_up" and arm in arms and timepoint in {p.code for p in follow_up_points()}:
        chosen = []
        for d in dispositions:
            if d.arm != arm:
                continue
            state = d.follow_up.get(timepoint, "")
            note = FOLLOW_UP_STATES.get(state, state)
            if state == "lost":
                note = f"{note}: {d.lost_reasons.get(timepoint, '')}"
            chosen.append((d.participant_id, note))
    else:
        return None
    return sorted(chosen)


@dataclass(frozen=True)
class Recruitment:
    """Recruitment against target, arm balance and follow-up, for the recruitment page."""

    months: list[str]
    by_site: dict[str, dict[str, int]]  # site name -> month -> randomised
    target_per_site_month: int
    balance: list[tuple[str, str, dict[str, int]]]  # (factor, level, arm -> n)
    follow_up: list[tuple[str, str, int, int]]  # (timepoint label, arm, due, completed)


def _factor_label(name: str) -> str:
    return {"site": "Site", "sex": "Sex", "age_band": "Age band"}.get(
        name, name.replace("_", " ").capitalize()
    )


def _level_label(factor: str, level: str, site_names: dict[str, str]) -> str:
    if factor == "site":
        return site_names.get(level, level)
    if factor == "sex":
        return str(dict(Sex.choices).get(level, level))
    return level.replace("-", "–") if factor.startswith("age") else level.replace("_", " ")


def _balance(
    trial: Trial, allocations: list[tuple[str, dict[str, str]]]
) -> list[tuple[str, str, dict[str, int]]]:
    """Return (factor, level, arm -> n) with readable labels, for the trial's own sites."""
    spec = trial.spec
    site_names = {s.code: s.name for s in trial.sites.all()}
    out = []
    for factor in spec.factors:
        for level in factor.categories:
            if factor.name == "site" and level not in site_names:
                continue  # a site named in the configuration that is not (yet) in the trial
            counts = {arm: 0 for arm in spec.arm_codes}
            for arm, levels in allocations:
                if levels.get(factor.name) == level:
                    counts[arm] += 1
            label = _level_label(factor.name, level, site_names)
            out.append((_factor_label(factor.name), label, counts))
    return out


def recruitment(*, trial: Trial, today: dt.date, arms_visible: bool) -> Recruitment:
    """Return randomisations by site and month, and, for unblinded users, balance and follow-up.

    Follow-up counts, per trial timepoint and arm, the randomised participants whose timepoint is
    due by today, and how many of them have a completed assessment at that timepoint.
    """
    from django.utils import timezone

    from mstoutcomes.core.dates import add_months
    from mstoutcomes.measures import blinding, registry
    from mstoutcomes.measures.models import Assessment, AssessmentStatus
    from mstoutcomes.trial.models import Allocation

    rows = list(
        Allocation.objects.unscoped()
        .filter(trial=trial, is_test=False)
        .values_list(
            "participant__site__name",
            "allocated_at",
            "arm",
            "participant__levels",
            "participant__young_person_id",
        )
    )
    by_site: dict[str, dict[str, int]] = {}
    months: set[str] = set()
    for site_name, at, _, _, _ in rows:
        month = timezone.localtime(at).strftime("%Y-%m")
        months.add(month)
        by_site.setdefault(site_name, {}).setdefault(month, 0)
        by_site[site_name][month] += 1
    balance: list[tuple[str, str, dict[str, int]]] = []
    follow_up: list[tuple[str, str, int, int]] = []
    if arms_visible:
        spec = trial.spec
        balance = _balance(trial, [(arm, levels) for _s, _a, arm, levels, _p in rows])
        done = set(
            Assessment.objects.unscoped()
            .filter(
                young_person_id__in=[r[4] for r in rows],
                status=AssessmentStatus.COMPLETED,
                schedule__in=blinding.arm_neutral_schedules(),
            )
            .values_list("young_person_id", "timepoint")
        )
        for schedule in registry.schedules().values():
            for tp in schedule.timepoints:
                # Baseline hangs on consent, before randomisation: due for everyone randomised.
                if tp.anchor not in ("randomisation", "consent"):
                    continue
                for arm in spec.arm_codes:
                    due = [
                        r[4]
                        for r in rows
                        if r[2] == arm
                        and add_months(timezone.localdate(r[1]), tp.offset_months) <= today
                    ]
                    completed = sum((person, tp.code) in done for person in due)
                    follow_up.append((tp.label, arm, len(due), completed))
    return Recruitment(
        _calendar_months(months, today),
        by_site,
        trial.spec.target_per_site_month,
        balance,
        follow_up,
    )


def _calendar_months(months: set[str], today: dt.date) -> list[str]:
    """Return every month from the first randomisation to this month, months with none included."""
    if not months:
        return []
    year, month = (int(part) for part in min(months).split("-"))
    last = max(max(months), f"{today:%Y-%m}")
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


@dataclass(frozen=True)
class DeviationQuery:
    category: str = ""
    severity: str = ""
    site_id: int | None = None


def deviation_sites(*, user: Any, trial: Trial, perm: Perm = Perm.VIEW_DEVIATIONS) -> list[Any]:
    """Return the trial's sites at which the user holds the permission (view or record)."""
    return list(trial.sites.filter(pk__in=site_ids_with_perm(user, perm)).order_by("name"))


def deviations_visible_to(
    *, user: Any, trial: Trial, query: DeviationQuery | None = None
) -> QuerySet[Any]:
    """Return the trial's protocol deviations at sites where the user may see the log.

    Only those about young people the user may see (or about no one participant, at a site
    whose young people they all see): see ProtocolDeviation.
    """
    from mstoutcomes.trial.models import ProtocolDeviation

    query = query or DeviationQuery()
    # Scoped to the people the user sees, then to the sites where they may see the log.
    found = (
        ProtocolDeviation.objects.visible_to(user)
        .filter(trial=trial, site_id__in=site_ids_with_perm(user, Perm.VIEW_DEVIATIONS))
        .select_related("site", "participant__young_person", "recorded_by")
    )
    if query.category:
        found = found.filter(category=query.category)
    if query.severity:
        found = found.filter(severity=query.severity)
    if query.site_id is not None:
        found = found.filter(site_id=query.site_id)
    return found.order_by("-identified_on", "-pk")


@dataclass(frozen=True)
class DeviationSummary:
    total: int
    by_severity: list[tuple[str, int]]  # (label, n) in severity order
    by_category: list[tuple[str, int]]  # (label, n), categories with any
    not_reported_serious: int  # serious breaches not yet reported to the sponsor


def deviation_summary(*, user: Any, trial: Trial) -> DeviationSummary:
    """Count the deviations the user may see, by severity and category (one query)."""
    from collections import Counter

    from mstoutcomes.trial.models import DeviationCategory, DeviationSeverity

    rows = list(
        deviations_visible_to(user=user, trial=trial).values_list(
            "severity", "category", "reported_to_sponsor_on"
        )
    )
    severities = Counter(r[0] for r in rows)
    categories = Counter(r[1] for r in rows)
    return DeviationSummary(
        total=len(rows),
        by_severity=[(s.label, severities.get(s.value, 0)) for s in DeviationSeverity],
        by_category=[(c.label, categories[c.value]) for c in DeviationCategory if categories[c]],
        not_reported_serious=sum(
            r[0] == DeviationSeverity.SERIOUS_BREACH and r[2] is None for r in rows
        ),
    )


# Consent forms and re-consent


def consent_forms(*, trial: Trial) -> QuerySet[Any]:
    """Return the trial's consent form versions, current first within each kind."""
    from mstoutcomes.trial.models import ConsentFormVersion

    return (
        ConsentFormVersion.objects.filter(trial=trial)
        .select_related("uploaded_by")
        .order_by("kind", "-is_current", "-approved_on", "-pk")
    )


def current_consent_forms(*, trial: Trial) -> QuerySet[Any]:
    """Return the versions consent may be taken on now: one current version per kind."""
    return consent_forms(trial=trial).filter(is_current=True)


@dataclass(frozen=True)
class ReconsentRow:
    """A participant whose latest consent of a kind is on a version older than the current."""

    participant: Participant
    kind_label: str
    signed_version: str
    signed_on: dt.date
    current_version: str


def reconsent_needed(*, user: Any, trial: Trial) -> list[ReconsentRow]:
    """Return who the user may see that needs re-consent on a newer form version.

    Counted: participants randomised, or awaiting randomisation (not found ineligible, no
    consent declined, not withdrawn), who have not withdrawn from further data collection or the
    use of their data, and whose latest consent of a kind was given on a version that is not the
    current one. Recording consent on the current version removes them from the list.
    """
    from mstoutcomes.trial.models import ConsentKind

    current = {form.kind: form for form in current_consent_forms(trial=trial)}
    if not current:
        return []
    stopping = {WithdrawalLevel.FURTHER_DATA, WithdrawalLevel.DATA_USE}
    rows: list[ReconsentRow] = []
    people = participants_visible_to(user=user, trial=trial).prefetch_related(
        "consents", "withdrawals"
    )
    for participant in people.order_by("site__name", "young_person__study_id"):
        latest: dict[str, Any] = {}
        for record in sorted(participant.consents.all(), key=lambda c: (c.recorded_on, c.pk)):
            latest[record.kind] = record
        levels = {w.level for w in participant.withdrawals.all()}
        if getattr(participant, "allocation", None) is not None:
            if levels & stopping:
                continue
        elif (
            participant.is_eligible is False
            or levels
            or any(c.given is False for c in latest.values())
        ):
            continue
        for kind, form in current.items():
            consent = latest.get(kind)
            if consent is None or not consent.given or consent.form_id == form.pk:
                continue
            rows.append(
                ReconsentRow(
                    participant,
                    ConsentKind(kind).label,
                    consent.form_version,
                    consent.recorded_on,
                    form.version,
                )
            )
    return rows


def reconsent_by_site(rows: list[ReconsentRow]) -> list[tuple[str, int]]:
    """Return (site name, participants needing re-consent), by site name."""
    people: dict[str, set[int]] = {}
    for row in rows:
        people.setdefault(row.participant.site.name, set()).add(row.participant.pk)
    return sorted((site, len(ids)) for site, ids in people.items())


# Database lock


def lock_history(*, trial: Trial) -> QuerySet[Any]:
    """Return the trial's lock, unlock request and unlock events, newest first."""
    from mstoutcomes.trial.models import TrialLockEvent

    return (
        TrialLockEvent.objects.filter(trial=trial)
        .select_related("by", "request__by")
        .order_by("-at", "-pk")
    )


def order_breaches_visible_to(*, user: Any, trial: Trial) -> list[Any]:
    """Records that break the protocol order at the sites where the user may see deviations.

    They name the arm (management as usual), so only users who also see treatment get them.
    """
    from mstoutcomes.trial.order import order_breaches

    sites = site_ids_with_perm(user, Perm.VIEW_DEVIATIONS) & site_ids_with_perm(
        user, Perm.VIEW_TREATMENT
    )
    own = [site.pk for site in trial.sites.filter(pk__in=sites)]
    return order_breaches(trial=trial, site_ids=own) if own else []
