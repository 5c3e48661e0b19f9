import datetime as dt

import pytest

from mstoutcomes.cases.tests.factories import EpisodeFactory, YoungPersonFactory
from mstoutcomes.trial.config import parse_trial_config
from mstoutcomes.trial.consort import (
    Disposition,
    consort_counts,
    consort_method_text,
    consort_svg,
)
from mstoutcomes.trial.selectors import consort_dispositions
from mstoutcomes.trial.services import (
    consent_record,
    eligibility_record,
    participant_enrol,
    participant_randomise,
    withdrawal_record,
)
from mstoutcomes.trial.tests.conftest import CONFIG, consent_form, ready

SCENARIO = [
    Disposition("P1", excluded_reason="not_meeting_criteria"),
    Disposition("P2", excluded_reason="declined"),
    Disposition("P3"),
    Disposition(
        "P4", arm="MST", received_allocated=True, follow_up={"6m": "followed_up"}, analysed=True
    ),
    Disposition(
        "P5",
        arm="MST",
        received_allocated=False,
        not_received_reason="Moved away",
        follow_up={"6m": "lost"},
        lost_reasons={"6m": "Moved away"},
        analysed=True,
    ),
    Disposition(
        "P6",
        arm="MAU",
        received_allocated=True,
        follow_up={"6m": "not_yet_due"},
        discontinued=True,
        discontinued_reason="Family moved away",
        analysed=False,
        not_analysed_reason="Withdrew use of their data",
    ),
]


def test_counts_add_up_for_a_seeded_scenario():
    counts = consort_counts(SCENARIO, arms=["MAU", "MST"], timepoints=["6m"])
    assert (counts.assessed, counts.excluded, counts.awaiting, counts.randomised) == (6, 2, 1, 3)
    assert counts.excluded_by_reason == {"not_meeting_criteria": 1, "declined": 1}
    mau, mst = counts.arms
    assert (mst.allocated, mst.received, mst.not_received) == (2, 1, 1)
    assert mst.not_received_reasons == {"Moved away": 1}
    assert mst.follow_up == {"6m": {"followed_up": 1, "lost": 1}}
    assert mst.lost_reasons == {"6m": {"Moved away": 1}}
    assert (mau.analysed, mau.not_analysed) == (0, 1)
    rows = {(stage, box): n for stage, box, n in counts.rows()}
    assert rows[("Enrolment", "Randomised")] == 3
    assert rows[("Follow-up 6m", "MAU: not yet due")] == 1
    assert rows[("Follow-up 6m", "MAU: lost to follow-up")] == 0
    assert rows[("Follow-up", "MAU: discontinued intervention: Family moved away")] == 1
    assert rows[("Follow-up 6m", "MST: lost to follow-up: Moved away")] == 1


def test_counts_refuse_a_person_twice_or_an_unknown_arm():
    with pytest.raises(ValueError, match="more than once: P1"):
        consort_counts([Disposition("P1"), Disposition("P1")], arms=["A"], timepoints=[])
    with pytest.raises(ValueError, match="Unknown arms: Z"):
        consort_counts([Disposition("P1", arm="Z")], arms=["A"], timepoints=[])


def test_svg_shows_every_box_with_its_count_and_links():
    counts = consort_counts(SCENARIO, arms=["MAU", "MST"], timepoints=["6m"])
    svg = consort_svg(
        counts,
        arm_names={"MST": "Multisystemic Therapy"},
        links={"randomised": "/trial/x/participants/?box=randomised"},
    )
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    for text in (
        "Assessed for eligibility (n=6)",
        "Excluded (n=2)",
        "Randomised (n=3)",
        "Allocated to Multisystemic Therapy (n=2)",
        "Lost to follow-up (n=1)",
        "Assessment not finished (n=1)",
        'href="/trial/x/participants/?box=randomised"',
    ):
        assert text in svg


def test_method_text_withholds_block_sizes_until_unblinded():
    spec = parse_trial_config({**CONFIG, "method": "blocks"})
    blinded = consort_method_text(spec, reveal_block_sizes=False)
    assert "withheld until the trial is unblinded" in blinded["8b"]
    assert "2, 4, 6" not in blinded["8b"]
    assert "sizes 2, 4, 6" in consort_method_text(spec, reveal_block_sizes=True)["8b"]
    mini = consort_method_text(
        parse_trial_config({**CONFIG, "method": "minimisation"}), reveal_block_sizes=False
    )
    assert "probability 0.8" in mini["8b"]


@pytest.mark.django_db
def test_dispositions_from_the_database_match_what_happened(trial, site_a, trial_manager, alice):
    today = dt.date.today()
    ineligible = participant_enrol(
        by=None, trial=trial, young_person=YoungPersonFactory(site=site_a)
    )
    eligibility_record(by=trial_manager, participant=ineligible, eligible=False, on=today)
    declined = participant_enrol(by=None, trial=trial, young_person=YoungPersonFactory(site=site_a))
    eligibility_record(by=trial_manager, participant=declined, eligible=True, on=today)
    consent_record(
        by=trial_manager,
        participant=declined,
        form=consent_form(trial, "carer_consent"),
        given=False,
        recorded_on=today,
    )
    participant_enrol(by=None, trial=trial, young_person=YoungPersonFactory(site=site_a))
    randomised = []
    for _ in range(4):
        person = YoungPersonFactory(site=site_a)
        participant = ready(
            participant_enrol(by=None, trial=trial, young_person=person), trial_manager
        )
        allocation = participant_randomise(by=trial_manager, participant=participant)
        if allocation.arm == "MST":
            EpisodeFactory(young_person=person, therapist=alice)
        randomised.append(participant)
    withdrawal_record(by=trial_manager, participant=randomised[0], level="data_use", on=today)

    counts = consort_counts(
        consort_dispositions(trial=trial, cut_off=today), arms=["MAU", "MST"], timepoints=[]
    )
    assert (counts.assessed, counts.excluded, counts.awaiting, counts.randomised) == (7, 2, 1, 4)
    assert counts.excluded_by_reason == {"not_meeting_criteria": 1, "declined": 1}
    assert sum(f.allocated for f in counts.arms) == 4
    assert sum(f.received for f in counts.arms) == 4
    assert sum(f.analysed for f in counts.arms) == 3
    earlier = consort_dispositions(trial=trial, cut_off=today - dt.timedelta(days=1))
    assert earlier == []
