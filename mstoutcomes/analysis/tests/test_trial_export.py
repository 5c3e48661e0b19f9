"""The export of a trial site: randomised participants, in their allocated arm (ITT)."""

import datetime as dt
import json

import pandas as pd
import pytest
import time_machine
from django.utils import timezone

from mstoutcomes.accounts.models import Role
from mstoutcomes.accounts.tests.factories import member
from mstoutcomes.analysis.contract import parse_plan
from mstoutcomes.analysis.datasets import (
    Export,
    TrialPopulation,
    default_plan,
    export_dataset,
    export_frames,
    pseudonym,
    trial_source,
)
from mstoutcomes.analysis.models import AnalysisRun, RunStatus
from mstoutcomes.analysis.selectors import run_list_visible_to
from mstoutcomes.analysis.services import analysis_run_start
from mstoutcomes.cases.tests.factories import EpisodeFactory, YoungPersonFactory
from mstoutcomes.outcomes.models import Offence
from mstoutcomes.trial.blinding import arm_codes
from mstoutcomes.trial.models import Allocation
from mstoutcomes.trial.services import participant_enrol, participant_randomise, withdrawal_record
from mstoutcomes.trial.tests.conftest import make_trial, ready

pytestmark = pytest.mark.django_db

RANDOMISED_ON = dt.date(2025, 1, 13)
AS_OF = dt.date(2026, 6, 30)
NAMES = {"MAU": "Management as usual", "MST": "MST"}


@pytest.fixture
def manager(site_a):
    return member(Role.TRIAL_MANAGER, site_a, username="tina")


def _randomise(trial, manager, people):
    with time_machine.travel(dt.datetime(2025, 1, 13, 10, 0), tick=False):
        participants = [
            ready(participant_enrol(by=None, trial=trial, young_person=p), manager) for p in people
        ]
        for participant in participants:
            participant_randomise(by=manager, participant=participant)
    return participants


@pytest.fixture
def randomised(site_a, manager):
    """Eight randomised participants at site A, one more enrolled but never randomised."""
    trial = make_trial(site_a)
    people = [YoungPersonFactory(site=site_a) for _ in range(8)]
    participants = _randomise(trial, manager, people)
    participant_enrol(by=None, trial=trial, young_person=YoungPersonFactory(site=site_a))
    return trial, participants


@pytest.fixture
def offences(randomised):
    """Offences after randomisation: none for some participants, several for others."""
    _, participants = randomised
    counts = (0, 1, 3, 0, 2, 5, 1, 0)
    for index, (participant, count) in enumerate(zip(participants, counts, strict=True)):
        for k in range(count):
            Offence.objects.create(
                young_person=participant.young_person,
                # Dated by position, never by primary key: PostgreSQL's keys keep growing
                # across tests and would push offences past the export date.
                offence_date=RANDOMISED_ON + dt.timedelta(days=30 + 61 * k + index),
                category="theft",
                gravity=2,
                outcome="caution",
            )


def _arm(participant):
    return NAMES[Allocation.objects.unscoped().get(participant=participant).arm]


def test_a_trial_site_exports_every_randomised_participant_in_their_allocated_arm(
    randomised, site_a, manager
):
    _, participants = randomised
    stopped, no_more_data, gone = participants[:3]
    for participant, level in ((stopped, "treatment"), (no_more_data, "further_data")):
        withdrawal_record(by=manager, participant=participant, level=level, on=dt.date(2025, 3, 1))
    withdrawal_record(by=manager, participant=gone, level="data_use", on=dt.date(2025, 4, 1))

    export = export_frames(site_ids=[site_a.pk], as_of=AS_OF)
    people = export.participants.set_index("participant_id")
    kept = participants[:2] + participants[3:]
    assert set(people.index) == {pseudonym(p.young_person.study_id) for p in kept}
    for participant in kept:  # intention to treat: the allocated arm, whatever happened after
        row = people.loc[pseudonym(participant.young_person.study_id)]
        assert row["arm"] == _arm(participant)
        assert row["randomised_on"] == "2025-01-13"
        # 18 months later is after the export date; withdrawing from further data ends it early.
        expected_end = "2025-03-01" if participant == no_more_data else "2026-06-30"
        assert row["followup_end"] == expected_end
        assert row["site"] == "AAA" and row["sex"] == participant.levels["sex"]
    assert any("1 randomised participant(s) withdrew from further data" in n for n in export.notes)
    assert set(people["arm"]) <= set(NAMES.values())
    assert any("1 randomised participant(s) withdrew use of the data" in n for n in export.notes)
    assert pseudonym(gone.young_person.study_id) not in set(export.measurements["participant_id"])


def test_the_default_trial_plan_compares_the_arms_adjusted_for_the_stratification_factors(
    randomised, offences, site_a
):
    export = export_frames(site_ids=[site_a.pk], as_of=AS_OF)
    plan = parse_plan(default_plan(export))
    assert plan.arms == ("Management as usual", "MST")  # the reference arm first
    assert plan.is_trial and plan.covariates == ("site", "sex")
    assert {o.name: o.type for o in plan.outcomes} == {
        "offences": "count",
        "time_to_first_offence": "time_to_event",
    }
    assert "# Trial START-T: 8 randomised participant(s)" in default_plan(export)


def test_the_trial_plan_adds_the_sdq_ancova_and_the_binary_outcome_when_recorded():
    people = pd.DataFrame(
        {"participant_id": ["a", "b"], "arm": ["Management as usual", "MST"], "site": "AAA"}
    )
    rows = [(p, "sdq_s_total", t, "12") for p in ("a", "b") for t in ("t0", "t6")]
    rows += [("a", "living_at_home", "discharge", "1"), ("b", "living_at_home", "discharge", "0")]
    export = Export(
        participants=people,
        measurements=pd.DataFrame(
            rows, columns=["participant_id", "outcome", "timepoint", "value"]
        ),
        events=pd.DataFrame(
            [("a", "offence", "2025-03-01")], columns=["participant_id", "event", "date"]
        ),
        trial=TrialPopulation(
            participants=people,
            title="T",
            arms=("Management as usual", "MST"),
            factors=("site", "age_at_onset"),
        ),
    )
    plan = parse_plan(default_plan(export))
    sdq = plan.outcomes[0]
    assert (sdq.name, sdq.source, sdq.baseline, sdq.timepoint) == (
        "sdq_total_6m",
        "sdq_s_total",
        "t0",
        "t6",
    )
    assert plan.missing.method == "multiple_imputation"
    assert [o.name for o in plan.outcomes][1:] == [
        "living_at_home",
        "offences",
        "time_to_first_offence",
    ]
    assert plan.covariates == ("site",)  # only factors that exist as columns


def test_pseudonyms_are_stable_and_the_same_as_in_the_service_evaluation(
    randomised, offences, site_a
):
    first, first_export = export_dataset(site_ids=[site_a.pk], as_of=AS_OF)
    again, _ = export_dataset(site_ids=[site_a.pk], as_of=AS_OF)
    assert first.sha256() == again.sha256()
    _, participants = randomised
    person = participants[0].young_person
    assert pseudonym(person.study_id) in set(first_export.participants["participant_id"])
    assert person.study_id not in first_export.participants.to_csv()


def test_sites_without_a_randomised_participant_keep_the_service_evaluation(
    site_a, site_b, manager, alice
):
    make_trial(site_a, code="START-TEST", test_mode=True)  # test allocations are never analysed
    served = YoungPersonFactory(site=site_b)
    EpisodeFactory(young_person=served, start_date=dt.date(2025, 2, 1))
    assert trial_source(site_ids=[site_a.pk, site_b.pk], as_of=AS_OF) is None
    export = export_frames(site_ids=[site_b.pk], as_of=AS_OF)
    assert list(export.participants["arm"]) == ["MST"]
    assert export.trial is None and parse_plan(default_plan(export)).arms == ("MST",)


def test_a_trial_run_analyses_offences_by_arm_in_the_background(
    randomised, offences, site_a, worker
):
    statistician = member(Role.UNBLINDED_STATISTICIAN, site_a, username="stella")
    run = analysis_run_start(by=statistician, site=site_a)
    worker()
    run = AnalysisRun.objects.get(pk=run.pk)
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.arms == "named" and run.results["design"] == "trial"
    assert run.results["n_by_arm"] == {
        name: Allocation.objects.unscoped().filter(arm=code).count() for code, name in NAMES.items()
    }
    assert "Management as usual" in run.snapshot["participants.csv"]
    assert bytes(run.report_pdf).startswith(b"%PDF-")


@pytest.mark.parametrize("mst_letter", ["A", "B"])
def test_a_blind_statisticians_trial_run_has_arms_coded_a_and_b(
    randomised, offences, site_a, worker, mst_letter
):
    trial, _ = randomised
    # The coding comes from a keyed hash of the list identity: try both ways round, since the
    # analysis must complete whichever arm the blind statistician sees as the reference.
    for n in range(64):
        trial.list_id = f"codingprobe{n:04d}"
        if arm_codes(trial)["MST"] == mst_letter:
            break
    trial.save(update_fields=["list_id"])
    blind = member(Role.STATISTICIAN, site_a, username="stan")
    run = analysis_run_start(by=blind, site=site_a)
    worker()
    run = AnalysisRun.objects.get(pk=run.pk)
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.arms == "coded"
    letters = arm_codes(trial)
    assert run.results["n_by_arm"] == {
        f"Arm {letters[code]}": Allocation.objects.unscoped().filter(arm=code).count()
        for code in NAMES
    }
    everything = json.dumps(run.snapshot) + run.report_html + json.dumps(run.tables)
    assert "Management as usual" not in everything
    assert ",MST," not in run.snapshot["participants.csv"] and '"MST"' not in everything
    assert "mst_targets = false" in run.plan_toml


def test_runs_by_named_arm_are_hidden_from_blind_readers(randomised, site_a, worker):
    named = analysis_run_start(by=member(Role.UNBLINDED_STATISTICIAN, site_a), site=site_a)
    coded = analysis_run_start(by=member(Role.STATISTICIAN, site_a), site=site_a)
    AnalysisRun.objects.filter(pk__in=[named.pk, coded.pk]).update(published=True)

    def seen(role):
        user = member(role, site_a)
        return set(run_list_visible_to(user=user).values_list("pk", flat=True))

    assert seen(Role.STATISTICIAN) == {coded.pk}
    assert seen(Role.UNBLINDED_STATISTICIAN) == {named.pk, coded.pk}
    assert seen(Role.DMC_MEMBER) == {named.pk, coded.pk}
    assert seen(Role.STEERING_GROUP) == set()
    trial, _ = randomised
    trial.locked_at = timezone.now()
    trial.save(update_fields=["locked_at"])
    assert seen(Role.STEERING_GROUP) == {named.pk, coded.pk}


def test_nothing_recorded_after_a_withdrawal_from_further_data_is_exported(
    randomised, offences, site_a, manager
):
    _, participants = randomised
    # participants[2] has offences 32, 93 and 154 days after randomisation
    person = participants[2]
    dates = sorted(
        Offence.objects.unscoped()
        .filter(young_person=person.young_person)
        .values_list("offence_date", flat=True)
    )
    assert len(dates) == 3
    withdrawal_record(by=manager, participant=person, level="further_data", on=dates[1])
    export = export_frames(site_ids=[site_a.pk], as_of=AS_OF)
    mine = export.events[export.events["participant_id"] == pseudonym(person.young_person.study_id)]
    assert sorted(mine["date"]) == [d.isoformat() for d in dates[:2]]  # the day itself counts
    others = export.events[
        export.events["participant_id"] != pseudonym(person.young_person.study_id)
    ]
    assert (
        len(others) == Offence.objects.unscoped().exclude(young_person=person.young_person).count()
    )
