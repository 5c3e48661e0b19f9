"""The one rule for who sees which young people: a site's staff, or a referrer's own agency's."""

import pytest

from mstoutcomes.accounts.models import Role
from mstoutcomes.accounts.services import membership_end, membership_grant
from mstoutcomes.accounts.tests.factories import AgencyFactory, UserFactory, member
from mstoutcomes.cases.models import AgencyInvolvement, Episode, FamilyMember, YoungPerson
from mstoutcomes.cases.tests.factories import (
    AgencyInvolvementFactory,
    EpisodeFactory,
    FamilyMemberFactory,
    YoungPersonFactory,
)

pytestmark = pytest.mark.django_db


def visible(user):
    return set(YoungPerson.objects.visible_to(user))


@pytest.fixture
def yos():
    return AgencyFactory(name="Trafford YOS")


@pytest.fixture
def school():
    return AgencyFactory(name="Sale High School")


@pytest.fixture
def referrer(site_a, yos):
    return member(Role.REFERRER, site_a, agency=yos, username="rita")


@pytest.fixture
def people(site_a, site_b, yos, school):
    """Young people at two sites, referred by or involved with the YOS, the school, or no one."""
    referred = YoungPersonFactory(site=site_a, referring_agency=yos)
    involved = YoungPersonFactory(site=site_a, referring_agency=school)
    AgencyInvolvementFactory(young_person=involved, agency=yos)
    by_school = YoungPersonFactory(site=site_a, referring_agency=school)
    AgencyInvolvementFactory(young_person=by_school, agency=school)
    by_nobody = YoungPersonFactory(site=site_a, referring_agency=None)
    referred_at_b = YoungPersonFactory(site=site_b, referring_agency=yos)
    involved_at_b = YoungPersonFactory(site=site_b)
    AgencyInvolvementFactory(young_person=involved_at_b, agency=yos)
    return {
        "referred": referred,
        "involved": involved,
        "by_school": by_school,
        "by_nobody": by_nobody,
        "referred_at_b": referred_at_b,
        "involved_at_b": involved_at_b,
    }


@pytest.fixture
def at_a(people):
    return {people[k] for k in ("referred", "involved", "by_school", "by_nobody")}


@pytest.fixture
def at_b(people):
    return {people[k] for k in ("referred_at_b", "involved_at_b")}


def test_site_staff_see_every_young_person_at_their_site_and_none_elsewhere(alice, bob, at_a):
    assert visible(alice) == at_a
    assert visible(bob) == at_a


def test_staff_at_another_site_see_only_their_own_sites_young_people(carol, at_b):
    assert visible(carol) == at_b


@pytest.mark.parametrize("role", sorted(set(Role.values) - {Role.REFERRER}))
def test_every_staff_role_sees_the_whole_site(role, site_a, at_a):
    assert visible(member(role, site_a)) == at_a


def test_staff_with_roles_at_two_sites_see_both(site_a, site_b, at_a, at_b):
    user = member(Role.TRIAL_MANAGER, site_a)
    membership_grant(by=None, user=user, site=site_b, role=Role.TRIAL_MANAGER)
    assert visible(user) == at_a | at_b


def test_a_referrer_sees_young_people_their_agency_referred_or_works_with(referrer, people):
    assert visible(referrer) == {people["referred"], people["involved"]}


def test_a_referrer_does_not_see_other_young_people_at_their_site(referrer, people):
    seen = visible(referrer)
    assert people["by_school"] not in seen
    assert people["by_nobody"] not in seen


def test_a_referrer_does_not_see_their_agencys_young_people_at_another_site(referrer, people):
    seen = visible(referrer)
    assert people["referred_at_b"] not in seen
    assert people["involved_at_b"] not in seen


def test_a_referrer_at_two_sites_sees_their_agencys_young_people_at_both(referrer, site_b, people):
    membership_grant(
        by=None,
        user=referrer,
        site=site_b,
        role=Role.REFERRER,
        agency=referrer.memberships.get().agency,
    )
    assert visible(referrer) == {
        people["referred"],
        people["involved"],
        people["referred_at_b"],
        people["involved_at_b"],
    }


def test_a_referrer_who_is_also_site_staff_sees_the_whole_site(referrer, site_a, at_a):
    membership_grant(by=None, user=referrer, site=site_a, role=Role.RESEARCH_WORKER)
    assert visible(referrer) == at_a


def test_a_referrer_from_another_agency_sees_only_that_agencys_young_people(site_a, school, people):
    teacher = member(Role.REFERRER, site_a, agency=school)
    assert visible(teacher) == {people["involved"], people["by_school"]}


def test_a_young_person_referred_by_and_involved_with_the_agency_appears_once(
    referrer, site_a, yos, people
):
    AgencyInvolvementFactory(young_person=people["referred"], agency=yos)
    AgencyInvolvementFactory(young_person=people["involved"], agency=yos)

    rows = list(YoungPerson.objects.visible_to(referrer))

    assert sorted(p.pk for p in rows) == sorted([people["referred"].pk, people["involved"].pk])
    assert YoungPerson.objects.visible_to(referrer).count() == 2


def test_a_user_with_no_membership_sees_nothing(people):
    assert visible(UserFactory()) == set()


def test_an_ended_membership_sees_nothing(alice, referrer, people):
    membership_end(by=None, membership=alice.memberships.get())
    membership_end(by=None, membership=referrer.memberships.get())

    assert visible(alice) == set()
    assert visible(referrer) == set()


def test_staff_of_an_inactive_site_see_nothing(alice, site_a, people):
    site_a.is_active = False
    site_a.save()
    assert visible(alice) == set()


def test_an_inactive_user_sees_nothing(alice, people):
    alice.is_active = False
    alice.save()
    assert visible(alice) == set()


@pytest.mark.parametrize("role", [Role.STATISTICIAN, Role.STEERING_GROUP])
def test_pseudonymised_roles_still_see_the_sites_young_people(role, site_a, at_a):
    # Visibility decides which study IDs appear; can_view_identifiable decides if names do.
    assert visible(member(role, site_a)) == at_a


def test_records_under_young_people_follow_the_same_rule(referrer, alice, carol, people):
    episode = EpisodeFactory(young_person=people["involved"])
    EpisodeFactory(young_person=people["by_school"])
    carer = FamilyMemberFactory(young_person=people["referred"])
    FamilyMemberFactory(young_person=people["by_nobody"])

    assert list(Episode.objects.visible_to(referrer)) == [episode]
    assert list(FamilyMember.objects.visible_to(referrer)) == [carer]
    assert Episode.objects.visible_to(alice).count() == 2
    assert FamilyMember.objects.visible_to(carol).count() == 0


def test_a_referrer_sees_the_agency_involvements_of_the_young_people_they_see(referrer, people):
    seen_people = {i.young_person for i in AgencyInvolvement.objects.visible_to(referrer)}
    assert seen_people == {people["involved"]}
