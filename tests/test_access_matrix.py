"""The access rules as one readable matrix: role × page × whose record.

The expected codes are written out by hand (not derived from ROLE_PERMISSIONS), so a change to a
role's rights shows up here as a failing row that someone has to agree to.

Columns: own = a young person at the user's site referred by the user's agency; site = at the
user's site but unconnected to the agency; other = at another site.
"""

import pytest
from django.urls import reverse

from mstoutcomes.accounts.models import Role
from mstoutcomes.accounts.tests.factories import AgencyFactory, SiteFactory, member
from mstoutcomes.cases.tests.factories import YoungPersonFactory

R = Role
# fmt: off
#                       detail            edit              episode_add       list create admin
#                       own  site other   own  site other   own  site other
MATRIX = {
    R.THERAPIST:        (200, 200, 404,   200, 200, 404,    403, 403, 403,    200, 200, 403),
    R.SUPERVISOR:       (200, 200, 404,   200, 200, 404,    200, 200, 404,    200, 200, 403),
    R.PROGRAMME_MANAGER: (200, 200, 404,  200, 200, 404,    200, 200, 404,    200, 200, 403),
    R.REFERRER:         (200, 404, 404,   403, 403, 403,    403, 403, 403,    200, 403, 403),
    R.RESEARCH_WORKER:  (200, 200, 404,   403, 403, 403,    403, 403, 403,    200, 403, 403),
    R.TRIAL_MANAGER:    (200, 200, 404,   403, 403, 403,    403, 403, 403,    200, 403, 403),
    R.STATISTICIAN:     (200, 200, 404,   403, 403, 403,    403, 403, 403,    200, 403, 403),
    R.UNBLINDED_STATISTICIAN: (200, 200, 404, 403, 403, 403, 403, 403, 403,   200, 403, 403),
    R.DMC_MEMBER:       (200, 200, 404,   403, 403, 403,    403, 403, 403,    200, 403, 403),
    R.STEERING_GROUP:   (200, 200, 404,   403, 403, 403,    403, 403, 403,    200, 403, 403),
    R.ADMINISTRATOR:    (200, 200, 404,   200, 200, 404,    200, 200, 404,    200, 200, 200),
}
# fmt: on
# Roles that see names on the pages they may open.
IDENTIFIABLE = {
    R.THERAPIST,
    R.SUPERVISOR,
    R.PROGRAMME_MANAGER,
    R.REFERRER,
    R.RESEARCH_WORKER,
    R.TRIAL_MANAGER,
    R.ADMINISTRATOR,
}


def test_matrix_covers_every_role():
    assert set(MATRIX) == set(Role)


@pytest.fixture
def world(db):
    home, away = SiteFactory(code="HOME"), SiteFactory(code="AWAY")
    agency = AgencyFactory(name="Referring YOS")
    people = {
        "own": YoungPersonFactory(
            site=home,
            referring_agency=agency,
            study_id="HOME-0001",
            given_name="Owena",
            family_name="Agency",
        ),
        "site": YoungPersonFactory(
            site=home, study_id="HOME-0002", given_name="Sitea", family_name="Only"
        ),
        "other": YoungPersonFactory(
            site=away,
            referring_agency=agency,
            study_id="AWAY-0001",
            given_name="Otto",
            family_name="Away",
        ),
    }
    return home, agency, people


@pytest.mark.parametrize("role", list(Role))
def test_access_matrix(client, world, role):
    home, agency, people = world
    user = member(role, home, agency=agency if role == R.REFERRER else None)
    client.force_login(user)
    expected = MATRIX[role]
    seen = []
    for name in ("cases:detail", "cases:edit", "cases:episode_add"):
        for column in ("own", "site", "other"):
            seen.append(client.get(reverse(name, args=[people[column].study_id])).status_code)
    seen.append(client.get(reverse("cases:list")).status_code)
    seen.append(client.get(reverse("cases:create")).status_code)
    seen.append(client.get(reverse("admin:index")).status_code)
    assert tuple(seen) == expected


@pytest.mark.parametrize("role", list(Role))
def test_names_shown_only_to_identifiable_roles(client, world, role):
    home, agency, _ = world
    client.force_login(member(role, home, agency=agency if role == R.REFERRER else None))
    listing = client.get(reverse("cases:list")).content.decode()
    detail = client.get(reverse("cases:detail", args=["HOME-0001"])).content.decode()
    assert "HOME-0001" in listing
    assert ("Owena" in listing) == (role in IDENTIFIABLE)
    assert ("Owena" in detail) == (role in IDENTIFIABLE)
    assert "Otto" not in listing and "AWAY-0001" not in listing


def test_referrer_also_sees_young_people_their_agency_works_with(client, world):
    from mstoutcomes.cases.tests.factories import AgencyInvolvementFactory

    home, agency, people = world
    client.force_login(member(R.REFERRER, home, agency=agency))
    url = reverse("cases:detail", args=["HOME-0002"])
    assert client.get(url).status_code == 404
    AgencyInvolvementFactory(young_person=people["site"], agency=agency)
    assert client.get(url).status_code == 200


def test_ended_membership_sees_nothing(client, world, alice):
    home, _, _ = world
    user = member(R.THERAPIST, home)
    user.memberships.update(is_active=False)
    client.force_login(user)
    assert client.get(reverse("cases:list")).status_code == 403
    assert client.get(reverse("cases:detail", args=["HOME-0001"])).status_code == 403
