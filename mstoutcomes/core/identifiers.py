"""Validation of UK identifiers and postcode districts, without Django."""

from __future__ import annotations

import re

_POSTCODE_DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
_UPN = re.compile(r"^[A-Z][0-9]{11}[0-9A-Z]$")
_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # DfE check-letter alphabet: 23 letters, no I, O or S


def normalise_postcode_district(value: str) -> str:
    """Return an outward code in capitals without spaces (`m33 ` → `M33`)."""
    return re.sub(r"\s+", "", value).upper()


def is_postcode_district(value: str) -> bool:
    """Return whether the value is a UK postcode district (outward code such as M33 or SW1A)."""
    return bool(_POSTCODE_DISTRICT.match(normalise_postcode_district(value)))


def normalise_nhs_number(value: str) -> str:
    return re.sub(r"[\s-]", "", value)


def is_nhs_number(value: str) -> bool:
    """Return whether the value is a 10-digit NHS number with a valid modulus-11 check digit."""
    digits = normalise_nhs_number(value)
    if not re.fullmatch(r"[0-9]{10}", digits):
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def upn_check_letter(body: str) -> str:
    """Return the DfE check letter for the 12 characters after it (temporary UPNs end in A-Z)."""
    total = 0
    for position, char in enumerate(body, start=2):
        value = int(char) if char.isdigit() else _UPN_LETTERS.index(char)
        total += value * position
    return _UPN_LETTERS[total % 23]


def is_upn(value: str) -> bool:
    """Return whether the value is a Unique Pupil Number whose check letter matches."""
    upn = value.strip().upper()
    if not _UPN.match(upn):
        return False
    if not upn[-1].isdigit() and upn[-1] not in _UPN_LETTERS:
        return False
    return upn[0] == upn_check_letter(upn[1:])
