"""Demo steps: measures at their scheduled timepoints, family goals, contacts and meetings.

Rows are made with bulk_create (thousands of them), so each step writes one summary audit event
instead of one per row; everything else about them is as the services would store it (scores
from the scoring engine with its scoring version, timepoints from the schedules).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from mstoutcomes.accounts.services import audit_record
from mstoutcomes.cases.models import (
    Contact,
    DesiredOutcome,
    Episode,
    GoalStatus,
    IntermediateGoal,
    MeetingAttendee,
    OverarchingGoal,
    ProfessionalMeeting,
    YoungPerson,
)
from mstoutcomes.demo.builder import DemoContext, register_step
from mstoutcomes.measures import registry
from mstoutcomes.measures.models import Assessment, AssessmentStatus, Entry, Mode, ScaleScore
from mstoutcomes.measures.scoring import score
from mstoutcomes.measures.services import anchors_for, tasks_for
from mstoutcomes.measures.windows import DueTask, due_tasks

SDQ_SCALES = ("emotion", "conduct", "hyper", "peer", "prosocial")
TRIAL_SCHEDULE = "trial"  # measures/schedules/start-trial.yaml


@dataclass(frozen=True)
class Trajectory:
    """How one young person's difficulties change: a baseline and the share that improves."""

    baseline: dict[str, int]
    improvement: float  # 0 (none) to 1 (back to typical levels) by discharge
    adherence: float  # the family's typical TAM-R score


# Mean share of difficulties that resolve: MST completed, MST ended early, management as usual.
# Across the MST arm (about three in four complete) that is about 0.38 against 0.31: a modest
# effect, about 1.5 points of SDQ total difficulties (a standardised difference near 0.3).
IMPROVEMENT = {"completed": 0.45, "ended_early": 0.15, "usual_care": 0.31}


def plan_trajectory(rng: random.Random, *, completed: bool, usual_care: bool = False) -> Trajectory:
    """Return a clinical-range SDQ profile and how much it improves (more if MST completed)."""
    baseline = {
        "emotion": rng.randint(2, 7),
        "conduct": rng.randint(5, 9),
        "hyper": rng.randint(5, 9),
        "peer": rng.randint(2, 6),
        "prosocial": rng.randint(2, 6),
    }
    mean = IMPROVEMENT["usual_care" if usual_care else "completed" if completed else "ended_early"]
    improvement = max(0.0, min(1.0, rng.gauss(mean, 0.2)))
    adherence = max(0.2, min(1.0, rng.gauss(0.74 if completed else 0.55, 0.12)))
    return Trajectory(baseline, improvement, adherence)


def sdq_at(
    rng: random.Random, trajectory: Trajectory, progress: float, respondent: str
) -> dict[str, int]:
    """Return SDQ subscale scores part-way (0 baseline → 1 discharge) along the trajectory."""
    offset = {"parent": 0, "teacher": -1, "young_person": -1}[respondent]
    scores = {}
    for scale, start in trajectory.baseline.items():
        typical = 8 if scale == "prosocial" else 1
        value = start + (typical - start) * trajectory.improvement * progress
        value += rng.gauss(0, 1) + (0 if scale == "prosocial" else offset)
        scores[scale] = max(0, min(10, round(value)))
    return scores


def _progress(task: DueTask, episode: Episode, as_of: dt.date) -> float:
    end = episode.end_date or as_of
    span = max((end - episode.start_date).days, 1)
    return max(0.0, min(1.2, (task.due - episode.start_date).days / span))


def _entered(task: DueTask, rng: random.Random, trajectory: Trajectory, progress: float) -> dict:
    if task.instrument.startswith("sdq"):
        most = 6 if task.respondent == "teacher" else 10
        impact = round(most * 0.6 * (1 - trajectory.improvement * progress) + rng.gauss(0, 1))
        return sdq_at(rng, trajectory, progress, task.respondent) | {
            "impact": max(0, min(most, impact))
        }
    if task.instrument == "icu":
        left = 1 - 0.4 * trajectory.improvement * progress
        conduct = trajectory.baseline["conduct"]
        return {
            "callousness": _clamp(round((conduct * 1.6 + rng.gauss(2, 3)) * left), 0, 33),
            "uncaring": _clamp(round((conduct * 1.3 + rng.gauss(1, 3)) * left), 0, 24),
            "unemotional": _clamp(round((5 + rng.gauss(1, 2)) * left), 0, 15),
        }
    if task.instrument == "apq9":
        gain = trajectory.improvement * progress
        return {
            "positive": _clamp(round(9 + 4 * gain + rng.gauss(0, 1.5)), 3, 15),
            "inconsistent": _clamp(round(10 - 3 * gain + rng.gauss(0, 1.5)), 3, 15),
            "supervision": _clamp(round(9 - 3 * gain + rng.gauss(0, 1.5)), 3, 15),
        }
    if task.instrument == "tam-r":
        return {"adherence": f"{max(0.0, min(1.0, rng.gauss(trajectory.adherence, 0.08))):.2f}"}
    if task.instrument == "srd":
        variety = max(0, round(5 * (1 - trajectory.improvement) + rng.gauss(0, 1.5)))
        return {"variety": min(variety, 12), "volume": min(120, variety * rng.randint(1, 6))}
    return {}


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def _responses(task: DueTask, rng: random.Random, trajectory: Trajectory, progress: float) -> dict:
    if task.instrument == "gbo":
        base = 2 + 6 * trajectory.improvement * min(progress, 1)
        return {f"goal_{n}": max(0, min(10, round(base + rng.gauss(0, 1.2)))) for n in (1, 2, 3)}
    if task.instrument == "mst-discharge":
        return {
            "living_at_home": int(rng.random() < 0.9),
            "in_school_or_work": int(rng.random() < 0.85),
            "no_new_arrests": int(rng.random() < 0.86),
        }
    return {}


def _completion(rng: random.Random, task: DueTask, as_of: dt.date) -> tuple[str, dt.date | None]:
    """Decide what happened to a task whose window has opened: realistic missingness."""
    chance = 0.65 if task.collected_by == "research" else 0.82
    if task.respondent == "teacher":
        chance -= 0.2
    roll = rng.random()
    if roll < chance:
        late = rng.random() < 0.12
        day = (
            task.closes + dt.timedelta(days=rng.randint(1, 20))
            if late
            else (task.opens + dt.timedelta(days=rng.randint(0, (task.closes - task.opens).days)))
        )
        return ("completed", day) if day <= as_of else ("open", None)
    if task.closes >= as_of:
        return "open", None  # still in its window: on someone's worklist
    if roll < chance + 0.08:
        return "refused", None
    if roll < chance + 0.2:
        return "missed", None
    return "open", None  # overdue and never chased: shows as overdue


def _visit(
    rng: random.Random, task: DueTask, as_of: dt.date, randomised_on: dt.date
) -> tuple[str, dt.date | None]:
    """Decide a research visit: research workers chase families, so most happen in the window.

    Baseline (open from consent) is collected before randomisation, as the protocol asks.
    """
    chance = 0.96 if task.timepoint == "t0" else 0.87
    if rng.random() < chance:
        last = task.closes
        if task.timepoint == "t0":
            last = max(task.opens, min(last, randomised_on - dt.timedelta(days=1)))
        day = task.opens + dt.timedelta(days=rng.randint(0, (last - task.opens).days))
        return ("completed", day) if day <= as_of else ("open", None)
    if task.closes >= as_of:
        return "open", None
    return ("refused", None) if rng.random() < 0.3 else ("missed", None)


def _research_progress(task: DueTask, randomised_on: dt.date) -> float:
    """Return how far along a research timepoint is: MST lasts about 4-5 months."""
    return max(0.0, min(1.0, (task.due - randomised_on).days / 182))


def _trial_outcome(
    rng: random.Random,
    task: DueTask,
    course: Any,
    as_of: dt.date,
    visits: dict[str, tuple[str, dt.date | None]],
) -> tuple[str, dt.date | None] | None:
    """Decide a research task: None when nothing is recorded (withdrawn, or not yet due).

    A timepoint is one research visit: its questionnaires are all done that day, or none are.
    """
    if course.withdrawn_on is not None and task.opens > course.withdrawn_on:
        return None  # withdrawn from further data collection: nobody asks
    month = int(task.timepoint.removeprefix("t") or 0)
    if course.lost_from_month is not None and month >= course.lost_from_month:
        return ("missed", None) if task.closes < as_of else None
    if task.timepoint not in visits:
        visits[task.timepoint] = _visit(rng, task, as_of, course.randomised_on)
    outcome, day = visits[task.timepoint]
    if course.withdrawn_on is not None and (day or task.closes) > course.withdrawn_on:
        return None
    return outcome, day


LOST_REASON = "Family could not be contacted: lost to follow-up"
MISSED_REASON = "Family could not be reached in the window"


@dataclass(frozen=True)
class _Person:
    person: YoungPerson
    episode: Episode | None
    course: Any
    trajectory: Trajectory
    # Each research timepoint's visit: (outcome, day), decided once for all its tasks.
    visits: dict[str, tuple[str, dt.date | None]] = field(default_factory=dict)


def _decide(
    rng: random.Random, task: DueTask, who: _Person, as_of: dt.date
) -> tuple[str, dt.date | None] | None:
    """Decide a task: research tasks for trial participants, therapists' during an episode."""
    course, episode = who.course, who.episode
    if task.schedule == TRIAL_SCHEDULE:
        return None if course is None else _trial_outcome(rng, task, course, as_of, who.visits)
    if episode is None:
        return None
    return _completion(rng, task, as_of)


def _assessment(
    ctx: DemoContext, who: _Person, task: DueTask, outcome: str, day: dt.date | None, by: Any
) -> Assessment:
    definition = registry.instruments()[task.instrument]
    is_research = task.schedule == TRIAL_SCHEDULE
    reason = ""
    if outcome == "missed":
        lost = is_research and who.course.lost_from_month is not None
        reason = LOST_REASON if lost else MISSED_REASON
    assessment = Assessment(
        young_person=who.person,
        episode=None if is_research else who.episode,
        instrument=task.instrument,
        instrument_version=definition.version,
        respondent=task.respondent,
        schedule=task.schedule,
        timepoint=task.timepoint,
        status=outcome,
        entry=Entry.NONE,
        reason=reason,
        entered_by=by,
    )
    if outcome == "completed":
        if is_research:
            progress = _research_progress(task, who.course.randomised_on)
        else:
            progress = _progress(task, who.episode, ctx.as_of)  # type: ignore[arg-type]
        entered = _entered(task, ctx.rng, who.trajectory, progress)
        responses = _responses(task, ctx.rng, who.trajectory, progress)
        result = score(definition, task.respondent, responses=responses, entered=entered)
        assessment.completed_on = day
        assessment.mode = ctx.rng.choice([Mode.PAPER, Mode.PAPER, Mode.PHONE])
        assessment.entry = Entry.ITEMS if responses else Entry.SCORES
        assessment.responses = {"items": responses, "scales": entered}
        assessment.scores = result.as_dict()
        assessment.scoring_version = definition.scoring_version
        # Therapists sometimes enter a service measure late, at the timepoint they choose.
        assessment.out_of_window = not task.contains(day)  # type: ignore[arg-type]
    return assessment


def record_trial_baseline(
    ctx: DemoContext, visits: list[tuple[YoungPerson, dt.date, dt.date]]
) -> int:
    """Record the trial baseline (t0) for families about to be randomised: (person, planned
    randomisation day, visit day). Baseline comes before randomisation, so the trial step calls
    this first; the measures step then leaves these t0 tasks alone. Returns assessments made."""
    research = ctx.users.get("research")
    schedule = registry.schedules()[TRIAL_SCHEDULE]
    t0 = next(tp for tp in schedule.timepoints if tp.code == "t0")
    baselines: dict[int, dict[str, int]] = ctx.extras.setdefault("trial_baseline", {})
    rows: list[tuple[Assessment, dict[str, Any]]] = []
    for person, randomise_on, day in visits:
        trajectory = plan_trajectory(ctx.rng, completed=False)
        baselines[person.pk] = trajectory.baseline
        course = _BaselineCourse(randomise_on)
        who = _Person(person, None, course, trajectory)
        # The real baseline tasks: anchored on the consent already recorded, with their windows.
        tasks = [
            t
            for t in tasks_for(person, None)
            if (t.schedule, t.timepoint) == (TRIAL_SCHEDULE, t0.code)
        ]
        for task in tasks:
            assessment = _assessment(ctx, who, task, "completed", day, research)
            rows.append((assessment, assessment.scores.get("scales", {})))
    _save(rows)
    return len(rows)


@dataclass(frozen=True)
class _BaselineCourse:
    randomised_on: dt.date
    lost_from_month: int | None = None


def _save(rows: list[tuple[Assessment, dict[str, Any]]]) -> int:
    Assessment.objects.bulk_create([a for a, _ in rows], batch_size=500)
    scale_rows = [
        ScaleScore(
            assessment=assessment,
            scale=code,
            value=None if values["value"] is None else Decimal(str(values["value"])),
            prorated=values["prorated"],
        )
        for assessment, scales in rows
        for code, values in scales.items()
    ]
    ScaleScore.objects.bulk_create(scale_rows, batch_size=1000)
    return len(scale_rows)


# The demo's one trial assessment collected outside its window, kept with its reason.
OUT_OF_WINDOW_REASON = (
    "The parent's questionnaire came back by post after the window closed; the family was "
    "away for the whole window."
)


def _one_out_of_window(rows: list[tuple[Assessment, dict[str, Any]]], as_of: dt.date) -> None:
    """Move one completed 6-month parent APQ-9 past its window, flagged with the reason."""
    for assessment, _ in sorted(rows, key=lambda r: r[0].young_person.study_id):
        if (
            assessment.schedule == TRIAL_SCHEDULE
            and assessment.timepoint == "t6"
            and assessment.instrument == "apq9"
            and assessment.respondent == "parent"
            and assessment.status == AssessmentStatus.COMPLETED
            and assessment.completed_on is not None
        ):
            window = _trial_window(assessment)
            late = window + dt.timedelta(days=12)
            if late > as_of:
                continue
            assessment.completed_on = late
            assessment.out_of_window = True
            assessment.out_of_window_reason = OUT_OF_WINDOW_REASON
            return


def _trial_window(assessment: Assessment) -> dt.date:
    """Return the day the assessment's trial window closes."""
    key = (assessment.schedule, assessment.timepoint, assessment.instrument, assessment.respondent)
    task = next(t for t in tasks_for(assessment.young_person, None) if t.key == key)
    return task.closes


@register_step("measures", order=300)
def measures(ctx: DemoContext) -> str:
    """Write every young person's scheduled measures up to the as-of date.

    Therapists enter the MST service's measures during treatment; the research worker (the
    trial's outcome assessor) enters the trial's assessments (baseline from consent, before
    randomisation; 6, 12, 18 months from randomisation) for both arms, within their windows,
    never linked to an episode, so they say nothing about the arm. One 6-month questionnaire
    came back late: it is kept out of window, with its reason.
    """
    schedules = list(registry.schedules().values())
    courses = ctx.extras.get("trial", {})
    baselines: dict[int, dict[str, int]] = ctx.extras.get("trial_baseline", {})
    research = ctx.users.get("research")
    by_person = {e.young_person_id: e for e in ctx.episodes}
    people = [p for p in ctx.young_people if p.pk in by_person or p.study_id in courses]
    rows: list[tuple[Assessment, dict[str, Any]]] = []
    trajectories: dict[int, Trajectory] = {}
    for person in ctx.track(people, "Measures"):
        episode = by_person.get(person.pk)
        course = courses.get(person.study_id)
        completed = episode is not None and episode.discharge_reason in ("", "completed")
        trajectory = plan_trajectory(
            ctx.rng, completed=completed, usual_care=course is not None and episode is None
        )
        recorded_baseline = baselines.get(person.pk)
        if recorded_baseline is not None:
            # The trial baseline was recorded before randomisation (trial step): same profile.
            trajectory = replace(trajectory, baseline=recorded_baseline)
        trajectories[person.pk] = trajectory
        who = _Person(person, episode, course, trajectory)
        for task in (t for s in schedules for t in due_tasks(s, anchors_for(person, episode))):
            if task.opens > ctx.as_of:
                continue
            if recorded_baseline is not None and (task.schedule, task.timepoint) == (
                TRIAL_SCHEDULE,
                "t0",
            ):
                continue
            decided = _decide(ctx.rng, task, who, ctx.as_of)
            if decided is None or decided[0] == "open":
                continue
            day = decided[1]
            if course is not None and task.schedule != TRIAL_SCHEDULE and day is not None:
                # Treatment measures never come before randomisation (the protocol order).
                decided = (decided[0], max(day, course.randomised_on))
            by = research if task.schedule == TRIAL_SCHEDULE else episode.therapist  # type: ignore[union-attr]
            assessment = _assessment(ctx, who, task, decided[0], decided[1], by)
            rows.append((assessment, assessment.scores.get("scales", {})))
    _one_out_of_window(rows, ctx.as_of)
    scale_scores = _save(rows)
    ctx.extras["measures"] = {"trajectories": trajectories}
    done = sum(1 for a, _ in rows if a.status == AssessmentStatus.COMPLETED)
    audit_record(
        actor=None,
        action="demo.measures.created",
        data={"assessments": len(rows), "completed": done, "scale_scores": scale_scores},
    )
    return f"{done} measures completed, {len(rows) - done} missed or refused"


GOALS = [
    "Attend school every day and arrive on time",
    "No further arrests or police call-outs",
    "Follow the household rules on curfew agreed with mum",
    "Spend evenings with friends who stay out of trouble",
    "Fewer arguments at home that end in shouting or violence",
    "Take part in a club or activity every week",
]
STEPS = [
    (
        "Agree a 9pm curfew with clear rewards",
        "Mum kept to the plan all week",
        "Friends called late",
    ),
    ("Daily check-in with head of year", "Attended four of five days", "Missed Monday"),
    ("Replace Friday nights with football training", "Went twice", "Coach changed the time"),
    ("Mum and dad use the same consequence for swearing", "Calmer evenings", "Dad away"),
    ("Text mum when leaving school", "Texted every day", ""),
]


def _week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


@register_step("goals", order=310)
def goals_contacts_meetings(ctx: DemoContext) -> str:
    """Write goals, weekly intermediate goals, contacts and multi-agency meetings."""
    agencies = list(ctx.agencies.values())
    goal_rows: list[OverarchingGoal] = []
    outcome_rows: list[DesiredOutcome] = []
    contact_rows: list[Contact] = []
    meeting_rows: list[tuple[ProfessionalMeeting, list[MeetingAttendee]]] = []
    by_person: dict[int, Episode] = {e.young_person_id: e for e in ctx.episodes}
    for person in ctx.track(ctx.young_people, "Goals and meetings"):
        episode = by_person.get(person.pk)
        meeting_rows += _meetings(ctx, person, episode, agencies)
        if episode is None:
            continue
        outcome_rows += [
            DesiredOutcome(young_person=person, episode=episode, participant=who, outcome=what)
            for who, what in (("Mother", "Stop the fighting at home"), ("School", GOALS[0]))
        ]
        end = episode.end_date or ctx.as_of
        for number, text in enumerate(ctx.rng.sample(GOALS, 3), start=1):
            status = GoalStatus.IN_PROGRESS
            if episode.end_date:
                status = ctx.rng.choices(
                    [GoalStatus.MET, GoalStatus.PARTLY_MET, GoalStatus.NOT_MET], [5, 3, 2]
                )[0]
            goal_rows.append(
                OverarchingGoal(
                    young_person=person,
                    episode=episode,
                    number=number,
                    description=text,
                    agreed_on=episode.start_date + dt.timedelta(days=ctx.rng.randint(3, 14)),
                    status=status,
                )
            )
        day = episode.start_date
        while day <= end:
            for _ in range(ctx.rng.choice([2, 3, 3, 4])):
                contact_rows.append(
                    Contact(
                        young_person=person,
                        episode=episode,
                        staff=episode.therapist,
                        date=min(day + dt.timedelta(days=ctx.rng.randint(0, 6)), end),
                        duration_minutes=ctx.rng.choice([30, 45, 60, 60, 90, 120]),
                        kind=ctx.rng.choice(["face_to_face"] * 4 + ["phone", "message"]),
                        place=ctx.rng.choice(["home", "home", "home", "school", "community"]),
                        present=ctx.rng.choice(
                            [
                                "Young person, mother",
                                "Mother",
                                "Family",
                                "Young person",
                                "Mother, head of year",
                            ]
                        ),
                    )
                )
            day += dt.timedelta(days=7)
    OverarchingGoal.objects.bulk_create(goal_rows, batch_size=500)
    DesiredOutcome.objects.bulk_create(outcome_rows, batch_size=500)
    weekly = _weekly_goals(ctx, goal_rows, by_person)
    IntermediateGoal.objects.bulk_create(weekly, batch_size=500)
    Contact.objects.bulk_create(contact_rows, batch_size=1000)
    ProfessionalMeeting.objects.bulk_create([m for m, _ in meeting_rows], batch_size=500)
    attendee_rows = []
    for meeting, attendees in meeting_rows:
        for attendee in attendees:
            attendee.meeting = meeting
            attendee_rows.append(attendee)
    MeetingAttendee.objects.bulk_create(attendee_rows, batch_size=1000)
    audit_record(
        actor=None,
        action="demo.goals.created",
        data={
            "goals": len(goal_rows),
            "weekly_goals": len(weekly),
            "contacts": len(contact_rows),
            "meetings": len(meeting_rows),
        },
    )
    return (
        f"{len(goal_rows)} goals, {len(weekly)} weekly goals, {len(contact_rows)} contacts, "
        f"{len(meeting_rows)} professional meetings"
    )


def _weekly_goals(
    ctx: DemoContext, goals: list[OverarchingGoal], by_person: dict[int, Episode]
) -> list[IntermediateGoal]:
    rows = []
    for goal in goals:
        if goal.number != 1 and ctx.rng.random() < 0.5:
            continue
        episode = by_person[goal.young_person_id]
        end = episode.end_date or ctx.as_of
        week = _week_start(goal.agreed_on)
        while week <= end:
            text, advance, barrier = ctx.rng.choice(STEPS)
            rows.append(
                IntermediateGoal(
                    young_person_id=goal.young_person_id,
                    overarching_goal=goal,
                    week_starting=week,
                    description=text,
                    status=ctx.rng.choice(
                        [GoalStatus.MET, GoalStatus.PARTLY_MET, GoalStatus.NOT_MET]
                    )
                    if week + dt.timedelta(7) <= end
                    else GoalStatus.IN_PROGRESS,
                    advances=advance,
                    barriers=barrier,
                )
            )
            week += dt.timedelta(days=7 * ctx.rng.choice([1, 1, 2]))
    return rows


def _meetings(
    ctx: DemoContext, person: YoungPerson, episode: Episode | None, agencies: list[Any]
) -> list[tuple[ProfessionalMeeting, list[MeetingAttendee]]]:
    """Professional meetings: frequent before MST, fewer during, fewest after."""
    anchor = episode.start_date if episode else (person.referred_on or ctx.as_of)
    spans = [(anchor - dt.timedelta(days=365), anchor, 1.0)]
    course = ctx.extras.get("trial", {}).get(person.study_id)
    if course is not None and episode is None:
        # Management as usual: the agencies keep meeting about the family after randomisation.
        randomised = course.randomised_on
        spans = [
            (randomised - dt.timedelta(days=365), randomised, 1.0),
            (randomised, min(randomised + dt.timedelta(days=365), ctx.as_of), 0.8),
        ]
    if episode:
        end = episode.end_date or ctx.as_of
        spans.append((episode.start_date, end, 0.6))
        if episode.end_date:
            spans.append(
                (episode.end_date, min(episode.end_date + dt.timedelta(365), ctx.as_of), 0.3)
            )
    rows = []
    purposes = ["professionals", "child_in_need", "youth_justice", "education", "strategy"]
    for start, end, per_month in spans:
        months = max((end - start).days, 0) / 30.44
        for _ in range(round(months * per_month * ctx.rng.uniform(0.6, 1.4))):
            day = start + dt.timedelta(days=ctx.rng.randint(0, max((end - start).days - 1, 0)))
            if day > ctx.as_of:
                continue
            meeting = ProfessionalMeeting(
                young_person=person,
                date=day,
                purpose=ctx.rng.choice(purposes),
                duration_minutes=ctx.rng.choice([45, 60, 60, 90, 120]),
            )
            attendees = [
                MeetingAttendee(agency=agency, role="Lead worker", people=ctx.rng.randint(1, 2))
                for agency in ctx.rng.sample(agencies, min(len(agencies), ctx.rng.randint(2, 4)))
            ]
            rows.append((meeting, attendees))
    return rows
