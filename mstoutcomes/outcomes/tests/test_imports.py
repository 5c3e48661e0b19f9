"""Imports: good file, bad file, re-import, dry run, matching, Excel and the CLI."""

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from mstoutcomes.accounts.models import AuditEvent, Role
from mstoutcomes.accounts.tests.factories import member
from mstoutcomes.cases.tests.factories import YoungPersonFactory
from mstoutcomes.outcomes.importers import import_records, template_rows
from mstoutcomes.outcomes.models import AttendancePeriod, ImportBatch, Offence, Provenance

HEADER = "local_id,given_name,family_name,date_of_birth,period_start,period_end,school,"
HEADER += "sessions_possible,sessions_attended,authorised_absence,unauthorised_absence\n"
GOOD = HEADER + (
    "AAA-0001,,,,2026-09-01,2026-10-31,Hillside,78,61,5,12\n"
    "AAA-0001,,,,2026-11-01,2026-12-19,Hillside,70,50,,\n"
    ",Robin,Hood,02/03/2012,2026-09-01,2026-10-31,Oakwood,78,78,0,0\n"
)


@pytest.fixture
def people(site_a):
    YoungPersonFactory(site=site_a, study_id="AAA-0001", upn="")
    YoungPersonFactory(
        site=site_a,
        study_id="AAA-0002",
        given_name="Robin",
        family_name="Hood",
        date_of_birth=dt.date(2012, 3, 2),
    )


@pytest.fixture
def manager(site_a):
    return member(Role.PROGRAMME_MANAGER, site_a, username="morgan")


def run(by, site, text, *, kind="attendance", dry_run=False, name="attendance.csv", **kwargs):
    return import_records(
        by=by,
        kind=kind,
        site=site,
        stream=io.BytesIO(text.encode()),
        file_name=name,
        source_system="SIMS",
        extracted_on=dt.date(2026, 12, 20),
        dry_run=dry_run,
        **kwargs,
    )


def test_a_good_file_imports_every_row_with_provenance_and_one_audit_event(manager, site_a, people):
    report = run(manager, site_a, GOOD)
    assert report.ok and (report.rows_read, report.rows_added) == (3, 3)
    record = AttendancePeriod.objects.unscoped().get(school="Oakwood")
    assert record.young_person.study_id == "AAA-0002"  # matched by name and date of birth
    assert (record.provenance, record.source_system) == (Provenance.IMPORTED, "SIMS")
    assert record.extracted_on == dt.date(2026, 12, 20)
    assert record.attendance_rate == 100
    batch = ImportBatch.objects.get()
    assert batch.rows_added == 3 and len(batch.file_sha256) == 64
    event = AuditEvent.objects.get(action="outcomes.import.completed")
    assert event.data["rows_added"] == 3


def test_a_dry_run_reports_what_would_change_and_writes_nothing(manager, site_a, people):
    before = AuditEvent.objects.count()
    report = run(manager, site_a, GOOD, dry_run=True)
    assert report.ok and report.rows_added == 3 and report.batch_id is None
    assert not AttendancePeriod.objects.unscoped().exists()
    assert not ImportBatch.objects.exists()
    assert AuditEvent.objects.count() == before


def test_reimporting_the_same_file_adds_nothing(manager, site_a, people):
    run(manager, site_a, GOOD)
    again = run(manager, site_a, GOOD)
    assert again.ok and (again.rows_added, again.rows_already_present) == (0, 3)
    assert AttendancePeriod.objects.unscoped().count() == 3
    dry = run(manager, site_a, GOOD, dry_run=True)
    assert dry.rows_already_present == 3


def test_a_bad_file_is_refused_whole_with_row_numbered_errors(manager, site_a, people):
    bad = GOOD + (
        "AAA-0001,,,,2026-13-01,2026-10-31,Hillside,78,61,5,12\n"
        "AAA-0001,,,,2026-09-01,2026-08-01,Hillside,78,x,5,12\n"
        "AAA-0001,,,,2026-01-01,2026-02-01,Hillside,10,9,1,1\n"
    )
    report = run(manager, site_a, bad)
    assert not report.ok
    assert report.errors == [
        "Row 5: period_start: must be a date like 2026-03-27 or 27/03/2026 (found '2026-13-01')",
        "Row 6: sessions_attended: must be a whole number (found 'x')",
        "Row 7: sessions_attended: attended and absent sessions exceed sessions_possible",
    ]
    assert not AttendancePeriod.objects.unscoped().exists()
    assert not ImportBatch.objects.exists()


def test_unmatched_rows_are_reported_and_block_unless_skipped(manager, site_a, people):
    text = GOOD + "ZZZ-9999,,,,2026-09-01,2026-10-31,Hillside,78,61,5,12\n"
    report = run(manager, site_a, text)
    assert report.unmatched == ["Row 5: no single young person matches local_id 'ZZZ-9999'"]
    assert not AttendancePeriod.objects.unscoped().exists()
    skipped = run(manager, site_a, text, skip_unmatched=True)
    assert skipped.ok and skipped.rows_added == 3 and skipped.unmatched_count == 1


def test_other_sites_young_people_never_match(manager, site_a, site_b, people):
    YoungPersonFactory(site=site_b, study_id="BBB-0001")
    text = HEADER + "BBB-0001,,,,2026-09-01,2026-10-31,Hillside,78,61,5,12\n"
    assert run(manager, site_a, text).unmatched_count == 1


def test_header_problems_are_named(manager, site_a, people):
    report = run(manager, site_a, "local_id,period_start,colour\nAAA-0001,2026-01-01,red\n")
    assert "Header: Column 'colour' is not one of the attendance columns" in report.errors
    assert "Header: Column 'period_end' is required but missing" in report.errors


def test_only_importers_may_import(bob, site_a, people):
    with pytest.raises(PermissionDenied):
        run(bob, site_a, GOOD)


def test_offences_check_gravity_and_codes(manager, site_a, people):
    text = (
        "local_id,offence_date,category,gravity,outcome\n"
        "AAA-0001,2026-05-01,theft,2,youth_caution\n"
        "AAA-0001,2026-06-01,Robbery,9,Referral order\n"
        "AAA-0001,2026-06-02,arson,3,nfa\n"
    )
    report = run(manager, site_a, text, kind="offences")
    assert report.errors[0] == (
        "Row 3: gravity: must be a YJB gravity score from 1 to 8 (found '9')"
    )
    assert report.errors[1].startswith("Row 4: category: must be one of violence, robbery")
    fixed = text.replace(",9,", ",5,").replace("arson", "criminal damage and arson")
    assert run(manager, site_a, fixed, kind="offences").rows_added == 3
    assert Offence.objects.unscoped().filter(outcome="referral_order").exists()


def test_excel_files_import_like_csv(manager, site_a, people):
    book = Workbook()
    sheet = book.active
    for line in GOOD.strip().split("\n"):
        sheet.append([cell or None for cell in line.split(",")])
    sheet["E2"] = dt.datetime(2026, 9, 1)  # a real Excel date cell
    buffer = io.BytesIO()
    book.save(buffer)
    report = import_records(
        by=manager,
        kind="attendance",
        site=site_a,
        stream=io.BytesIO(buffer.getvalue()),
        file_name="attendance.xlsx",
        source_system="SIMS",
        extracted_on=dt.date(2026, 12, 20),
        dry_run=False,
    )
    assert report.ok and report.rows_added == 3


def test_every_kind_imports_its_own_template_row(manager, site_a, people):
    from mstoutcomes.outcomes.importers import KINDS

    for kind in KINDS:
        header, example = template_rows(kind)
        text = ",".join(header) + "\n" + ",".join(example) + "\n"
        report = run(manager, site_a, text, kind=kind)
        assert report.ok and report.rows_added == 1, (kind, report.errors)


def test_the_command_checks_and_imports_with_a_progress_bar(tmp_path, site_a, people):
    path = tmp_path / "attendance.csv"
    path.write_text(GOOD)
    out = io.StringIO()
    call_command("import", "attendance", str(path), "--dry-run", stdout=out)
    assert "Check passed. 3 rows read; would add 3" in out.getvalue()
    assert not AttendancePeriod.objects.unscoped().exists()
    call_command("import", "attendance", str(path), "--extracted", "2026-12-01", stdout=out)
    assert AttendancePeriod.objects.unscoped().count() == 3
    path.write_text(GOOD + "AAA-0001,,,,bad,2026-10-31,Hillside,78,61,5,12\n")
    with pytest.raises(CommandError, match="Nothing imported"):
        call_command("import", "attendance", str(path), stdout=io.StringIO())
