"""The protocol deviations log: services, pages, CSV, and who may see and record."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from mstoutcomes.accounts.models import AuditEvent, Role
from mstoutcomes.accounts.permissions import ROLE_PERMISSIONS, Perm
from mstoutcomes.accounts.tests.factories import AgencyFactory, member
from mstoutcomes.cases.tests.factories import YoungPersonFactory
from mstoutcomes.trial.models import ProtocolDeviation
from mstoutcomes.trial.services import (
    participant_enrol,
    protocol_deviation_record,
    protocol_deviation_update,
)
from mstoutcomes.trial.tests.conftest import make_trial

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()
WEEK_AGO = TODAY - dt.timedelta(days=7)


def log(by, trial, site, **changes):
    fields = {
        "occurred_on": WEEK_AGO,
        "identified_on": TODAY,
        "category": "consent",
        "severity": "minor",
        "description": "Consent taken on form version 1.0 after 2.0 was approved.",
        **changes,
    }
    return protocol_deviation_record(by=by, trial=trial, site=site, **fields)


def dated(name, value):
    return {f"{name}_0": value.day, f"{name}_1": value.month, f"{name}_2": value.year}


def test_a_deviation_is_logged_with_history_and_an_audit_event_without_the_description(
    trial, site_a, trial_manager, young_person
):
    participant = participant_enrol(by=None, trial=trial, young_person=young_person)
    deviation = log(trial_manager, trial, site_a, participant=participant, severity="major")
    assert deviation.recorded_by == trial_manager
    assert deviation.history.count() == 1
    event = AuditEvent.objects.get(action="trial.deviation.recorded")
    assert event.data["young_person"] == young_person.study_id
    assert event.data["severity"] == "major"
    assert "form version" not in str(event.data)


def test_changing_a_deviation_is_audited_with_the_fields_changed(trial, site_a, trial_manager):
    deviation = log(trial_manager, trial, site_a)
    protocol_deviation_update(
        by=trial_manager,
        deviation=deviation,
        corrective_action="Re-consented on version 2.0.",
        reported_to_sponsor_on=TODAY,
    )
    deviation.refresh_from_db()
    assert deviation.reported_to_sponsor_on == TODAY
    assert deviation.history.count() == 2
    event = AuditEvent.objects.get(action="trial.deviation.updated")
    assert event.data["fields"] == ["corrective_action", "reported_to_sponsor_on"]
    with pytest.raises(ValidationError, match="no editable field"):
        protocol_deviation_update(by=trial_manager, deviation=deviation, trial=None)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"occurred_on": TODAY + dt.timedelta(days=1)}, "occurred_on", "cannot be in the future"),
        ({"identified_on": TODAY + dt.timedelta(days=2)}, "identified_on", "in the future"),
        (
            {"occurred_on": TODAY, "identified_on": WEEK_AGO},
            "identified_on",
            "cannot be identified before it happened",
        ),
        (
            {"reported_to_sponsor_on": WEEK_AGO - dt.timedelta(days=1)},
            "reported_to_sponsor_on",
            "before it was identified",
        ),
        ({"category": "made_up"}, "category", "not a valid choice"),
    ],
)
def test_bad_deviations_are_refused_naming_the_field(
    trial, site_a, trial_manager, changes, field, message
):
    with pytest.raises(ValidationError) as error:
        log(trial_manager, trial, site_a, **changes)
    assert message in " ".join(error.value.message_dict[field])
    assert not ProtocolDeviation.objects.unscoped().exists()
    assert not AuditEvent.objects.filter(action="trial.deviation.recorded").exists()


def test_a_participant_from_another_trial_or_site_is_refused(site_a, site_b, trial, trial_manager):
    other_trial = make_trial(site_a, code="OTHER")
    stranger = participant_enrol(
        by=None, trial=other_trial, young_person=YoungPersonFactory(site=site_a)
    )
    with pytest.raises(ValidationError, match="in another trial"):
        log(trial_manager, trial, site_a, participant=stranger)
    trial.sites.add(site_b)
    elsewhere = participant_enrol(
        by=None, trial=trial, young_person=YoungPersonFactory(site=site_b)
    )
    with pytest.raises(ValidationError, match="at another site"):
        log(trial_manager, trial, site_a, participant=elsewhere)
    assert not ProtocolDeviation.objects.unscoped().exists()


def test_only_deviation_recorders_at_a_trial_site_may_log(trial, site_a, site_b, bob):
    statistician = member(Role.STATISTICIAN, site_a, username="stan")
    with pytest.raises(PermissionDenied):
        log(statistician, trial, site_a)
    with pytest.raises(PermissionDenied):
        log(bob, trial, site_a)
    manager_b = member(Role.TRIAL_MANAGER, site_b, username="tom")
    with pytest.raises(ValidationError, match="takes part in this trial"):
        log(manager_b, trial, site_b)
    programme_manager = member(Role.PROGRAMME_MANAGER, site_a, username="pam")
    assert log(programme_manager, trial, site_a).pk


def test_every_role_that_sees_the_log_also_sees_treatment():
    # Deviation descriptions can reveal the arm: blinded roles must never hold these.
    for perms in ROLE_PERMISSIONS.values():
        if Perm.VIEW_DEVIATIONS in perms or Perm.RECORD_DEVIATIONS in perms:
            assert Perm.VIEW_TREATMENT in perms
        if Perm.RECORD_DEVIATIONS in perms:
            assert Perm.VIEW_DEVIATIONS in perms
    assert Perm.VIEW_DEVIATIONS not in ROLE_PERMISSIONS[Role.RESEARCH_WORKER]


# Pages

ROLES = {
    # role: (log, new deviation form)
    Role.TRIAL_MANAGER: (200, 200),
    Role.PROGRAMME_MANAGER: (200, 200),
    # Blind to allocation: the log can reveal the arm.
    Role.STATISTICIAN: (403, 403),
    Role.UNBLINDED_STATISTICIAN: (200, 403),
    Role.DMC_MEMBER: (403, 403),
    Role.STEERING_GROUP: (403, 403),
    Role.RESEARCH_WORKER: (403, 403),
    Role.THERAPIST: (403, 403),
    Role.SUPERVISOR: (403, 403),
    Role.REFERRER: (403, 403),
    Role.ADMINISTRATOR: (403, 403),
}


def test_roles_table_covers_every_role():
    assert set(ROLES) == set(Role)


@pytest.mark.parametrize("role", list(Role))
def test_who_may_open_the_log_and_the_form(client, trial, site_a, site_b, trial_manager, role):
    log(trial_manager, trial, site_a, description="Therapist visited the control family.")
    agency = AgencyFactory() if role == Role.REFERRER else None
    client.force_login(member(role, site_a, agency=agency, username=f"u-{role}"))
    pages = [reverse("trial:deviations", args=[trial.code])]
    pages.append(reverse("trial:deviation_add", args=[trial.code]))
    seen = tuple(client.get(url).status_code for url in pages)
    assert seen == ROLES[role]
    if seen[0] != 200:
        assert "control family" not in client.get(pages[0]).content.decode()
    client.force_login(member(Role.TRIAL_MANAGER, site_b, username="elsewhere"))
    assert client.get(pages[0]).status_code == 404  # another site's staff: no such trial


def test_the_log_filters_pages_and_shows_an_empty_state(
    client, trial, site_a, trial_manager, settings
):
    url = reverse("trial:deviations", args=[trial.code])
    client.force_login(trial_manager)
    empty = client.get(url).content.decode()
    assert "No protocol deviations have been logged" in empty
    settings.PAGE_SIZE = 5
    for n in range(6):
        log(trial_manager, trial, site_a, description=f"Minor slip {n}")
    log(
        trial_manager,
        trial,
        site_a,
        severity="serious_breach",
        category="randomisation",
        description="Randomised before consent",
    )
    first = client.get(url).content.decode()
    assert "7 deviations" in first and 'aria-label="Page 2"' in first
    second = client.get(url, {"page": 2}).content.decode()
    assert first.count("Minor slip") + second.count("Minor slip") == 6
    serious = client.get(url, {"severity": "serious_breach"}).content.decode()
    assert "Randomised before consent" in serious and "Minor slip" not in serious
    assert "1 deviation match" in serious
    none = client.get(url, {"category": "eligibility"}).content.decode()
    assert "No deviations match these filters" in none
    assert client.get(url, {"site": site_a.pk}).context["page"].paginator.count == 7


def test_the_log_downloads_as_csv_and_is_audited(
    client, trial, site_a, trial_manager, young_person
):
    participant = participant_enrol(by=None, trial=trial, young_person=young_person)
    log(trial_manager, trial, site_a, participant=participant)
    log(trial_manager, trial, site_a, category="eligibility")
    client.force_login(member(Role.UNBLINDED_STATISTICIAN, site_a, username="stan"))
    response = client.get(
        reverse("trial:deviations", args=[trial.code]), {"format": "csv", "category": "consent"}
    )
    assert response["Content-Type"] == "text/csv"
    lines = response.content.decode().strip().splitlines()
    assert lines[0].startswith("id,site,participant,occurred_on")
    assert len(lines) == 2 and young_person.study_id in lines[1] and "Consent" in lines[1]
    event = AuditEvent.objects.get(action="trial.deviations.exported")
    consent_row = ProtocolDeviation.objects.unscoped().get(trial=trial, category="consent")
    assert event.data == {
        "rows": 1,
        "deviations": [consent_row.pk],
        "sites": [site_a.code],
        "filters": {"category": "consent"},
    }


def test_logging_and_changing_a_deviation_through_the_form(client, trial, site_a, trial_manager):
    client.force_login(trial_manager)
    url = reverse("trial:deviation_add", args=[trial.code])
    refused = client.post(
        url,
        {
            "site": site_a.pk,
            "category": "assessment_window",
            "severity": "minor",
            "description": "Six-month measures taken 40 days late.",
            **dated("occurred_on", TODAY),
            **dated("identified_on", WEEK_AGO),
        },
    )
    assert refused.status_code == 400
    assert "cannot be identified before it happened" in refused.content.decode()
    assert not ProtocolDeviation.objects.unscoped().exists()
    saved = client.post(
        url,
        {
            "site": site_a.pk,
            "category": "assessment_window",
            "severity": "minor",
            "description": "Six-month measures taken 40 days late.",
            **dated("occurred_on", WEEK_AGO),
            **dated("identified_on", TODAY),
        },
    )
    assert saved["Location"] == reverse("trial:deviations", args=[trial.code])
    deviation = ProtocolDeviation.objects.unscoped().get()
    edit = reverse("trial:deviation_edit", args=[trial.code, deviation.pk])
    assert "40 days late" in client.get(edit).content.decode()
    client.post(
        edit,
        {
            "site": site_a.pk,
            "category": "assessment_window",
            "severity": "major",
            "description": "Six-month measures taken 40 days late.",
            "corrective_action": "Reminder process changed.",
            **dated("occurred_on", WEEK_AGO),
            **dated("identified_on", TODAY),
            **dated("reported_to_sponsor_on", TODAY),
        },
    )
    deviation.refresh_from_db()
    assert (deviation.severity, deviation.reported_to_sponsor_on) == ("major", TODAY)
    assert AuditEvent.objects.filter(action__startswith="trial.deviation.").count() == 2


def test_recruitment_page_summarises_deviations_for_those_who_may_see_them(
    client, trial, site_a, trial_manager
):
    log(trial_manager, trial, site_a, severity="serious_breach")
    log(trial_manager, trial, site_a)
    client.force_login(trial_manager)
    response = client.get(reverse("trial:recruitment", args=[trial.code]))
    summary = response.context["deviations"]
    assert summary.total == 2 and summary.not_reported_serious == 1
    assert dict(summary.by_severity) == {"Minor": 1, "Major": 0, "Serious breach": 1}
    html = response.content.decode()
    assert "1 serious breach not yet reported to the sponsor" in html


def test_readers_of_the_log_reach_it_from_the_trial_list(client, trial, site_a, alice):
    client.force_login(member(Role.UNBLINDED_STATISTICIAN, site_a, username="sue"))
    html = client.get(reverse("trial:list")).content.decode()
    assert reverse("trial:deviations", args=[trial.code]) in html
    assert f'href="{reverse("trial:detail", args=[trial.code])}"' not in html  # not theirs
    client.force_login(alice)
    assert client.get(reverse("trial:list")).status_code == 403
