"""People queries run only when scoped to a user, opened on purpose, or reached from a person."""

import pytest
from django.db.models import Count, Prefetch

from mstoutcomes.cases.models import Episode, FamilyMember, YoungPerson
from mstoutcomes.cases.tests.factories import (
    EpisodeFactory,
    FamilyMemberFactory,
    YoungPersonFactory,
)
from mstoutcomes.core.scoping import UnscopedQueryError, scopes_disabled

pytestmark = pytest.mark.django_db

UNSCOPED_EVALUATIONS = {
    "list": lambda qs: list(qs),
    "len": lambda qs: len(qs),
    "bool": lambda qs: bool(qs),
    "index": lambda qs: qs[0],
    "count": lambda qs: qs.count(),
    "exists": lambda qs: qs.exists(),
    "first": lambda qs: qs.first(),
    "last": lambda qs: qs.last(),
    "get": lambda qs: qs.get(),
    "iterator": lambda qs: list(qs.iterator()),
    "values_list": lambda qs: list(qs.values_list("pk", flat=True)),
    "update": lambda qs: qs.update(school="Leaked"),
    "delete": lambda qs: qs.delete(),
    "aggregate": lambda qs: qs.aggregate(n=Count("pk")),
}


@pytest.fixture
def person(site_a):
    return YoungPersonFactory(site=site_a, school="Sale High")


@pytest.mark.parametrize("evaluate", UNSCOPED_EVALUATIONS.values(), ids=UNSCOPED_EVALUATIONS)
def test_an_unscoped_query_of_young_people_refuses_to_run(person, evaluate):
    with pytest.raises(UnscopedQueryError, match="YoungPerson was queried without a user scope"):
        evaluate(YoungPerson.objects.all())


def test_a_refused_update_or_delete_changes_nothing(person):
    with pytest.raises(UnscopedQueryError):
        YoungPerson.objects.filter(pk=person.pk).update(school="Leaked")
    with pytest.raises(UnscopedQueryError):
        YoungPerson.objects.filter(pk=person.pk).delete()

    assert list(YoungPerson.objects.unscoped().values_list("school", flat=True)) == ["Sale High"]


def test_a_filtered_query_without_a_scope_still_refuses_to_run(person):
    with pytest.raises(UnscopedQueryError):
        list(YoungPerson.objects.filter(site=person.site).order_by("study_id"))


def test_young_people_reached_from_their_site_refuse_to_run(person, site_a):
    with pytest.raises(UnscopedQueryError):
        list(site_a.young_people.all())
    with pytest.raises(UnscopedQueryError):
        site_a.young_people.count()


def test_unscoped_opens_the_query_on_purpose(person):
    assert list(YoungPerson.objects.unscoped()) == [person]
    assert YoungPerson.objects.unscoped().filter(site=person.site).count() == 1


def test_a_query_scoped_to_a_user_runs_and_stays_scoped_when_narrowed(person, alice):
    scoped = YoungPerson.objects.visible_to(alice)

    assert list(scoped) == [person]
    assert scoped.filter(school="Sale High").order_by("pk").count() == 1
    assert scoped.exclude(pk=person.pk).exists() is False
    assert scoped.aggregate(n=Count("pk")) == {"n": 1}


def test_a_scoped_query_shows_another_sites_user_nothing(person, carol):
    assert list(YoungPerson.objects.visible_to(carol)) == []


def test_queries_run_inside_scopes_disabled_and_refuse_again_after_it(person):
    with scopes_disabled():
        assert YoungPerson.objects.count() == 1
        assert list(Episode.objects.all()) == []

    with pytest.raises(UnscopedQueryError):
        YoungPerson.objects.count()


def test_scopes_disabled_is_restored_when_the_block_raises(person):
    with pytest.raises(ZeroDivisionError), scopes_disabled():
        1 / 0  # noqa: B018

    with pytest.raises(UnscopedQueryError):
        YoungPerson.objects.count()


def test_records_reached_from_a_young_person_you_hold_run(person):
    episode = EpisodeFactory(young_person=person)
    carer = FamilyMemberFactory(young_person=person)

    assert list(person.episodes.all()) == [episode]
    assert list(person.family_members.all()) == [carer]
    assert person.episodes.filter(end_date__isnull=True).count() == 1


def test_prefetching_episodes_on_a_scoped_query_runs(person, alice):
    episode = EpisodeFactory(young_person=person)

    people = list(YoungPerson.objects.visible_to(alice).prefetch_related("episodes"))

    assert [list(p.episodes.all()) for p in people] == [[episode]]


def test_prefetching_with_an_explicit_queryset_on_a_scoped_query_runs(person, alice):
    carer = FamilyMemberFactory(young_person=person)
    prefetch = Prefetch("family_members", queryset=FamilyMember.objects.order_by("given_name"))

    people = list(YoungPerson.objects.visible_to(alice).prefetch_related(prefetch))

    assert list(people[0].family_members.all()) == [carer]


def test_an_unscoped_query_of_episodes_refuses_to_run(person):
    EpisodeFactory(young_person=person)
    with pytest.raises(UnscopedQueryError, match="Episode was queried without a user scope"):
        list(Episode.objects.all())
    with pytest.raises(UnscopedQueryError):
        Episode.objects.filter(young_person=person).exists()


def test_episodes_reached_from_their_therapist_refuse_to_run(person):
    episode = EpisodeFactory(young_person=person)
    with pytest.raises(UnscopedQueryError):
        list(episode.therapist.therapist_episodes.all())


def test_episodes_scoped_to_a_user_follow_their_young_persons_visibility(person, alice, carol):
    episode = EpisodeFactory(young_person=person)

    assert list(Episode.objects.visible_to(alice)) == [episode]
    assert list(Episode.objects.visible_to(carol)) == []


def test_a_scoped_query_ored_with_an_unscoped_one_refuses_to_run(person, carol):
    with pytest.raises(UnscopedQueryError):
        list(YoungPerson.objects.visible_to(carol) | YoungPerson.objects.filter(pk=person.pk))
    with pytest.raises(UnscopedQueryError):
        list(YoungPerson.objects.visible_to(carol) ^ YoungPerson.objects.filter(pk=person.pk))
    with pytest.raises(UnscopedQueryError):
        YoungPerson.objects.filter(pk=person.pk)[:5] | YoungPerson.objects.visible_to(carol)
    with pytest.raises(UnscopedQueryError):
        list(YoungPerson.objects.visible_to(carol) | YoungPerson.objects.filter(pk=person.pk)[:5])
    with pytest.raises(UnscopedQueryError):
        list(person.episodes.all() | Episode.objects.all())


def test_a_scoped_query_unioned_with_an_unscoped_one_refuses_to_run(person, carol):
    scoped = YoungPerson.objects.visible_to(carol).order_by()
    with pytest.raises(UnscopedQueryError):
        list(scoped.union(YoungPerson.objects.order_by()))
    with pytest.raises(UnscopedQueryError):
        list(scoped.none().union(scoped, YoungPerson.objects.order_by()))


def test_scoped_queries_combined_with_each_other_run(person, site_b, carol):
    other = YoungPersonFactory(site=site_b)
    scoped = YoungPerson.objects.visible_to(carol)

    assert list(scoped | scoped.filter(pk=person.pk)) == [other]
    assert list(scoped | YoungPerson.objects.unscoped().none()) == [other]
    assert list(scoped.order_by().union(scoped.order_by())) == [other]
    assert list(scoped.order_by().intersection(YoungPerson.objects.order_by())) == [other]
    with scopes_disabled():
        assert len(scoped | YoungPerson.objects.all()) == 2


def test_narrowing_an_unscoped_query_by_a_scoped_one_runs(person, carol):
    assert list(YoungPerson.objects.visible_to(carol) & YoungPerson.objects.all()) == []


def test_a_young_person_reached_from_an_episode_you_hold_loads(person):
    episode = EpisodeFactory(young_person=person)
    with scopes_disabled():
        fetched = Episode.objects.get(pk=episode.pk)
    assert fetched.young_person == person


def test_core_takes_the_scoping_rule_that_cases_registered_at_start_up():
    from mstoutcomes.cases.scoping import young_person_q
    from mstoutcomes.core import scoping

    assert scoping._scope_rule().rule is young_person_q
    assert scoping._scope_rule().root_model is YoungPerson


def test_without_a_registered_rule_a_scoped_query_refuses_to_guess(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from mstoutcomes.core import scoping

    monkeypatch.setattr(scoping, "_registered", [])
    with pytest.raises(ImproperlyConfigured, match="No scoping rule is registered"):
        YoungPerson.objects.visible_to(None)


@pytest.fixture
def participant(person, site_a):
    from mstoutcomes.trial.models import Participant
    from mstoutcomes.trial.tests.conftest import make_trial

    trial = make_trial(site_a)
    return Participant.objects.create(trial=trial, young_person=person, site=site_a, levels={})


def _consent_and_withdrawal(participant, by):
    from mstoutcomes.trial.models import ConsentRecord, Withdrawal

    consent = ConsentRecord.objects.create(
        participant=participant,
        kind="carer_consent",
        form_version="v1.0",
        given=True,
        recorded_on=participant.enrolled_on,
        taken_by=by,
    )
    withdrawal = Withdrawal.objects.create(
        participant=participant,
        level="treatment",
        withdrawn_on=participant.enrolled_on,
        recorded_by=by,
    )
    return consent, withdrawal


def test_records_reached_from_a_scoped_row_you_hold_run(participant, alice):
    from mstoutcomes.trial.models import Participant

    consent, _ = _consent_and_withdrawal(participant, alice)
    held = Participant.objects.visible_to(alice).get()

    assert list(held.consents.all()) == [consent]
    assert held.withdrawals.exists()
    assert held.consents.filter(given=True).count() == 1


def test_prefetching_records_under_a_scoped_row_runs(participant, alice):
    from mstoutcomes.trial.models import Participant

    consent, withdrawal = _consent_and_withdrawal(participant, alice)

    held = list(Participant.objects.visible_to(alice).prefetch_related("consents", "withdrawals"))
    opened = list(Participant.objects.unscoped().prefetch_related("consents"))

    assert [(list(p.consents.all()), list(p.withdrawals.all())) for p in held] == [
        ([consent], [withdrawal])
    ]
    assert [list(p.consents.all()) for p in opened] == [[consent]]


def test_records_reached_from_a_parent_without_a_scope_refuse_to_run(participant, alice):
    from mstoutcomes.trial.models import Allocation

    consent, _ = _consent_and_withdrawal(participant, alice)
    Allocation.objects.create(
        trial=participant.trial,
        participant=participant,
        arm="MST",
        method="minimisation",
        stratum="*",
        sequence=1,
        allocated_at=consent.created_at,
        allocated_by=alice,
    )
    trial = participant.trial

    with pytest.raises(UnscopedQueryError, match="Allocation was queried without a user scope"):
        list(trial.allocations.all())
    with pytest.raises(UnscopedQueryError):
        trial.participants.count()
    with pytest.raises(UnscopedQueryError):
        trial.deviations.exists()
    with pytest.raises(UnscopedQueryError):
        list(participant.site.trial_participants.all())
    with pytest.raises(UnscopedQueryError, match="ConsentRecord was queried"):
        list(trial.consent_forms.order_by("pk").first().consents.all())
