"""Roles turn into named permissions per site, and only through active memberships."""

import pytest
from django.contrib.auth.models import AnonymousUser

from mstoutcomes.accounts.models import Role
from mstoutcomes.accounts.permissions import (
    ROLE_PERMISSIONS,
    Perm,
    forget_grants,
    grants_for,
    site_ids_with_perm,
    user_has_perm,
    user_perms,
)
from mstoutcomes.accounts.services import membership_end, membership_grant
from mstoutcomes.accounts.tests.factories import (
    AgencyFactory,
    MembershipFactory,
    SiteFactory,
    UserFactory,
    member,
)

PSEUDONYMISED_ROLES = [
    Role.STATISTICIAN,
    Role.UNBLINDED_STATISTICIAN,
    Role.DMC_MEMBER,
    Role.STEERING_GROUP,
]


def test_every_role_has_an_entry_in_the_permission_table():
    assert set(ROLE_PERMISSIONS) == set(Role.values)


def test_every_role_may_see_young_people():
    assert all(Perm.VIEW_YOUNG_PEOPLE in perms for perms in ROLE_PERMISSIONS.values())


@pytest.mark.parametrize("role", PSEUDONYMISED_ROLES)
def test_pseudonymised_roles_cannot_see_identifiable_details(role):
    assert Perm.VIEW_IDENTIFIABLE not in ROLE_PERMISSIONS[role]


@pytest.mark.parametrize("role", sorted(set(Role.values) - set(PSEUDONYMISED_ROLES)))
def test_every_other_role_sees_identifiable_details(role):
    assert Perm.VIEW_IDENTIFIABLE in ROLE_PERMISSIONS[role]


def test_only_administrators_may_use_the_admin():
    assert [role for role, perms in ROLE_PERMISSIONS.items() if Perm.USE_ADMIN in perms] == [
        Role.ADMINISTRATOR
    ]


def test_research_workers_and_referrers_cannot_edit_cases():
    assert Perm.EDIT_CASE not in ROLE_PERMISSIONS[Role.RESEARCH_WORKER]
    assert Perm.EDIT_CASE not in ROLE_PERMISSIONS[Role.REFERRER]


def test_only_trial_managers_may_randomise_or_unblind():
    for perm in (Perm.RANDOMISE, Perm.UNBLIND):
        holders = [role for role, perms in ROLE_PERMISSIONS.items() if perm in perms]
        assert holders == [Role.TRIAL_MANAGER]


@pytest.mark.django_db
def test_a_therapist_may_edit_cases_at_their_site_only(alice, site_a, site_b):
    assert user_has_perm(alice, Perm.EDIT_CASE, site=site_a)
    assert user_has_perm(alice, Perm.EDIT_CASE, site=site_a.pk)
    assert not user_has_perm(alice, Perm.EDIT_CASE, site=site_b)


@pytest.mark.django_db
def test_a_research_worker_sees_but_cannot_edit(bob, site_a):
    assert user_has_perm(bob, Perm.VIEW_YOUNG_PEOPLE, site=site_a)
    assert not user_has_perm(bob, Perm.EDIT_CASE, site=site_a)


@pytest.mark.django_db
def test_a_user_with_roles_at_two_sites_holds_each_roles_permissions_at_its_own_site(
    site_a, site_b
):
    user = member(Role.SUPERVISOR, site_a)
    membership_grant(by=None, user=user, site=site_b, role=Role.STATISTICIAN)

    assert user_has_perm(user, Perm.MANAGE_EPISODES, site=site_a)
    assert user_has_perm(user, Perm.VIEW_IDENTIFIABLE, site=site_a)
    assert not user_has_perm(user, Perm.MANAGE_EPISODES, site=site_b)
    assert not user_has_perm(user, Perm.VIEW_IDENTIFIABLE, site=site_b)
    assert user_has_perm(user, Perm.EXPORT_DATA, site=site_b)
    assert not user_has_perm(user, Perm.EXPORT_DATA, site=site_a)
    assert site_ids_with_perm(user, Perm.VIEW_YOUNG_PEOPLE) == {site_a.pk, site_b.pk}
    assert site_ids_with_perm(user, Perm.EXPORT_DATA) == {site_b.pk}


@pytest.mark.django_db
def test_permissions_at_any_site_are_the_union_of_every_grant(site_a, site_b):
    user = member(Role.RESEARCH_WORKER, site_a)
    membership_grant(by=None, user=user, site=site_b, role=Role.STATISTICIAN)

    assert (
        user_perms(user)
        == ROLE_PERMISSIONS[Role.RESEARCH_WORKER] | ROLE_PERMISSIONS[Role.STATISTICIAN]
    )
    assert user_has_perm(user, Perm.EXPORT_DATA)


@pytest.mark.django_db
def test_two_roles_at_one_site_combine(site_a):
    user = member(Role.RESEARCH_WORKER, site_a)
    membership_grant(by=None, user=user, site=site_a, role=Role.TRIAL_MANAGER)

    assert user_has_perm(user, Perm.RANDOMISE, site=site_a)
    assert user_has_perm(user, Perm.VIEW_IDENTIFIABLE, site=site_a)


@pytest.mark.django_db
def test_an_ended_membership_grants_nothing(alice, site_a):
    membership = alice.memberships.get()
    membership_end(by=None, membership=membership)

    assert grants_for(alice) == ()
    assert not user_has_perm(alice, Perm.VIEW_YOUNG_PEOPLE, site=site_a)


@pytest.mark.django_db
def test_a_membership_at_an_inactive_site_grants_nothing(alice, site_a):
    site_a.is_active = False
    site_a.save()

    assert user_perms(alice, site=site_a) == frozenset()
    assert user_perms(alice) == frozenset()


@pytest.mark.django_db
def test_an_inactive_user_holds_nothing(alice, site_a):
    alice.is_active = False
    alice.save()

    assert grants_for(alice) == ()
    assert not user_has_perm(alice, Perm.VIEW_YOUNG_PEOPLE, site=site_a)


@pytest.mark.django_db
def test_a_user_without_memberships_holds_nothing(site_a):
    user = UserFactory()
    assert user_perms(user) == frozenset()
    assert site_ids_with_perm(user, Perm.VIEW_YOUNG_PEOPLE) == set()


def test_an_anonymous_visitor_holds_nothing():
    assert grants_for(AnonymousUser()) == ()
    assert not user_has_perm(AnonymousUser(), Perm.VIEW_YOUNG_PEOPLE)


@pytest.mark.django_db
def test_a_referrers_grant_carries_their_agency_and_is_agency_scoped(site_a):
    agency = AgencyFactory()
    referrer = member(Role.REFERRER, site_a, agency=agency)

    (grant,) = grants_for(referrer)

    assert (grant.site_id, grant.agency_id, grant.role) == (site_a.pk, agency.pk, Role.REFERRER)
    assert grant.agency_scoped
    assert not grants_for(member(Role.THERAPIST, site_a))[0].agency_scoped


@pytest.mark.django_db
def test_grants_are_cached_on_the_user_object(alice, django_assert_num_queries):
    grants_for(alice)
    with django_assert_num_queries(0):
        grants_for(alice)
        user_has_perm(alice, Perm.EDIT_CASE)


@pytest.mark.django_db
def test_membership_grant_clears_the_cached_grants(alice, site_b):
    assert not user_has_perm(alice, Perm.EDIT_CASE, site=site_b)

    membership_grant(by=None, user=alice, site=site_b, role=Role.SUPERVISOR)

    assert user_has_perm(alice, Perm.MANAGE_EPISODES, site=site_b)


@pytest.mark.django_db
def test_membership_end_clears_the_cached_grants(alice, site_a):
    assert user_has_perm(alice, Perm.EDIT_CASE, site=site_a)

    membership_end(by=None, membership=alice.memberships.get())

    assert not user_has_perm(alice, Perm.EDIT_CASE, site=site_a)


@pytest.mark.django_db
def test_a_cached_grant_outlives_a_change_made_behind_its_back_until_forgotten(alice, site_b):
    assert not user_has_perm(alice, Perm.EDIT_CASE, site=site_b)
    MembershipFactory(user=alice, site=site_b, role=Role.THERAPIST)
    assert not user_has_perm(alice, Perm.EDIT_CASE, site=site_b)

    forget_grants(alice)

    assert user_has_perm(alice, Perm.EDIT_CASE, site=site_b)


@pytest.mark.django_db
def test_a_new_site_starts_with_no_staff():
    site = SiteFactory()
    assert not user_has_perm(UserFactory(), Perm.VIEW_YOUNG_PEOPLE, site=site)
