"""Analysis runs execute in a background task, record progress and end completed or failed."""

import pytest
from django.test import override_settings

from mstoutcomes.accounts.models import AuditEvent
from mstoutcomes.analysis.models import AnalysisRun, RunStatus
from mstoutcomes.analysis.services import analysis_run_start

pytestmark = pytest.mark.django_db

IMMEDIATE = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
        "QUEUES": ["default"],
    }
}

BAD_PLAN = """\
title = "A plan whose arm is not in the records"
arms = ["Nobody"]

[[outcome]]
name = "living_at_home"
type = "binary"
timepoint = "discharge"
"""


def _actions(run):
    return list(
        AuditEvent.objects.filter(object_id=str(run.pk), action__startswith="analysis.run.")
        .order_by("pk")
        .values_list("action", flat=True)
    )


def test_a_queued_run_is_executed_by_the_worker_with_full_progress(
    statistician, site_a, discharged, worker
):
    run = analysis_run_start(by=statistician, site=site_a)
    assert run.status == RunStatus.QUEUED and run.task_id and run.results is None
    worker()
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.progress_total > 2 and run.progress_done == run.progress_total
    assert run.progress_label == "Finished" and run.started_at and run.completed_at
    assert run.results["mst_targets"][0]["denominator"] == 6
    assert run.dataset_sha256 and run.snapshot["plan.toml"] == run.plan_toml
    assert bytes(run.report_pdf).startswith(b"%PDF-")
    assert _actions(run) == [
        "analysis.run.queued",
        "analysis.run.started",
        "analysis.run.completed",
    ]


def test_a_failing_run_ends_failed_with_its_reason_and_no_results(
    statistician, site_a, discharged, worker
):
    run = analysis_run_start(by=statistician, site=site_a, plan_text=BAD_PLAN)
    worker()
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "is not one of the plan's arms" in run.error
    assert run.results is None and run.tables == {} and not run.report_html
    assert run.report_pdf is None
    assert _actions(run)[-1] == "analysis.run.failed"


def test_a_task_delivered_twice_runs_once(statistician, site_a, discharged, worker):
    from mstoutcomes.analysis.execution import analysis_run_execute

    run = analysis_run_start(by=statistician, site=site_a)
    worker()
    run.refresh_from_db()
    finished = run.completed_at
    again = analysis_run_execute(run=run)
    assert again.completed_at == finished
    assert _actions(run).count("analysis.run.started") == 1


@override_settings(TASKS=IMMEDIATE)
def test_the_immediate_backend_runs_the_analysis_inside_the_request(
    client, statistician, site_a, discharged
):
    client.force_login(statistician)
    response = client.post("/analysis/runs/start/", {"site": site_a.pk}, follow=True)
    run = AnalysisRun.objects.get()
    assert run.status == RunStatus.COMPLETED, run.error
    assert b"The analysis has run." in response.content
    assert b"<progress" not in response.content  # nothing left to wait for


def test_the_progress_fragment_polls_while_running_and_stops_when_done(
    client, statistician, site_a, discharged, worker
):
    client.force_login(statistician)
    client.post("/analysis/runs/start/", {"site": site_a.pk})
    run = AnalysisRun.objects.get()
    page = client.get(f"/analysis/runs/{run.pk}/").content.decode()
    assert "<progress" in page and 'hx-trigger="every 2s"' in page
    assert "Refresh the page" in page  # the way to follow progress without JavaScript
    fragment = client.get(f"/analysis/runs/{run.pk}/progress/", headers={"HX-Request": "true"})
    assert (
        b'hx-get="/analysis/runs/' in fragment.content
        and b"Waiting for a worker" in fragment.content
    )
    assert "HX-Refresh" not in fragment

    worker()
    fragment = client.get(f"/analysis/runs/{run.pk}/progress/", headers={"HX-Request": "true"})
    body = fragment.content.decode()
    assert "<progress" in body and 'value="100"' in body and "hx-trigger" not in body
    assert fragment["HX-Refresh"] == "true"  # reload once, to show the results
    page = client.get(f"/analysis/runs/{run.pk}/").content.decode()
    assert "hx-trigger" not in page and "Living at home at discharge" in page


def test_progress_is_visible_while_the_run_is_under_way(statistician, site_a, discharged):
    seen = []
    run = analysis_run_start(by=statistician, site=site_a)

    from mstoutcomes.analysis import execution

    original = execution._progress

    def spy(run, done, total, label):
        original(run, done, total, label)
        stored = AnalysisRun.objects.values_list(
            "status", "progress_done", "progress_total", "progress_label"
        ).get(pk=run.pk)
        seen.append(stored)

    execution._progress = spy
    try:
        execution.analysis_run_execute(run=run)
    finally:
        execution._progress = original
    assert all(status == RunStatus.RUNNING for status, *_ in seen)
    dones = [done for _, done, total, _ in seen if total]
    assert dones == sorted(dones) and len(set(dones)) > 3
    assert any(label.startswith("Analysing") for *_, label in seen)


def test_the_progress_fragment_is_refused_to_people_who_may_not_see_the_run(
    client, statistician, steering, site_a, discharged, carol
):
    run = analysis_run_start(by=statistician, site=site_a)
    for person in (steering, carol):
        client.force_login(person)
        assert client.get(f"/analysis/runs/{run.pk}/progress/").status_code == 404


def test_repeating_the_frozen_data_with_the_same_seed_gives_identical_numbers(
    statistician, site_a, discharged, worker
):
    from mstoutcomes.analysis.services import analysis_run_repeat

    first = analysis_run_start(by=statistician, site=site_a)
    worker()
    first.refresh_from_db()
    discharged[0].episodes.update(living_at_home=False)
    again = analysis_run_repeat(by=statistician, run=first)
    worker()
    again.refresh_from_db()
    assert again.status == RunStatus.COMPLETED
    assert again.results == first.results and again.dataset_sha256 == first.dataset_sha256
