"""From the demo database to results: export the contract, then analyse it."""

import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command

from mstoutcomes.accounts.models import AuditEvent
from mstoutcomes.trial.models import Allocation

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2026, 3, 31)


@pytest.fixture
def demo(db):
    call_command("demo", "--seed", "3", "--as-of", AS_OF.isoformat(), stdout=io.StringIO())


def test_demo_database_exports_and_analyses(demo, tmp_path, capsys):
    folder = tmp_path / "export"
    call_command(
        "analysis_export", "--site", "TRF", "--out", str(folder), "--as-of", AS_OF.isoformat()
    )
    assert "participants" in capsys.readouterr().out
    participants = (folder / "participants.csv").read_text().splitlines()
    measurements = (folder / "measurements.csv").read_text()
    events = (folder / "events.csv").read_text()
    assert len(participants) > 30
    assert "TRF-" not in measurements + events + "\n".join(participants)  # pseudonyms only
    assert "sdq_p_total,baseline," in measurements
    assert ",offence," in events
    assert AuditEvent.objects.filter(action="analysis.dataset.exported").count() == 1

    out = tmp_path / "results"
    call_command("analyse", "--data", str(folder), "--out", str(out))
    results = json.loads((out / "results.json").read_text())
    names = json.dumps(results)
    if (
        Allocation.objects.unscoped().filter(is_test=False).exists()
    ):  # the demo site is in the trial
        assert results["design"] == "trial" and "sdq_total_6m" in names
        assert list(results["n_by_arm"]) == ["Management as usual", "Multisystemic Therapy"]
        assert "Management as usual" in "\n".join(participants)
    else:
        assert "sdq_p_total" in names and "living_at_home" in names


def test_export_refuses_a_non_empty_folder_and_unknown_sites(demo, tmp_path):
    (tmp_path / "keep.txt").write_text("x")
    with pytest.raises(CommandError, match="is not empty"):
        call_command("analysis_export", "--site", "TRF", "--out", str(tmp_path))
    with pytest.raises(CommandError, match="Unknown site code"):
        call_command("analysis_export", "--site", "NOPE", "--out", str(tmp_path / "new"))
