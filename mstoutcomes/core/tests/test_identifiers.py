"""NHS numbers, pupil numbers and postcode districts are checked as the NHS and DfE define."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mstoutcomes.core.identifiers import (
    is_nhs_number,
    is_postcode_district,
    is_upn,
    normalise_nhs_number,
    normalise_postcode_district,
    upn_check_letter,
)

UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"


def nhs_check_digit(body: str) -> int:
    """Return the modulus-11 check for nine digits (10 means no valid number has this body)."""
    remainder = sum(int(d) * w for d, w in zip(body, range(10, 1, -1), strict=True)) % 11
    return 0 if remainder == 0 else 11 - remainder


# --- NHS numbers ---


def test_a_published_example_nhs_number_is_valid():
    assert is_nhs_number("9434765919")


@pytest.mark.parametrize("wrong", ["9434765910", "9434765911", "9434765918"])
def test_an_nhs_number_with_the_wrong_check_digit_is_invalid(wrong):
    assert not is_nhs_number(wrong)


@pytest.mark.parametrize("body", ["000000006", "100000001", "123456789"])
def test_an_nhs_number_whose_check_computes_to_ten_is_invalid_whatever_its_last_digit(body):
    assert nhs_check_digit(body) == 10
    assert not any(is_nhs_number(body + str(last)) for last in range(10))


def test_an_nhs_number_whose_check_computes_to_eleven_takes_zero():
    # 1*9 + 1*2 = 11 leaves remainder 0: the check 11 - 0 = 11 is written as 0.
    assert nhs_check_digit("010000001") == 0
    assert is_nhs_number("0100000010")


@pytest.mark.parametrize("spaced", ["943 476 5919", " 943 476 5919 ", "943-476-5919"])
def test_an_nhs_number_may_be_written_with_spaces_or_hyphens(spaced):
    assert is_nhs_number(spaced)
    assert normalise_nhs_number(spaced) == "9434765919"


FULLWIDTH_NHS_NUMBER = "".join(chr(0xFF10 + int(d)) for d in "9434765919")


@pytest.mark.parametrize(
    "value", ["", "943476591", "94347659190", "943476591X", FULLWIDTH_NHS_NUMBER]
)
def test_an_nhs_number_must_be_exactly_ten_ascii_digits(value):
    assert not is_nhs_number(value)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_any_nine_digits_with_their_computed_check_digit_are_valid_unless_the_check_is_ten(body):
    check = nhs_check_digit(body)
    if check == 10:
        assert not any(is_nhs_number(body + str(last)) for last in range(10))
    else:
        assert is_nhs_number(body + str(check))
        wrong = [d for d in range(10) if d != check]
        assert not any(is_nhs_number(body + str(last)) for last in wrong)


# --- Unique Pupil Numbers ---


def test_the_dfe_example_upn_is_valid():
    # 8*2 + 1*4 + 2*5 + 1*10 + 1*13 = 53; 53 mod 23 = 7 -> H.
    assert upn_check_letter("801200001001") == "H"
    assert is_upn("H801200001001")


def test_a_upn_built_with_its_check_letter_is_valid():
    body = "938611200004"
    assert is_upn(upn_check_letter(body) + body)


def test_a_temporary_upn_ending_in_a_letter_is_valid():
    body = "93861120000A"
    assert is_upn(upn_check_letter(body) + body)


def test_a_upn_is_read_case_insensitively_and_trimmed():
    assert is_upn("  h801200001001 ")


@pytest.mark.parametrize("letter", sorted(set(UPN_LETTERS) - {"H"}))
def test_a_upn_with_the_wrong_check_letter_is_invalid(letter):
    assert not is_upn(letter + "801200001001")


@pytest.mark.parametrize(
    "value",
    ["", "H80120000100", "H8012000010011", "H80120000100I", "H80120000100O", "8801200001001"],
)
def test_a_upn_of_the_wrong_length_or_with_excluded_letters_is_invalid(value):
    assert not is_upn(value)


@given(
    st.text(alphabet="0123456789", min_size=11, max_size=11),
    st.sampled_from("0123456789" + UPN_LETTERS),
)
def test_any_upn_body_with_its_computed_check_letter_is_valid(digits, last):
    body = digits + last
    letter = upn_check_letter(body)
    assert letter in UPN_LETTERS
    assert is_upn(letter + body)


# --- postcode districts ---


@pytest.mark.parametrize("district", ["M33", "SW1A", "WA15", "B1", "EC1A", "m33", " wa15 "])
def test_outward_codes_are_postcode_districts(district):
    assert is_postcode_district(district)


@pytest.mark.parametrize("value", ["M33 7", "M33 7HG", "33M", "", "M", "SW1AA", "M3-3"])
def test_values_that_are_not_outward_codes_are_not_postcode_districts(value):
    assert not is_postcode_district(value)


@pytest.mark.parametrize(
    ("value", "normalised"), [("m33", "M33"), (" sw1a ", "SW1A"), ("W A 1 5", "WA15")]
)
def test_postcode_districts_are_normalised_to_capitals_without_spaces(value, normalised):
    assert normalise_postcode_district(value) == normalised
