"""Analysis pages: statisticians run and publish; the steering group sees published runs only."""

from __future__ import annotations

import datetime as dt

import pytest

from mstoutcomes.accounts.models import AuditEvent, Role
from mstoutcomes.accounts.tests.factories import member
from mstoutcomes.analysis.datasets import export_frames, pseudonym
from mstoutcomes.analysis.models import AnalysisRun, RunStatus
from mstoutcomes.cases.tests.factories import EpisodeFactory, YoungPersonFactory

pytestmark = pytest.mark.django_db


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


def test_export_uses_keyed_pseudonyms_never_study_ids(site_a, discharged):
    export = export_frames(site_ids=[site_a.pk], as_of=dt.date(2025, 6, 1))
    ids = set(export.participants["participant_id"])
    assert ids == {pseudonym(p.study_id) for p in discharged}
    assert not ids & {p.study_id for p in discharged}
    assert set(export.measurements["participant_id"]) <= ids
    assert set(export.participants["discharge_reason"]) == {"completed", "lack_of_engagement"}


def test_statistician_runs_publishes_and_repeats_with_identical_numbers(
    client, statistician, site_a, discharged
):
    client.force_login(statistician)
    response = client.post("/analysis/runs/start/", {"site": site_a.pk})
    run = AnalysisRun.objects.get()
    assert response.status_code == 302 and run.status == RunStatus.COMPLETED, run.error
    assert run.results["mst_targets"][0]["denominator"] == 6
    page = client.get(f"/analysis/runs/{run.pk}/")
    assert (
        b"Living at home at discharge" in page.content and b"regression to the mean" in page.content
    )
    download = client.get(f"/analysis/runs/{run.pk}/download/json/")
    assert download["Content-Disposition"].endswith('results.json"')
    client.post(f"/analysis/runs/{run.pk}/publish/")
    client.post(f"/analysis/runs/{run.pk}/repeat/")
    again = AnalysisRun.objects.exclude(pk=run.pk).get()
    assert again.rerun_of == run and again.results == run.results
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
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
