"""`mstoutcomes demo`: the synthetic site it builds, its sign-ins and --if-empty.

The demo is built once for this module inside a transaction that is rolled back afterwards; each
test runs in a savepoint inside it, so tests see the same site and cannot change it for the others.
"""

import datetime as dt
from collections import Counter
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import RequestFactory
from django.utils import timezone

from mstoutcomes.accounts.models import Agency, AuditEvent, Membership, Role, Site, User
from mstoutcomes.accounts.permissions import Perm, user_has_perm
from mstoutcomes.accounts.services import audit_verify
from mstoutcomes.cases.models import AgencyInvolvement, Episode, FamilyMember, YoungPerson
from mstoutcomes.core.dates import add_months
from mstoutcomes.demo.builder import DemoContext
from mstoutcomes.demo.data import DEMO_PASSWORD, RECRUITMENT_DAYS
from mstoutcomes.demo.steps.people import plan_people
from mstoutcomes.measures.models import Assessment
from mstoutcomes.outcomes.models import CustodyEpisode, Placement
from mstoutcomes.referrals.models import Referral
from mstoutcomes.trial.models import Allocation, Participant, ProtocolDeviation, Trial, Withdrawal

AS_OF = dt.date(2026, 3, 31)
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo_output(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        out = StringIO()
        # As `make run` does: --if-empty on an empty database builds the demo.
        call_command("demo", "--if-empty", "--seed", "1", "--as-of", AS_OF.isoformat(), stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def trafford(demo_output):
    return Site.objects.get(code="TRF")


def _people(site):
    return YoungPerson.objects.unscoped().filter(site=site)


def _episodes(site):
    return Episode.objects.unscoped().filter(young_person__site=site).select_related("therapist")


def _arm_people(site, arm):
    return set(
        Allocation.objects.unscoped()
        .filter(participant__site=site, arm=arm)
        .values_list("participant__young_person", flat=True)
    )


def _printed_sign_ins(output):
    """Return (username, password) for each row of the printed sign-in table."""
    rows = []
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.strip("│ ").split("│")]
        if len(cells) > 2 and cells[1] == DEMO_PASSWORD:
            rows.append((cells[0], cells[1]))
    return rows


def test_demo_builds_90_young_people_referred_to_the_trial_site_aged_11_to_17(trafford):
    people = list(_people(trafford))

    assert len(people) == 90
    assert {p.age_on(p.referred_on) for p in people} <= set(range(11, 18))
    assert {p.age_on(p.referred_on) for p in people} >= {12, 13, 14, 15, 16}


def test_referrals_span_the_recruitment_period_before_the_as_of_date(trafford):
    dates = sorted(_people(trafford).values_list("referred_on", flat=True))

    assert dates[0] >= AS_OF - dt.timedelta(days=RECRUITMENT_DAYS)
    assert dates[0] <= AS_OF - dt.timedelta(days=540)
    assert dates[-1] <= AS_OF


def test_study_ids_follow_referral_order(trafford):
    people = list(_people(trafford).order_by("study_id"))

    assert people[0].study_id == "TRF-0001"
    assert [p.referred_on for p in people] == sorted(p.referred_on for p in people)


def test_four_local_agencies_refer_young_people(trafford):
    agencies = Agency.objects.filter(locality="Trafford")
    referred_by = set(_people(trafford).values_list("referring_agency__kind", flat=True))

    assert agencies.count() == 4
    assert set(agencies.values_list("kind", flat=True)) == {
        "youth_justice",
        "social_care",
        "education",
        "health",
    }
    assert referred_by == set(agencies.values_list("kind", flat=True))


def test_the_team_is_three_therapists_and_a_supervisor(trafford):
    team = Membership.objects.filter(site=trafford, role__in=[Role.THERAPIST, Role.SUPERVISOR])

    assert Counter(team.values_list("role", flat=True)) == {Role.THERAPIST: 3, Role.SUPERVISOR: 1}
    therapists = set(_episodes(trafford).values_list("therapist__username", flat=True))
    assert therapists == {"therapist1", "therapist2", "therapist3"}


def test_there_is_a_user_for_every_role_at_the_main_site(trafford):
    roles = set(Membership.objects.filter(site=trafford).values_list("role", flat=True))

    assert roles == set(Role.values)
    referrer = Membership.objects.get(site=trafford, role=Role.REFERRER)
    assert referrer.agency.kind == "youth_justice"
    assert user_has_perm(User.objects.get(username="admin"), Perm.USE_ADMIN)


def test_every_printed_sign_in_authenticates(demo_output):
    printed = _printed_sign_ins(demo_output)
    request = RequestFactory().post("/sign-in/")

    assert {username for username, _ in printed} == set(
        User.objects.values_list("username", flat=True)
    )
    for username, password in printed:
        assert authenticate(request, username=username, password=password) is not None, username


def test_young_people_have_one_primary_carer_and_the_agencies_around_them(trafford):
    for person in _people(trafford).prefetch_related("family_members", "agency_involvements"):
        family = list(person.family_members.all())
        involved = {i.agency_id for i in person.agency_involvements.all()}
        assert 1 <= len(family) <= 3
        assert sum(m.is_primary_carer for m in family) == 1
        assert person.referring_agency_id in involved
        assert all(i.worker_name for i in person.agency_involvements.all())


def test_completed_episodes_last_three_to_five_months_and_none_run_longer(trafford):
    ended = _episodes(trafford).exclude(end_date=None)

    for episode in ended:
        assert episode.start_date <= episode.end_date <= AS_OF
        assert episode.end_date <= add_months(episode.start_date, 5)
        if episode.discharge_reason == "completed":
            assert episode.end_date >= add_months(episode.start_date, 3)


def test_most_episodes_end_completed_and_the_rest_for_realistic_reasons(trafford):
    reasons = Counter(
        _episodes(trafford).exclude(end_date=None).values_list("discharge_reason", flat=True)
    )

    assert reasons["completed"] / reasons.total() >= 0.65
    assert reasons["lack_of_engagement"] >= 1
    assert reasons["placed_care"] + reasons["placed_custody"] + reasons["moved"] >= 2


def test_ultimate_outcomes_are_mostly_met_at_discharge(trafford):
    ended = list(_episodes(trafford).exclude(end_date=None))
    completed = [e for e in ended if e.discharge_reason == "completed"]

    for outcome in ("living_at_home", "in_school_or_work", "no_new_arrests"):
        known = [getattr(e, outcome) for e in ended if getattr(e, outcome) is not None]
        assert 0.7 <= sum(known) / len(known) <= 0.9, outcome
        assert sum(getattr(e, outcome) for e in completed) / len(completed) >= 0.8, outcome


def test_some_are_in_treatment_and_none_has_an_episode_without_being_randomised_to_mst(
    trafford,
):
    open_episodes = list(_episodes(trafford).filter(end_date=None))
    mst = _arm_people(trafford, "MST")

    assert 2 <= len(open_episodes) <= 14
    assert all(AS_OF - dt.timedelta(days=122) <= e.start_date <= AS_OF for e in open_episodes)
    assert all(e.expected_end_date == add_months(e.start_date, 4) for e in open_episodes)
    with_episode = set(
        _people(trafford).filter(episodes__isnull=False).values_list("pk", flat=True)
    )
    assert with_episode <= mst
    assert len(mst) - len(with_episode) <= 3  # randomised lately, waiting for a therapist


def test_a_second_site_shows_staff_only_their_own_young_people(trafford):
    stockport = Site.objects.get(code="STK")
    therapist = User.objects.get(username="therapist1")
    referrer = User.objects.get(username="referrer")
    local = User.objects.get(username="stockport.therapist")

    assert _people(stockport).count() == 6
    assert set(YoungPerson.objects.visible_to(therapist).values_list("site", flat=True)) == {
        trafford.pk
    }
    assert set(YoungPerson.objects.visible_to(local).values_list("site", flat=True)) == {
        stockport.pk
    }
    seen_by_referrer = YoungPerson.objects.visible_to(referrer).count()
    assert 0 < seen_by_referrer < _people(trafford).count()


def test_every_write_was_audited_by_the_system_and_the_chain_verifies(demo_output):
    actions = Counter(AuditEvent.objects.values_list("action", flat=True))
    episodes = Episode.objects.unscoped()

    assert actions["cases.young_person.created"] == YoungPerson.objects.unscoped().count()
    assert actions["cases.family_member.added"] == FamilyMember.objects.unscoped().count()
    assert actions["cases.agency_involvement.added"] == AgencyInvolvement.objects.unscoped().count()
    assert actions["cases.episode.opened"] == episodes.count()
    assert actions["cases.episode.discharged"] == episodes.exclude(end_date=None).count()
    assert actions["accounts.user.created"] == User.objects.count()
    # Consent and randomisation are people's steps: the trial manager took them.
    assert set(
        AuditEvent.objects.exclude(actor_label="system").values_list("actor__username", flat=True)
    ) == {"trialmanager"}
    assert actions["trial.participant.randomised"] == Allocation.objects.unscoped().count()
    assert audit_verify().ok
    assert YoungPerson.history.count() == YoungPerson.objects.unscoped().count()


def test_the_database_holds_exactly_what_the_seed_plans(demo_output):
    ctx = DemoContext(seed=1, as_of=AS_OF)
    planned = plan_people(DemoContext(seed=1, as_of=AS_OF, rng=ctx.rng_for("people")))
    people = YoungPerson.objects.unscoped().order_by("site__code", "study_id")

    stored = people.values_list("site__code", "given_name", "family_name", "date_of_birth")
    assert sorted(stored) == sorted(
        (p.site, p.given_name, p.family_name, p.date_of_birth) for p in planned
    )
    # Outside the trial the plan holds the episodes; at the trial site they follow the arms.
    episodes = Episode.objects.unscoped().filter(young_person__site__code="STK")
    stored_episodes = episodes.values_list("young_person__given_name", "start_date", "end_date")
    assert sorted(stored_episodes) == sorted(
        (p.given_name, p.episode.start_date, p.episode.end_date) for p in planned if p.episode
    )


def test_progress_and_step_summaries_are_printed_off_a_terminal(demo_output):
    assert "already present" not in demo_output
    assert "Young people" in demo_output
    assert "96/96" in demo_output
    assert "people: 96 young people" in demo_output
    assert "trial: 90 families at the trial site" in demo_output


def test_if_empty_keeps_existing_data_and_prints_the_sign_ins(demo_output):
    before = (YoungPerson.objects.unscoped().count(), AuditEvent.objects.count())
    out = StringIO()

    call_command("demo", "--if-empty", stdout=out)

    assert "Demo data already present; keeping it." in out.getvalue()
    assert _printed_sign_ins(out.getvalue()) == _printed_sign_ins(demo_output)
    assert (YoungPerson.objects.unscoped().count(), AuditEvent.objects.count()) == before


def test_demo_refuses_a_database_that_already_has_data(demo_output):
    with pytest.raises(CommandError, match=r"^The database already has data; .*--if-empty"):
        call_command("demo", stdout=StringIO())


# -- the trial at Trafford ---------------------------------------------------------------------


def _participants(site):
    return Participant.objects.unscoped().filter(site=site).select_related("young_person")


def test_trafford_is_a_trial_site_and_stockport_is_not(trafford):
    trial = Trial.objects.get()

    assert trial.code == "START-DEMO" and not trial.is_test_mode
    assert list(trial.sites.values_list("code", flat=True)) == ["TRF"]
    assert not Participant.objects.unscoped().filter(site__code="STK").exists()


def test_eligible_consenting_families_are_randomised_about_40_a_side(trafford):
    arms = Counter(Allocation.objects.unscoped().values_list("arm", flat=True))

    assert set(arms) == {"MAU", "MST"}
    assert 36 <= arms["MAU"] <= 44 and 36 <= arms["MST"] <= 44
    assert abs(arms["MAU"] - arms["MST"]) <= 3  # minimisation keeps the arms balanced
    by_sex = Counter(Allocation.objects.unscoped().values_list("participant__levels__sex", "arm"))
    assert abs(by_sex[("male", "MAU")] - by_sex[("male", "MST")]) <= 3
    sequence = list(
        Allocation.objects.unscoped().order_by("sequence").values_list("allocated_at", flat=True)
    )
    assert sequence == sorted(sequence)


def test_some_decline_consent_and_a_few_are_not_eligible_with_the_reason(trafford):
    participants = _participants(trafford)
    declined = participants.filter(consents__kind="carer_consent", consents__given=False)
    not_eligible = participants.filter(is_eligible=False)

    assert declined.count() >= 5
    assert not Allocation.objects.unscoped().filter(participant__in=declined).exists()
    assert not_eligible.count() == 3
    for participant in not_eligible:
        assert "Not met: Meets" in participant.eligibility_notes
    assert (
        participants.count()
        == 90 - participants.filter(young_person__referrals__state="ready_for_panel").count()
    )


def test_one_family_withdraws_and_a_few_are_lost_to_follow_up(trafford):
    withdrawal = Withdrawal.objects.unscoped().get()
    lost = Assessment.objects.unscoped().filter(reason__contains="lost to follow-up")

    assert withdrawal.level == "further_data"
    assert withdrawal.withdrawn_on <= AS_OF
    person = withdrawal.participant.young_person
    later = Assessment.objects.unscoped().filter(
        young_person=person, schedule="trial", completed_on__gt=withdrawal.withdrawn_on
    )
    assert not later.exists()
    assert 3 <= lost.values("young_person").distinct().count() <= 5


def test_management_as_usual_referrals_are_closed_and_mst_referrals_started_mst(trafford):
    mau, mst = _arm_people(trafford, "MAU"), _arm_people(trafford, "MST")
    referrals = Referral.objects.unscoped().filter(site=trafford)

    closed = referrals.filter(young_person__in=mau)
    assert set(closed.values_list("state", flat=True)) == {"usual_services"}
    for referral in closed:
        assert referral.transitions.order_by("pk").last().reason == (
            "Allocated to management as usual in trial START-DEMO"
        )
    assert not Episode.objects.unscoped().filter(young_person__in=mau).exists()
    started = referrals.filter(young_person__in=mst)
    assert set(started.values_list("state", flat=True)) <= {"allocated", "accepted"}
    assert started.filter(state="allocated").count() == (
        Episode.objects.unscoped().filter(young_person__in=mst).count()
    )


def test_dates_run_referral_then_consent_then_randomisation_then_mst(trafford):
    for participant in _participants(trafford).prefetch_related("consents"):
        person = participant.young_person
        referral = Referral.objects.unscoped().get(young_person=person)
        assert person.referred_on <= referral.decided_on == participant.eligibility_confirmed_on
        consents = [c.recorded_on for c in participant.consents.all()]
        assert all(referral.decided_on <= day <= AS_OF for day in consents)
        allocation = Allocation.objects.unscoped().filter(participant=participant).first()
        if allocation is None:
            continue
        randomised_on = timezone.localdate(allocation.allocated_at)
        # Randomisation follows the first consent of each kind (re-consent may come later).
        first: dict[str, dt.date] = {}
        for consent in sorted(participant.consents.all(), key=lambda c: c.recorded_on):
            first.setdefault(consent.kind, consent.recorded_on)
        assert max(first.values()) <= randomised_on <= AS_OF
        for episode in Episode.objects.unscoped().filter(young_person=person):
            assert randomised_on < episode.start_date <= AS_OF


def test_no_therapist_ever_holds_more_families_than_their_cap(trafford):
    spans = list(_episodes(trafford).values_list("therapist__username", "start_date", "end_date"))
    caps = {"therapist1": 5, "therapist2": 5, "therapist3": 4}

    for offset in range(0, RECRUITMENT_DAYS, 2):
        day = AS_OF - dt.timedelta(days=offset)
        load = Counter(t for t, start, end in spans if start <= day and (end is None or day < end))
        assert all(load[name] <= cap for name, cap in caps.items()), day


def test_both_arms_have_research_assessments_entered_by_the_research_worker(trafford):
    research = Assessment.objects.unscoped().filter(schedule="trial", young_person__site=trafford)

    assert set(research.values_list("entered_by__username", flat=True)) == {"research"}
    assert not research.exclude(episode=None).exists()
    completed = research.filter(status="completed")
    for arm in ("MAU", "MST"):
        people = _arm_people(trafford, arm)
        timepoints = set(
            completed.filter(young_person__in=people).values_list("timepoint", flat=True)
        )
        assert timepoints == {"t0", "t6", "t12", "t18"}
    assert research.filter(status__in=["missed", "refused"]).exists()


def test_one_trial_assessment_is_out_of_window_with_its_reason_and_the_rest_in_window(trafford):
    from mstoutcomes.measures.services import tasks_for

    research = Assessment.objects.unscoped().filter(
        schedule="trial", young_person__site=trafford, status="completed"
    )
    (late,) = research.filter(out_of_window=True)
    assert late.out_of_window_reason
    for assessment in research.select_related("young_person").order_by("pk"):
        key = (
            assessment.schedule,
            assessment.timepoint,
            assessment.instrument,
            assessment.respondent,
        )
        (task,) = [t for t in tasks_for(assessment.young_person, None) if t.key == key]
        assert task.contains(assessment.completed_on) is not assessment.out_of_window, assessment.pk


def test_both_arms_have_placements_and_custody_after_randomisation(trafford):
    for arm in ("MAU", "MST"):
        people = _arm_people(trafford, arm)
        assert Placement.objects.unscoped().filter(young_person__in=people).exists(), arm
        assert CustodyEpisode.objects.unscoped().filter(young_person__in=people).exists(), arm


def test_a_research_worker_cannot_see_any_trial_site_referral(trafford):
    research = User.objects.get(username="research")

    assert not user_has_perm(research, Perm.VIEW_REFERRALS, site=trafford)
    assert not user_has_perm(research, Perm.VIEW_TREATMENT, site=trafford)


def test_the_trial_site_has_a_few_protocol_deviations_that_name_no_arm(trafford):
    deviations = ProtocolDeviation.objects.unscoped().filter(site=trafford)
    assert deviations.count() == 3
    assert {d.severity for d in deviations} == {"minor", "major"}
    for deviation in deviations:
        assert deviation.identified_on >= deviation.occurred_on
        assert deviation.identified_on <= AS_OF
        text = f"{deviation.description} {deviation.corrective_action}".lower()
        assert "mst" not in text and "management as usual" not in text


def test_the_data_quality_rules_leave_the_demo_with_open_queries_and_say_how_many(demo_output):
    from mstoutcomes.quality.models import LIVE_STATES, Query

    live = Query.objects.unscoped().filter(state__in=LIVE_STATES)
    assert live.count() >= 1
    assert live.filter(site__code="TRF").exists()
    assert f"quality: {live.count()} open data quer" in demo_output


def test_consent_is_taken_on_managed_form_versions_and_two_families_need_re_consent(trafford):
    from mstoutcomes.trial.models import ConsentFormVersion, ConsentRecord
    from mstoutcomes.trial.selectors import reconsent_needed

    trial = Trial.objects.get()
    forms = ConsentFormVersion.objects.filter(trial=trial)
    assert forms.filter(is_current=True).count() == 3
    assert all(form.file.name.endswith(".pdf") for form in forms)
    superseded = forms.get(is_current=False)
    assert (superseded.kind, superseded.version) == ("carer_consent", "v2.1")
    assert not ConsentRecord.objects.unscoped().filter(form__isnull=True).exists()
    manager = User.objects.get(username="trialmanager")
    assert len(reconsent_needed(user=manager, trial=trial)) == 2
