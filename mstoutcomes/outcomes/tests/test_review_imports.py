"""Imports: decimals compared at their stored precision, and values too large to store."""

import datetime as dt
import io
from decimal import Decimal

import pytest

from mstoutcomes.accounts.models import Role
from mstoutcomes.accounts.tests.factories import member
from mstoutcomes.cases.tests.factories import YoungPersonFactory
from mstoutcomes.outcomes.importers import import_records
from mstoutcomes.outcomes.models import Exclusion

pytestmark = pytest.mark.django_db

HEADER = "local_id,given_name,family_name,date_of_birth,kind,start_date,days,reason\n"


@pytest.fixture
def manager(site_a):
    YoungPersonFactory(site=site_a, study_id="AAA-0001", upn="")
    return member(Role.PROGRAMME_MANAGER, site_a, username="morgan")


def run(by, site, text, *, dry_run=False):
    return import_records(
        by=by,
        kind="exclusions",
        site=site,
        stream=io.BytesIO(text.encode()),
        file_name="exclusions.csv",
        source_system="SIMS",
        extracted_on=dt.date(2026, 12, 20),
        dry_run=dry_run,
    )


def test_a_decimal_finer_than_stored_is_unchanged_on_reimport(manager, site_a):
    text = HEADER + "AAA-0001,,,,suspension,2026-10-05,2.55,Fighting\n"
    first = run(manager, site_a, text)
    assert first.ok and first.rows_added == 1, first.errors
    assert Exclusion.objects.unscoped().get().days == Decimal("2.6")
    for dry_run in (True, False):
        again = run(manager, site_a, text, dry_run=dry_run)
        assert (again.rows_added, again.rows_updated, again.rows_unchanged) == (0, 0, 1)


def test_a_decimal_too_large_to_store_is_a_row_problem(manager, site_a):
    text = HEADER + "AAA-0001,,,,permanent,2026-10-05,12345,Arson\n"
    report = run(manager, site_a, text)
    assert report.errors == ["Row 2: days: must be less than 1000 (found '12345')"]
    assert not Exclusion.objects.unscoped().exists()


def test_every_decimal_column_parses_at_its_model_fields_precision():
    from mstoutcomes.outcomes.importers import KINDS, MODELS

    checked = 0
    for code, kind in KINDS.items():
        for column in kind.columns:
            field = MODELS[code]._meta.get_field(column.name)
            if field.get_internal_type() == "DecimalField":
                assert column.parse.decimal == (field.max_digits, field.decimal_places)
                checked += 1
    assert checked == 2


@pytest.mark.parametrize("data", [b"PK\x03\x04garbage", b"not a workbook at all", b""])
def test_a_damaged_excel_file_is_refused_with_a_message(manager, site_a, data):
    report = import_records(
        by=manager,
        kind="exclusions",
        site=site_a,
        stream=io.BytesIO(data),
        file_name="exclusions.xlsx",
        source_system="SIMS",
        extracted_on=dt.date(2026, 12, 20),
        dry_run=False,
    )
    assert report.errors == [
        "The file cannot be read as an Excel workbook. Save it again from Excel as .xlsx, "
        "or as CSV UTF-8."
    ]
    assert not Exclusion.objects.unscoped().exists()
