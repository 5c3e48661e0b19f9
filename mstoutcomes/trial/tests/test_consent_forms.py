"""Consent form versions: managed documents, consent taken on the current one, re-consent."""

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from mstoutcomes.accounts.models import AuditEvent, Role
from mstoutcomes.accounts.tests.factories import SiteFactory, member
from mstoutcomes.cases.tests.factories import YoungPersonFactory
from mstoutcomes.core.dates import today
from mstoutcomes.core.scoping import scopes_disabled
from mstoutcomes.trial.consent_forms import consent_form_add
from mstoutcomes.trial.models import ConsentFormVersion, ConsentRecord
from mstoutcomes.trial.selectors import reconsent_by_site, reconsent_needed
from mstoutcomes.trial.services import (
    consent_record,
    participant_enrol,
    participant_randomise,
    withdrawal_record,
)
from mstoutcomes.trial.tests.conftest import consent_form, make_trial, ready

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def pdf(name="carer-consent-v2.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def add_version(by, trial, version="v2.0", kind="carer_consent", **changes):
    fields = {
        "kind": kind,
        "version": version,
        "approved_on": dt.date(2026, 6, 1),
        "approved_by": "North West REC 24/NW/0123",
        "file": pdf(),
        **changes,
    }
    return consent_form_add(by=by, trial=trial, **fields)


@pytest.fixture
def supervisor(site_a):
    return member(Role.SUPERVISOR, site_a, username="sam")


# Managing versions


def test_a_new_version_becomes_current_supersedes_the_last_and_is_audited(trial, trial_manager):
    old = consent_form(trial, "carer_consent")

    new = add_version(trial_manager, trial)

    old.refresh_from_db()
    assert new.is_current and not old.is_current and old.superseded_on == today()
    assert new.file.name.startswith("consent-forms/start-t/carer_consent/v20")
    with new.file.open("rb") as stored:
        assert stored.read() == PDF
    event = AuditEvent.objects.get(action="trial.consent_form.added")
    assert event.data["supersedes"] == "v1.0" and len(event.data["file_sha256"]) == 64
    assert ConsentFormVersion.objects.filter(trial=trial, is_current=True).count() == 3


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (pdf("form.docx"), "must be a PDF file"),
        (pdf("form.pdf", b"PK\x03\x04 a Word file in disguise"), "not a PDF"),
    ],
)
def test_a_file_that_is_not_a_pdf_is_refused_and_nothing_changes(
    trial, trial_manager, upload, message
):
    with pytest.raises(ValidationError, match=message):
        add_version(trial_manager, trial, file=upload)
    assert ConsentFormVersion.objects.get(trial=trial, kind="carer_consent").version == "v1.0"


def test_a_version_already_recorded_or_approved_in_the_future_is_refused(trial, trial_manager):
    with pytest.raises(ValidationError, match="already the current one"):
        add_version(trial_manager, trial, version="v1.0")
    tomorrow = today() + dt.timedelta(days=1)
    with pytest.raises(ValidationError, match="approved on a date in the future"):
        add_version(trial_manager, trial, approved_on=tomorrow)
    assert ConsentFormVersion.objects.filter(trial=trial, kind="carer_consent").count() == 1


def test_only_holders_of_the_consent_forms_permission_add_versions(trial, supervisor, bob):
    for user in (supervisor, bob):
        with pytest.raises(PermissionDenied):
            add_version(user, trial)


# Consent on a version


def test_consent_is_taken_only_on_the_current_version_of_the_right_form_of_the_trial(
    trial, trial_manager, young_person, site_a
):
    participant = participant_enrol(by=None, trial=trial, young_person=young_person)
    old = consent_form(trial, "carer_consent")
    add_version(trial_manager, trial)
    other_trial = make_trial(site_a, code="OTHER-T")
    refusals = {
        "has been superseded by version v2.0": {"form": old},
        "belongs to another trial": {"form": consent_form(other_trial, "carer_consent")},
        "not this consent": {
            "form": consent_form(trial, "data_linkage"),
            "kind": "carer_consent",
        },
        "Choose the consent form version": {"form": None},
    }
    for message, fields in refusals.items():
        with pytest.raises(ValidationError, match=message):
            consent_record(
                by=trial_manager, participant=participant, given=True, recorded_on=today(), **fields
            )
    assert not ConsentRecord.objects.unscoped().exists()

    current = ConsentFormVersion.objects.get(trial=trial, kind="carer_consent", is_current=True)
    record = consent_record(
        by=trial_manager, participant=participant, form=current, given=True, recorded_on=today()
    )
    assert (record.kind, record.form, record.form_version) == ("carer_consent", current, "v2.0")


def test_the_participant_page_offers_only_current_versions_and_refuses_an_old_one(
    client, trial, trial_manager, young_person
):
    participant = participant_enrol(by=None, trial=trial, young_person=young_person)
    old = consent_form(trial, "carer_consent")
    add_version(trial_manager, trial)
    client.force_login(trial_manager)
    url = reverse("trial:participant", args=[trial.code, participant.pk])
    page = client.get(url).content.decode()
    assert "Carer consent to take part, version v2.0 (approved 1 June 2026)" in page
    assert "Carer consent to take part, version v1.0" not in page.split("Record a consent")[1]
    response = client.post(
        url,
        {
            "action": "consent",
            "consent-form": old.pk,
            "consent-given": "yes",
            "consent-recorded_on_0": today().day,
            "consent-recorded_on_1": today().month,
            "consent-recorded_on_2": today().year,
        },
    )
    assert response.status_code == 400
    assert "Select a current consent form: that version is not current" in response.text
    assert not ConsentRecord.objects.unscoped().exists()


# Re-consent


@pytest.fixture
def consented(trial, trial_manager, site_a):
    """Four participants at site A and one at site B, all consented on v1.0 of every form."""
    site_b = SiteFactory(code="BBB", name="Site B")
    trial.sites.add(site_b)
    tom = member(Role.TRIAL_MANAGER, site_b, username="tom")
    people = {}
    for name, site in (
        ("randomised", site_a),
        ("awaiting", site_a),
        ("withdrawn", site_a),
        ("ineligible", site_a),
        ("elsewhere", site_b),
    ):
        person = YoungPersonFactory(site=site)
        participant = participant_enrol(by=None, trial=trial, young_person=person)
        manager = trial_manager if site == site_a else tom
        ready(participant, manager, eligible=name != "ineligible")
        people[name] = participant
    participant_randomise(by=trial_manager, participant=people["randomised"])
    participant_randomise(by=trial_manager, participant=people["withdrawn"])
    withdrawal_record(
        by=trial_manager, participant=people["withdrawn"], level="further_data", on=today()
    )
    return people


def test_a_new_version_lists_who_needs_re_consent_and_consenting_again_removes_them(
    trial, trial_manager, consented
):
    assert reconsent_needed(user=trial_manager, trial=trial) == []
    add_version(trial_manager, trial)

    rows = reconsent_needed(user=trial_manager, trial=trial)
    assert {r.participant for r in rows} == {consented["randomised"], consented["awaiting"]}
    assert {(r.kind_label, r.signed_version, r.current_version) for r in rows} == {
        ("Carer consent to take part", "v1.0", "v2.0")
    }
    assert reconsent_by_site(rows) == [("Site A", 2)]

    consent_record(
        by=trial_manager,
        participant=consented["randomised"],
        form=ConsentFormVersion.objects.get(trial=trial, kind="carer_consent", is_current=True),
        given=True,
        recorded_on=today(),
    )
    rows = reconsent_needed(user=trial_manager, trial=trial)
    assert [r.participant for r in rows] == [consented["awaiting"]]


def test_the_re_consent_page_counts_by_site_the_people_the_user_may_see(
    client, trial, trial_manager, consented, site_a
):
    add_version(trial_manager, trial)
    add_version(trial_manager, trial, kind="young_person_assent", version="v3.0")
    client.force_login(trial_manager)
    page = client.get(reverse("trial:reconsent", args=[trial.code]))
    assert page.status_code == 200
    html = page.text
    for participant in (consented["randomised"], consented["awaiting"]):
        assert participant.young_person.study_id in html
    assert consented["elsewhere"].young_person.study_id not in html  # site B: not tina's
    assert "Young person&#x27;s assent" in html
    by_site = html.split('id="reconsent-by-site"')[1].split("</table>")[0]
    assert "Site A" in by_site and "Site B" not in by_site
    forms_page = client.get(reverse("trial:consent_forms", args=[trial.code])).text
    assert "2 participants need re-consent" in forms_page


# Pages and permissions


def test_a_trial_manager_uploads_a_version_and_staff_download_it(client, trial, trial_manager):
    client.force_login(trial_manager)
    url = reverse("trial:consent_forms", args=[trial.code])
    response = client.post(
        url,
        {
            "kind": "young_person_assent",
            "version": "v2.0",
            "approved_on_0": 1,
            "approved_on_1": 6,
            "approved_on_2": 2026,
            "approved_by": "North West REC",
            "file": pdf("assent.pdf"),
        },
    )
    assert response.status_code == 302
    new = ConsentFormVersion.objects.get(kind="young_person_assent", is_current=True)
    page = client.get(url).text
    assert "v2.0" in page and "Superseded" in page
    download = client.get(reverse("trial:consent_form_file", args=[trial.code, new.pk]))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content) == PDF
    assert AuditEvent.objects.filter(action="trial.consent_form.downloaded").count() == 1
    # A version migrated from text has no file to download.
    old = ConsentFormVersion.objects.get(kind="carer_consent")
    assert (
        client.get(reverse("trial:consent_form_file", args=[trial.code, old.pk])).status_code == 404
    )


def test_the_upload_form_refuses_a_file_that_is_not_a_pdf_naming_the_field(
    client, trial, trial_manager
):
    client.force_login(trial_manager)
    response = client.post(
        reverse("trial:consent_forms", args=[trial.code]),
        {
            "kind": "carer_consent",
            "version": "v2.0",
            "approved_on_0": 1,
            "approved_on_1": 6,
            "approved_on_2": 2026,
            "approved_by": "North West REC",
            "file": pdf("consent.pdf", b"<html>not a pdf</html>"),
        },
    )
    assert response.status_code == 400
    assert "The file is not a PDF" in response.text
    assert ConsentFormVersion.objects.filter(kind="carer_consent").count() == 1


def test_people_who_are_not_trial_staff_cannot_see_add_or_download_forms(
    client, trial, trial_manager, supervisor, bob
):
    new = add_version(trial_manager, trial)
    urls = [
        reverse("trial:consent_forms", args=[trial.code]),
        reverse("trial:consent_form_file", args=[trial.code, new.pk]),
        reverse("trial:reconsent", args=[trial.code]),
    ]
    client.force_login(supervisor)  # sees the trial's dashboards, not its consent forms
    assert [client.get(url).status_code for url in urls] == [403, 403, 403]
    assert client.post(urls[0], {"kind": "carer_consent"}).status_code == 403
    client.force_login(bob)
    assert [client.get(url).status_code for url in urls] == [404, 404, 403]
    assert not AuditEvent.objects.filter(action="trial.consent_form.downloaded").exists()


# The data migration from free-text versions


def test_existing_text_versions_become_form_versions_linked_to_their_consents(
    trial, trial_manager, young_person
):
    participant = participant_enrol(by=None, trial=trial, young_person=young_person)
    ConsentFormVersion.objects.filter(trial=trial).delete()
    for text, on in (("v2.1", dt.date(2025, 1, 5)), ("v2.2", dt.date(2025, 3, 5))):
        ConsentRecord.objects.create(
            participant=participant,
            kind="carer_consent",
            form_version=text,
            given=True,
            recorded_on=on,
            taken_by=trial_manager,
        )
    migration = importlib.import_module(
        "mstoutcomes.trial.migrations.0005_consent_forms_and_lock_events"
    )

    # The live models' managers are scoped; the historical models a migration gets are not.
    with scopes_disabled():
        migration.forms_from_text(apps, None)

    forms = {f.version: f for f in ConsentFormVersion.objects.filter(trial=trial)}
    assert set(forms) == {"v2.1", "v2.2"}
    assert forms["v2.2"].is_current and not forms["v2.1"].is_current
    assert forms["v2.1"].superseded_on == dt.date(2025, 3, 5)
    assert forms["v2.1"].approved_on == dt.date(2025, 1, 5) and not forms["v2.1"].file
    assert {c.form_version: c.form for c in ConsentRecord.objects.unscoped().all()} == forms


# Withdrawal levels drive what is scheduled


def test_withdrawing_the_use_of_data_also_stops_the_research_schedule(
    trial, trial_manager, young_person, bob
):
    from mstoutcomes.measures import selectors as measures

    participant = ready(
        participant_enrol(by=None, trial=trial, young_person=young_person),
        trial_manager,
        baseline=False,
    )
    # Randomised without its baseline (waived), so the baseline is still due on the worklist.
    participant_randomise(
        by=trial_manager, participant=participant, baseline_waiver_reason="Hospital stay."
    )

    def research():
        rows = measures.worklist(user=bob, today=today(), collected_by="research")
        return {r.study_id for r in rows if r.task.schedule == "trial"}

    assert young_person.study_id in research()
    withdrawal_record(by=trial_manager, participant=participant, level="data_use", on=today())
    assert young_person.study_id not in research()


def test_a_trial_without_forms_says_consent_waits_for_one(client, site_a, trial_manager):
    bare = make_trial(site_a, code="BARE-T", forms=False)
    participant = participant_enrol(
        by=None, trial=bare, young_person=YoungPersonFactory(site=site_a)
    )
    client.force_login(trial_manager)
    page = client.get(reverse("trial:participant", args=[bare.code, participant.pk])).text
    assert "No consent form has been added to this trial yet" in page
