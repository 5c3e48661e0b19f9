"""Fixtures shared by the whole suite: sites and the named personas used in every view test.

- alice: therapist at site A (allowed: sees and edits site A's young people)
- bob: research worker at site A (read-only: sees site A's young people, edits nothing)
- carol: therapist at site B (another site: no access to site A)
"""

import factory.random
import pytest

from mstoutcomes.accounts.models import Role
from mstoutcomes.accounts.tests.factories import SiteFactory, member


@pytest.fixture(autouse=True)
def _repeatable_fake_data():
    # Faker-made names are the same on every run, so a failure can be reproduced.
    factory.random.reseed_random("mstoutcomes")


@pytest.fixture
def site_a(db):
    return SiteFactory(code="AAA", name="Site A")


@pytest.fixture
def site_b(db):
    return SiteFactory(code="BBB", name="Site B")


@pytest.fixture
def alice(site_a):
    return member(Role.THERAPIST, site_a, username="alice", first_name="Alice", last_name="Adams")


@pytest.fixture
def bob(site_a):
    return member(Role.RESEARCH_WORKER, site_a, username="bob", first_name="Bob", last_name="Brown")


@pytest.fixture
def carol(site_b):
    return member(Role.THERAPIST, site_b, username="carol", first_name="Carol", last_name="Clark")
