"""The home page each role starts from (a cases view: it shows caseloads)."""

from django.urls import reverse

from mstoutcomes.accounts.models import Role
from mstoutcomes.accounts.tests.factories import AgencyFactory, member
from mstoutcomes.cases.tests.factories import EpisodeFactory, YoungPersonFactory


def test_home_shows_a_therapist_their_caseload(client, alice, site_a):
    person = YoungPersonFactory(site=site_a, given_name="Jay", family_name="Khan")
    EpisodeFactory(young_person=person, therapist=alice)
    client.force_login(alice)
    html = client.get(reverse("home")).content.decode()
    assert "Your caseload" in html and "Jay Khan" in html


def test_home_shows_a_supervisor_the_team_caseloads(client, alice, site_a):
    EpisodeFactory(young_person=YoungPersonFactory(site=site_a), therapist=alice)
    client.force_login(member(Role.SUPERVISOR, site_a))
    html = client.get(reverse("home")).content.decode()
    assert "Team caseloads" in html and "Alice Adams" in html and "1 open episode" in html


def test_home_tells_a_user_without_a_role_what_to_do(client, db):
    from mstoutcomes.accounts.tests.factories import UserFactory

    client.force_login(UserFactory())
    assert "Ask your service administrator" in client.get(reverse("home")).content.decode()


def test_home_for_steering_group_shows_counts_not_names(client, site_a, alice):
    EpisodeFactory(young_person=YoungPersonFactory(site=site_a, given_name="Jay"), therapist=alice)
    client.force_login(member(Role.UNBLINDED_STATISTICIAN, site_a))
    html = client.get(reverse("home")).content.decode()
    assert "in treatment" in html and "study IDs only" in html
    assert "Jay" not in html
    # The steering group is blind to treatment until the lock: one count, no treatment split.
    client.force_login(member(Role.STEERING_GROUP, site_a))
    html = client.get(reverse("home")).content.decode()
    assert "in treatment" not in html and "study IDs only" in html
    assert "Jay" not in html


def test_referrer_home_shows_their_agency(client, site_a):
    agency = AgencyFactory(name="Trafford YOS")
    client.force_login(member(Role.REFERRER, site_a, agency=agency))
    assert "Trafford YOS" in client.get(reverse("home")).content.decode()
