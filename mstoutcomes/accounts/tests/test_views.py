import pytest
from django.urls import reverse

from mstoutcomes.accounts.models import Role
from mstoutcomes.accounts.tests.factories import AgencyFactory, member
from mstoutcomes.cases.tests.factories import EpisodeFactory, YoungPersonFactory

SIGN_IN = reverse("accounts:sign_in")


def test_sign_in_with_the_right_password_goes_home(client, alice):
    response = client.post(SIGN_IN, {"username": "alice", "password": "correct horse battery"})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_wrong_password_shows_a_problem_without_saying_which_field(client, alice):
    response = client.post(SIGN_IN, {"username": "alice", "password": "wrong"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in html
    assert "correct username and password" in html


def test_repeated_failures_lock_the_account_even_with_the_right_password(client, alice, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(SIGN_IN, {"username": "alice", "password": "wrong"})
    response = client.post(SIGN_IN, {"username": "alice", "password": "correct horse battery"})
    assert response.status_code == 429
    assert "Signing in is paused" in response.content.decode()


def test_sign_out_needs_a_post_and_ends_the_session(client, alice):
    client.force_login(alice)
    assert client.get(reverse("accounts:sign_out")).status_code == 405
    client.post(reverse("accounts:sign_out"))
    assert client.get(reverse("home")).status_code == 302


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


@pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMINISTRATOR])
def test_admin_is_for_administrators_only(client, site_a, role):
    client.force_login(member(role, site_a, agency=AgencyFactory() if role == "referrer" else None))
    assert client.get(reverse("admin:index")).status_code == 403
    assert client.get(reverse("admin:cases_youngperson_changelist")).status_code == 403


def test_admin_sends_signed_out_visitors_to_the_sign_in_page(client, db):
    response = client.get(reverse("admin:index"), follow=True)
    assert response.redirect_chain[-1][0].startswith(SIGN_IN)


def test_administrator_can_use_admin_and_admin_changes_are_audited(client, site_a):
    from mstoutcomes.accounts.models import AuditEvent, Site

    client.force_login(member(Role.ADMINISTRATOR, site_a))
    assert client.get(reverse("admin:index")).status_code == 200
    response = client.post(
        reverse("admin:accounts_site_change", args=[site_a.pk]),
        {"code": site_a.code, "name": "Renamed team", "locality": "", "is_active": "on"},
    )
    assert response.status_code == 302
    assert Site.objects.get(pk=site_a.pk).name == "Renamed team"
    event = AuditEvent.objects.get(action="admin.site.changed")
    assert event.changes["name"] == ["Site A", "Renamed team"]


def test_administrator_can_open_young_people_in_admin(client, site_a):
    person = YoungPersonFactory(site=site_a)
    client.force_login(member(Role.ADMINISTRATOR, site_a))
    assert client.get(reverse("admin:cases_youngperson_changelist")).status_code == 200
    change = client.get(reverse("admin:cases_youngperson_change", args=[person.pk]))
    assert change.status_code == 200
