"""Named reasons a randomisation is refused, each with a message for the person asking."""

from __future__ import annotations


class RandomisationError(Exception):
    """Randomisation was refused; nothing was allocated."""

    code = "refused"


class AlreadyRandomised(RandomisationError):
    code = "already_randomised"


class NotEligible(RandomisationError):
    code = "not_eligible"


class NoConsent(RandomisationError):
    code = "no_consent"


class Withdrawn(RandomisationError):
    code = "withdrawn"


class ListExhausted(RandomisationError):
    code = "list_exhausted"


class InvalidAllocationDate(RandomisationError):
    code = "invalid_date"


class BaselineIncomplete(RandomisationError):
    """The trial's baseline assessments are not all completed (and no waiver was given)."""

    code = "baseline_incomplete"
