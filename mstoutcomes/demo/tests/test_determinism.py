"""The demo is reproducible, all-or-nothing, and only built as of a date that has happened."""

import datetime as dt
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from mstoutcomes.accounts.models import AuditEvent, Membership, Site, User
from mstoutcomes.cases.models import AgencyInvolvement, Episode, FamilyMember, YoungPerson
from mstoutcomes.core.dates import today
from mstoutcomes.demo import builder

AS_OF = dt.date(2026, 3, 31)
pytestmark = pytest.mark.django_db


def _rows(queryset, *fields):
    return list(queryset.order_by(*fields[:2], "pk").values_list(*fields))


def _snapshot():
    """Return every demo row's meaningful fields (no keys or timestamps), in a stable order."""
    return {
        "sites": _rows(Site.objects, "code", "name", "next_study_number"),
        "users": _rows(User.objects, "username", "first_name", "last_name", "email"),
        "memberships": _rows(
            Membership.objects, "user__username", "site__code", "role", "agency__name"
        ),
        "young_people": _rows(
            YoungPerson.objects.unscoped(),
            "study_id",
            "given_name",
            "family_name",
            "date_of_birth",
            "sex",
            "gender",
            "ethnicity",
            "school",
            "address",
            "postcode_district",
            "nhs_number",
            "upn",
            "referred_on",
            "referring_agency__name",
        ),
        "family": _rows(
            FamilyMember.objects.unscoped(),
            "young_person__study_id",
            "given_name",
            "family_name",
            "relationship",
            "is_primary_carer",
            "phone",
            "email",
        ),
        "involvements": _rows(
            AgencyInvolvement.objects.unscoped(),
            "young_person__study_id",
            "agency__name",
            "worker_name",
            "started_on",
            "ended_on",
        ),
        "episodes": _rows(
            Episode.objects.unscoped(),
            "young_person__study_id",
            "start_date",
            "expected_end_date",
            "end_date",
            "therapist__username",
            "supervisor__username",
            "discharge_reason",
            "living_at_home",
            "in_school_or_work",
            "no_new_arrests",
            "discharge_notes",
        ),
        # Referral references and data-quality queries are labelled by primary key, which
        # PostgreSQL's sequences do not roll back between the two builds: compare them without
        # the number.
        "audit_actions": [
            (action, re.sub(r"^(REF-|Query )\d+", r"\1…", label))
            for action, label in AuditEvent.objects.order_by("pk").values_list(
                "action", "object_label"
            )
        ],
    }


def _build_and_roll_back(*args):
    with transaction.atomic():
        call_command("demo", *args, stdout=StringIO())
        snapshot = _snapshot()
        transaction.set_rollback(True)
    return snapshot


def test_same_seed_and_date_build_identical_data():
    first = _build_and_roll_back("--seed", "7", "--as-of", AS_OF.isoformat())
    assert not Site.objects.exists()

    second = _build_and_roll_back("--seed", "7", "--as-of", AS_OF.isoformat())

    assert len(first["young_people"]) == 96
    assert first == second


def test_a_failing_step_leaves_the_database_empty(monkeypatch):
    def boom(ctx):
        raise RuntimeError("step failed")

    monkeypatch.setitem(builder._STEPS, "boom", builder.Step("boom", 105, boom))

    with pytest.raises(RuntimeError, match="step failed"):
        call_command("demo", "--as-of", AS_OF.isoformat(), stdout=StringIO())

    assert not Site.objects.exists()
    assert not User.objects.exists()
    assert not AuditEvent.objects.exists()


def test_an_as_of_date_in_the_future_is_refused():
    tomorrow = today() + dt.timedelta(days=1)

    with pytest.raises(CommandError, match="is in the future"):
        call_command("demo", "--as-of", tomorrow.isoformat(), stdout=StringIO())

    assert not Site.objects.exists()


def test_an_as_of_that_is_not_a_date_is_refused():
    with pytest.raises(CommandError, match="not a date"):
        call_command("demo", "--as-of", "31/03/2026", stdout=StringIO())
