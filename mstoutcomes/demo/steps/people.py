"""Demo step: young people, their families and agencies, and episodes outside the trial.

At the trial site episodes are opened later, only for families randomised to MST (steps/trial.py).
"""

from __future__ import annotations

from mstoutcomes.cases.services import (
    agency_involvement_save,
    episode_discharge,
    episode_open,
    family_member_save,
    young_person_create,
)
from mstoutcomes.demo import data
from mstoutcomes.demo.builder import DemoContext, register_step
from mstoutcomes.demo.plan import PersonPlan, plan_site


def plan_people(ctx: DemoContext) -> list[PersonPlan]:
    """Return every site's planned young people, with no two sharing a name with anyone."""
    taken = {f"{staff.first_name} {staff.last_name}" for staff in data.STAFF}
    plans: list[PersonPlan] = []
    for site in data.SITES:
        site_plans = plan_site(site, rng=ctx.rng, as_of=ctx.as_of, taken_names=taken)
        taken |= {f"{p.given_name} {p.family_name}" for p in site_plans}
        plans.extend(site_plans)
    return plans


@register_step("people", order=110)
def people(ctx: DemoContext) -> str:
    """Write the planned young people through the case services, in referral order per site."""
    plans = plan_people(ctx)
    for plan in ctx.track(plans, "Young people"):
        write_person(ctx, plan)
    in_treatment = sum(1 for e in ctx.episodes if e.end_date is None)
    discharged = len(ctx.episodes) - in_treatment
    in_trial = sum(1 for plan in plans if plan.trial is not None)
    return (
        f"{len(ctx.young_people)} young people: {in_trial} referred to the trial site; "
        f"elsewhere {discharged} discharged, {in_treatment} in treatment, "
        f"{len(ctx.young_people) - in_trial - len(ctx.episodes)} awaiting MST"
    )


def write_person(ctx: DemoContext, plan: PersonPlan) -> None:
    """Create one planned young person and everything around them."""
    person = young_person_create(
        by=None,
        site=ctx.sites[plan.site],
        fields={
            **plan.young_person_fields(),
            "referring_agency": ctx.agencies[plan.referring_agency],
        },
    )
    for member in plan.family:
        family_member_save(by=None, young_person=person, fields=member.fields())
    for involvement in plan.involvements:
        fields = {**involvement.__dict__, "agency": ctx.agencies[involvement.agency]}
        agency_involvement_save(by=None, young_person=person, fields=fields)
    if plan.episode is not None:
        episode = episode_open(
            by=None,
            young_person=person,
            fields={
                "start_date": plan.episode.start_date,
                "therapist": ctx.users[plan.episode.therapist],
                "supervisor": ctx.users[plan.episode.supervisor],
            },
        )
        if plan.episode.end_date is not None:
            episode = episode_discharge(
                by=None, episode=episode, fields=plan.episode.discharge_fields()
            )
        ctx.episodes.append(episode)
    ctx.young_people.append(person)
    ctx.plans[person.study_id] = plan
