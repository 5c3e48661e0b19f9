"""Imports: changed values on re-import, dry-run counts, and row-numbered errors at volume."""

import datetime as dt
import io

import pytest

from mstoutcomes.accounts.models import AuditEvent, Role
from mstoutcomes.accounts.tests.factories import member
from mstoutcomes.cases.tests.factories import YoungPersonFactory
from mstoutcomes.outcomes.columns import row_key
from mstoutcomes.outcomes.importers import KINDS, MAX_ERRORS_KEPT, import_records
from mstoutcomes.outcomes.models import AttendancePeriod, ImportBatch, Offence

HEADER = "local_id,given_name,family_name,date_of_birth,period_start,period_end,school,"
HEADER += "sessions_possible,sessions_attended,authorised_absence,unauthorised_absence\n"
FIRST = "AAA-0001,,,,2026-09-01,2026-10-31,Hillside,78,61,5,12\n"
SECOND = "AAA-0001,,,,2026-11-01,2026-12-19,Hillside,70,50,,\n"
THIRD = ",Robin,Hood,02/03/2012,2026-09-01,2026-10-31,Oakwood,78,78,0,0\n"
GOOD = HEADER + FIRST + SECOND + THIRD


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


def run(by, site, text, *, kind="attendance", dry_run=False, extracted=dt.date(2026, 12, 20)):
    return import_records(
        by=by,
        kind=kind,
        site=site,
        stream=io.BytesIO(text.encode()),
        file_name="attendance.csv",
        source_system="SIMS",
        extracted_on=extracted,
        dry_run=dry_run,
    )


def records():
    return {
        (r.school, r.period_start): r
        for r in AttendancePeriod.objects.unscoped().select_related("young_person")
    }


def test_a_reimport_updates_changed_values_and_their_provenance(manager, site_a, people):
    first = run(manager, site_a, GOOD)
    corrected = GOOD.replace(FIRST, FIRST.replace(",78,61,5,12", ",78,60,6,12"))
    report = run(manager, site_a, corrected, extracted=dt.date(2027, 1, 5))
    assert report.ok
    assert (report.rows_added, report.rows_updated, report.rows_unchanged) == (0, 1, 2)
    assert report.rows_already_present == 3
    stored = records()
    changed = stored[("Hillside", dt.date(2026, 9, 1))]
    assert (changed.sessions_attended, changed.authorised_absence) == (60, 6)
    assert changed.extracted_on == dt.date(2027, 1, 5)
    assert changed.import_batch_id == report.batch_id != first.batch_id
    same = stored[("Oakwood", dt.date(2026, 9, 1))]
    assert same.import_batch_id == first.batch_id  # the values still come from the first file
    assert same.extracted_on == dt.date(2026, 12, 20)
    assert AttendancePeriod.objects.unscoped().count() == 3
    event = AuditEvent.objects.filter(action="outcomes.import.completed").latest("pk")
    assert (event.data["rows_updated"], event.data["rows_unchanged"]) == (1, 2)


def test_a_dry_run_counts_new_updated_and_unchanged_rows_and_writes_nothing(
    manager, site_a, people
):
    run(manager, site_a, GOOD)
    before = {k: (r.sessions_attended, r.updated_at) for k, r in records().items()}
    events, batches = AuditEvent.objects.count(), ImportBatch.objects.count()
    text = GOOD.replace(",78,78,0,0", ",78,70,8,0")
    text += "AAA-0001,,,,2027-01-04,2027-02-12,Hillside,60,60,0,0\n"
    report = run(manager, site_a, text, dry_run=True)
    assert report.ok and report.batch_id is None
    assert (report.rows_added, report.rows_updated, report.rows_unchanged) == (1, 1, 2)
    after = {k: (r.sessions_attended, r.updated_at) for k, r in records().items()}
    assert after == before
    assert (AuditEvent.objects.count(), ImportBatch.objects.count()) == (events, batches)


def test_a_dry_run_of_a_new_file_writes_nothing(manager, site_a, people):
    report = run(manager, site_a, GOOD, dry_run=True)
    assert (report.rows_added, report.rows_updated, report.rows_unchanged) == (3, 0, 0)
    assert not AttendancePeriod.objects.unscoped().exists()


def test_problems_are_listed_by_row_in_row_order_with_every_cell_named(manager, site_a, people):
    text = GOOD + (
        "\n"  # a blank row is skipped but keeps its number (row 5)
        "AAA-0001,,,,2026-02-30,2026-01-01,Hillside,x,-1,5,12\n"
        ",Robin,,,2026-01-05,2026-01-09,Hillside,10,5,0,0\n"
        "AAA-0001,,,,2026-03-09,2026-03-02,Hillside,10,9,1,1\n"
        "AAA-0001,,,,09/03/2026,13/03/2026,Hillside,10,5,0,0\n"
    )
    report = run(manager, site_a, text)
    assert not report.ok and report.rows_read == 7
    assert report.errors == [
        "Row 6: period_start: must be a date like 2026-03-27 or 27/03/2026 (found '2026-02-30')",
        "Row 6: sessions_possible: must be a whole number (found 'x')",
        "Row 6: sessions_attended: must be 0 or more (found '-1')",
        "Row 7: local_id: give a local_id, or given_name, family_name and date_of_birth",
        "Row 8: period_end: must be on or after period_start",
        "Row 8: sessions_attended: attended and absent sessions exceed sessions_possible",
    ]
    assert report.error_count == 6
    assert not AttendancePeriod.objects.unscoped().exists()


def test_a_row_longer_than_the_header_is_read_like_the_others(manager, site_a, people):
    text = HEADER + FIRST.replace("\n", ",extra\n") + "AAA-0001,,,,bad,2026-10-31,,1,1,0,0\n"
    report = run(manager, site_a, text)
    assert report.errors == [
        "Row 3: period_start: must be a date like 2026-03-27 or 27/03/2026 (found 'bad')"
    ]


def test_only_the_first_problems_are_kept_but_all_are_counted(manager, site_a, people):
    bad = "AAA-0001,,,,2026-09-01,2026-10-31,Hillside,10,11,0,0\n"
    report = run(manager, site_a, HEADER + bad * (MAX_ERRORS_KEPT + 100))
    assert report.error_count == MAX_ERRORS_KEPT + 100
    assert len(report.errors) == MAX_ERRORS_KEPT
    assert report.errors[-1].startswith(f"Row {MAX_ERRORS_KEPT + 1}: sessions_attended")


def test_repeated_rows_count_once_and_keys_match_the_row_key_of_one_row(manager, site_a, people):
    text = GOOD + FIRST + "aaa-0001,,,,01/09/2026, 2026-10-31 ,Hillside,78,61,5,12\n"
    report = run(manager, site_a, text)
    assert report.ok and (report.rows_added, report.rows_repeated_in_file) == (3, 2)
    record = records()[("Hillside", dt.date(2026, 9, 1))]
    values = {"period_start": dt.date(2026, 9, 1), "period_end": dt.date(2026, 10, 31)}
    expected = row_key(
        KINDS["attendance"], record.young_person_id, {**values, "school": "Hillside"}
    )
    assert record.row_key == expected


def test_a_file_that_is_not_utf8_is_refused_with_a_message(manager, site_a, people):
    report = import_records(
        by=manager,
        kind="attendance",
        site=site_a,
        stream=io.BytesIO(GOOD.replace("Hood", "Hoöd").encode("latin-1")),
        file_name="attendance.csv",
        source_system="SIMS",
        extracted_on=dt.date(2026, 12, 20),
        dry_run=False,
    )
    assert not report.ok and "not UTF-8" in report.errors[0]


def test_empty_optional_cells_take_defaults_and_an_offence_updates_on_reimport(
    manager, site_a, people
):
    text = "local_id,offence_date,category,gravity,outcome\nAAA-0001,2026-05-01,theft,2,pending\n"
    run(manager, site_a, text, kind="offences")
    report = run(manager, site_a, text.replace("pending", "Youth caution"), kind="offences")
    assert (report.rows_added, report.rows_updated) == (0, 1)
    offence = Offence.objects.unscoped().get()
    assert (offence.outcome, offence.description, offence.outcome_date) == (
        "youth_caution",
        "",
        None,
    )
    assert records() == {}


def test_a_count_too_large_for_the_database_is_a_row_problem(manager, site_a, people):
    text = HEADER + "AAA-0001,,,,2026-09-01,2026-10-31,Hillside,99999999999,1,0,0\n"
    assert run(manager, site_a, text).errors == [
        "Row 2: sessions_possible: must be at most 2147483647 (found '99999999999')"
    ]


def test_an_excel_file_keeps_row_numbers_across_blank_rows(manager, site_a, people):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.strip().split(","))
    sheet.append([c or None for c in FIRST.strip().split(",")])
    sheet.append([])
    sheet.append([c or None for c in SECOND.strip().replace("2026-12-19", "x").split(",")])
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
    assert report.rows_read == 2
    assert report.errors == [
        "Row 4: period_end: must be a date like 2026-03-27 or 27/03/2026 (found 'x')"
    ]
