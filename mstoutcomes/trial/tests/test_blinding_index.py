"""Bang's blinding index, checked against the plain-R reference in tests/reference/bang_bi.R."""

from pathlib import Path

import pytest

from mstoutcomes.trial.blinding_index import GuessCounts, bang_index, bang_indexes

REFERENCE = Path(__file__).parent / "reference" / "bang_bi.out"
# The same 3 x 2 tables as the R script: rows guess arm 1 / arm 2 / don't know, columns true arm.
TABLES = {
    "table1": ((82, 25), (27, 170), (11, 4)),
    "table2": ((10, 9), (8, 12), (2, 1)),
    "table3": ((3, 3), (3, 3), (14, 14)),
    "table4": ((0, 20), (20, 0), (0, 0)),
}


def reference_rows():
    for line in REFERENCE.read_text().splitlines():
        name, arm, *numbers = line.split()
        yield name, int(arm[-1]), [float(n) for n in numbers]


@pytest.mark.parametrize(("name", "arm", "expected"), list(reference_rows()))
def test_the_index_matches_r_to_nine_decimal_places(name, arm, expected):
    table = TABLES[name]
    j = arm - 1
    counts = GuessCounts(table[j][j], table[1 - j][j], table[2][j])
    result = bang_index(counts)
    assert [result.estimate, result.std_error, result.lower, result.upper] == pytest.approx(
        expected, abs=1e-9
    )


def test_the_two_by_three_table_is_read_by_true_arm():
    table = {"MST": {"MST": 82, "MAU": 27, "dont_know": 11}, "MAU": {"MST": 25, "MAU": 170}}
    result = bang_indexes(table, arms=("MST", "MAU"))
    assert result["MST"].estimate == pytest.approx(0.4583333333)
    assert result["MAU"].estimate == pytest.approx((170 - 25) / 195)
    assert result["MST"].reading == "More correct guesses than chance"


def test_only_dont_know_answers_give_zero_and_random_guessing():
    result = bang_index(GuessCounts(0, 0, 10))
    assert result.estimate == 0 and result.std_error == 0
    assert result.reading == "Consistent with random guessing"


def test_no_guesses_give_no_index():
    result = bang_index(GuessCounts(0, 0, 0))
    assert result.estimate is None and result.reading == "No guesses recorded"


def test_bad_counts_and_unknown_guesses_are_refused():
    with pytest.raises(ValueError, match="negative"):
        GuessCounts(-1, 0, 0)
    with pytest.raises(ValueError, match="Unknown guesses"):
        bang_indexes({"MST": {"placebo": 1}}, arms=("MST", "MAU"))
    with pytest.raises(ValueError, match="confidence level"):
        bang_index(GuessCounts(1, 1, 1), conf_level=1.5)
