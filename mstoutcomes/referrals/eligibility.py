"""Check a referral against a site's eligibility rules, saying why each criterion is met or not.

Pure Python: takes ReferralFacts and EligibilityRules, returns an Eligibility with every criterion's
result and a plain-English reason. A referral for someone aged 10 or 18 is not an error here: it
is a failed criterion with its reason, and the referral stays in the screening log.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mstoutcomes.referrals import codes
from mstoutcomes.referrals.config import Condition, Criterion, EligibilityRules
from mstoutcomes.referrals.facts import ReferralFacts, age_on

_LABELS = {
    "behaviours": codes.BEHAVIOURS,
    "risks": codes.RISKS,
    "statuses": codes.STATUSES,
    "exclusions": codes.EXCLUSIONS,
}


@dataclass(frozen=True)
class CriterionResult:
    # age, severity / general (the count needed), severity_item / general_item (one criterion,
    # counted towards its threshold), exclusion.
    kind: str
    code: str
    text: str
    met: bool
    reason: str

    def as_dict(self) -> dict[str, object]:
        return self.__dict__.copy()


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    results: tuple[CriterionResult, ...]
    rules_version: str = ""

    @property
    def met(self) -> tuple[CriterionResult, ...]:
        return tuple(r for r in self.results if r.met)

    @property
    def failed(self) -> tuple[CriterionResult, ...]:
        """Return the results that stop the referral being eligible."""
        return tuple(r for r in self.results if not r.met and not r.kind.endswith("_item"))

    @property
    def summary(self) -> str:
        if self.eligible:
            return "Meets the eligibility criteria."
        return "Not eligible: " + "; ".join(r.reason for r in self.failed)

    def as_dict(self) -> dict[str, object]:
        return {
            "eligible": self.eligible,
            "rules_version": self.rules_version,
            "results": [r.as_dict() for r in self.results],
        }


def _date(value: dt.date) -> str:
    return f"{value.day} {value:%B %Y}"


def condition_evidence(condition: Condition, facts: ReferralFacts) -> list[str]:
    """Return, in words, the recorded facts that meet a condition (empty: not met)."""
    evidence = []
    for kind, wanted in condition.any_codes:
        for code in wanted:
            if code in facts.codes(kind):
                evidence.append(_LABELS[kind][code].lower())
    for name, at_least in condition.counts_at_least:
        if facts.count(name) >= at_least:
            evidence.append(f"{codes.HISTORY_COUNTS[name].lower()}: {facts.count(name)}")
    return evidence


def _check(criterion: Criterion, facts: ReferralFacts, kind: str) -> CriterionResult:
    evidence = condition_evidence(criterion.when, facts)
    if kind == "exclusion":
        reason = (
            f"Excluded: {criterion.text.lower()} is recorded."
            if evidence
            else f"No {criterion.text.lower()} recorded."
        )
        return CriterionResult(kind, criterion.code, criterion.text, not evidence, reason)
    reason = (
        f"{criterion.text}: recorded ({', '.join(evidence)})."
        if evidence
        else f"{criterion.text}: not recorded."
    )
    return CriterionResult(f"{kind}_item", criterion.code, criterion.text, bool(evidence), reason)


def _age(facts: ReferralFacts, rules: EligibilityRules) -> CriterionResult:
    span = f"the service takes young people aged {rules.min_age} to {rules.max_age}"
    text = f"Aged {rules.min_age} to {rules.max_age} on the date of referral"
    if facts.date_of_birth is None:
        return CriterionResult("age", "age", text, False, f"Date of birth not given; {span}.")
    age = age_on(facts.date_of_birth, facts.referred_on)
    on = _date(facts.referred_on)
    if age < rules.min_age:
        reason = f"Aged {age} on the date of referral ({on}); {span}."
        return CriterionResult("age", "age", text, False, reason)
    if age > rules.max_age:
        reason = f"Aged {age} on the date of referral ({on}); {span}."
        return CriterionResult("age", "age", text, False, reason)
    return CriterionResult("age", "age", text, True, f"Aged {age} on the date of referral ({on}).")


def _threshold(kind: str, met: int, needed: int, of: int) -> CriterionResult:
    noun = "severity criteria" if kind == "severity" else "general inclusion criteria"
    text = f"At least {needed} of {of} {noun}"
    if met >= needed:
        return CriterionResult(kind, kind, text, True, f"Meets {met} of {of} {noun}.")
    reason = f"Meets {met} of {of} {noun}; at least {needed} are needed."
    return CriterionResult(kind, kind, text, False, reason)


def evaluate(facts: ReferralFacts, rules: EligibilityRules, *, version: str = "") -> Eligibility:
    """Return whether the referral is eligible under the rules, with every criterion's reason."""
    results = [_age(facts, rules)]
    severity = [_check(c, facts, "severity") for c in rules.severity]
    general = [_check(c, facts, "general") for c in rules.general]
    results.append(
        _threshold("severity", sum(r.met for r in severity), rules.min_severity, len(severity))
    )
    results.extend(severity)
    results.append(
        _threshold("general", sum(r.met for r in general), rules.min_general, len(general))
    )
    results.extend(general)
    results.extend(_check(c, facts, "exclusion") for c in rules.exclusions)
    eligible = all(r.met for r in results if not r.kind.endswith("_item"))
    return Eligibility(eligible, tuple(results), version)
