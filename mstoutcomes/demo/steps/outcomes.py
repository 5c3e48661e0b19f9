"""Demo step: administrative records in the 12 months before, during and after MST.

Made with bulk_create (one summary audit event), marked with provenance "demo". Rates fall (or,
for attendance and activities, rise) during and after MST in proportion to each young person's
improvement, planned in the measures step, so the records and the measures tell one story.

Trial participants (both arms) have records for the 12 months before and after randomisation:
families in management as usual improve too, a little less, and both arms have placements and
custody in follow-up, fewer in the MST arm (a modest effect, as in the trial literature).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from mstoutcomes.accounts.services import audit_record
from mstoutcomes.cases.models import Episode, YoungPerson
from mstoutcomes.demo.builder import DemoContext, register_step
from mstoutcomes.outcomes import models as m

SCHOOL_TERMS = [
    (9, 1, 10, 24),
    (11, 3, 12, 19),
    (1, 6, 2, 13),
    (2, 23, 3, 31),
    (4, 20, 5, 22),
    (6, 2, 7, 22),
]
CATEGORIES = [
    ("theft", 2),
    ("violence", 3),
    ("criminal_damage", 2),
    ("drugs", 3),
    ("public_order", 2),
    ("weapons", 5),
    ("robbery", 6),
    ("burglary", 4),
]


def periods(start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """Return the school half-terms overlapping [start, end]."""
    found = []
    for year in range(start.year - 1, end.year + 1):
        for m1, d1, m2, d2 in SCHOOL_TERMS:
            begin_year = year if m1 >= 9 else year + 1
            end_year = year if m2 >= 9 else year + 1
            begin, finish = dt.date(begin_year, m1, d1), dt.date(end_year, m2, d2)
            if finish >= start and begin <= end:
                found.append((begin, finish))
    return sorted(found)


# Chance of a placement in care, or of custody, in a period (12 months), by arm after
# randomisation; before it, everyone is alike.
PLACEMENT_CHANCE = {"before": 0.16, "MAU": 0.32, "MST": 0.18}
CUSTODY_CHANCE = {"before": 0.07, "MAU": 0.15, "MST": 0.08}


def trial_factor(day: dt.date, course: Any, episode: Episode | None, improvement: float) -> float:
    """Return how much trouble remains on a day for a trial participant (1 before randomisation)."""
    if day < course.randomised_on:
        return 1.0
    if episode is not None:
        return phase_factor(day, episode, improvement)
    # Management as usual: change comes slowly over the first six months, and the services'
    # records show less of it than the family's own report does.
    return 1 - 0.85 * improvement * min(1.0, (day - course.randomised_on).days / 182)


def phase_factor(day: dt.date, episode: Episode | None, improvement: float) -> float:
    """Return how much of the young person's trouble remains on a day (1 before MST)."""
    if episode is None or day < episode.start_date:
        return 1.0
    if episode.end_date is None or day <= episode.end_date:
        return 1 - improvement * 0.5
    return 1 - improvement


def _base(ctx: DemoContext, person: YoungPerson, model: type, **fields) -> m.AdministrativeRecord:
    return model(
        young_person=person,
        provenance=m.Provenance.DEMO,
        source_system="Demo",
        extracted_on=ctx.as_of,
        **fields,
    )


def _poisson(rng: random.Random, mean: float) -> int:
    count, total = 0, rng.expovariate(1)
    while total < mean:
        count += 1
        total += rng.expovariate(1)
    return count


def _school(
    ctx: DemoContext,
    person: YoungPerson,
    factor: Callable[[dt.date], float],
    start: dt.date,
    end: dt.date,
    rows: dict[type, list],
) -> None:
    """Attendance per half-term and suspensions, better during and after MST."""
    rng = ctx.rng
    base_rate = rng.uniform(0.55, 0.85)
    for begin, finish in periods(start, end):
        if finish > ctx.as_of:
            continue
        possible = 2 * sum(
            1 for n in range((finish - begin).days + 1) if (begin + dt.timedelta(n)).weekday() < 5
        )
        trouble = factor(finish)
        rate = min(0.99, 1 - (1 - base_rate) * trouble + rng.gauss(0, 0.03))
        attended = max(0, min(possible, round(possible * rate)))
        authorised = min(possible - attended, round((possible - attended) * 0.3))
        rows[m.AttendancePeriod].append(
            _base(
                ctx,
                person,
                m.AttendancePeriod,
                period_start=begin,
                period_end=finish,
                school=person.school or "Local secondary",
                sessions_possible=possible,
                sessions_attended=attended,
                authorised_absence=authorised,
                unauthorised_absence=possible - attended - authorised,
            )
        )
        for _ in range(_poisson(rng, 0.5 * trouble)):
            rows[m.Exclusion].append(
                _base(
                    ctx,
                    person,
                    m.Exclusion,
                    kind="suspension",
                    start_date=begin + dt.timedelta(days=rng.randint(0, (finish - begin).days)),
                    days=Decimal(rng.choice(["0.5", "1", "2", "3", "5"])),
                    reason=rng.choice(["Persistent disruption", "Verbal abuse", "Fighting"]),
                )
            )


def choose_placed(rng: random.Random, courses: dict[str, Any]) -> set[tuple[str, str, str]]:
    """Choose who is placed in care or custody in each period: (kind, period, study ID).

    Exact shares of each arm (not a coin per person), so the demo's modest effect does not
    vanish or reverse by chance in a trial of about 40 a side.
    """
    groups = {"before": sorted(courses)}
    for key, course in sorted(courses.items()):
        groups.setdefault(course.arm, []).append(key)
    chosen = set()
    for kind, chances in (("placement", PLACEMENT_CHANCE), ("custody", CUSTODY_CHANCE)):
        for period, keys in groups.items():
            share = chances.get(period, chances["MAU"])
            chosen |= {(kind, period, key) for key in rng.sample(keys, round(share * len(keys)))}
    return chosen


def _trial_placements(
    ctx: DemoContext,
    person: YoungPerson,
    course: Any,
    placed: set[tuple[str, str, str]],
    rows: dict[type, list],
) -> None:
    """Placements and custody in the year before randomisation and the year after, by arm."""
    rng = ctx.rng
    for period in ("before", course.arm):
        begin = course.randomised_on - dt.timedelta(days=365 if period == "before" else -1)
        # A placement or custody before randomisation ends by then (the family is at home when
        # referred), so the arms start follow-up alike.
        last = course.randomised_on - dt.timedelta(days=1) if period == "before" else ctx.as_of
        if ("placement", period, person.study_id) in placed:
            day = begin + dt.timedelta(days=rng.randint(0, 300))
            if day <= min(last, ctx.as_of):
                rows[m.Placement].append(
                    _base(
                        ctx,
                        person,
                        m.Placement,
                        kind=rng.choice(["foster"] * 6 + ["kinship"] * 3 + ["residential"]),
                        start_date=day,
                        end_date=min(last, day + dt.timedelta(rng.randint(21, 150))),
                    )
                )
        if ("custody", period, person.study_id) in placed:
            day = begin + dt.timedelta(days=rng.randint(0, 320))
            if day <= min(last, ctx.as_of):
                rows[m.CustodyEpisode].append(
                    _base(
                        ctx,
                        person,
                        m.CustodyEpisode,
                        kind=rng.choice(["remand", "remand", "sentence"]),
                        establishment=rng.choice(["yoi", "stc", "sch"]),
                        start_date=day,
                        end_date=min(last, day + dt.timedelta(days=rng.randint(7, 90))),
                    )
                )


def _window(
    ctx: DemoContext, person: YoungPerson, episode: Episode | None, course: Any
) -> tuple[dt.date, dt.date]:
    """Return the records' period: a year either side of randomisation, or of MST."""
    if course is not None:
        return (
            course.randomised_on - dt.timedelta(days=365),
            min(course.randomised_on + dt.timedelta(days=365), ctx.as_of),
        )
    anchor = episode.start_date if episode else (person.referred_on or ctx.as_of)
    end = episode.end_date + dt.timedelta(days=365) if episode and episode.end_date else ctx.as_of
    return anchor - dt.timedelta(days=365), min(end, ctx.as_of)


def _offending(
    ctx: DemoContext,
    person: YoungPerson,
    factor: Callable[[dt.date], float],
    start: dt.date,
    end: dt.date,
    rows: dict[type, list],
) -> None:
    """Offences with their arrests, and missing episodes, less often as trouble falls."""
    rng = ctx.rng
    months = max((end - start).days, 0) / 30.44
    # Some young people offend far more than others (over-dispersed counts, as real data are).
    propensity = rng.gammavariate(1.2, 1 / 1.2)
    for _ in range(_poisson(rng, months * 0.25 * propensity)):
        day = start + dt.timedelta(days=rng.randint(0, max((end - start).days, 1)))
        if rng.random() > factor(day) or day > ctx.as_of:
            continue
        category, gravity = rng.choice(CATEGORIES)
        rows[m.Offence].append(
            _base(
                ctx,
                person,
                m.Offence,
                offence_date=day,
                category=category,
                gravity=min(8, gravity + rng.choice([0, 0, 1])),
                outcome=rng.choice(
                    ["community_resolution", "youth_caution", "referral_order", "yro", "nfa"]
                ),
                description="",
            )
        )
        rows[m.PoliceContact].append(
            _base(
                ctx,
                person,
                m.PoliceContact,
                date=day,
                kind="arrest",
                outcome="Charged" if rng.random() < 0.5 else "Released under investigation",
            )
        )
    for _ in range(_poisson(rng, months * 0.1)):
        day = start + dt.timedelta(days=rng.randint(0, max((end - start).days, 1)))
        if day <= ctx.as_of and rng.random() < factor(day):
            rows[m.MissingEpisode].append(
                _base(
                    ctx,
                    person,
                    m.MissingEpisode,
                    start_date=day,
                    end_date=day + dt.timedelta(days=rng.choice([0, 1, 1, 2])),
                    reported_to_police=True,
                )
            )


def _service_placements(
    ctx: DemoContext, person: YoungPerson, start: dt.date, rows: dict[type, list]
) -> None:
    """Placements and custody outside the trial, mostly before MST."""
    rng = ctx.rng
    if rng.random() < 0.12:
        day = start + dt.timedelta(days=rng.randint(0, 200))
        rows[m.Placement].append(
            _base(
                ctx,
                person,
                m.Placement,
                kind=rng.choice(["foster", "kinship", "residential"]),
                start_date=day,
                end_date=min(ctx.as_of, day + dt.timedelta(rng.randint(30, 150))),
            )
        )
    if rng.random() < 0.05:
        day = start + dt.timedelta(days=rng.randint(0, 200))
        rows[m.CustodyEpisode].append(
            _base(
                ctx,
                person,
                m.CustodyEpisode,
                kind="remand",
                establishment=rng.choice(["yoi", "stc", "sch"]),
                start_date=day,
                end_date=min(ctx.as_of, day + dt.timedelta(days=rng.randint(7, 60))),
            )
        )


def _activity(
    ctx: DemoContext,
    person: YoungPerson,
    episode: Episode | None,
    improvement: float,
    rows: dict[type, list],
) -> None:
    """A pro-social activity taken up during MST, more often when things improve."""
    rng = ctx.rng
    if episode and rng.random() < 0.4 + improvement * 0.5:
        day = episode.start_date + dt.timedelta(days=rng.randint(20, 90))
        if day <= ctx.as_of:
            rows[m.ProsocialActivity].append(
                _base(
                    ctx,
                    person,
                    m.ProsocialActivity,
                    kind=rng.choice(["sport", "youth_club", "arts", "volunteering", "work"]),
                    hours_per_week=Decimal(rng.choice(["1.5", "2", "3", "4", "6"])),
                    start_date=day,
                    end_date=None,
                )
            )


@register_step("outcomes", order=500)
def outcomes(ctx: DemoContext) -> str:
    """Write attendance, exclusions, offending, placements, missing episodes and activities."""
    by_person = {e.young_person_id: e for e in ctx.episodes}
    trajectories = ctx.extras.get("measures", {}).get("trajectories", {})
    rows: dict[type, list] = {model: [] for model in m.AdministrativeRecord.__subclasses__()}
    courses = ctx.extras.get("trial", {})
    placed = choose_placed(ctx.rng, courses)
    for person in ctx.track(ctx.young_people, "Administrative records"):
        episode = by_person.get(person.pk)
        trajectory = trajectories.get(person.pk)
        improvement = trajectory.improvement if trajectory else 0.0
        course = courses.get(person.study_id)
        start, end = _window(ctx, person, episode, course)

        def factor(
            day: dt.date, course: Any = course, episode: Any = episode, imp: float = improvement
        ) -> float:
            if course is not None:
                return trial_factor(day, course, episode, imp)
            return phase_factor(day, episode, imp)

        _school(ctx, person, factor, start, end, rows)
        _offending(ctx, person, factor, start, end, rows)
        if course is not None:
            _trial_placements(ctx, person, course, placed, rows)
        else:
            _service_placements(ctx, person, start, rows)
        _activity(ctx, person, episode, improvement, rows)
    counts = {}
    for model, records in rows.items():
        model.objects.bulk_create(records, batch_size=1000)
        counts[model._meta.model_name] = len(records)
    audit_record(actor=None, action="demo.outcomes.created", data=counts)
    return (
        f"{counts['attendanceperiod']} attendance periods, {counts['offence']} offences, "
        f"{counts['exclusion']} exclusions, {sum(counts.values())} records in all"
    )
