"""Start, repeat and publish analysis runs; every one is audited.

Runs execute synchronously inside the request for now (a site's few hundred young people take
seconds). The seam for a background task is ``analysis_run_execute``: a task worker can call it
with a run created in the RUNNING state.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from mstoutcomes.accounts.models import Site, User
from mstoutcomes.accounts.permissions import Perm, user_has_perm
from mstoutcomes.accounts.services import audit_record
from mstoutcomes.analysis import datasets
from mstoutcomes.analysis.contract import ContractError, load_dataset
from mstoutcomes.analysis.models import AnalysisRun, RunStatus
from mstoutcomes.analysis.report import render_html, results_json
from mstoutcomes.analysis.runner import ANALYSIS_ERRORS, code_version, run_plan
from mstoutcomes.core.services import require

CONTRACT_FILES = ("participants.csv", "measurements.csv", "events.csv", "plan.toml")


def _snapshot(directory: Path) -> dict[str, str]:
    return {name: (directory / name).read_text(encoding="utf-8") for name in CONTRACT_FILES}


def _restore(snapshot: dict[str, str], directory: Path) -> Path:
    for name, text in snapshot.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def analysis_run_start(
    *,
    by: User,
    site: Site,
    plan_text: str | None = None,
    request: HttpRequest | None = None,
) -> AnalysisRun:
    """Freeze a pseudonymised export of the site's records and analyse it.

    Without a plan, the default service-evaluation plan for what the records hold is used.
    """
    require(user_has_perm(by, Perm.EXPORT_DATA, site=site), "You cannot analyse this site's data.")
    export = datasets.export_frames(site_ids=[site.pk])
    if plan_text is None:
        plan_text = datasets.default_plan(export)
    dataset = datasets.dataset_from(export, plan_text)
    with tempfile.TemporaryDirectory() as tmp:
        snapshot = _snapshot(datasets.write_export(tmp, export, plan_text))
    with transaction.atomic():
        run = AnalysisRun.objects.create(
            site=site,
            title=dataset.plan.title or "Analysis",
            plan_toml=plan_text,
            dataset_sha256=dataset.sha256(),
            snapshot=snapshot,
            code_version=code_version(),
            seed=dataset.plan.missing.seed,
            created_by=by,
        )
        audit_record(
            actor=by,
            action="analysis.run.started",
            obj=run,
            site=site,
            data={"dataset_sha256": run.dataset_sha256, "participants": len(export.participants)},
            request=request,
        )
    return analysis_run_execute(run=run, by=by, request=request)


def analysis_run_repeat(
    *, by: User, run: AnalysisRun, request: HttpRequest | None = None
) -> AnalysisRun:
    """Analyse a run's frozen dataset again; the new run must give identical numbers."""
    require(
        user_has_perm(by, Perm.EXPORT_DATA, site=run.site_id),
        "You cannot analyse this site's data.",
    )
    with transaction.atomic():
        again = AnalysisRun.objects.create(
            site_id=run.site_id,
            title=run.title,
            plan_toml=run.plan_toml,
            dataset_sha256=run.dataset_sha256,
            snapshot=run.snapshot,
            code_version=code_version(),
            seed=run.seed,
            created_by=by,
            rerun_of=run,
        )
        audit_record(
            actor=by,
            action="analysis.run.started",
            obj=again,
            site=run.site,
            data={"rerun_of": run.pk, "dataset_sha256": run.dataset_sha256},
            request=request,
        )
    return analysis_run_execute(run=again, by=by, request=request)


def analysis_run_execute(
    *, run: AnalysisRun, by: User, request: HttpRequest | None = None
) -> AnalysisRun:
    """Run the plan on the run's snapshot and store the results (or the reason it failed)."""
    with tempfile.TemporaryDirectory() as tmp:
        try:
            dataset = load_dataset(_restore(run.snapshot, Path(tmp)))
            if dataset.sha256() != run.dataset_sha256:
                raise ValueError("The frozen dataset no longer matches its SHA-256.")
            results = run_plan(dataset)
        except (ContractError, *ANALYSIS_ERRORS) as error:
            return _finish(run, by=by, request=request, error=str(error))
        run.results = json.loads(results_json(results))
        run.tables = {
            name: table.to_csv(index=False, lineterminator="\n")
            for name, table in results.tables().items()
        }
        run.report_html = render_html(results, dataset)
    return _finish(run, by=by, request=request)


def _finish(
    run: AnalysisRun, *, by: User, request: HttpRequest | None, error: str = ""
) -> AnalysisRun:
    with transaction.atomic():
        run.status = RunStatus.FAILED if error else RunStatus.COMPLETED
        run.error = error
        run.completed_at = timezone.now()
        run.save()
        audit_record(
            actor=by,
            action="analysis.run.failed" if error else "analysis.run.completed",
            obj=run,
            site=run.site,
            data={"dataset_sha256": run.dataset_sha256, "error": error[:500]},
            request=request,
        )
    return run


def analysis_run_publish(
    *, by: User, run: AnalysisRun, request: HttpRequest | None = None
) -> AnalysisRun:
    """Publish a completed run to the steering group."""
    require(user_has_perm(by, Perm.EXPORT_DATA, site=run.site_id), "You cannot publish this run.")
    require(run.status == RunStatus.COMPLETED, "Only a completed run can be published.")
    with transaction.atomic():
        run.published = True
        run.published_by = by
        run.published_at = timezone.now()
        run.save(update_fields=["published", "published_by", "published_at"])
        audit_record(
            actor=by, action="analysis.run.published", obj=run, site=run.site, request=request
        )
    return run


def analysis_run_download(
    *, by: User, run: AnalysisRun, fmt: str, request: HttpRequest | None = None
) -> None:
    """Record that a run's results left the service."""
    audit_record(
        actor=by,
        action="analysis.run.downloaded",
        obj=run,
        site=run.site,
        data={"format": fmt},
        request=request,
    )
