import datetime as dt
import signal

import pytest
from django.core.management import call_command

from mstoutcomes.accounts.models import Role
from mstoutcomes.accounts.tests.factories import member
from mstoutcomes.cases.tests.factories import EpisodeFactory, YoungPersonFactory


def run_worker() -> None:
    """Run the database task worker in this process until the queue is empty."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command(
            "db_worker", "--batch", "--no-startup-delay", "--no-reload", "--interval=0", verbosity=0
        )
    finally:  # the worker installs its own shutdown handlers; give pytest its own back
        for sig, handler in saved.items():
            signal.signal(sig, handler)


@pytest.fixture
def worker(transactional_db):
    """Run queued tasks in this process, as `mstoutcomes db_worker --batch` would.

    The worker manages its database connection as a real one does (it closes connections that
    are inside a transaction), so tests that use it commit for real (transactional_db).
    """
    return run_worker


@pytest.fixture
def statistician(site_a):
    return member(Role.STATISTICIAN, site_a, username="stella")


@pytest.fixture
def steering(site_a):
    return member(Role.STEERING_GROUP, site_a, username="steve")


@pytest.fixture
def discharged(site_a, alice):
    people = []
    for i in range(6):
        person = YoungPersonFactory(site=site_a)
        EpisodeFactory(
            young_person=person,
            therapist=alice,
            start_date=dt.date(2024, 1, 10) + dt.timedelta(days=20 * i),
            end_date=dt.date(2024, 5, 20) + dt.timedelta(days=20 * i),
            discharge_reason="completed" if i else "lack_of_engagement",
            living_at_home=True,
            in_school_or_work=i % 2 == 0,
            no_new_arrests=i != 3,
        )
        people.append(person)
    return people
