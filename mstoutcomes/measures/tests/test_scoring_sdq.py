"""The SDQ scoring rules, each checked against scores worked out by hand (no database)."""

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mstoutcomes.measures.definitions import load_directory
from mstoutcomes.measures.scoring import ScoringInputError, round_half_up, score

INSTRUMENTS = load_directory(Path(__file__).resolve().parents[1] / "instruments")
SDQ = {"parent": INSTRUMENTS["sdq-p"], "teacher": INSTRUMENTS["sdq-t"]}
SDQ["young_person"] = INSTRUMENTS["sdq-s"]
SUBSCALES = {
    "emotion": [3, 8, 13, 16, 24],
    "conduct": [5, 7, 12, 18, 22],
    "hyper": [2, 10, 15, 21, 25],
    "peer": [6, 11, 14, 19, 23],
    "prosocial": [1, 4, 9, 17, 20],
}
REVERSED = {7, 11, 14, 21, 25}


def sdq(respondent="parent", **responses):
    return score(SDQ[respondent], respondent, {k.lstrip("q"): v for k, v in responses.items()})


def items(values):
    return {f"q{n}": v for n, v in values.items()}


def test_subscales_sum_their_five_items():
    result = sdq(**items({3: 2, 8: 1, 13: 0, 16: 2, 24: 1}))
    assert result.value("emotion") == 6
    assert result.scores["emotion"].answered == 5
    assert not result.scores["emotion"].prorated


@pytest.mark.parametrize(
    ("item", "scale"), [(7, "conduct"), (11, "peer"), (14, "peer"), (21, "hyper"), (25, "hyper")]
)
@pytest.mark.parametrize(("answer", "scored"), [(0, 2), (1, 1), (2, 0)])
def test_reverse_items_score_two_minus_the_answer(item, scale, answer, scored):
    # The other items score 0 (a reversed one by answering 2).
    others = {n: 2 if n in REVERSED else 0 for n in SUBSCALES[scale] if n != item}
    result = sdq(**items({**others, item: answer}))
    assert result.value(scale) == scored


def test_only_items_7_11_14_21_25_are_reversed():
    reversed_items = {int(i.id) for i in SDQ["parent"].items if i.reverse}
    assert reversed_items == REVERSED


def test_all_answered_not_true_gives_reverse_items_their_points():
    result = sdq(**items({n: 0 for n in range(1, 26)}))
    # conduct: item 7 reversed → 2; hyper: 21, 25 → 4; peer: 11, 14 → 4
    assert [result.value(s) for s in SUBSCALES] == [0, 2, 4, 4, 0]
    assert result.value("total") == 10
    assert result.value("externalising") == 6
    assert result.value("internalising") == 4


def test_four_answered_items_are_prorated_and_a_half_rounds_up():
    # 2 points from 4 items: 2 / 4 × 5 = 2.5 → 3 (Python's round() would give 2)
    result = sdq(**items({3: 1, 8: 1, 13: 0, 16: 0}))
    assert result.value("emotion") == 3
    assert result.scores["emotion"].prorated
    assert result.scores["emotion"].answered == 4


def test_three_answered_items_are_prorated_as_in_sdqinfo_example():
    # sdqinfo's worked example: 4 points from 3 items → 6.67 → 7
    result = sdq(**items({3: 2, 8: 2, 13: 0}))
    assert result.value("emotion") == 7


def test_three_answered_items_rounding_down():
    # 1 point from 3 items: 1.67 → 2; 2 points: 3.33 → 3
    assert sdq(**items({3: 1, 8: 0, 13: 0})).value("emotion") == 2
    assert sdq(**items({3: 1, 8: 1, 13: 0})).value("emotion") == 3


def test_prorating_uses_reversed_values():
    # conduct items 5, 7, 12 answered; 7 reversed: 0 → 2. (1 + 2 + 0) / 3 × 5 = 5
    assert sdq(**items({5: 1, 7: 0, 12: 0})).value("conduct") == 5


def test_two_answered_items_leave_the_subscale_missing():
    result = sdq(**items({3: 2, 8: 2}))
    assert result.value("emotion") is None
    assert result.scores["emotion"].answered == 2


def test_total_is_missing_when_any_difficulty_subscale_is_missing():
    full = {n: 1 for n in range(1, 26)}
    for n in (6, 11, 14):  # peer keeps only 19 and 23
        full.pop(n)
    result = sdq(**items(full))
    assert result.value("peer") is None
    assert result.value("total") is None
    assert result.value("internalising") is None
    assert result.value("externalising") == 10


def test_total_excludes_prosocial_and_sums_rounded_subscales():
    answers = {n: 0 for n in range(1, 26)}
    answers.update({3: 1, 8: 1, 13: 0, 16: 0})  # emotion 4 items → 2.5 → 3
    answers.pop(24)
    answers.update({1: 2, 4: 2, 9: 2, 17: 2, 20: 2})  # prosocial 10: not in total
    result = sdq(**items(answers))
    assert result.value("emotion") == 3
    assert result.value("total") == 3 + 2 + 4 + 4
    assert result.value("prosocial") == 10


def test_impact_recodes_codes_0_and_1_to_0_and_2_3_to_1_2():
    result = sdq(ebddiff=2, distres=0, imphome=1, impfrie=2, impclas=3, impleis=3)
    assert result.value("impact") == 0 + 0 + 1 + 2 + 2


def test_impact_counts_missing_impact_items_as_zero():
    assert sdq(ebddiff=1, distres=3).value("impact") == 2
    assert sdq(ebddiff=1, distres=3).scores["impact"].answered == 1


def test_impact_is_missing_when_no_impact_item_is_answered():
    assert sdq(ebddiff=2).value("impact") is None


def test_impact_is_zero_when_no_difficulties_whatever_else_is_answered():
    assert sdq(ebddiff=0, distres=3, imphome=3, impfrie=3).value("impact") == 0
    assert sdq(ebddiff=0).value("impact") == 0


def test_teacher_impact_uses_three_items_and_runs_to_six():
    teacher = SDQ["teacher"]
    assert teacher.scale("impact").items == ("distres", "impfrie", "impclas")
    result = sdq("teacher", ebddiff=3, distres=3, impfrie=3, impclas=3)
    assert result.value("impact") == 6
    with pytest.raises(ScoringInputError) as error:
        sdq("teacher", imphome=2)
    assert "imphome" in error.value.errors


@pytest.mark.parametrize(
    ("respondent", "total", "three", "four"),
    [
        ("parent", 13, "Normal", "Close to average"),
        ("parent", 14, "Borderline", "Slightly raised"),
        ("parent", 17, "Abnormal", "High"),
        ("parent", 20, "Abnormal", "Very high"),
        ("teacher", 11, "Normal", "Close to average"),
        ("teacher", 12, "Borderline", "Slightly raised"),
        ("teacher", 16, "Abnormal", "High"),
        ("teacher", 19, "Abnormal", "Very high"),
        ("young_person", 15, "Normal", "Slightly raised"),
        ("young_person", 14, "Normal", "Close to average"),
        ("young_person", 16, "Borderline", "Slightly raised"),
        ("young_person", 20, "Abnormal", "Very high"),
    ],
)
def test_total_difficulties_bands(respondent, total, three, four):
    result = score(SDQ[respondent], respondent, entered={"total": total})
    assert result.scores["total"].bands == {"uk-3band": three, "uk-4band": four}


@pytest.mark.parametrize(
    ("value", "three", "four"),
    [
        (10, "Normal", "Close to average"),
        (7, "Normal", "Slightly lowered"),
        (5, "Borderline", "Very low"),
        (4, "Abnormal", "Very low"),
    ],
)
def test_parent_prosocial_bands_run_the_other_way(value, three, four):
    result = score(SDQ["parent"], "parent", entered={"prosocial": value})
    assert result.scores["prosocial"].bands == {"uk-3band": three, "uk-4band": four}


def test_impact_bands():
    for value, label in [(0, "Normal"), (1, "Borderline"), (2, "Abnormal"), (10, "Abnormal")]:
        result = score(SDQ["parent"], "parent", entered={"impact": value})
        assert result.scores["impact"].bands["uk-3band"] == label


def test_band_sets_carry_version_source_and_tag():
    for band_set in SDQ["parent"].bands:
        assert band_set.version and band_set.source and band_set.tag


def test_entered_subscales_derive_total_and_externalising():
    result = score(
        SDQ["parent"],
        "parent",
        entered={"emotion": 4, "conduct": 5, "hyper": 7, "peer": 3, "prosocial": 6},
    )
    assert result.value("total") == 19
    assert result.value("externalising") == 12
    assert result.scores["conduct"].entered


@pytest.mark.parametrize("bad", [3, -1, "x", 1.5])
def test_out_of_range_items_are_refused_naming_the_item(bad):
    with pytest.raises(ScoringInputError) as error:
        sdq(q4=bad)
    assert list(error.value.errors) == ["4"]


def test_entered_scores_are_checked_against_the_range():
    with pytest.raises(ScoringInputError) as error:
        score(SDQ["parent"], "parent", entered={"emotion": 11, "total": 41, "externalising": 3})
    assert error.value.errors == {
        "emotion": "must be between 0 and 10",
        "total": "must be between 0 and 40",
        "externalising": "cannot be entered directly",
    }


def test_a_version_the_instrument_lacks_is_refused():
    with pytest.raises(ScoringInputError):
        score(SDQ["parent"], "teacher", {"1": 1})


def test_scores_carry_the_scoring_version():
    result = sdq(q1=1)
    assert result.as_dict()["scoring_version"] == "sdq-parent-2014.1"


def test_no_item_wording_is_shipped():
    for instrument in SDQ.values():
        assert not instrument.licence.wording_on_screen
        assert all(item.text == "" for item in instrument.items)


# Property tests: an independent, straightforward re-implementation of the official syntax.
answer = st.one_of(st.none(), st.integers(0, 2))


def reference_subscale(values):
    answered = [v for v in values if v is not None]
    if len(answered) < 3:
        return None
    mean = sum(answered) / len(answered)
    return int(mean * 5 + 0.5 + 1e-9)


@given(st.lists(answer, min_size=25, max_size=25))
def test_scores_match_a_reference_implementation(answers):
    responses = {str(n): v for n, v in enumerate(answers, 1) if v is not None}
    result = score(SDQ["parent"], "parent", responses)
    expected = {}
    for scale, numbers in SUBSCALES.items():
        values = []
        for n in numbers:
            v = answers[n - 1]
            values.append(None if v is None else (2 - v if n in REVERSED else v))
        expected[scale] = reference_subscale(values)
        assert result.value(scale) == expected[scale]
    parts = [expected[s] for s in ("emotion", "conduct", "hyper", "peer")]
    assert result.value("total") == (None if None in parts else sum(parts))


@given(st.lists(answer, min_size=25, max_size=25))
def test_scores_stay_within_their_ranges(answers):
    responses = {str(n): v for n, v in enumerate(answers, 1) if v is not None}
    result = score(SDQ["young_person"], "young_person", responses)
    for code, scale_score in result.scores.items():
        scale = SDQ["young_person"].scale(code)
        if scale_score.value is not None:
            assert scale.minimum <= scale_score.value <= scale.maximum
            assert (scale_score.bands != {}) == any(
                code in b.scales for b in SDQ["young_person"].bands
            )


@given(st.lists(answer, min_size=25, max_size=25), st.integers(1, 25))
def test_answering_one_more_item_never_loses_a_subscale(answers, extra):
    before = score(
        SDQ["parent"], "parent", {str(n): v for n, v in enumerate(answers, 1) if v is not None}
    )
    answers = list(answers)
    answers[extra - 1] = answers[extra - 1] if answers[extra - 1] is not None else 1
    after = score(
        SDQ["parent"], "parent", {str(n): v for n, v in enumerate(answers, 1) if v is not None}
    )
    for code in SUBSCALES:
        if before.value(code) is not None:
            assert after.value(code) is not None


@given(st.fractions(min_value=0, max_value=100))
def test_round_half_up_never_rounds_a_half_down(value):
    rounded = round_half_up(value)
    assert rounded - value <= 0.5 and value - rounded < 0.5
