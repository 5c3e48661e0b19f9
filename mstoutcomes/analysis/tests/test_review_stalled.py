"""A run whose worker stopped is shown as failed (audited) and can be run again."""

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from mstoutcomes.accounts.models import AuditEvent
from mstoutcomes.analysis.execution import _finish, analysis_run_execute
from mstoutcomes.analysis.models import AnalysisRun, RunStatus
from mstoutcomes.analysis.services import analysis_run_fail_stalled, analysis_run_start

pytestmark = pytest.mark.django_db


def _running(run, *, minutes_ago):
    """Leave a run as a worker that died mid-run leaves it: running, its task running."""
    AnalysisRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, started_at=timezone.now() - dt.timedelta(minutes=minutes_ago)
    )
    DBTaskResult.objects.filter(id=run.task_id).update(status=TaskResultStatus.RUNNING)
    run.refresh_from_db()
    return run


def _stalled_events(run):
    return AuditEvent.objects.filter(action="analysis.run.stalled", object_id=str(run.pk))


@override_settings(ANALYSIS_RUN_STALE_MINUTES=30)
def test_a_run_whose_worker_died_is_shown_failed_with_a_message_and_audited(
    client, statistician, site_a
):
    run = _running(analysis_run_start(by=statistician, site=site_a), minutes_ago=31)
    client.force_login(statistician)
    page = client.get(f"/analysis/runs/{run.pk}/").content.decode()
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and run.completed_at
    assert "running for more than 30 minutes" in run.error
    assert "stopped without finishing" in page and "Run it again" in page
    assert "<progress" not in page
    event = _stalled_events(run).get()
    assert event.actor == statistician and "30 minutes" in event.data["reason"]
    client.get(f"/analysis/runs/{run.pk}/")
    assert _stalled_events(run).count() == 1  # decided once


@override_settings(ANALYSIS_RUN_STALE_MINUTES=30)
def test_a_run_within_the_limit_keeps_running(client, statistician, site_a):
    run = _running(analysis_run_start(by=statistician, site=site_a), minutes_ago=29)
    client.force_login(statistician)
    fragment = client.get(f"/analysis/runs/{run.pk}/progress/").content.decode()
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING and "hx-trigger" in fragment
    assert not _stalled_events(run).exists()


def test_a_queued_run_whose_task_failed_or_vanished_is_failed(statistician, site_a):
    failed = analysis_run_start(by=statistician, site=site_a)
    DBTaskResult.objects.filter(id=failed.task_id).update(status=TaskResultStatus.FAILED)
    missing = analysis_run_start(by=statistician, site=site_a)
    DBTaskResult.objects.filter(id=missing.task_id).delete()
    waiting = analysis_run_start(by=statistician, site=site_a)
    for run in (failed, missing, waiting):
        analysis_run_fail_stalled(run=run, by=statistician)
    assert failed.status == RunStatus.FAILED and "task failed" in failed.error
    assert missing.status == RunStatus.FAILED and "missing from the queue" in missing.error
    assert waiting.status == RunStatus.QUEUED  # its task is still waiting for a worker


def test_the_list_shows_a_stalled_run_as_failed(client, statistician, site_a):
    run = analysis_run_start(by=statistician, site=site_a)
    DBTaskResult.objects.filter(id=run.task_id).delete()
    client.force_login(statistician)
    page = client.get("/analysis/").content.decode()
    assert "Failed" in page and "Waiting to start" not in page
    assert _stalled_events(run).count() == 1


@override_settings(ANALYSIS_RUN_STALE_MINUTES=30)
def test_a_slow_worker_finishing_after_the_run_was_failed_does_not_revive_it(statistician, site_a):
    run = _running(analysis_run_start(by=statistician, site=site_a), minutes_ago=45)
    analysis_run_fail_stalled(run=run, by=statistician)
    late = _finish(run, outputs={"results": {"late": True}, "tables": {}})
    late.refresh_from_db()
    assert late.status == RunStatus.FAILED and late.results is None
    assert not AuditEvent.objects.filter(
        action="analysis.run.completed", object_id=str(run.pk)
    ).exists()


@override_settings(ANALYSIS_RUN_STALE_MINUTES=30)
def test_a_stalled_run_can_be_run_again_from_the_records(
    client, statistician, site_a, discharged, worker
):
    run = _running(analysis_run_start(by=statistician, site=site_a), minutes_ago=60)
    client.force_login(statistician)
    client.get(f"/analysis/runs/{run.pk}/")
    response = client.post(f"/analysis/runs/{run.pk}/repeat/")
    assert response.status_code == 302
    again = AnalysisRun.objects.exclude(pk=run.pk).get()
    assert again.rerun_of_id == run.pk and again.status == RunStatus.QUEUED
    worker()
    again.refresh_from_db()
    assert again.status == RunStatus.COMPLETED, again.error
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    # Its task delivered late leaves the failed run alone.
    assert analysis_run_execute(run=run).status == RunStatus.FAILED


@pytest.mark.parametrize("site", ["", "abc", "²", "-3", "99999999999999999999999"])
def test_starting_a_run_with_a_garbage_site_is_refused_clearly(client, statistician, site, site_a):
    client.force_login(statistician)
    response = client.post("/analysis/runs/start/", {"site": site}, follow=True)
    assert response.status_code in (200, 404)
    assert not AnalysisRun.objects.exists()
    if response.status_code == 200:
        assert "Choose the site whose records to analyse." in response.content.decode()


@pytest.mark.parametrize("fmt", ["json", "html", "pdf"])
def test_an_unfinished_run_has_nothing_to_download(client, statistician, site_a, fmt):
    run = analysis_run_start(by=statistician, site=site_a)
    client.force_login(statistician)
    assert client.get(f"/analysis/runs/{run.pk}/download/{fmt}/").status_code == 404
    assert not AuditEvent.objects.filter(action="analysis.run.downloaded").exists()
