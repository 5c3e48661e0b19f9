"""The complexity score: each fact's points shown, counts capped, bands from configuration."""

import datetime as dt

import pytest

from mstoutcomes.referrals.complexity import score
from mstoutcomes.referrals.config import rules_for_site
from mstoutcomes.referrals.facts import ReferralFacts

RULES = rules_for_site("TRF").complexity


def facts(**values):
    return ReferralFacts(date_of_birth=None, referred_on=dt.date(2026, 1, 1), **values)


def test_each_fact_contributes_its_configured_points():
    profile = score(
        facts(risks=frozenset({"custody"}), behaviours=frozenset({"aggression_home"})), RULES
    )

    assert profile.score == 6
    assert [(c.label, c.points) for c in profile.contributions] == [
        ("Custody", 4),
        ("Physical aggression at home", 2),
    ]
    assert profile.band == "lower"


def test_counts_give_points_per_unit_up_to_the_cap():
    profile = score(facts(counts={"offences_12m": 9}), RULES)

    assert profile.score == 6
    assert profile.contributions[0].detail == "9 × 1 points, counted up to 6"


@pytest.mark.parametrize(
    ("points", "band"), [(8.5, "lower"), (9, "medium"), (15.5, "medium"), (16, "higher")]
)
def test_bands_start_at_the_configured_scores(points, band):
    from mstoutcomes.referrals.complexity import band_for

    assert band_for(points, RULES) == band


def test_nothing_recorded_scores_zero_with_an_explanation():
    profile = score(facts(), RULES)

    assert profile.score == 0 and profile.contributions == ()
    assert profile.explanation == "Score 0: lower complexity (medium from 9, higher from 16)."
