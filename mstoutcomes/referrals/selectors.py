"""Reads of referrals, panels, capacity and case mix: each takes the user it shows them to."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from mstoutcomes.accounts.models import Role, Site, User
from mstoutcomes.accounts.permissions import Perm, site_ids_with_perm
from mstoutcomes.accounts.selectors import staff_with_role
from mstoutcomes.cases.models import Episode, YoungPerson
from mstoutcomes.core.dates import add_months
from mstoutcomes.core.identifiers import normalise_postcode_district
from mstoutcomes.referrals import casemix, demand, forecast
from mstoutcomes.referrals.config import SiteRules, rules_for_site
from mstoutcomes.referrals.models import Notification, PanelMeeting, Referral, TherapistCapacity
from mstoutcomes.referrals.workflow import State

RECEIVED_STATES = [s.value for s in State if s != State.DRAFT]
# Accepted by the panel (at a trial site, randomisation may then allocate usual services).
ACCEPTED_STATES = [
    State.ACCEPTED.value,
    State.AWAITING_TRIAL.value,
    State.WAITING_LIST.value,
    State.ALLOCATED.value,
    State.USUAL_SERVICES.value,
]


def referral_list_visible_to(
    *, user: Any, state: str = "", search: str = "", site_id: int | None = None
) -> QuerySet[Referral]:
    """Return the referrals the user may see (the screening log), newest first."""
    queryset = Referral.objects.visible_to(user).select_related(
        "site", "referring_agency", "young_person"
    )
    if state in {s.value for s in State}:
        queryset = queryset.filter(state=state)
    if site_id is not None:
        queryset = queryset.filter(site_id=site_id)
    for word in search.split():
        queryset = queryset.filter(Q(given_name__icontains=word) | Q(family_name__icontains=word))
    return queryset.order_by("-referred_on", "-pk")


def referral_get_visible(*, user: Any, pk: int) -> Referral:
    """Return one referral the user may see, or 404 (never 403, so existence does not leak)."""
    return get_object_or_404(  # type: ignore[no-any-return]
        Referral.objects.visible_to(user).select_related(
            "site", "referring_agency", "young_person", "panel", "episode__therapist"
        ),
        pk=pk,
    )


def referral_history(referral: Referral) -> list[Any]:
    return list(referral.transitions.select_related("by"))


@dataclass(frozen=True)
class DuplicateMatch:
    person: YoungPerson | None  # None: a match the user may not see
    study_id: str


def possible_duplicates_for(*, user: Any, referral: Referral) -> list[DuplicateMatch]:
    """Return the referral's possible duplicates: the ones the user may see, others unnamed."""
    ids = list(referral.possible_duplicates or [])
    if not ids:
        return []
    visible = {p.pk: p for p in YoungPerson.objects.visible_to(user).filter(pk__in=ids)}
    return [
        DuplicateMatch(visible.get(pk), visible[pk].study_id if pk in visible else "") for pk in ids
    ]


def _norm(value: str) -> str:
    return "".join(ch for ch in value.lower() if ch.isalnum())


def find_possible_duplicates(
    *,
    site: Site | int,
    given_name: str,
    family_name: str,
    date_of_birth: dt.date | None,
    postcode_district: str,
) -> list[YoungPerson]:
    """Return the site's young people who may be this person: same date of birth and two of
    first name, last name and postcode district. (Shows nobody the rows: callers scope them.)"""
    if date_of_birth is None:
        return []
    wanted = (_norm(given_name), _norm(family_name), normalise_postcode_district(postcode_district))
    people = YoungPerson.objects.unscoped().filter(site=site, date_of_birth=date_of_birth)
    found = []
    for person in people:
        have = (_norm(person.given_name), _norm(person.family_name), person.postcode_district)
        if sum(1 for a, b in zip(wanted, have, strict=True) if a and a == b) >= 2:
            found.append(person)
    return found


def visible_matches_for_draft(*, user: Any, referral: Referral) -> list[YoungPerson]:
    """Return the known young people matching a draft that the user may see (to pick one)."""
    ids = [
        p.pk
        for p in find_possible_duplicates(
            site=referral.site_id,
            given_name=referral.given_name,
            family_name=referral.family_name,
            date_of_birth=referral.date_of_birth,
            postcode_district=referral.postcode_district,
        )
    ]
    return list(YoungPerson.objects.visible_to(user).filter(pk__in=ids)) if ids else []


def notifications_for(*, user: Any, limit: int = 10) -> list[Notification]:
    return list(Notification.objects.filter(user=user).select_related("referral")[:limit])


def panel_sites(user: Any) -> QuerySet[Site]:
    return Site.objects.filter(pk__in=site_ids_with_perm(user, Perm.RUN_PANEL))


def panels_for(*, user: Any) -> QuerySet[PanelMeeting]:
    return (
        PanelMeeting.objects.filter(site_id__in=site_ids_with_perm(user, Perm.RUN_PANEL))
        .select_related("site")
        .prefetch_related("agencies_present")
    )


def panel_get(*, user: Any, pk: int) -> PanelMeeting:
    return get_object_or_404(panels_for(user=user), pk=pk)  # type: ignore[no-any-return]


def therapists_at(site: Site | int) -> QuerySet[User]:
    site_id = site if isinstance(site, int) else site.pk
    return staff_with_role(site_ids={site_id}, roles={Role.THERAPIST})


# -- capacity ---------------------------------------------------------------------------------


def waiting_list(*, site: Site) -> list[Referral]:
    """Return the waiting list in order: urgent first, then longest waiting."""
    return list(
        Referral.objects.unscoped()
        .filter(site=site, state__in=[State.WAITING_LIST, State.ACCEPTED])
        .select_related("referring_agency", "young_person")
        .order_by("-urgent", "waiting_since", "decided_on", "pk")
    )


def capacity_forecast(*, site: Site, as_of: dt.date, weeks: int = 12) -> dict[str, Any]:
    """Return the team's places now, the 12-week projection and the waiting list's forecast."""
    rules = rules_for_site(site.code)
    therapists = list(therapists_at(site))
    capacities = {c.therapist_id: c for c in TherapistCapacity.objects.filter(site=site)}
    ends: dict[int, list[dt.date]] = defaultdict(list)
    episodes = Episode.objects.unscoped().filter(young_person__site=site, end_date__isnull=True)
    for therapist_id, start, expected in episodes.values_list(
        "therapist_id", "start_date", "expected_end_date"
    ):
        ends[therapist_id].append(expected or add_months(start, rules.expected_episode_months))
    loads = []
    for therapist in therapists:
        cap_row = capacities.get(therapist.pk)
        cap = (
            forecast.effective_cap(cap_row.caseload_cap, float(cap_row.fte))
            if cap_row
            else rules.default_caseload_cap
        )
        loads.append(
            forecast.TherapistLoad(
                therapist.pk, therapist.get_full_name(), cap, tuple(sorted(ends[therapist.pk]))
            )
        )
    queue = waiting_list(site=site)
    families = [
        forecast.WaitingFamily(r.pk, r.full_name, r.waiting_since or r.decided_on or as_of)
        for r in queue
    ]
    result = forecast.forecast(
        loads=loads,
        waiting=families,
        as_of=as_of,
        weeks=weeks,
        episode_months=rules.expected_episode_months,
    )
    names = {t.pk: t.get_full_name() for t in therapists}
    rows = [
        {"referral": r, "forecast": f, "therapist": names.get(f.therapist_id or 0, "")}
        for r, f in zip(queue, result.waiting, strict=True)
    ]
    return {
        "forecast": result,
        "loads": loads,
        "capacities": capacities,
        "waiting_rows": rows,
        "rules": rules,
        # Trial families not yet randomised: their own line, never MST starts or a therapist.
        "awaiting": demand.awaiting_randomisation(site.pk),
    }


@dataclass(frozen=True)
class NextMstStart:
    """When a family randomised to MST today could start, for pacing a trial's recruitment."""

    as_of: dt.date
    next_place_on: dt.date | None  # the next place to free up (today if a therapist has room)
    forecast_start: dt.date | None  # behind the families already waiting; None: beyond horizon
    families_ahead: int
    horizon_weeks: int

    @property
    def wait_days(self) -> int | None:
        return None if self.forecast_start is None else (self.forecast_start - self.as_of).days

    def too_long(self, max_wait_days: int) -> bool:
        return self.wait_days is None or self.wait_days > max_wait_days


def next_mst_start(*, site: Site | int, as_of: dt.date, weeks: int = 26) -> NextMstStart:
    """Forecast the start of a family allocated to MST now: it joins the back of the queue."""
    site = site if isinstance(site, Site) else Site.objects.get(pk=site)
    data = capacity_forecast(site=site, as_of=as_of, weeks=weeks)
    loads: list[forecast.TherapistLoad] = data["loads"]
    queue = [row["forecast"].family for row in data["waiting_rows"]]
    newcomer = forecast.WaitingFamily(0, "Randomised to MST today", as_of)
    result = forecast.forecast(
        loads=loads,
        waiting=[*queue, newcomer],
        as_of=as_of,
        weeks=weeks,
        episode_months=data["rules"].expected_episode_months,
    )
    return NextMstStart(
        as_of=as_of,
        next_place_on=forecast.next_place(loads, as_of),
        forecast_start=result.waiting[-1].forecast_start,
        families_ahead=len(queue),
        horizon_weeks=weeks,
    )


# -- case mix ---------------------------------------------------------------------------------


def _mix_case(referral: Referral) -> casemix.MixCase:
    return casemix.MixCase(
        key=referral.pk,
        label=referral.full_name,
        agency=referral.referring_agency.name,
        band=referral.complexity_band or "lower",
        urgent=referral.urgent,
        waiting_since=referral.waiting_since or referral.referred_on,
    )


def _mix_rows(mix: casemix.Mix) -> list[tuple[str, int, int]]:
    return [(band, mix.counts[band], round(mix.share(band) * 100)) for band in mix.counts]


def case_mix_for_site(*, site: Site, as_of: dt.date, rules: SiteRules | None = None) -> dict:
    """Return the case mix over the rolling window and a suggested order for the next places."""
    rules = rules or rules_for_site(site.code)
    since = add_months(as_of, -rules.case_mix_window_months)
    base = Referral.objects.unscoped().filter(site=site).select_related("referring_agency")
    received = list(base.filter(state__in=RECEIVED_STATES, referred_on__gte=since))
    accepted = list(base.filter(state__in=ACCEPTED_STATES, decided_on__gte=since))
    waiting = list(base.filter(state__in=[State.WAITING_LIST, State.ACCEPTED]))
    candidates = list(
        base.filter(state__in=[State.WAITING_LIST, State.ACCEPTED, State.READY_FOR_PANEL])
    )
    report = casemix.case_mix(
        received=[_mix_case(r) for r in received],
        waiting=[_mix_case(r) for r in waiting],
        accepted=[_mix_case(r) for r in accepted],
        target=rules.target_mix,
        tolerance=rules.mix_tolerance,
        skew_share=rules.agency_skew_share,
        skew_min_referrals=rules.agency_skew_min_referrals,
    )
    suggestions = casemix.suggest_order(
        [_mix_case(r) for r in candidates],
        accepted=report.accepted,
        target=rules.target_mix,
        as_of=as_of,
    )
    by_pk = {r.pk: r for r in candidates}
    groups = [
        ("Referrals received", report.received),
        ("Waiting list", report.waiting),
        ("Accepted", report.accepted),
    ]
    return {
        "report": report,
        "groups": [(name, _mix_rows(mix), mix.total) for name, mix in groups],
        "agencies": [(a, _mix_rows(m), m.total) for a, m in report.by_agency.items()],
        "since": since,
        "rules": rules,
        "suggestions": [(s, by_pk[s.case.key]) for s in suggestions],
        "awaiting": demand.awaiting_randomisation(site.pk),
    }


# -- dashboard --------------------------------------------------------------------------------


def _month(date: dt.date) -> str:
    return f"{date:%Y-%m}"


def dashboard_numbers(*, site: Site, as_of: dt.date, months: int = 24) -> dict[str, Any]:
    """Return the dashboard's aggregate numbers for a site (counts only, no people)."""
    since = add_months(as_of.replace(day=1), -(months - 1))
    rows = list(
        Referral.objects.unscoped()
        .filter(site=site, state__in=RECEIVED_STATES)
        .values_list(
            "referred_on",
            "referring_agency__name",
            "state",
            "eligible",
            "decision_reason",
            "decided_on",
            "waiting_since",
            "episode__start_date",
            "complexity_band",
        )
    )
    per_month: Counter[tuple[str, str]] = Counter()
    for referred_on, agency, *_ in rows:
        if referred_on and referred_on >= since:
            per_month[(_month(referred_on), agency)] += 1
    funnel = {
        "Received": len(rows),
        "Eligible": sum(1 for r in rows if r[3]),
        "Accepted": sum(1 for r in rows if r[2] in ACCEPTED_STATES),
        "Started MST": sum(1 for r in rows if r[2] == State.ALLOCATED),
    }
    from mstoutcomes.referrals.models import DecisionReason

    labels = dict(DecisionReason.choices)
    declines = Counter(
        labels.get(r[4], r[4]) for r in rows if r[2] in (State.DECLINED, State.SIGNPOSTED) and r[4]
    )
    waits = [
        ((r[7] or as_of) - r[0]).days
        for r in rows
        if r[0] and r[2] in (State.ALLOCATED, State.WAITING_LIST, State.ACCEPTED)
    ]
    wait_bands = Counter(_wait_band(days) for days in waits)
    mix = Counter((r[1], r[8] or "lower") for r in rows if r[0] and r[0] >= add_months(as_of, -12))
    capacity = _capacity_over_time(site=site, as_of=as_of, months=12)
    return {
        "per_month": sorted(per_month.items()),
        "funnel": funnel,
        "declines": declines.most_common(),
        "waits": [(band, wait_bands.get(band, 0)) for band in WAIT_BANDS],
        "median_wait_days": sorted(waits)[len(waits) // 2] if waits else None,
        "mix": sorted(mix.items()),
        "capacity": capacity,
    }


WAIT_BANDS = ("Under 2 weeks", "2 to 4 weeks", "4 to 8 weeks", "8 weeks or more")


def _wait_band(days: int) -> str:
    if days < 14:
        return WAIT_BANDS[0]
    if days < 28:
        return WAIT_BANDS[1]
    if days < 56:
        return WAIT_BANDS[2]
    return WAIT_BANDS[3]


def _capacity_over_time(*, site: Site, as_of: dt.date, months: int) -> list[tuple[str, int, int]]:
    """Return (month, places, families in treatment) at the start of each month."""
    rules = rules_for_site(site.code)
    therapists = list(therapists_at(site))
    capacities = {c.therapist_id: c for c in TherapistCapacity.objects.filter(site=site)}
    places = sum(
        forecast.effective_cap(capacities[t.pk].caseload_cap, float(capacities[t.pk].fte))
        if t.pk in capacities
        else rules.default_caseload_cap
        for t in therapists
    )
    spans = list(
        Episode.objects.unscoped()
        .filter(young_person__site=site)
        .values_list("start_date", "end_date")
    )
    out = []
    for n in range(months - 1, -1, -1):
        month = add_months(as_of.replace(day=1), -n)
        active = sum(1 for start, end in spans if start <= month and (end is None or end > month))
        out.append((_month(month), places, active))
    return out
