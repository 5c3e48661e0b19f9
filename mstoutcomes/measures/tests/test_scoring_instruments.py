"""Scoring of the other shipped instruments, worked out by hand (no database)."""

from pathlib import Path

import pytest

from mstoutcomes.measures.definitions import load_directory
from mstoutcomes.measures.scoring import ScoringInputError, reliable_change, score

INSTRUMENTS = load_directory(Path(__file__).resolve().parents[1] / "instruments")


def test_every_shipped_instrument_loads_with_a_licence_and_scoring_version():
    assert set(INSTRUMENTS) >= {"sdq-p", "sdq-t", "sdq-s", "gbo", "srd", "apq9", "icu"}
    assert {"mst-discharge", "tam-r"} <= set(INSTRUMENTS)
    for instrument in INSTRUMENTS.values():
        assert instrument.licence.holder and instrument.scoring_version


def test_gbo_scores_each_goal_and_their_mean():
    result = score(INSTRUMENTS["gbo"], "parent", {"goal_1": 3, "goal_2": 8})
    assert result.value("goal_1") == 3
    assert result.value("goal_3") is None
    assert result.value("mean") == 5.5


def test_gbo_refuses_a_rating_above_ten():
    with pytest.raises(ScoringInputError) as error:
        score(INSTRUMENTS["gbo"], "parent", {"goal_1": 11})
    assert "goal_1" in error.value.errors


def test_srd_variety_counts_acts_and_volume_caps_each_at_ten():
    acts = [i.id for i in INSTRUMENTS["srd"].items]
    responses = {act: 0 for act in acts}
    responses.update({"shoplift": 25, "assault": 2, "weapon": 1})
    result = score(INSTRUMENTS["srd"], "young_person", responses)
    assert result.value("variety") == 3
    assert result.value("volume") == 10 + 2 + 1
    assert result.value("violent_variety") == 2
    assert result.value("property_variety") == 1


def test_srd_volume_is_prorated_when_a_few_acts_are_unanswered():
    acts = [i.id for i in INSTRUMENTS["srd"].items]
    responses = {act: 1 for act in acts[:9]}  # 9 of 12 answered: 9 / 9 × 12 = 12
    result = score(INSTRUMENTS["srd"], "parent", responses)
    assert result.value("volume") == 12
    assert result.value("variety") == 9
    assert score(INSTRUMENTS["srd"], "parent", {acts[0]: 1}).value("variety") is None


def test_apq9_scales_have_no_total():
    result = score(
        INSTRUMENTS["apq9"],
        "parent",
        {"pp1": 5, "pp2": 4, "pp3": 5, "id1": 2, "id2": 3, "ps1": 1, "ps2": 1, "ps3": 2},
    )
    assert result.value("positive") == 14
    assert result.value("inconsistent") == 8  # (2 + 3) / 2 × 3 = 7.5 → 8
    assert result.value("supervision") == 4
    assert "total" not in result.scores


def test_icu_reverses_twelve_items_and_sums_three_subscales():
    icu = INSTRUMENTS["icu"]
    assert sum(1 for i in icu.items if i.reverse) == 12
    assert [len(icu.scale(c).items) for c in ("callousness", "uncaring", "unemotional")] == [
        11,
        8,
        5,
    ]
    result = score(icu, "parent", {str(n): 0 for n in range(1, 25)})
    # a reversed item answered 0 scores 3: callousness has item 8; uncaring all eight
    assert result.value("callousness") == 3
    assert result.value("uncaring") == 24
    assert result.value("unemotional") == 9  # items 1, 14, 19 reversed
    assert result.value("total") == 36


def test_mst_discharge_counts_outcomes_met():
    result = score(
        INSTRUMENTS["mst-discharge"],
        "therapist",
        {"living_at_home": 1, "in_school_or_work": 0, "no_new_arrests": 1},
    )
    assert result.value("outcomes_met") == 2


def test_tam_r_score_is_entered_with_two_decimals_and_banded_at_061():
    tam = INSTRUMENTS["tam-r"]
    assert not tam.items and not tam.item_entry
    assert score(tam, "parent", entered={"adherence": "0.61"}).scores["adherence"].bands == {
        "msti-threshold": "At or above threshold"
    }
    assert score(tam, "parent", entered={"adherence": 0.6}).value("adherence") == 0.6
    with pytest.raises(ScoringInputError) as error:
        score(tam, "parent", entered={"adherence": "0.615"})
    assert error.value.errors == {"adherence": "must be 2 decimal places"}
    with pytest.raises(ScoringInputError):
        score(tam, "parent", entered={"adherence": 1.2})


def test_reliable_change_needs_sd_and_reliability():
    total = INSTRUMENTS["sdq-p"].scale("total")
    change = reliable_change(total, 22, 12)
    assert change is not None and change.reliable and change.direction == "improved"
    assert reliable_change(total, 22, 20).direction == "no reliable change"
    assert reliable_change(INSTRUMENTS["sdq-p"].scale("emotion"), 5, 1) is None
