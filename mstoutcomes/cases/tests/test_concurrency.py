"""Simultaneous writers on PostgreSQL: study IDs and the audit chain stay consistent.

SQLite serialises writers, so these tests run on PostgreSQL only (make test runs both).
"""

import datetime as dt
import threading

import pytest
from django.db import connection, connections

from mstoutcomes.accounts.services import audit_verify
from mstoutcomes.cases.models import YoungPerson
from mstoutcomes.cases.services import young_person_create

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent writers"
    ),
]


def test_simultaneous_creations_get_distinct_consecutive_study_ids_and_an_intact_audit_chain(
    site_a,
):
    threads, errors = 8, []
    per_thread = 4
    barrier = threading.Barrier(threads)

    def work(n: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                young_person_create(
                    by=None,
                    site=site_a,
                    fields={
                        "given_name": f"T{n}",
                        "family_name": f"P{i}",
                        "date_of_birth": dt.date(2012, 1, 1),
                        "sex": "female",
                    },
                )
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()

    assert errors == []
    ids = sorted(YoungPerson.objects.unscoped().values_list("study_id", flat=True))
    assert ids == [f"AAA-{n:04d}" for n in range(1, threads * per_thread + 1)]
    result = audit_verify()
    assert result.ok and result.events_checked == threads * per_thread
