"""Administrative records pages, entry by hand and the import page, for each persona."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from mstoutcomes.accounts.models import AuditEvent, Role
from mstoutcomes.accounts.tests.factories import member
from mstoutcomes.cases.tests.factories import YoungPersonFactory
from mstoutcomes.outcomes.models import Exclusion, Provenance

TODAY = dt.date.today()


@pytest.fixture
def person(site_a):
    return YoungPersonFactory(site=site_a, study_id="AAA-0001")


@pytest.fixture
def manager(site_a):
    return member(Role.PROGRAMME_MANAGER, site_a, username="morgan")


@pytest.fixture
def exclusion(person, alice):
    from mstoutcomes.outcomes.services import administrative_record_save

    return administrative_record_save(
        by=alice,
        young_person=person,
        model=Exclusion,
        fields={"kind": "suspension", "start_date": TODAY, "days": 2, "reason": "Fight"},
    )


# fmt: off
#                              alice bob  carol morgan (manager: imports)
PAGES = {
    "outcomes:person":          (200, 200, 404, 200),
    "outcomes:record_add":      (200, 403, 404, 200),
    "outcomes:record_edit":     (200, 403, 404, 200),
    "outcomes:import":          (403, 403, 403, 200),
    "outcomes:template":        (403, 403, 403, 200),
}
# fmt: on


def url_for(name, person, exclusion):
    args = {
        "outcomes:person": [person.study_id],
        "outcomes:record_add": [person.study_id, "offences"],
        "outcomes:record_edit": [person.study_id, "exclusions", exclusion.pk],
        "outcomes:template": ["attendance", "csv"],
    }.get(name, [])
    return reverse(name, args=args)


@pytest.mark.parametrize("name", list(PAGES))
def test_every_outcomes_page_for_every_persona(
    client, person, exclusion, alice, bob, carol, manager, name
):
    seen = []
    for persona in (alice, bob, carol, manager):
        client.force_login(persona)
        seen.append(client.get(url_for(name, person, exclusion)).status_code)
    assert tuple(seen) == PAGES[name]


def test_a_record_entered_by_hand_says_so_and_is_audited(client, person, alice, exclusion):
    assert exclusion.provenance == Provenance.MANUAL and exclusion.entered_by == alice
    assert AuditEvent.objects.filter(action="outcomes.exclusion.added").exists()
    client.force_login(alice)
    page = client.get(reverse("outcomes:person", args=[person.study_id])).content.decode()
    assert "Suspension (fixed-period exclusion)" in page and "Entered by hand" in page


def test_adding_an_offence_through_the_form_refuses_a_bad_gravity(client, person, alice):
    client.force_login(alice)
    url = reverse("outcomes:record_add", args=[person.study_id, "offences"])
    data = {
        "offence_date_0": TODAY.day,
        "offence_date_1": TODAY.month,
        "offence_date_2": TODAY.year,
        "category": "theft",
        "gravity": 9,
        "outcome": "youth_caution",
        "description": "",
        "source_system": "",
        "extracted_on_0": "",
        "extracted_on_1": "",
        "extracted_on_2": "",
    }
    response = client.post(url, data)
    assert response.status_code == 400
    assert "gravity score runs from 1 to 8" in response.content.decode()
    data["gravity"] = 3
    assert client.post(url, data).status_code == 302


def test_the_import_page_checks_then_imports(client, person, manager, site_a):
    client.force_login(manager)
    text = b"local_id,kind,start_date,days\nAAA-0001,suspension,2026-10-01,1.5\n"
    form = {
        "kind": "exclusions",
        "site": site_a.pk,
        "source_system": "SIMS",
        "extracted_on_0": 1,
        "extracted_on_1": 11,
        "extracted_on_2": 2026,
    }
    checked = client.post(
        reverse("outcomes:import"),
        {**form, "file": SimpleUploadedFile("ex.csv", text), "dry_run": "Check"},
    )
    assert "The file is ready to import" in checked.content.decode()
    assert not Exclusion.objects.unscoped().exists()
    imported = client.post(
        reverse("outcomes:import"),
        {**form, "file": SimpleUploadedFile("ex.csv", text), "import": "Import"},
    )
    assert "Imported" in imported.content.decode()
    assert Exclusion.objects.unscoped().get().days == 1.5


def test_the_template_download_has_the_documented_columns(client, manager):
    client.force_login(manager)
    response = client.get(reverse("outcomes:template", args=["offences", "csv"]))
    header = response.content.decode().splitlines()[0]
    assert header.startswith("local_id,given_name,family_name,date_of_birth,offence_date")
    xlsx = client.get(reverse("outcomes:template", args=["offences", "xlsx"]))
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")


def test_records_page_runs_in_few_queries(
    client, person, alice, exclusion, django_assert_max_num_queries
):
    client.force_login(alice)
    with django_assert_max_num_queries(16):
        client.get(reverse("outcomes:person", args=[person.study_id]))
