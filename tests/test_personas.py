"""Every page, opened by the named personas.

alice: therapist at site A (allowed to edit); bob: research worker at site A (read-only);
carol: therapist at site B (no access to site A); sam: supervisor at site A (manages episodes).
"""

import pytest
from django.urls import reverse

from mstoutcomes.accounts.models import AuditEvent, Role
from mstoutcomes.accounts.tests.factories import member
from mstoutcomes.cases.tests.factories import (
    AgencyInvolvementFactory,
    EpisodeFactory,
    FamilyMemberFactory,
    YoungPersonFactory,
)

# fmt: off
#                                       alice bob  carol sam
PAGES = {
    "home":                             (200, 200, 200, 200),
    "cases:list":                       (200, 200, 200, 200),
    "cases:create":                     (200, 403, 200, 200),
    "cases:detail":                     (200, 200, 404, 200),
    "cases:edit":                       (200, 403, 404, 200),
    "cases:family_add":                 (200, 403, 404, 200),
    "cases:family_edit":                (200, 403, 404, 200),
    "cases:involvement_add":            (200, 403, 404, 200),
    "cases:involvement_edit":           (200, 403, 404, 200),
    "cases:episode_add":                (403, 403, 403, 200),
    "cases:episode_edit":               (403, 403, 403, 200),
    "cases:episode_discharge":          (403, 403, 403, 200),
}
# fmt: on


@pytest.fixture
def record(site_a, alice):
    person = YoungPersonFactory(site=site_a, study_id="AAA-0001")
    return {
        "person": person,
        "family": FamilyMemberFactory(young_person=person),
        "involvement": AgencyInvolvementFactory(young_person=person),
        "episode": EpisodeFactory(young_person=person, therapist=alice),
    }


def url_for(name, record):
    study_id = record["person"].study_id
    pk = {
        "cases:family_edit": record["family"].pk,
        "cases:involvement_edit": record["involvement"].pk,
        "cases:episode_edit": record["episode"].pk,
        "cases:episode_discharge": record["episode"].pk,
    }.get(name)
    if name in ("home", "cases:list", "cases:create"):
        return reverse(name)
    return reverse(name, args=[study_id, pk] if pk else [study_id])


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_for_every_persona(client, record, alice, bob, carol, site_a, name):
    sam = member(Role.SUPERVISOR, site_a, username="sam")
    url = url_for(name, record)
    seen = []
    for persona in (alice, bob, carol, sam):
        client.force_login(persona)
        seen.append(client.get(url).status_code)
    assert tuple(seen) == PAGES[name]


@pytest.mark.parametrize(
    "name", [n for n in PAGES if n not in ("home", "cases:list", "cases:detail")]
)
def test_refused_posts_write_nothing(client, record, bob, name):
    before = AuditEvent.objects.count()
    client.force_login(bob)
    assert client.post(url_for(name, record), {"given_name": "X"}).status_code == 403
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("name", list(PAGES))
def test_signed_out_visitors_are_sent_to_sign_in(client, record, name):
    response = client.get(url_for(name, record))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:sign_in"))
