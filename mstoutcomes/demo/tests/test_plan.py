"""The demo planner and step registry, without the database."""

import datetime as dt
import random
from collections import Counter

import pytest

from mstoutcomes.core.dates import age_on
from mstoutcomes.core.identifiers import is_nhs_number, is_upn
from mstoutcomes.demo import builder, data
from mstoutcomes.demo.plan import (
    EpisodeRequest,
    date_of_birth_for,
    nhs_number,
    plan_site,
    quota,
    schedule_episodes,
    upn,
)

AS_OF = dt.date(2026, 3, 31)
TRAFFORD = data.SITES[0]
STOCKPORT = data.SITES[1]


def _plan(seed: int, as_of: dt.date = AS_OF):
    return plan_site(TRAFFORD, rng=random.Random(seed), as_of=as_of)


def test_quota_splits_a_total_in_proportion_and_adds_up():
    counts = quota(data.DISCHARGE_MIX, 33)

    assert sum(counts.values()) == 33
    assert counts["completed"] == 25
    assert all(counts[reason] >= 1 for reason in data.DISCHARGE_MIX)


@pytest.mark.parametrize("on", [dt.date(2024, 2, 29), dt.date(2025, 1, 1), dt.date(2025, 12, 31)])
@pytest.mark.parametrize("age", [11, 14, 17])
def test_date_of_birth_gives_exactly_the_age_wanted(on, age):
    rng = random.Random(7)

    assert {age_on(date_of_birth_for(rng, age, on), on) for _ in range(200)} == {age}


def test_synthetic_nhs_numbers_and_upns_pass_their_check_digits():
    rng = random.Random(3)

    for _ in range(200):
        number = nhs_number(rng)
        assert number.startswith("999")
        assert is_nhs_number(number)
        assert is_upn(upn(rng, "358", dt.date(2011, 5, 1)))


def test_same_seed_and_date_plan_the_same_site():
    assert _plan(1) == _plan(1)


def test_another_seed_or_date_plans_a_different_site():
    first = _plan(1)

    assert [p.given_name for p in _plan(2)] != [p.given_name for p in first]
    assert _plan(1, AS_OF - dt.timedelta(days=1)) != first


@pytest.mark.parametrize("seed", range(20))
def test_every_plan_keeps_dates_ages_and_names_realistic(seed):
    people = _plan(seed)

    assert len(people) == TRAFFORD.people
    assert len({(p.given_name, p.family_name) for p in people}) == len(people)
    assert [p.referred_on for p in people] == sorted(p.referred_on for p in people)
    for person in people:
        assert 11 <= person.age_at_referral <= 17
        assert AS_OF - dt.timedelta(days=data.RECRUITMENT_DAYS) <= person.referred_on <= AS_OF
        assert sum(m.is_primary_carer for m in person.family) == 1
        assert 1 <= len(person.family) <= 3
        assert person.referring_agency in {i.agency for i in person.involvements}
        # At the trial site episodes come only after randomisation to MST (schedule_episodes).
        assert person.episode is None and person.trial is not None


@pytest.mark.parametrize("seed", range(10))
def test_a_site_outside_the_trial_plans_episodes_after_referral(seed):
    people = plan_site(STOCKPORT, rng=random.Random(seed), as_of=AS_OF)

    assert len(people) == STOCKPORT.people
    for person in people:
        assert person.trial is None
        episode = person.episode
        if episode is not None:
            assert 7 <= (episode.start_date - person.referred_on).days <= 42
            assert episode.end_date is None or episode.end_date < AS_OF


@pytest.mark.parametrize("seed", range(10))
def test_the_trial_site_plans_declines_ineligibles_a_withdrawal_and_losses(seed):
    courses = [p.trial for p in _plan(seed)]

    dispositions = Counter(c.disposition for c in courses)
    assert dispositions == {
        "randomise": TRAFFORD.people - data.TRIAL_NOT_ELIGIBLE - data.TRIAL_DECLINED,
        "not_eligible": data.TRIAL_NOT_ELIGIBLE,
        "declined": data.TRIAL_DECLINED,
    }
    assert sum(c.withdraw_after_days is not None for c in courses) == data.TRIAL_WITHDRAWALS
    assert sum(c.lost_from_month is not None for c in courses) == data.TRIAL_LOST
    assert all(
        c.disposition == "randomise"
        for c in courses
        if c.withdraw_after_days is not None or c.lost_from_month is not None
    )


@pytest.mark.parametrize("seed", range(10))
def test_episodes_are_scheduled_within_every_therapists_cap(seed):
    rng = random.Random(seed)
    courses = [p.trial for p in _plan(seed)][:60]
    # Randomised every ten days or so; waits of 7 to 24 days mean starts can overtake.
    requests = [
        EpisodeRequest(
            f"TRF-{n:04d}", AS_OF - dt.timedelta(days=640 - 10 * n - rng.randint(0, 6)), c.wait_days
        )
        for n, c in enumerate(courses)
    ]
    caps = {"therapist1": 5, "therapist2": 5, "therapist3": 4}

    plans = schedule_episodes(rng, requests, caps=caps, supervisor="supervisor", as_of=AS_OF)

    assert len(plans) >= 40
    reasons = Counter(p.discharge_reason for p in plans.values() if p.end_date is not None)
    assert reasons["completed"] / reasons.total() >= 0.65
    for request in requests:
        plan = plans.get(request.key)
        if plan is None:
            continue
        assert plan.start_date >= request.randomised_on + dt.timedelta(request.wait_days)
        if plan.end_date is None:
            assert (AS_OF - plan.start_date).days <= 118
        else:
            assert plan.start_date < plan.end_date <= AS_OF
    spans = [
        (p.therapist, p.start_date, p.end_date or AS_OF + dt.timedelta(1)) for p in plans.values()
    ]
    for day in (AS_OF - dt.timedelta(days=n) for n in range(0, 660)):
        load = Counter(t for t, start, end in spans if start <= day < end)
        assert all(load[name] <= cap for name, cap in caps.items())


def test_plan_never_reuses_a_name_it_was_told_is_taken():
    taken = {f"{p.given_name} {p.family_name}" for p in _plan(1)}

    again = plan_site(TRAFFORD, rng=random.Random(1), as_of=AS_OF, taken_names=taken)

    assert not taken & {f"{p.given_name} {p.family_name}" for p in again}


def test_steps_run_in_order_starting_with_the_organisation():
    steps = builder.registered_steps()

    assert [s.order for s in steps] == sorted(s.order for s in steps)
    assert [s.name for s in steps][:2] == ["organisation", "people"]


def test_a_second_step_with_a_taken_name_is_refused():
    with pytest.raises(ValueError, match="already registered"):

        @builder.register_step("people", order=999)
        def impostor(ctx):  # pragma: no cover - never runs
            return None


def test_each_step_gets_its_own_reproducible_random_stream():
    ctx = builder.DemoContext(seed=1, as_of=AS_OF)

    assert ctx.rng_for("people").random() == ctx.rng_for("people").random()
    assert ctx.rng_for("people").random() != ctx.rng_for("referrals").random()
