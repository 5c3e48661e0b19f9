"""Analysis pages: statisticians run and publish; the steering group sees published runs only."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from mstoutcomes.accounts.models import AuditEvent
from mstoutcomes.analysis.contract import load_dataset
from mstoutcomes.analysis.datasets import export_frames, pseudonym
from mstoutcomes.analysis.execution import _snapshot, analysis_run_execute, report_print_html
from mstoutcomes.analysis.models import AnalysisRun, RunStatus
from mstoutcomes.analysis.runner import code_version

pytestmark = pytest.mark.django_db


def test_export_uses_keyed_pseudonyms_never_study_ids(site_a, discharged):
    export = export_frames(site_ids=[site_a.pk], as_of=dt.date(2025, 6, 1))
    ids = set(export.participants["participant_id"])
    assert ids == {pseudonym(p.study_id) for p in discharged}
    assert not ids & {p.study_id for p in discharged}
    assert set(export.measurements["participant_id"]) <= ids
    assert set(export.participants["discharge_reason"]) == {"completed", "lack_of_engagement"}


def test_statistician_runs_publishes_and_repeats_with_identical_numbers(
    client, statistician, site_a, discharged, worker
):
    client.force_login(statistician)
    response = client.post("/analysis/runs/start/", {"site": site_a.pk})
    run = AnalysisRun.objects.get()
    assert response.status_code == 302 and run.status == RunStatus.QUEUED
    worker()
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.results["mst_targets"][0]["denominator"] == 6
    page = client.get(f"/analysis/runs/{run.pk}/")
    assert (
        b"Living at home at discharge" in page.content and b"regression to the mean" in page.content
    )
    download = client.get(f"/analysis/runs/{run.pk}/download/json/")
    assert download["Content-Disposition"].endswith('results.json"')
    client.post(f"/analysis/runs/{run.pk}/publish/")
    client.post(f"/analysis/runs/{run.pk}/repeat/")
    worker()
    again = AnalysisRun.objects.exclude(pk=run.pk).get()
    assert again.rerun_of == run and again.results == run.results
    assert b"the numbers are identical" in client.get(f"/analysis/runs/{again.pk}/").content
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "analysis.run.queued",
        "analysis.run.started",
        "analysis.run.completed",
        "analysis.run.published",
        "analysis.run.downloaded",
    } <= actions


def test_steering_group_sees_only_published_runs_and_cannot_start_one(
    client, statistician, steering, site_a, discharged
):
    client.force_login(statistician)
    client.post("/analysis/runs/start/", {"site": site_a.pk})
    run = AnalysisRun.objects.get()
    client.force_login(steering)
    assert client.get(f"/analysis/runs/{run.pk}/").status_code == 404
    assert client.post("/analysis/runs/start/", {"site": site_a.pk}).status_code == 403
    run.published = True
    run.save()
    assert client.get(f"/analysis/runs/{run.pk}/").status_code == 200
    assert client.post(f"/analysis/runs/{run.pk}/publish/").status_code == 403


@pytest.mark.parametrize("persona", ["alice", "bob", "carol"])
def test_case_staff_and_other_sites_have_no_access_to_analysis(
    client, request, persona, statistician, site_a, discharged
):
    client.force_login(statistician)
    client.post("/analysis/runs/start/", {"site": site_a.pk})
    run = AnalysisRun.objects.get()
    client.force_login(request.getfixturevalue(persona))
    assert client.get("/analysis/").status_code == 403
    assert client.get(f"/analysis/runs/{run.pk}/").status_code == 404
    assert client.post("/analysis/runs/start/", {"site": site_a.pk}).status_code == 403


def test_the_pdf_report_downloads_is_audited_and_refused_to_those_who_may_not_see_the_run(
    client, statistician, steering, site_a, discharged, worker, carol
):
    client.force_login(statistician)
    client.post("/analysis/runs/start/", {"site": site_a.pk})
    worker()
    run = AnalysisRun.objects.get()
    assert b"/download/pdf/" in client.get(f"/analysis/runs/{run.pk}/").content
    response = client.get(f"/analysis/runs/{run.pk}/download/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert response["Content-Disposition"] == f'attachment; filename="analysis-{run.pk}-report.pdf"'
    event = AuditEvent.objects.filter(action="analysis.run.downloaded").get()
    assert event.data == {"format": "pdf"} and event.object_id == str(run.pk)
    for person in (steering, carol):  # unpublished; another site
        client.force_login(person)
        assert client.get(f"/analysis/runs/{run.pk}/download/pdf/").status_code == 404
    assert AuditEvent.objects.filter(action="analysis.run.downloaded").count() == 1


def test_the_pdf_carries_the_charts_warning_plan_and_provenance(statistician, site_a):
    folder = Path(__file__).parents[3] / "examples" / "analysis" / "service-evaluation"
    example = load_dataset(folder)
    snapshot = _snapshot(folder)
    run = AnalysisRun.objects.create(
        site=site_a,
        title="Example",
        plan_toml=snapshot["plan.toml"],
        dataset_sha256=example.sha256(),
        snapshot=snapshot,
        code_version=code_version(),
        seed=example.plan.missing.seed,
        created_by=statistician,
    )
    run = analysis_run_execute(run=run)
    assert run.status == RunStatus.COMPLETED, run.error
    page = report_print_html(run, run.report_html)
    assert page.count("<svg") >= 2  # the charts, inline, as in the HTML report
    # The report's opening warning becomes the print version's, styled for paper (not twice).
    assert '<p class="warning"><strong>Change before and after MST is not a causal' in page
    assert page.count("regression to the mean") == run.report_html.count("regression to the mean")
    for expected in (run.dataset_sha256, run.code_version, f"<td>{run.seed}</td>", "[[outcome]]"):
        assert expected in page
    assert bytes(run.report_pdf).startswith(b"%PDF-")
