"""What the background worker does with a queued analysis run: freeze, fit, report, finish.

``analysis.tasks.analysis_run_task`` (run by ``mstoutcomes db_worker``) calls
``analysis_run_execute``: freeze the pseudonymised export, fit the plan, write the reports. The
run records its progress as each step finishes, so the page can show it. A run ends completed
with every result, or failed with a readable message and no results at all. Every step is
audited.

Inside analysis the imports point one way (import-linter's "analysis-runs" contract):
views > services (queue, repeat, publish) > selectors > tasks > execution (this module).
"""

from __future__ import annotations

import html
import json
import logging
import re
import tempfile
from pathlib import Path
from typing import Any

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from mstoutcomes.accounts.services import audit_record
from mstoutcomes.analysis import datasets
from mstoutcomes.analysis.contract import ContractError, load_dataset
from mstoutcomes.analysis.models import AnalysisRun, RunStatus
from mstoutcomes.analysis.report import render_html, results_json
from mstoutcomes.analysis.runner import ANALYSIS_ERRORS, NOT_CAUSAL, run_plan
from mstoutcomes.core.pdf import PRINT_CSS, html_to_pdf

logger = logging.getLogger(__name__)

CONTRACT_FILES = ("participants.csv", "measurements.csv", "events.csv", "plan.toml")
PDF_TEMPLATE = "analysis/report_pdf.html"


def _snapshot(directory: Path) -> dict[str, str]:
    return {name: (directory / name).read_text(encoding="utf-8") for name in CONTRACT_FILES}


def _restore(snapshot: dict[str, str], directory: Path) -> Path:
    for name, text in snapshot.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def analysis_run_execute(*, run: AnalysisRun) -> AnalysisRun:
    """Execute a queued run (the background task calls this) and record how it ended.

    A run that is not queued is left alone, so a task delivered twice does nothing.
    """
    claimed = AnalysisRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=timezone.now(), progress_label="Starting"
    )
    run.refresh_from_db()
    if not claimed:
        return run
    audit_record(actor=run.created_by, action="analysis.run.started", obj=run, site=run.site)
    try:
        outputs = _execute(run)
    except (ContractError, *ANALYSIS_ERRORS) as error:
        return _finish(run, error=str(error))
    except Exception as error:
        logger.exception("Analysis run %s failed unexpectedly", run.pk)
        return _finish(
            run, error=f"The analysis stopped unexpectedly ({type(error).__name__}: {error})."
        )
    return _finish(run, outputs=outputs)


def _progress(run: AnalysisRun, done: int, total: int, label: str) -> None:
    run.progress_done, run.progress_total, run.progress_label = done, total, label[:200]
    # An UPDATE of three columns only, committed at once, so the page sees it while we work
    # (and none once the run was marked stalled: that decision is final).
    AnalysisRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
        progress_done=done, progress_total=total, progress_label=label[:200]
    )


def _trial_locked_at(site_id: int) -> Any:
    """Return when the live trial at the site was locked (None: no trial, or not locked)."""
    from mstoutcomes.trial.models import Trial

    return (
        Trial.objects.filter(sites=site_id, is_test_mode=False)
        .order_by("code")
        .values_list("locked_at", flat=True)
        .first()
    )


def _freeze(run: AnalysisRun) -> None:
    # Read before the export, so a lock lifted while we read is never claimed for the data.
    run.trial_locked_at = _trial_locked_at(run.site_id)
    export = datasets.export_frames(site_ids=[run.site_id])
    if run.arms == "coded":
        export = datasets.blind_export(export, codes=_arm_codes(run))
    plan_text = run.plan_toml or datasets.default_plan(export)
    if run.arms == "coded" and not run.plan_toml:
        # MST's ultimate outcomes are described for the MST arm only: that would name it.
        plan_text = plan_text.replace("mst_targets = true", "mst_targets = false")
    dataset = datasets.dataset_from(export, plan_text)
    with tempfile.TemporaryDirectory() as tmp:
        run.snapshot = _snapshot(datasets.write_export(tmp, export, plan_text))
    run.plan_toml = plan_text
    run.dataset_sha256 = dataset.sha256()
    run.seed = dataset.plan.missing.seed
    run.title = (dataset.plan.title or run.title)[:200]
    # The frozen input is kept even if the analysis then fails; it is not a result.
    run.save(
        update_fields=[
            "snapshot",
            "plan_toml",
            "dataset_sha256",
            "seed",
            "title",
            "trial_locked_at",
        ]
    )


def _arm_codes(run: AnalysisRun) -> dict[str, str]:
    """Return {arm name: "Arm A" / "Arm B"} for the trial at the run's site."""
    from mstoutcomes.trial.blinding import arm_codes, site_trial

    trial = site_trial(run.site_id)
    if trial is None:
        return {}
    letters = arm_codes(trial)
    return {arm.name: f"Arm {letters[arm.code]}" for arm in trial.spec.arms}


def _execute(run: AnalysisRun) -> dict[str, Any]:
    """Freeze (when needed), analyse and report; return the outputs to store, or raise."""
    _progress(run, 0, 0, "Freezing the pseudonymised records" if not run.snapshot else "Reading")
    if not run.snapshot:
        _freeze(run)
    with tempfile.TemporaryDirectory() as tmp:
        dataset = load_dataset(_restore(run.snapshot, Path(tmp)))
    if dataset.sha256() != run.dataset_sha256:
        raise ValueError("The frozen dataset no longer matches its SHA-256.")

    # Steps: the frozen dataset (done), the runner's steps, then the reports.
    def on_step(done: int, total: int, label: str) -> None:
        _progress(run, 1 + done, total + 2, label)

    results = run_plan(dataset, on_step=on_step)
    _progress(run, run.progress_total - 1, run.progress_total, "Writing the report and the PDF")
    report_html = render_html(results, dataset)
    return {
        "results": json.loads(results_json(results)),
        "tables": {
            name: table.to_csv(index=False, lineterminator="\n")
            for name, table in results.tables().items()
        },
        "report_html": report_html,
        "report_pdf": report_pdf(run, report_html),
    }


def report_body(report_html: str) -> str:
    """Return the body of a stored standalone report (the page and the PDF show it)."""
    return report_html.split("<body>", 1)[-1].rsplit("</body>", 1)[0]


def report_print_html(run: AnalysisRun, report_html: str) -> str:
    """Return the print document of a run's report: tables, charts, warning, plan, provenance."""
    # The print template shows the title and the warning itself, styled for paper.
    body = re.sub(r"^\s*<h1>.*?</h1>", "", report_body(report_html), count=1, flags=re.S)
    body = body.replace(f"<p><strong>{html.escape(NOT_CAUSAL)}</strong></p>", "", 1)
    context = {
        "title": run.title,
        "run": run,
        "report_body": body,
        "not_causal": NOT_CAUSAL,
        "printed_at": timezone.now(),
        "print_css": PRINT_CSS,
    }
    return render_to_string(PDF_TEMPLATE, context)


def report_pdf(run: AnalysisRun, report_html: str) -> bytes:
    """Render a run's report to PDF (seconds for a large report: the task does it once)."""
    return html_to_pdf(report_print_html(run, report_html))


def _finish(
    run: AnalysisRun, *, error: str = "", outputs: dict[str, Any] | None = None
) -> AnalysisRun:
    with transaction.atomic():
        if (
            not AnalysisRun.objects.select_for_update()
            .filter(pk=run.pk, status=RunStatus.RUNNING)
            .exists()
        ):
            # Marked stalled while this worker was still at it: that decision stands.
            logger.warning("Analysis run %s finished after it was marked stalled", run.pk)
            run.refresh_from_db()
            return run
        run.status = RunStatus.FAILED if error else RunStatus.COMPLETED
        run.error = error
        run.completed_at = timezone.now()
        if error or outputs is None:
            # Never half-written: a failed run keeps its error and no results.
            run.results, run.tables, run.report_html, run.report_pdf = None, {}, "", None
        else:
            for name, value in outputs.items():
                setattr(run, name, value)
            run.progress_done = run.progress_total
            run.progress_label = "Finished"
        run.save()
        audit_record(
            actor=run.created_by,
            action="analysis.run.failed" if error else "analysis.run.completed",
            obj=run,
            site=run.site,
            data={"dataset_sha256": run.dataset_sha256, "error": error[:500]},
        )
    return run
