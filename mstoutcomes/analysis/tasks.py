"""Background tasks: analysis runs execute in a task worker (`mstoutcomes db_worker`)."""

from __future__ import annotations

from django_tasks import task

from mstoutcomes.analysis.execution import analysis_run_execute
from mstoutcomes.analysis.models import AnalysisRun


@task()
def analysis_run_task(run_id: int) -> str:
    """Execute a queued analysis run and return its final status."""
    run = AnalysisRun.objects.select_related("site", "created_by").get(pk=run_id)
    return str(analysis_run_execute(run=run).status)
