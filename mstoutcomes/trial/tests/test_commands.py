from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from mstoutcomes.cases.tests.factories import YoungPersonFactory
from mstoutcomes.trial.models import Allocation, Trial
from mstoutcomes.trial.services import participant_enrol, participant_randomise
from mstoutcomes.trial.tests.conftest import make_trial, ready

DEMO_CONFIG = Path(__file__).parents[1] / "config" / "start-demo.toml"


def test_simulate_prints_balance_and_guessability(capsys):
    call_command("trial_simulate", str(DEMO_CONFIG), "--trials", "20", "--participants", "40")
    out = capsys.readouterr().out
    assert "START-DEMO: minimisation, 20 trials of 40 participants" in out
    assert "Overall imbalance" in out and "Correct guesses" in out


def test_simulate_names_a_bad_configuration(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('code = "X"\ntitle = "x"\nmethod = "coin"\n')
    with pytest.raises(CommandError, match="'method' must be"):
        call_command("trial_simulate", str(bad))


@pytest.mark.django_db
def test_setup_creates_the_trial_once(site_a, capsys):
    site_a.code = "TRF"
    site_a.save()
    with pytest.raises(CommandError, match=r"unknown: \['NOPE'\]"):
        call_command("trial_setup", str(DEMO_CONFIG), "--site", "NOPE")
    call_command("trial_setup", str(DEMO_CONFIG), "--site", "TRF")
    assert Trial.objects.get().code == "START-DEMO"
    with pytest.raises(CommandError, match="already exists"):
        call_command("trial_setup", str(DEMO_CONFIG), "--site", "TRF")


@pytest.mark.django_db
def test_verify_list_confirms_allocations_and_detects_a_forged_one(site_a, trial_manager, capsys):
    trial = make_trial(site_a, method="blocks", code="VERIFY")
    for _ in range(4):
        participant = ready(
            participant_enrol(by=None, trial=trial, young_person=YoungPersonFactory(site=site_a)),
            trial_manager,
        )
        participant_randomise(by=trial_manager, participant=participant)
    call_command("trial_verify_list", "VERIFY")
    assert "All 4 allocations match the list" in capsys.readouterr().out
    forged = Allocation.objects.unscoped().order_by("sequence").first()
    Allocation.objects.unscoped().filter(pk=forged.pk).update(
        arm="MST" if forged.arm == "MAU" else "MAU"
    )
    with pytest.raises(CommandError, match=f"Allocations \\[{forged.pk}\\] do not match"):
        call_command("trial_verify_list", "VERIFY")
