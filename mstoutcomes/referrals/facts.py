"""What the pure rules read about a referral: a plain value with no Django in it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ReferralFacts:
    """The facts of one referral that eligibility and complexity rules may use."""

    date_of_birth: dt.date | None
    referred_on: dt.date
    behaviours: frozenset[str] = frozenset()
    risks: frozenset[str] = frozenset()
    statuses: frozenset[str] = frozenset()
    exclusions: frozenset[str] = frozenset()
    counts: Mapping[str, int] = field(default_factory=dict)

    def codes(self, kind: str) -> frozenset[str]:
        return {
            "behaviours": self.behaviours,
            "risks": self.risks,
            "statuses": self.statuses,
            "exclusions": self.exclusions,
        }[kind]

    def count(self, name: str) -> int:
        return int(self.counts.get(name) or 0)


def age_on(date_of_birth: dt.date, on: dt.date) -> int:
    """Return age in completed years on a date (a 29 February birthday ages on 1 March)."""
    had_birthday = (on.month, on.day) >= (date_of_birth.month, date_of_birth.day)
    return on.year - date_of_birth.year - (0 if had_birthday else 1)
