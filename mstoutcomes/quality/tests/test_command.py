"""`mstoutcomes quality_run`: opens queries, is idempotent, closes what the data resolved."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from mstoutcomes.quality.models import Query, QueryState
from mstoutcomes.quality.tests.conftest import baseline, randomised

pytestmark = pytest.mark.django_db


def _run(*args):
    out = StringIO()
    call_command("quality_run", *args, stdout=out)
    return out.getvalue()


def test_the_nightly_run_opens_queries_is_idempotent_and_closes_resolved_ones(trial, site_a):
    participant = randomised(trial, site_a)
    first = _run()
    assert "Opened: 1" in first and "Still open: 0" in first
    second = _run()
    assert "Opened: 0" in second and "Still open: 1" in second
    assert Query.objects.unscoped().count() == 1
    baseline(participant.young_person)
    third = _run()
    assert "Closed (resolved in the data): 1" in third
    assert Query.objects.unscoped().get().state == QueryState.RESOLVED


def test_the_run_can_be_limited_to_one_site(trial, site_a, site_b):
    randomised(trial, site_a)
    assert "Opened: 0" in _run("--site", site_b.code)
    out = _run("--site", site_a.code.lower())
    assert "at Site A" in out and "Opened: 1" in out


def test_an_unknown_site_code_is_refused_plainly(db):
    with pytest.raises(CommandError, match="No site has the code 'ZZZ'"):
        _run("--site", "ZZZ")
