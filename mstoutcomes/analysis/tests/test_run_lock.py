"""An analysis run records whether the trial's database was locked when its data were frozen."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from mstoutcomes.accounts.models import Role
from mstoutcomes.accounts.tests.factories import member
from mstoutcomes.analysis.execution import _freeze
from mstoutcomes.analysis.models import AnalysisRun
from mstoutcomes.analysis.runner import code_version
from mstoutcomes.analysis.services import analysis_run_repeat
from mstoutcomes.trial.lock import trial_lock
from mstoutcomes.trial.tests.conftest import make_trial

pytestmark = pytest.mark.django_db


def _run(site, by, **fields):
    return AnalysisRun.objects.create(
        site=site, title="Analysis", code_version=code_version(), created_by=by, **fields
    )


def test_freezing_the_data_records_the_trial_lock_and_a_repeat_keeps_it(
    site_a, statistician, discharged
):
    trial = make_trial(site_a)
    unlocked = _run(site_a, statistician)
    _freeze(unlocked)
    assert unlocked.trial_locked_at is None and unlocked.dataset_sha256

    trial_lock(by=member(Role.TRIAL_MANAGER, site_a, username="tina"), trial=trial)
    trial.refresh_from_db()
    run = _run(site_a, statistician)
    _freeze(run)
    run.refresh_from_db()
    assert run.trial_locked_at == trial.locked_at
    assert run.dataset_sha256 == unlocked.dataset_sha256  # the same data, now locked
    again = analysis_run_repeat(by=statistician, run=run)
    assert again.trial_locked_at == trial.locked_at


def test_the_run_page_says_whether_the_data_were_locked(client, site_a, statistician):
    locked_at = timezone.make_aware(dt.datetime(2026, 3, 2, 10, 0))
    locked = _run(site_a, statistician, dataset_sha256="a" * 64, trial_locked_at=locked_at)
    not_locked = _run(site_a, statistician, dataset_sha256="b" * 64)
    client.force_login(statistician)
    assert "Data locked on 2 March 2026" in client.get(f"/analysis/runs/{locked.pk}/").text
    assert "Data not locked" in client.get(f"/analysis/runs/{not_locked.pk}/").text
