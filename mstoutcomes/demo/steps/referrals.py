"""Demo step: about 125 referrals over two years, fortnightly panels, decisions and a waiting list.

Every young person the people step made arrives as an accepted referral. At Stockport (no trial)
each is linked to their episode or waits on the list. At Trafford, the trial site, the panel's
acceptance hands the family to the trial, which enrols them and records eligibility from the
referral's criteria (the trial step then takes consent and randomises). Around 30 more referrals
at Trafford were declined, signposted, withdrawn or are still being screened, and create no young
person. The youth offending service sends mostly higher-complexity referrals, so the case-mix
monitor has something to say.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mstoutcomes.demo import data
from mstoutcomes.demo.builder import DemoContext, register_step
from mstoutcomes.referrals import codes, complexity, eligibility
from mstoutcomes.referrals.config import SiteRules, rules_for_site
from mstoutcomes.referrals.facts import ReferralFacts
from mstoutcomes.referrals.services import (
    panel_meeting_create,
    referral_decide,
    referral_draft_save,
    referral_link_episode,
    referral_ready_for_panel,
    referral_screen,
    referral_start,
    referral_submit,
    referral_withdraw,
    therapist_capacity_set,
)

SKEWED_AGENCY = "trf_yos"
# Outcomes of the referrals that did not become young people's records, at the main site.
OTHER_OUTCOMES: tuple[tuple[str, str, int], ...] = (
    ("declined", "not_eligible", 6),
    ("declined", "below_threshold", 4),
    ("declined", "family_declined", 2),
    ("declined", "out_of_area", 1),
    ("signposted", "needs_met_elsewhere", 6),
    ("withdrawn", "", 6),
    ("submitted", "", 1),
    ("screening", "", 1),
    ("ready_for_panel", "", 1),
)
SITE_AGENCIES = {spec.code: list(spec.agencies) for spec in data.SITES}
SITE_DISTRICTS = {spec.code: list(spec.districts) for spec in data.SITES}
CAPACITY = {"therapist1": ("1.00", 5), "therapist2": ("1.00", 5), "therapist3": ("0.80", 5)}

SEVERITY_BEHAVIOURS = (
    "aggression_home",
    "aggression_school",
    "aggression_community",
    "verbal_aggression",
    "offending",
    "substance_misuse",
    "school_non_attendance",
    "running_away",
)


@dataclass(frozen=True)
class FactsPlan:
    fields: dict[str, Any]
    band: str
    eligible: bool


def _random_facts(rng: random.Random, level: int, *, eligible: bool) -> dict[str, Any]:
    k = rng.randint(3, 5) if eligible else rng.randint(1, 2)
    behaviours = rng.sample(SEVERITY_BEHAVIOURS, k)
    risks = rng.sample(list(codes.RISKS), rng.randint(1, 1 + level) if eligible else 0)
    statuses = rng.sample(list(codes.STATUSES), rng.randint(0, 1 + level))
    if not eligible:
        statuses = [s for s in statuses if s in ("excluded_or_reduced_timetable",)]
    offences_12m = rng.randint(0, 2 + 2 * level) if eligible else rng.randint(0, 1)
    return {
        "behaviours": behaviours,
        "risks": risks,
        "statuses": statuses,
        "exclusions": [],
        "offences_12m": offences_12m,
        "offences_18m": offences_12m + rng.randint(0, 2),
        "fixed_term_exclusions": rng.randint(0, 1 + 2 * level),
        "previous_placements": rng.randint(0, level),
    }


def plan_facts(
    rng: random.Random, rules: SiteRules, *, band: str, eligible: bool, dob: dt.date, on: dt.date
) -> FactsPlan:
    """Return referral facts meeting (or failing) eligibility with a score in the wanted band."""
    level = {"lower": 0, "medium": 1, "higher": 2}[band]
    for _ in range(2000):
        fields = _random_facts(rng, level, eligible=eligible)
        facts = ReferralFacts(
            date_of_birth=dob,
            referred_on=on,
            behaviours=frozenset(fields["behaviours"]),
            risks=frozenset(fields["risks"]),
            statuses=frozenset(fields["statuses"]),
            counts={name: fields[name] for name in codes.HISTORY_COUNTS},
        )
        # Age is the person's, not the facts': judge the rest of the criteria here.
        failed = eligibility.evaluate(facts, rules.eligibility).failed
        ok = not [r for r in failed if r.kind != "age"]
        profile = complexity.score(facts, rules.complexity)
        if ok == eligible and profile.band == band:
            return FactsPlan(fields, band, ok)
    raise RuntimeError(f"Could not plan referral facts in the {band} band.")


def band_for_agency(rng: random.Random, agency: str) -> str:
    weights = (
        {"lower": 10, "medium": 20, "higher": 70}
        if agency == SKEWED_AGENCY
        else {"lower": 40, "medium": 42, "higher": 18}
    )
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def panel_dates(as_of: dt.date, *, days: int = 730) -> list[dt.date]:
    """Return a panel every fortnight on Thursdays, the last within the fortnight before as_of."""
    last = as_of - dt.timedelta(days=(as_of.weekday() - 3) % 7)
    first = as_of - dt.timedelta(days=days)
    dates = []
    while last >= first:
        dates.append(last)
        last -= dt.timedelta(days=14)
    return sorted(dates)


def _carers(plan_family: Any) -> list[dict[str, Any]]:
    carers = [m for m in plan_family if m.is_carer] or list(plan_family)[:1]
    return [
        {
            "given_name": m.given_name,
            "family_name": m.family_name,
            "relationship": m.relationship,
            "phone": m.phone,
        }
        for m in carers[:2]
    ]


class _Writer:
    def __init__(self, ctx: DemoContext, site_code: str) -> None:
        self.ctx = ctx
        self.site = ctx.sites[site_code]
        self.rules = rules_for_site(site_code)
        self.panels: dict[dt.date, Any] = {}
        self.agency_specs = {a.key: a for a in data.AGENCIES}

    def panel_on_or_after(self, day: dt.date, latest: dt.date) -> Any | None:
        for held_on in sorted(self.panels):
            if day <= held_on <= latest:
                return self.panels[held_on]
        return None

    def panel(self, held_on: dt.date) -> Any:
        if held_on not in self.panels:
            spec_agencies = [self.ctx.agencies[k] for k in SITE_AGENCIES[self.site.code]]
            present = [a for a in spec_agencies if self.ctx.rng.random() < 0.85]
            self.panels[held_on] = panel_meeting_create(
                by=None,
                site=self.site,
                held_on=held_on,
                agencies=present,
                attendees="\n".join(f"{a.name} representative" for a in present),
            )
        return self.panels[held_on]

    def draft(self, agency_key: str, person: dict[str, Any], facts: FactsPlan, carers: list) -> Any:
        rng = self.ctx.rng
        spec = self.agency_specs[agency_key]
        agency = self.ctx.agencies[agency_key]
        referral = referral_start(by=None, site=self.site, agency=agency)
        worker = rng.choice(spec.workers)
        involved = [agency] + [
            self.ctx.agencies[k]
            for k in SITE_AGENCIES[self.site.code]
            if k != agency_key and rng.random() < 0.4
        ]
        return referral_draft_save(
            by=None,
            referral=referral,
            fields={
                **person,
                **facts.fields,
                "carers": carers,
                "referrer_name": worker,
                "referrer_role": spec.worker_role,
                "referrer_email": (
                    f"{worker.removeprefix('Dr ').lower().replace(' ', '.')}@{spec.email_domain}"
                ),
                "consent_referral": True,
                "consent_share": rng.random() > 0.04,
                "assent": rng.random() > 0.15,
            },
            agencies_involved=involved,
        )


def _person_fields(plan: Any) -> dict[str, Any]:
    return {
        "given_name": plan.given_name,
        "family_name": plan.family_name,
        "date_of_birth": plan.date_of_birth,
        "sex": plan.sex,
        "postcode_district": plan.postcode_district,
        "school": plan.school,
    }


def _accepted(writer: _Writer, person: Any, episode: Any | None) -> tuple[str, Any]:
    ctx = writer.ctx
    plan = ctx.plans[person.study_id]
    # At the trial site the panel accepts a few families on its own judgement who then fail a
    # trial criterion (fewer than 3 severity criteria): the trial records them not eligible.
    eligible = plan.trial is None or plan.trial.disposition != "not_eligible"
    band = band_for_agency(ctx.rng, plan.referring_agency) if eligible else "lower"
    facts = plan_facts(
        ctx.rng,
        writer.rules,
        band=band,
        eligible=eligible,
        dob=plan.date_of_birth,
        on=plan.referred_on,
    )
    referral = writer.draft(
        plan.referring_agency, _person_fields(plan), facts, _carers(plan.family)
    )
    referral_submit(by=None, referral=referral, young_person=person, referred_on=plan.referred_on)
    referral_screen(by=None, referral=referral)
    if not referral.consent_cleared:
        from mstoutcomes.referrals.services import referral_consent_override

        referral_consent_override(
            by=None, referral=referral, reason="Carer agreed verbally; written consent to follow."
        )
    referral_ready_for_panel(by=None, referral=referral)
    latest = episode.start_date if episode else ctx.as_of
    panel = writer.panel_on_or_after(plan.referred_on, latest)
    if panel is None and episode is not None:
        panel = writer.panel(latest)  # an extra panel, called to fill a free place
    if panel is None:
        return "ready", referral
    if plan.trial is not None:
        # Accepting at the trial site hands the family to the trial (enrolment and eligibility).
        referral_decide(by=None, referral=referral, outcome="accepted", panel=panel, urgent=False)
        return "handed_to_trial", referral
    outcome = "accepted" if episode else "waiting_list"
    referral_decide(by=None, referral=referral, outcome=outcome, panel=panel, urgent=False)
    if episode is not None:
        referral_link_episode(by=None, referral=referral, episode=episode)
        return "allocated", referral
    return "waiting", referral


def _new_person(
    rng: random.Random, reason: str, referred_on: dt.date, taken: set[str]
) -> tuple[str, str, dt.date, str, int]:
    """Return a name nobody else has, a date of birth and sex; two ineligible ones are 10 and 18."""
    age = rng.randint(11, 17)
    if reason == "not_eligible" and not [n for n in taken if n.startswith("age:")]:
        age = 10
        taken.add("age:10")
    elif reason == "not_eligible" and "age:18" not in taken:
        age = 18
        taken.add("age:18")
    dob = referred_on - dt.timedelta(days=age * 365 + rng.randint(30, 330))
    sex = "female" if rng.random() < 0.3 else "male"
    for _ in range(200):
        given = rng.choice(data.GIVEN_NAMES["british"][sex])
        family = rng.choice(data.SURNAMES["british"])
        if f"{given} {family}".lower() not in taken:
            taken.add(f"{given} {family}".lower())
            break
    return given, family, dob, sex, age


def _other(writer: _Writer, outcome: str, reason: str, taken: set[str]) -> str:
    ctx, rng = writer.ctx, writer.ctx.rng
    agencies = SITE_AGENCIES[writer.site.code]
    agency_key = rng.choices(
        agencies, weights=[writer.agency_specs[k].referral_weight for k in agencies]
    )[0]
    referred_on = ctx.as_of - dt.timedelta(days=rng.randint(40, 720))
    if outcome in ("submitted", "screening", "ready_for_panel"):
        referred_on = ctx.as_of - dt.timedelta(days=rng.randint(1, 10))
    given, family, dob, sex, age = _new_person(rng, reason, referred_on, taken)
    band = (
        "lower"
        if reason in ("not_eligible", "below_threshold")
        else band_for_agency(rng, agency_key)
    )
    eligible = reason != "not_eligible" or age in (10, 18)
    facts = plan_facts(ctx.rng, writer.rules, band=band, eligible=eligible, dob=dob, on=referred_on)
    district = rng.choice(SITE_DISTRICTS[writer.site.code])
    person = {
        "given_name": given,
        "family_name": family,
        "date_of_birth": dob,
        "sex": sex,
        "postcode_district": district,
    }
    carer = {
        "given_name": rng.choice(("Donna", "Claire", "Emma", "Kelly")),
        "family_name": family,
        "relationship": "mother",
    }
    referral = writer.draft(agency_key, person, facts, [carer])
    referral_submit(by=None, referral=referral, referred_on=referred_on)
    if outcome == "submitted":
        return outcome
    referral_screen(by=None, referral=referral)
    if outcome == "withdrawn":
        referral_withdraw(by=None, referral=referral, reason="The family moved away before panel.")
        return outcome
    if outcome == "screening":
        return outcome
    if not referral.consent_cleared:
        referral_decide(
            by=None,
            referral=referral,
            outcome="declined",
            reason="no_consent",
            decided_on=referred_on + dt.timedelta(days=7),
        )
        return "declined"
    if reason == "not_eligible" or (reason == "below_threshold" and rng.random() < 0.5):
        referral_decide(
            by=None,
            referral=referral,
            outcome=outcome,
            reason=reason,
            decided_on=referred_on + dt.timedelta(days=rng.randint(3, 10)),
        )
        return outcome
    referral_ready_for_panel(by=None, referral=referral)
    panel = writer.panel_on_or_after(referred_on, ctx.as_of)
    if outcome == "ready_for_panel" or panel is None:
        return "ready_for_panel"
    referral_decide(by=None, referral=referral, outcome=outcome, reason=reason, panel=panel)
    return outcome


@register_step("referrals", order=200)
def referrals(ctx: DemoContext) -> str:
    """Write panels, capacity, the young people's referrals and the ones that went elsewhere."""
    counts: dict[str, int] = {}
    episodes = {e.young_person_id: e for e in ctx.episodes}
    taken = {f"{p.given_name} {p.family_name}".lower() for p in ctx.young_people}
    taken |= {f"{s.first_name} {s.last_name}".lower() for s in data.STAFF}
    for site_code in ctx.sites:
        writer = _Writer(ctx, site_code)
        for held_on in panel_dates(ctx.as_of):
            writer.panel(held_on)
        for username, (fte, cap) in CAPACITY.items():
            if site_code == "TRF":
                therapist_capacity_set(
                    by=None,
                    site=writer.site,
                    therapist=ctx.users[username],
                    fte=Decimal(fte),
                    caseload_cap=cap,
                )
        people = [p for p in ctx.young_people if p.site_id == writer.site.pk]
        for person in ctx.track(people, f"Referrals at {site_code}"):
            state, _ = _accepted(writer, person, episodes.get(person.pk))
            counts[state] = counts.get(state, 0) + 1
        if site_code == "TRF":
            for outcome, reason, n in OTHER_OUTCOMES:
                for _ in range(n):
                    state = _other(writer, outcome, reason, taken)
                    counts[state] = counts.get(state, 0) + 1
    total = sum(counts.values())
    detail = ", ".join(f"{n} {state.replace('_', ' ')}" for state, n in sorted(counts.items()))
    return f"{total} referrals: {detail}"
