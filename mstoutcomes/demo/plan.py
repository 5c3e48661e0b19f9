"""Plan a site's synthetic young people, families and episodes: pure Python, no database.

``plan_site(spec, rng=..., as_of=...)`` returns the same plan for the same random stream and date,
so the demo is reproducible; the people step writes a plan through the services.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mstoutcomes.core.dates import age_on
from mstoutcomes.core.identifiers import upn_check_letter
from mstoutcomes.demo import data

# Ages at referral 11 to 17, weighted to the middle teens as in MST referrals.
AGE_WEIGHTS = {11: 3, 12: 7, 13: 14, 14: 20, 15: 22, 16: 20, 17: 14}


@dataclass(frozen=True)
class FamilyMemberPlan:
    given_name: str
    family_name: str
    relationship: str
    is_carer: bool = True
    is_primary_carer: bool = False
    has_parental_responsibility: bool = False
    lives_with_young_person: bool = True
    phone: str = ""
    email: str = ""

    def fields(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class InvolvementPlan:
    agency: str  # AgencySpec key
    worker_name: str
    worker_role: str
    worker_email: str
    worker_phone: str
    started_on: dt.date
    ended_on: dt.date | None = None


@dataclass(frozen=True)
class EpisodePlan:
    therapist: str  # username
    supervisor: str  # username
    start_date: dt.date
    end_date: dt.date | None = None
    discharge_reason: str = ""
    living_at_home: bool | None = None
    in_school_or_work: bool | None = None
    no_new_arrests: bool | None = None
    discharge_notes: str = ""

    def discharge_fields(self) -> dict[str, Any]:
        return {
            "end_date": self.end_date,
            "discharge_reason": self.discharge_reason,
            "living_at_home": self.living_at_home,
            "in_school_or_work": self.in_school_or_work,
            "no_new_arrests": self.no_new_arrests,
            "discharge_notes": self.discharge_notes,
        }


@dataclass(frozen=True)
class TrialPlan:
    """How a family at the trial site goes through the trial, whichever arm they are given.

    disposition: "randomise", "not_eligible" (the panel accepts but a criterion fails) or
    "declined" (the family declines consent). ``wait_days`` applies only if the family is
    allocated to MST: how long after randomisation they could start.
    """

    disposition: str
    consent_days: int
    randomise_days: int
    wait_days: int
    # Withdrawal from further data collection this many days after randomisation.
    withdraw_after_days: int | None = None
    # Lost to follow-up: research assessments from this month on are missed.
    lost_from_month: int | None = None


@dataclass(frozen=True)
class PersonPlan:
    site: str  # site code
    referring_agency: str  # AgencySpec key
    given_name: str
    family_name: str
    date_of_birth: dt.date
    sex: str
    gender: str
    ethnicity: str
    school: str
    address: str
    postcode_district: str
    nhs_number: str
    upn: str
    social_care_id: str
    yos_id: str
    referred_on: dt.date
    family: tuple[FamilyMemberPlan, ...] = ()
    involvements: tuple[InvolvementPlan, ...] = ()
    episode: EpisodePlan | None = None
    trial: TrialPlan | None = None

    @property
    def age_at_referral(self) -> int:
        return age_on(self.date_of_birth, self.referred_on)

    def young_person_fields(self) -> dict[str, Any]:
        """Return the fields for young_person_create, without the referring agency (a key here)."""
        names = (
            "given_name",
            "family_name",
            "date_of_birth",
            "sex",
            "gender",
            "ethnicity",
            "school",
            "address",
            "postcode_district",
            "nhs_number",
            "upn",
            "social_care_id",
            "yos_id",
            "referred_on",
        )
        return {name: getattr(self, name) for name in names}


def weighted(rng: random.Random, weights: Mapping[Any, float]) -> Any:
    """Return one key drawn with probability proportional to its weight."""
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def quota(mix: Mapping[str, float], total: int) -> dict[str, int]:
    """Split total into whole counts in proportion to mix (largest remainder, ties in mix order)."""
    exact = {key: share * total / sum(mix.values()) for key, share in mix.items()}
    counts = {key: int(value) for key, value in exact.items()}
    by_remainder = sorted(mix, key=lambda k: -(exact[k] - counts[k]))
    for key in by_remainder[: total - sum(counts.values())]:
        counts[key] += 1
    return counts


def date_of_birth_for(rng: random.Random, age: int, on: dt.date) -> dt.date:
    """Return a date of birth that makes someone exactly `age` on a date."""
    latest = _years_before(on, age)
    earliest = _years_before(on, age + 1) + dt.timedelta(days=1)
    return earliest + dt.timedelta(days=rng.randint(0, (latest - earliest).days))


def _years_before(date: dt.date, years: int) -> dt.date:
    try:
        return date.replace(year=date.year - years)
    except ValueError:  # 29 February in a year that has none
        return date.replace(year=date.year - years, day=28)


def nhs_number(rng: random.Random) -> str:
    """Return a valid-looking NHS number in the 999 range, which is never issued to patients."""
    while True:
        body = "999" + "".join(str(rng.randint(0, 9)) for _ in range(6))
        total = sum(int(d) * w for d, w in zip(body, range(10, 1, -1), strict=True))
        check = (11 - total % 11) % 11
        if check != 10:
            return body + str(check)


def upn(rng: random.Random, la_code: str, born: dt.date) -> str:
    """Return a Unique Pupil Number: check letter, LA, school, year of entry, serial."""
    school, entry_year, serial = rng.randint(2000, 5999), (born.year + 5) % 100, rng.randint(0, 999)
    body = f"{la_code}{school:04d}{entry_year:02d}{serial:03d}"
    return upn_check_letter(body) + body


class _Names:
    """Draws names, never giving two young people (or a young person and staff) the same one."""

    def __init__(self, rng: random.Random, taken: Iterable[str]) -> None:
        self.rng = rng
        self.taken = {name.lower() for name in taken}

    def young_person(self, heritage: tuple[str, str], sex: str) -> tuple[str, str]:
        given_pool, surname_pool = heritage
        pool_sex = sex if sex in ("male", "female") else self.rng.choice(("male", "female"))
        for _ in range(200):
            given = self.rng.choice(data.GIVEN_NAMES[given_pool][pool_sex])
            family = self.rng.choice(data.SURNAMES[surname_pool])
            if f"{given} {family}".lower() not in self.taken:
                self.taken.add(f"{given} {family}".lower())
                return given, family
        raise RuntimeError("The demo name pools are too small for this many young people.")

    def adult(self, given_pool: str, sex: str, *, generation: str = "parent") -> str:
        pools = data.PARENT_GIVEN_NAMES
        if generation == "grandparent" and given_pool == "british":
            return self.rng.choice(pools["grandparent"][sex])
        source = pools if given_pool in pools else data.GIVEN_NAMES
        return self.rng.choice(source[given_pool][sex])

    def sibling(self, given_pool: str, not_named: str) -> str:
        pool = data.GIVEN_NAMES[given_pool][self.rng.choice(("male", "female"))]
        return self.rng.choice([name for name in pool if name != not_named])


def _phone(rng: random.Random) -> str:
    return f"07700 900{rng.randint(0, 999):03d}"


def _email(rng: random.Random, given: str, family: str) -> str:
    local = "".join(ch for ch in f"{given}.{family}".lower() if ch.isalnum() or ch == ".")
    return f"{local}{rng.randint(1, 99)}@example.com"


def plan_family(
    rng: random.Random, names: _Names, heritage: tuple[str, str], given_name: str, family_name: str
) -> tuple[FamilyMemberPlan, ...]:
    """Return one to three household members, exactly one of them the primary carer."""
    given_pool, surname_pool = heritage
    shape = weighted(
        rng,
        {
            "single_mother": 40,
            "two_parents": 22,
            "mother_and_partner": 14,
            "single_father": 8,
            "grandparent": 8,
            "foster": 5,
            "aunt": 3,
        },
    )
    mum = names.adult(given_pool, "female")
    dad = names.adult(given_pool, "male")
    step_surname = rng.choice(data.SURNAMES[surname_pool])
    primary: dict[str, Any] = {
        "is_primary_carer": True,
        "has_parental_responsibility": True,
        "phone": _phone(rng),
    }
    members: list[FamilyMemberPlan] = []
    if shape in ("single_mother", "two_parents", "mother_and_partner"):
        members.append(FamilyMemberPlan(mum, family_name, "mother", **primary))
        if shape == "two_parents":
            members.append(
                FamilyMemberPlan(
                    dad, family_name, "father", has_parental_responsibility=True, phone=_phone(rng)
                )
            )
        elif shape == "mother_and_partner":
            members.append(FamilyMemberPlan(dad, step_surname, "step_parent", phone=_phone(rng)))
    elif shape == "single_father":
        members.append(FamilyMemberPlan(dad, family_name, "father", **primary))
    elif shape == "grandparent":
        gran = names.adult(given_pool, "female", generation="grandparent")
        members.append(FamilyMemberPlan(gran, family_name, "grandparent", **primary))
    elif shape == "aunt":
        members.append(FamilyMemberPlan(mum, step_surname, "aunt_uncle", **primary))
    else:
        carer = names.adult("british", "female")
        foster_surname = rng.choice(data.SURNAMES["british"])
        members.append(
            FamilyMemberPlan(
                carer,
                foster_surname,
                "foster_carer",
                **{
                    **primary,
                    "has_parental_responsibility": False,
                },
            )
        )
    if members[0].is_primary_carer and rng.random() < 0.5:
        first = members[0]
        members[0] = FamilyMemberPlan(
            **{**first.fields(), "email": _email(rng, first.given_name, first.family_name)}
        )
    if len(members) < 3 and shape != "foster" and rng.random() < 0.45:
        sibling_surname = members[0].family_name if shape != "aunt" else family_name
        members.append(
            FamilyMemberPlan(
                names.sibling(given_pool, given_name), sibling_surname, "sibling", is_carer=False
            )
        )
    return tuple(members)


@dataclass
class _Timeline:
    status: str  # "discharged", "in_treatment" or "awaiting"
    referred_on: dt.date
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    reason: str = ""
    outcomes: dict[str, bool | None] = field(default_factory=dict)
    trial: TrialPlan | None = None


def plan_timelines(rng: random.Random, spec: data.SiteSpec, as_of: dt.date) -> list[_Timeline]:
    """Return referral and episode dates for every young person, in referral order."""
    discharged = spec.people - spec.in_treatment - spec.awaiting
    reasons = [r for r, n in quota(data.DISCHARGE_MIX, discharged).items() for _ in range(n)]
    rng.shuffle(reasons)
    timelines: list[_Timeline] = []
    for reason in reasons:
        # Referred 7 to 24 months ago, so that the longest wait and episode end before as_of.
        referred = as_of - dt.timedelta(days=rng.randint(200, 730))
        start = referred + dt.timedelta(days=rng.randint(7, 42))
        low, high, mode = data.EPISODE_DAYS[reason]
        end = start + dt.timedelta(days=round(rng.triangular(low, high, mode)))
        timelines.append(_Timeline("discharged", referred, start, end, reason))
    for _ in range(spec.in_treatment):
        start = as_of - dt.timedelta(days=rng.randint(3, 118))
        referred = start - dt.timedelta(days=rng.randint(7, 42))
        timelines.append(_Timeline("in_treatment", referred, start))
    for _ in range(spec.awaiting):
        timelines.append(_Timeline("awaiting", as_of - dt.timedelta(days=rng.randint(0, 27))))
    _assign_outcomes(rng, [t for t in timelines if t.status == "discharged"])
    return sorted(timelines, key=lambda t: t.referred_on)


def plan_trial_timelines(
    rng: random.Random, spec: data.SiteSpec, as_of: dt.date
) -> list[_Timeline]:
    """Return referral dates across the recruitment period, and each family's trial course."""
    referred = sorted(
        as_of - dt.timedelta(days=rng.randint(3, data.RECRUITMENT_DAYS)) for _ in range(spec.people)
    )
    # Not eligible and declined families, spread over the period; the rest are randomised.
    special = rng.sample(range(spec.people), data.TRIAL_NOT_ELIGIBLE + data.TRIAL_DECLINED)
    dispositions = ["randomise"] * spec.people
    for n, index in enumerate(special):
        dispositions[index] = "not_eligible" if n < data.TRIAL_NOT_ELIGIBLE else "declined"
    # Withdrawals and losses among families randomised long enough ago to have been followed up.
    followed = [
        n
        for n, day in enumerate(referred)
        if dispositions[n] == "randomise" and (as_of - day).days > 300
    ]
    chosen = rng.sample(followed, data.TRIAL_WITHDRAWALS + data.TRIAL_LOST)
    withdrawn = set(chosen[: data.TRIAL_WITHDRAWALS])
    lost = set(chosen[data.TRIAL_WITHDRAWALS :])
    timelines = []
    for n, day in enumerate(referred):
        course = TrialPlan(
            disposition=dispositions[n],
            consent_days=rng.randint(*data.CONSENT_DAYS),
            randomise_days=rng.randint(*data.RANDOMISE_DAYS),
            wait_days=rng.randint(*data.MST_WAIT_DAYS),
            withdraw_after_days=rng.randint(120, 240) if n in withdrawn else None,
            lost_from_month=rng.choice((6, 12)) if n in lost else None,
        )
        timelines.append(_Timeline("trial", day, trial=course))
    return timelines


@dataclass(frozen=True)
class Ending:
    """How an MST episode would end: the reason, its length, the outcomes and a note."""

    reason: str
    days: int
    outcomes: tuple[tuple[str, bool | None], ...]
    notes: str


def plan_endings(rng: random.Random, count: int) -> list[Ending]:
    """Return how `count` MST episodes end, in the service's usual mix, in random order."""
    reasons = [r for r, n in quota(data.DISCHARGE_MIX, count).items() for _ in range(n)]
    rng.shuffle(reasons)
    timelines = [_Timeline("discharged", dt.date.min, reason=reason) for reason in reasons]
    _assign_outcomes(rng, timelines)
    endings = []
    for timeline in timelines:
        low, high, mode = data.EPISODE_DAYS[timeline.reason]
        endings.append(
            Ending(
                reason=timeline.reason,
                days=round(rng.triangular(low, high, mode)),
                outcomes=tuple(timeline.outcomes.items()),
                notes=rng.choice(data.DISCHARGE_NOTES[timeline.reason]),
            )
        )
    return endings


def _assign_outcomes(rng: random.Random, ended: list[_Timeline]) -> None:
    completed = [t for t in ended if t.reason == "completed"]
    for outcome, share in data.COMPLETED_OUTCOMES.items():
        yes = set(map(id, rng.sample(completed, round(share * len(completed)))))
        for timeline in completed:
            timeline.outcomes[outcome] = id(timeline) in yes
    for timeline in ended:
        if timeline.reason == "completed":
            continue
        for outcome, rule in data.OTHER_OUTCOMES[timeline.reason].items():
            # A float is the chance of yes; True, False or None follows from the reason itself.
            timeline.outcomes[outcome] = rng.random() < rule if isinstance(rule, float) else rule


def allocate_therapists(
    rng: random.Random, therapists: tuple[str, ...], timelines: list[_Timeline]
) -> dict[int, str]:
    """Give each episode the therapist with the fewest open cases on its start date."""
    allocated: dict[int, str] = {}
    booked: dict[str, list[_Timeline]] = {name: [] for name in therapists}
    starts = sorted(
        ((t.start_date, n, t) for n, t in enumerate(timelines) if t.start_date is not None),
        key=lambda item: (item[0], item[1]),
    )
    for start, _, timeline in starts:
        open_cases = {
            name: sum(1 for t in booked[name] if t.end_date is None or t.end_date > start)
            for name in therapists
        }
        fewest = min(open_cases.values())
        choice = rng.choice([name for name in therapists if open_cases[name] == fewest])
        booked[choice].append(timeline)
        allocated[id(timeline)] = choice
    return allocated


def _involvements(
    rng: random.Random, spec: data.SiteSpec, referrer: str, timeline: _Timeline, as_of: dt.date
) -> tuple[InvolvementPlan, ...]:
    agencies = {a.key: a for a in data.AGENCIES}
    keys = [referrer] + [
        key
        for key in spec.agencies
        if key != referrer and rng.random() < agencies[key].involvement_chance
    ]
    plans = []
    for key in keys:
        agency = agencies[key]
        worker = rng.choice(agency.workers)
        email_name = worker.removeprefix("Dr ").lower().replace(" ", ".")
        started = timeline.referred_on - dt.timedelta(days=rng.randint(14, 500))
        ended = None
        if timeline.end_date and rng.random() < 0.3:
            ended = min(as_of, timeline.end_date + dt.timedelta(days=rng.randint(0, 90)))
        plans.append(
            InvolvementPlan(
                agency=key,
                worker_name=worker,
                worker_role=agency.worker_role,
                worker_email=f"{email_name}@{agency.email_domain}",
                worker_phone=f"0161 496 0{rng.randint(0, 999):03d}",
                started_on=started,
                ended_on=ended,
            )
        )
    return tuple(plans)


def _gender(rng: random.Random, sex: str) -> str:
    roll = rng.random()
    if roll < 0.08:
        return ""  # not recorded
    if roll < 0.11:
        return rng.choice(("non_binary", "not_stated"))
    return "boy" if sex == "male" else "girl"


def plan_site(
    spec: data.SiteSpec, *, rng: random.Random, as_of: dt.date, taken_names: Iterable[str] = ()
) -> list[PersonPlan]:
    """Return the site's young people in referral order, with families, agencies and episodes."""
    names = _Names(rng, taken_names)
    timelines = (
        plan_trial_timelines(rng, spec, as_of)
        if spec.trial_site
        else plan_timelines(rng, spec, as_of)
    )
    therapists = allocate_therapists(rng, spec.therapists, timelines)
    referral_weights = {a.key: a.referral_weight for a in data.AGENCIES if a.key in spec.agencies}
    people = []
    for timeline in timelines:
        sex = "female" if rng.random() < 0.3 else "male"
        ethnicity = weighted(rng, spec.ethnicity_weights)
        heritage = data.HERITAGE[ethnicity]
        given, family = names.young_person(heritage, sex)
        dob = date_of_birth_for(rng, weighted(rng, AGE_WEIGHTS), timeline.referred_on)
        district = weighted(rng, {d: w for d, (_, w) in spec.districts.items()})
        town = spec.districts[district][0]
        age = age_on(dob, timeline.referred_on)
        school = _school(rng, spec, age)
        referrer = weighted(rng, referral_weights)
        involvements = _involvements(rng, spec, referrer, timeline, as_of)
        kinds = {next(a.kind for a in data.AGENCIES if a.key == i.agency) for i in involvements}
        episode = None
        if timeline.start_date:
            episode = EpisodePlan(
                therapist=therapists[id(timeline)],
                supervisor=spec.supervisor,
                start_date=timeline.start_date,
                end_date=timeline.end_date,
                discharge_reason=timeline.reason,
                discharge_notes=(
                    rng.choice(data.DISCHARGE_NOTES[timeline.reason]) if timeline.reason else ""
                ),
                **timeline.outcomes,
            )
        people.append(
            PersonPlan(
                site=spec.code,
                referring_agency=referrer,
                given_name=given,
                family_name=family,
                date_of_birth=dob,
                sex=sex,
                gender=_gender(rng, sex),
                ethnicity=ethnicity,
                school=school,
                address=f"{rng.randint(1, 180)} {rng.choice(data.STREETS)}, {town}",
                postcode_district=district,
                nhs_number=nhs_number(rng) if rng.random() < 0.92 else "",
                upn=upn(rng, spec.la_code, dob) if school and rng.random() < 0.85 else "",
                social_care_id=(f"{rng.randint(100000, 999999)}" if "social_care" in kinds else ""),
                yos_id=f"YJ{rng.randint(10000, 99999)}" if "youth_justice" in kinds else "",
                referred_on=timeline.referred_on,
                family=plan_family(rng, names, heritage, given, family),
                involvements=involvements,
                episode=episode,
                trial=timeline.trial,
            )
        )
    return people


def _school(rng: random.Random, spec: data.SiteSpec, age: int) -> str:
    if age >= 16:
        return rng.choice(("Further education college", "Not in education or work", ""))
    if rng.random() < 0.06:
        return "Electively home educated"
    return rng.choice(spec.schools)


@dataclass(frozen=True)
class EpisodeRequest:
    """A family allocated to MST, waiting for a therapist from a date."""

    key: str  # study ID
    randomised_on: dt.date
    wait_days: int


def schedule_episodes(
    rng: random.Random,
    requests: list[EpisodeRequest],
    *,
    caps: Mapping[str, int],
    supervisor: str,
    as_of: dt.date,
) -> dict[str, EpisodePlan]:
    """Give each MST family a therapist with a free place, first come first served.

    A family starts after its wait, or on the first day after that when a therapist is under
    their cap (the fewest open cases first). Families with no place by the as-of date are still
    waiting (left out). Episodes end in the service's usual mix of reasons (``plan_endings``);
    one still running at the as-of date started within four months, one that started earlier
    ended before it.
    """
    # In order of the day each could start: then starts never go backwards, so a place checked
    # free on a start day stays free for the whole episode (no later booking starts earlier).
    ordered = sorted(requests, key=lambda r: (r.randomised_on + dt.timedelta(r.wait_days), r.key))
    endings = plan_endings(rng, len(ordered))
    booked: dict[str, list[tuple[dt.date, dt.date]]] = {name: [] for name in caps}
    plans: dict[str, EpisodePlan] = {}
    for request, ending in zip(ordered, endings, strict=True):
        day = request.randomised_on + dt.timedelta(days=request.wait_days)
        while day <= as_of:
            load = {
                name: sum(1 for start, end in spans if start <= day < end)
                for name, spans in booked.items()
            }
            free = [name for name in caps if load[name] < caps[name]]
            if free:
                fewest = min(load[name] for name in free)
                therapist = rng.choice([name for name in free if load[name] == fewest])
                break
            day += dt.timedelta(days=1)
        else:
            continue
        end = day + dt.timedelta(days=ending.days)
        if end > as_of and (as_of - day).days > 118:
            end = as_of - dt.timedelta(days=rng.randint(1, 10))
        booked[therapist].append((day, end))
        if end > as_of:
            plans[request.key] = EpisodePlan(
                therapist=therapist, supervisor=supervisor, start_date=day
            )
            continue
        plans[request.key] = EpisodePlan(
            therapist=therapist,
            supervisor=supervisor,
            start_date=day,
            end_date=end,
            discharge_reason=ending.reason,
            discharge_notes=ending.notes,
            **dict(ending.outcomes),
        )
    return plans
