"""Who sees which referrals: referrers never see another agency's; drafts only their writer."""

import pytest

from mstoutcomes.accounts.models import Role
from mstoutcomes.accounts.tests.factories import member
from mstoutcomes.core.scoping import UnscopedQueryError
from mstoutcomes.referrals.models import Referral
from mstoutcomes.referrals.selectors import referral_list_visible_to
from mstoutcomes.referrals.tests.factories import draft_referral, referrer_at, submitted_referral

pytestmark = pytest.mark.django_db


def test_referrers_cannot_see_other_agencies_referrals(site_a):
    mine, me = submitted_referral(site=site_a)
    theirs, _ = submitted_referral(site=site_a)
    colleague = member(Role.REFERRER, site_a, agency=mine.referring_agency)

    assert list(referral_list_visible_to(user=me)) == [mine]
    assert list(referral_list_visible_to(user=colleague)) == [mine]
    assert theirs not in referral_list_visible_to(user=me)


def test_site_staff_see_their_site_only_and_no_one_elses_drafts(site_a, site_b, alice, carol):
    submitted, _ = submitted_referral(site=site_a)
    referrer, agency = referrer_at(site_a)
    draft = draft_referral(by=referrer, site=site_a, agency=agency)

    assert list(referral_list_visible_to(user=alice)) == [submitted]
    assert list(referral_list_visible_to(user=carol)) == []
    assert draft in referral_list_visible_to(user=referrer)


def test_pseudonymised_roles_see_no_referrals(site_a):
    submitted_referral(site=site_a)
    statistician = member(Role.STATISTICIAN, site_a)

    assert list(referral_list_visible_to(user=statistician)) == []


def test_an_unscoped_query_of_referrals_raises(site_a):
    submitted_referral(site=site_a)

    with pytest.raises(UnscopedQueryError):
        list(Referral.objects.all())
