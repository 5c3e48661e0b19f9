"""Role × referral page: who may open what. Written out by hand so a change needs agreement.

Columns: own = a referral from the user's agency (referrers) at the user's site; other = another
agency's referral at the same site; away = a referral at another site.
"""

import datetime as dt

import pytest
from django.urls import reverse

from mstoutcomes.accounts.models import Role
from mstoutcomes.accounts.tests.factories import AgencyFactory, SiteFactory, member
from mstoutcomes.referrals.tests.factories import submitted_referral

R = Role
# fmt: off
#                        detail          decide         list start panels capacity mix  dashboard
#                        own other away  own other away
MATRIX = {
    R.THERAPIST:         (200, 200, 404, 403, 403, 403, 200, 200, 403, 403, 403, 403),
    R.SUPERVISOR:        (200, 200, 404, 200, 200, 404, 200, 200, 200, 200, 200, 200),
    R.PROGRAMME_MANAGER: (200, 200, 404, 200, 200, 404, 200, 200, 200, 200, 200, 200),
    R.REFERRER:          (200, 404, 404, 403, 403, 403, 200, 200, 403, 403, 403, 403),
    # Research workers are blind to allocation: referral decisions would reveal the arm.
    R.RESEARCH_WORKER:   (403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    R.TRIAL_MANAGER:     (200, 200, 404, 403, 403, 403, 200, 403, 403, 403, 403, 200),
    R.STATISTICIAN:      (403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200),
    R.UNBLINDED_STATISTICIAN: (403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200),
    R.DMC_MEMBER:        (403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200),
    R.STEERING_GROUP:    (403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200),
    R.ADMINISTRATOR:     (403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403),
}
# fmt: on


def test_matrix_covers_every_role():
    assert set(MATRIX) == set(Role)


@pytest.fixture
def world(db):
    home, away = SiteFactory(code="HOME"), SiteFactory(code="AWAY")
    agency = AgencyFactory(name="Referring YOS")
    dob = dt.date.today() - dt.timedelta(days=14 * 365)
    referrals = {
        "own": submitted_referral(site=home, agency=agency, date_of_birth=dob)[0],
        "other": submitted_referral(site=home, date_of_birth=dob)[0],
        "away": submitted_referral(site=away, agency=agency, date_of_birth=dob)[0],
    }
    return home, agency, referrals


@pytest.mark.parametrize("role", list(Role))
def test_referral_access_matrix(client, world, role):
    home, agency, referrals = world
    client.force_login(member(role, home, agency=agency if role == R.REFERRER else None))
    seen = []
    for name in ("referrals:detail", "referrals:decide"):
        for column in ("own", "other", "away"):
            seen.append(client.get(reverse(name, args=[referrals[column].pk])).status_code)
    for name in ("list", "start", "panels", "capacity", "case_mix", "dashboard"):
        seen.append(client.get(reverse(f"referrals:{name}")).status_code)
    assert tuple(seen) == MATRIX[role]


def test_a_referrer_never_sees_another_agencys_referral_in_the_list(client, world):
    home, agency, referrals = world
    client.force_login(member(R.REFERRER, home, agency=agency))

    page = client.get(reverse("referrals:list")).content.decode()

    assert referrals["own"].reference in page
    assert referrals["other"].reference not in page
    assert referrals["away"].reference not in page
