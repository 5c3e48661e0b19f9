"""Eligibility rules from the site's file, table-driven, with age boundaries at referral."""

import datetime as dt

import pytest

from mstoutcomes.referrals.config import CONFIG_DIR, ConfigError, parse_rules, rules_for_site
from mstoutcomes.referrals.eligibility import evaluate
from mstoutcomes.referrals.facts import ReferralFacts

RULES = rules_for_site("TRF").eligibility
ON = dt.date(2026, 3, 12)
GOOD = {
    "behaviours": frozenset({"aggression_home", "aggression_school", "running_away"}),
    "risks": frozenset({"custody"}),
}


def born(years: int, days: int = 0) -> dt.date:
    return dt.date(ON.year - years, ON.month, ON.day) + dt.timedelta(days=days)


def facts(**changes) -> ReferralFacts:
    values = {"date_of_birth": born(14), "referred_on": ON, **GOOD, **changes}
    return ReferralFacts(**values)


@pytest.mark.parametrize(
    ("date_of_birth", "eligible", "reason"),
    [
        (born(11, days=1), False, "Aged 10 on the date of referral (12 March 2026)"),
        (born(11), True, "Aged 11 on the date of referral"),
        (born(17), True, "Aged 17 on the date of referral"),
        (born(18, days=1), True, "Aged 17 on the date of referral"),
        (born(18), False, "Aged 18 on the date of referral (12 March 2026)"),
        (born(10), False, "Aged 10"),
        (None, False, "Date of birth not given"),
    ],
)
def test_age_is_11_to_17_on_the_referral_date(date_of_birth, eligible, reason):
    result = evaluate(facts(date_of_birth=date_of_birth), RULES)

    age = result.results[0]
    assert age.kind == "age"
    assert age.met is eligible
    assert reason in age.reason
    assert result.eligible is eligible
    if not eligible:
        assert "the service takes young people aged 11 to 17" in result.summary


@pytest.mark.parametrize(
    ("changes", "eligible", "failed_reason"),
    [
        ({}, True, None),
        (
            {"behaviours": frozenset({"aggression_home", "running_away"})},
            False,
            "Meets 2 of 7 severity criteria; at least 3 are needed.",
        ),
        (
            {
                "behaviours": frozenset({"aggression_home", "running_away"}),
                "counts": {"offences_18m": 3},
            },
            True,
            None,
        ),
        ({"risks": frozenset()}, False, "Meets 0 of 5 general inclusion criteria; at least 1"),
        ({"risks": frozenset(), "statuses": frozenset({"yos_order"})}, True, None),
        ({"exclusions": frozenset({"psychosis"})}, False, "Excluded: psychosis is recorded."),
        (
            {"exclusions": frozenset({"no_primary_carer"})},
            False,
            "Excluded: no primary carer, or living independently is recorded.",
        ),
    ],
)
def test_severity_general_and_exclusion_criteria(changes, eligible, failed_reason):
    result = evaluate(facts(**changes), RULES)

    assert result.eligible is eligible
    if failed_reason:
        assert any(failed_reason in r.reason for r in result.failed)
    else:
        assert result.failed == ()


def test_each_met_criterion_names_the_evidence():
    result = evaluate(facts(counts={"offences_18m": 4}), RULES)
    offending = next(r for r in result.results if r.code == "repeat_offending")

    assert offending.met
    assert "offences and warnings in the last 18 months: 4" in offending.reason


def test_a_site_file_can_change_the_rules():
    default = (CONFIG_DIR / "default.toml").read_text()
    rules = parse_rules(default.replace("max_age = 17", "max_age = 18"))

    assert evaluate(facts(date_of_birth=born(18)), rules.eligibility).eligible


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[complexity]\nmedium_from=1\nhigher_from=2", "missing 'eligibility'"),
        ("not toml [", "not valid TOML"),
        (
            "[eligibility]\nmin_age=11\nmax_age=17\n[[eligibility.severity]]\ncode='x'\ntext='X'\n"
            "when={behaviours_any=['flying']}\n[complexity]\nmedium_from=1\nhigher_from=2",
            "unknown behaviours: flying",
        ),
    ],
)
def test_a_bad_file_is_refused_with_what_is_wrong(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_rules(text)
